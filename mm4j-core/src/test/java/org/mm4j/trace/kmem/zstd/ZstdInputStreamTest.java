package org.mm4j.trace.kmem.zstd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

class ZstdInputStreamTest {
    static byte[] resource(final String name) throws IOException {
        try (InputStream in = ZstdInputStreamTest.class.getResourceAsStream("/org/mm4j/trace/kmem/" + name)) {
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
        final File zstd = zstdProgram();
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
                final byte[] z = compress(zstd, opt, src, dir.resolve("out.zst"));
                assertArrayEquals(input, unzstd(z), String.join(" ", opt) + " on " + input.length + " bytes");
                // two frames back to back are one stream
                assertArrayEquals(twice(input), unzstd(twice(z)));
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

    /** A single-segment frame of one raw block with the content checksum: the smallest checksummed frame. */
    static byte[] rawFrame(final byte[] content) {
        final java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        o.writeBytes(new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0x24, (byte) content.length});
        final int h = 1 | content.length << 3;
        o.writeBytes(new byte[] {(byte) h, (byte) (h >>> 8), (byte) (h >>> 16)});
        o.writeBytes(content);
        final int sum = (int) Xxh64.hash(content, 0, content.length);
        o.writeBytes(new byte[] {(byte) sum, (byte) (sum >>> 8), (byte) (sum >>> 16), (byte) (sum >>> 24)});
        return o.toByteArray();
    }

    @Test
    void theContentChecksumIsVerified() throws IOException {
        final byte[] text = "kmalloc: ptr=1 bytes_req=8 bytes_alloc=8\n".getBytes();
        final byte[] frame = rawFrame(text);
        assertArrayEquals(text, unzstd(frame));
        frame[10] ^= 0x20; // one bit of the raw content: the frame still parses, the data differs
        final IOException e = assertThrows(IOException.class, () -> unzstd(frame));
        assertTrue(e.getMessage().startsWith("zstd: content checksum mismatch in frame 1 (starting at offset 0)"),
            e.getMessage());
    }

    /** Any single flipped bit of a real checksummed file is an error or (a dead bit) the same text: never other text. */
    @Test
    void aFlippedBitNeverDecodesToOtherText() throws IOException {
        final byte[] z = resource("small.trace.zst");
        final byte[] plain = unzstd(z);
        final int refused = refusedFlips(z, new Random(11), 300, (bad, bit) -> {
            try {
                assertArrayEquals(plain, unzstd(bad), "bit " + bit + " changed the text without an error");
                return false;
            } catch (final IOException e) {
                return true;
            }
        });
        assertTrue(refused > 250, refused + " of 300 flips refused");
    }

    @Test
    void aWindowAboveTheLimitIsRefusedBeforeAnyAllocation() {
        // frame header: no checksum, not single-segment, window descriptor 0x90 = 2^28 (zstd --long=28)
        final byte[] hdr = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0x00, (byte) 0x90, 1, 0, 0};
        final IOException e = assertThrows(IOException.class, () -> unzstd(hdr));
        assertEquals("zstd: frame 1 (at offset 0) needs a window of 256 MiB, above the memory limit of 128 MiB (as"
            + " zstd --memory=: allow more with --zstd-memory=SIZE, at most 1024 MiB, or decompress with the zstd"
            + " program)", e.getMessage());
        // with a higher limit the header passes (and the truncated block is the error)
        final IOException t = assertThrows(IOException.class, () -> new ZstdInputStream(new ByteArrayInputStream(
            Arrays.copyOf(hdr, 7)), ZstdInputStream.parseMemory("512M")).readAllBytes());
        assertTrue(t.getMessage().contains("unexpected end of data"), t.getMessage());
    }

    @Test
    void memorySizesParseAsZstdTakesThem() {
        assertEquals(128L << 20, ZstdInputStream.parseMemory("128M"));
        assertEquals(1L << 30, ZstdInputStream.parseMemory("1G"));
        assertEquals(4096, ZstdInputStream.parseMemory("4K"));
        assertEquals(5000, ZstdInputStream.parseMemory("5000"));
        assertThrows(IllegalArgumentException.class, () -> ZstdInputStream.parseMemory("2G"));
        assertThrows(IllegalArgumentException.class, () -> ZstdInputStream.parseMemory("12Q"));
        assertThrows(IllegalArgumentException.class, () -> ZstdInputStream.parseMemory(""));
    }

    /** What zstd --long=28 writes from a pipe (window 2^28) is refused by default and decodes with more memory. */
    @Test
    void zstdLong28NeedsTheMemoryFlag(@TempDir final Path dir) throws Exception {
        final byte[] text = LONG28_TEXT;
        final byte[] z = zstdLong28(dir);
        final IOException e = assertThrows(IOException.class, () -> unzstd(z));
        assertTrue(e.getMessage().contains("needs a window of 256 MiB, above the memory limit of 128 MiB"),
            e.getMessage());
        try (InputStream d = new ZstdInputStream(new ByteArrayInputStream(z), 256L << 20)) {
            assertArrayEquals(text, d.readAllBytes());
        }
    }

    static final byte[] LONG28_TEXT = "mm_page_alloc: pfn=0x1 order=0 migratetype=0 gfp_flags=GFP_KERNEL\n".repeat(2000)
        .getBytes();

    /** {@link #LONG28_TEXT} as {@code zstd --long=28} writes it from a pipe (window 2^28); skips without zstd. */
    static byte[] zstdLong28(final Path dir) throws Exception {
        final File zstd = zstdProgram();
        final Path in = dir.resolve("in");
        Files.write(in, LONG28_TEXT);
        final Process p = new ProcessBuilder(zstd.getPath(), "-q", "--long=28", "-c").redirectInput(in.toFile())
            .start();
        final byte[] z = p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor());
        return z;
    }

    /** gzip input is checked by java.util.zip: a changed CRC-32 in the trailer is an error, not other text. */
    @Test
    void gzipChecksItsCrc() throws IOException {
        final byte[] gz = resource("small.trace.gz");
        final byte[] bad = gz.clone();
        bad[bad.length - 6] ^= 1; // a bit of the CRC-32 in the 8-byte trailer
        final IOException e = assertThrows(IOException.class, () -> {
            try (InputStream in = org.mm4j.trace.kmem.TraceInput.decompress(new java.io.BufferedInputStream(
                new ByteArrayInputStream(bad)), "t.gz")) {
                in.readAllBytes();
            }
        });
        assertEquals("Corrupt GZIP trailer", e.getMessage());
    }

    /** The zstd program (skips the test where there is none). */
    static File zstdProgram() {
        final File zstd = new File("/usr/bin/zstd");
        requireOrSkip(zstd.canExecute(), "no zstd program at " + zstd);
        return zstd;
    }

    /** Runs {@code zstd OPT -q -f SRC -o OUT} (asserting it succeeds) and returns what it wrote. */
    static byte[] compress(final File zstd, final String[] opt, final Path src, final Path out) throws Exception {
        final List<String> cmd = new ArrayList<>(List.of(zstd.getPath()));
        cmd.addAll(List.of(opt));
        cmd.addAll(List.of("-q", "-f", src.toString(), "-o", out.toString()));
        final Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor(), String.join(" ", cmd));
        return Files.readAllBytes(out);
    }

    /** {@code b} twice, back to back. */
    static byte[] twice(final byte[] b) {
        final byte[] t = Arrays.copyOf(b, 2 * b.length);
        System.arraycopy(b, 0, t, b.length, b.length);
        return t;
    }

    /** Judges a copy of a stream with bit {@code bit} flipped: true when the decoder refused it. */
    @FunctionalInterface
    interface FlipCheck {
        boolean refused(byte[] bad, int bit) throws IOException;
    }

    /** {@code flips} copies of {@code z}, one random bit flipped in each, judged by {@code check}: how many refused. */
    static int refusedFlips(final byte[] z, final Random rnd, final int flips, final FlipCheck check)
        throws IOException {
        int refused = 0;
        for (int i = 0; i < flips; i++) {
            final byte[] bad = z.clone();
            final int bit = rnd.nextInt(bad.length * 8);
            bad[bit >>> 3] ^= (byte) (1 << (bit & 7));
            if (check.refused(bad, bit)) {
                refused++;
            }
        }
        return refused;
    }
}
