package org.mm4j.trace.kmem;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

class ZstdInputStreamTest {
    static byte[] resource(final String name) throws IOException {
        try (InputStream in = ZstdInputStreamTest.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    static byte[] unzstd(final byte[] z) throws IOException {
        try (InputStream in = new ZstdInputStream(new ByteArrayInputStream(z))) {
            return in.readAllBytes();
        }
    }

    /** A committed fixture made by zstd -19 decodes to the same bytes as its gzip twin. */
    @Test
    void decodesTheFixture() throws IOException {
        final byte[] plain;
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(resource("small.trace.gz")))) {
            plain = in.readAllBytes();
        }
        assertArrayEquals(plain, unzstd(resource("small.trace.zst")));
    }

    /** Whatever the real zstd program writes (levels, long mode, checksums, many frames) decodes exactly. */
    @Test
    void decodesWhatTheZstdProgramWrites(@TempDir final Path dir) throws Exception {
        final File zstd = new File("/usr/bin/zstd");
        requireOrSkip(zstd.canExecute(), "no zstd program at " + zstd);
        final Random rnd = new Random(1);
        final byte[] text = resource("small.trace.gz");
        final byte[] trace;
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(text))) {
            trace = in.readAllBytes();
        }
        final byte[] noise = new byte[300_000];
        rnd.nextBytes(noise);
        final byte[] runs = new byte[500_000];
        for (int i = 0; i < runs.length; i++) {
            runs[i] = (byte) (i / 1000 % 3 == 0 ? 'a' : rnd.nextInt(4));
        }
        final byte[][] inputs = {trace, noise, runs, new byte[0], "x".getBytes()};
        final String[][] options = {{"-1"}, {"-3"}, {"-9"}, {"-19"}, {"--ultra", "-22"}, {"--long=24", "-5"},
            {"-3", "--no-check"}, {"--fast=5"}};
        int cases = 0;
        for (final byte[] input : inputs) {
            final Path src = dir.resolve("in");
            Files.write(src, input);
            for (final String[] opt : options) {
                final Path out = dir.resolve("out.zst");
                final String[] cmd = new String[opt.length + 6];
                cmd[0] = zstd.getPath();
                System.arraycopy(opt, 0, cmd, 1, opt.length);
                cmd[opt.length + 1] = "-q";
                cmd[opt.length + 2] = "-f";
                cmd[opt.length + 3] = src.toString();
                cmd[opt.length + 4] = "-o";
                cmd[opt.length + 5] = out.toString();
                final Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                assertEquals(0, p.waitFor(), String.join(" ", cmd));
                final byte[] z = Files.readAllBytes(out);
                assertArrayEquals(input, unzstd(z), String.join(" ", opt) + " on " + input.length + " bytes");
                // two frames back to back are one stream
                final byte[] twice = Arrays.copyOf(z, 2 * z.length);
                System.arraycopy(z, 0, twice, z.length, z.length);
                final byte[] expect = Arrays.copyOf(input, 2 * input.length);
                System.arraycopy(input, 0, expect, input.length, input.length);
                assertArrayEquals(expect, unzstd(twice));
                cases++;
            }
        }
        assertEquals(inputs.length * options.length, cases);
    }

    @Test
    void badInputIsAClearError() throws IOException {
        final byte[] z = resource("small.trace.zst");
        final IOException cut = assertThrows(IOException.class, () -> unzstd(Arrays.copyOf(z, z.length / 2)));
        assertTrue(cut.getMessage().startsWith("zstd: "), cut.getMessage());
        final byte[] flipped = z.clone();
        for (int i = 40; i < flipped.length; i += 97) {
            flipped[i] ^= 0x5a;
        }
        final Exception bad = assertThrows(Exception.class, () -> unzstd(flipped));
        assertTrue(bad instanceof IOException, bad.toString());
        assertThrows(IOException.class, () -> unzstd("not zstd at all".getBytes()));
    }

    /** Random corruption never escapes as anything but an IOException (or, rarely, still-valid output). */
    @Test
    void fuzzedInputOnlyEverFailsWithIoException() throws IOException {
        final byte[] z = resource("small.trace.zst");
        final Random rnd = new Random(99);
        for (int t = 0; t < 300; t++) {
            final byte[] f = z.clone();
            final int flips = 1 + rnd.nextInt(4);
            for (int i = 0; i < flips; i++) {
                f[4 + rnd.nextInt(f.length - 4)] ^= (byte) (1 + rnd.nextInt(255));
            }
            try {
                unzstd(f);
            } catch (final IOException e) {
                assertTrue(e.getMessage().startsWith("zstd: ") || e.getMessage().startsWith("not zstd"),
                    e.getMessage());
            }
        }
    }
}
