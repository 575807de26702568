package org.mm4j.trace.kmem.zstd;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mm4j.testing.SystemProperties;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

/**
 * The libzstd decoder against the Java one (the reference): the same bytes for every input both accept, and an
 * {@link IOException} with the same message where mm4j checks the frame itself, libzstd's reason otherwise.
 */
class LibZstdInputStreamTest {
    @BeforeEach
    void needsLibzstd() {
        requireOrSkip(Zstd.nativeAvailable(), "libzstd is not usable here: " + Zstd.nativeUnavailableReason());
    }

    /**
     * Decodes with libzstd, reading {@code step} bytes at a time (0: readAllBytes), through both ways of calling it
     * ({@code ZSTD_decompressStream_simpleArgs} into the caller's array, {@code ZSTD_decompressStream} with its
     * structs), which must agree: the same bytes, or the same error.
     */
    static byte[] nativeDecode(final byte[] z, final int step, final long window) throws IOException {
        byte[] viaStructs = null;
        IOException structsFailed = null;
        try {
            viaStructs = nativeDecode(z, step, window, true);
        } catch (final IOException e) {
            structsFailed = e;
        }
        try {
            final byte[] direct = nativeDecode(z, step, window, false);
            if (structsFailed != null) {
                throw new AssertionError("only the struct path failed", structsFailed);
            }
            assertArrayEquals(viaStructs, direct, "the two ways of calling libzstd disagree");
            return direct;
        } catch (final IOException e) {
            if (structsFailed == null) {
                throw new AssertionError("only the direct path failed", e);
            }
            // where a corrupt block is noticed depends on how much output each call was given
            assertEquals(structsFailed.getMessage().replaceAll("bytes \\d+ to", "bytes N to"),
                e.getMessage().replaceAll("bytes \\d+ to", "bytes N to"));
            throw e;
        }
    }

    static byte[] nativeDecode(final byte[] z, final int step, final long window, final boolean structsOnly)
        throws IOException {
        try (InputStream in = new LibZstdInputStream(new ByteArrayInputStream(z), window, structsOnly)) {
            if (step == 0) {
                return in.readAllBytes();
            }
            final ByteArrayOutputStream o = new ByteArrayOutputStream();
            final byte[] buf = new byte[step];
            if (step == 1) {
                for (int b = in.read(); b >= 0; b = in.read()) {
                    o.write(b);
                }
                return o.toByteArray();
            }
            for (int n = in.read(buf, 0, step); n >= 0; n = in.read(buf, 0, step)) {
                o.write(buf, 0, n);
            }
            return o.toByteArray();
        }
    }

    static byte[] nativeDecode(final byte[] z) throws IOException {
        return nativeDecode(z, 0, ZstdInputStream.DEFAULT_MAX_WINDOW);
    }

    /** The Java decoder's output, or its exception. */
    static Object javaResult(final byte[] z) {
        try {
            return ZstdInputStreamTest.unzstd(z);
        } catch (final IOException e) {
            return e;
        }
    }

    static Object nativeResult(final byte[] z) {
        try {
            return nativeDecode(z);
        } catch (final IOException e) {
            return e;
        }
    }

    static List<byte[]> fixtures() throws IOException {
        final List<byte[]> all = new ArrayList<>();
        all.add(ZstdInputStreamTest.resource("small.trace.zst"));
        for (final String seed : new String[] {"frames.zst", "level19.zst", "nocheck.zst"}) {
            try (InputStream in = LibZstdInputStreamTest.class.getResourceAsStream(
                "/org/mm4j/fuzz/DecompressFuzzTestInputs/zstd/" + seed)) {
                assertNotNull(in, seed);
                all.add(in.readAllBytes());
            }
        }
        return all;
    }

    @Test
    void theFixturesDecodeToTheSameBytesAsTheJavaDecoder() throws IOException {
        final byte[] plain;
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(ZstdInputStreamTest.resource(
            "small.trace.gz")))) {
            plain = in.readAllBytes();
        }
        assertArrayEquals(plain, nativeDecode(ZstdInputStreamTest.resource("small.trace.zst")));
        for (final byte[] z : fixtures()) {
            final byte[] expect = ZstdInputStreamTest.unzstd(z);
            for (final int step : new int[] {0, 1, 7, 4096, LibZstdInputStream.OUT + 3}) {
                assertArrayEquals(expect, nativeDecode(z, step, ZstdInputStream.DEFAULT_MAX_WINDOW),
                    "read size " + step);
            }
        }
    }

    /** Whatever the zstd program writes (levels, long mode, checksums, many frames, several MB) decodes alike. */
    @Test
    void whatTheZstdProgramWritesDecodesAlike(@TempDir final Path dir) throws Exception {
        final File zstd = ZstdInputStreamTest.zstdProgram();
        final byte[] trace = ZstdInputStreamTest.unzstd(ZstdInputStreamTest.resource("small.trace.zst"));
        // a few MB of trace-like text: the fixture's lines with changed numbers, crossing many buffers
        final Random rnd = new Random(5);
        final ByteArrayOutputStream big = new ByteArrayOutputStream();
        while (big.size() < 6 << 20) {
            final byte[] t = trace.clone();
            for (int i = 0; i < t.length; i++) {
                if (t[i] >= '0' && t[i] <= '9' && rnd.nextInt(3) == 0) {
                    t[i] = (byte) ('0' + rnd.nextInt(10));
                }
            }
            big.writeBytes(t);
        }
        final byte[] noise = new byte[300_000];
        rnd.nextBytes(noise);
        final byte[][] inputs = {big.toByteArray(), trace, noise, new byte[0], "x".getBytes()};
        final String[][] options = {{"-1"}, {"-19"}, {"--long=24", "-5"}, {"-3", "--no-check"}, {"--fast=5"},
            {"-3", "-B262144", "-T2"}};
        for (final byte[] input : inputs) {
            final Path src = dir.resolve("in");
            Files.write(src, input);
            for (final String[] opt : options) {
                final byte[] z = ZstdInputStreamTest.compress(zstd, opt, src, dir.resolve("out.zst"));
                final byte[] viaJava = ZstdInputStreamTest.unzstd(z);
                assertArrayEquals(input, viaJava);
                assertArrayEquals(viaJava, nativeDecode(z), String.join(" ", opt) + " on " + input.length);
                final byte[] twice = ZstdInputStreamTest.twice(z);
                assertArrayEquals(ZstdInputStreamTest.unzstd(twice), nativeDecode(twice, 100_000,
                    ZstdInputStream.DEFAULT_MAX_WINDOW));
            }
        }
    }

    static byte[] skippable(final int size) {
        final byte[] f = new byte[8 + size];
        f[0] = 0x5a;
        f[1] = 0x2a;
        f[2] = 0x4d;
        f[3] = 0x18;
        f[4] = (byte) size;
        f[5] = (byte) (size >>> 8);
        f[6] = (byte) (size >>> 16);
        Arrays.fill(f, 8, f.length, (byte) 0x77);
        return f;
    }

    static byte[] concat(final byte[]... parts) {
        final ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (final byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    @Test
    void skippableAndEmptyFramesAreSkippedAsByTheJavaDecoder() throws IOException {
        final byte[] a = ZstdInputStreamTest.rawFrame("kfree: ptr=1\n".getBytes());
        final byte[] b = ZstdInputStreamTest.rawFrame("kmalloc: ptr=2 bytes_req=8\n".getBytes());
        final byte[] empty = ZstdInputStreamTest.rawFrame(new byte[0]);
        final byte[][] streams = {concat(skippable(5), a, skippable(0), b), concat(a, skippable(300), empty, b),
            skippable(12), new byte[0], concat(empty, empty), concat(ZstdInputStreamTest.resource("small.trace.zst"),
            skippable(70_000), a)};
        for (final byte[] z : streams) {
            assertArrayEquals(ZstdInputStreamTest.unzstd(z), nativeDecode(z));
        }
    }

    /** What mm4j checks itself (magic, garbage, dictionary, window, reserved bit) fails with the Java words. */
    @Test
    void headerRefusalsSayWhatTheJavaDecoderSays() {
        final byte[] a = ZstdInputStreamTest.rawFrame("kfree: ptr=1\n".getBytes());
        final byte[] dict = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0x01, 0x58, 7, 1, 0, 0};
        final byte[] reserved = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0x08, 0x58, 1, 0, 0};
        final byte[] window = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0x00, (byte) 0x90, 1, 0, 0};
        final byte[][] bad = {"not zstd at all".getBytes(), concat(a, "garbage!".getBytes()),
            concat(a, skippable(3), "junk".getBytes()), dict, reserved, window, concat(a, window), "\u0028".getBytes(),
            concat(a, new byte[] {0x28, (byte) 0xb5}), Arrays.copyOf(window, 5)};
        for (final byte[] z : bad) {
            final Object java = javaResult(z);
            final Object nat = nativeResult(z);
            final IOException je = assertInstanceOf(IOException.class, java, Arrays.toString(z));
            final IOException ne = assertInstanceOf(IOException.class, nat, Arrays.toString(z));
            assertEquals(je.getMessage(), ne.getMessage(), Arrays.toString(z));
        }
    }

    @Test
    void aWindowAboveTheLimitIsRefusedAndAHigherLimitLetsItThrough(@TempDir final Path dir) throws Exception {
        final byte[] text = ZstdInputStreamTest.LONG28_TEXT;
        final byte[] z = ZstdInputStreamTest.zstdLong28(dir);
        final IOException e = assertThrows(IOException.class, () -> nativeDecode(z));
        assertTrue(e.getMessage().contains("needs a window of 256 MiB, above the memory limit of 128 MiB"),
            e.getMessage());
        assertArrayEquals(text, nativeDecode(z, 0, 256L << 20));
        // a limit that is not a power of two is exact too (libzstd's own bound would be 256 MiB)
        final IOException odd = assertThrows(IOException.class, () -> nativeDecode(z, 0, 200L << 20));
        assertTrue(odd.getMessage().contains("needs a window of 256 MiB, above the memory limit of 200 MiB"),
            odd.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LibZstdInputStream(new ByteArrayInputStream(z), 1000));
    }

    @Test
    void aWrongChecksumIsRefused() throws IOException {
        final byte[] text = "kmalloc: ptr=1 bytes_req=8 bytes_alloc=8\n".getBytes();
        final byte[] frame = ZstdInputStreamTest.rawFrame(text);
        assertArrayEquals(text, nativeDecode(frame));
        frame[10] ^= 0x20;
        final IOException e = assertThrows(IOException.class, () -> nativeDecode(frame));
        assertTrue(e.getMessage().startsWith("zstd: content checksum mismatch in frame 1 (starting at offset 0): "),
            e.getMessage());
        frame[10] ^= 0x20;
        frame[frame.length - 1] ^= 1; // the stored checksum itself
        assertThrows(IOException.class, () -> nativeDecode(frame));
    }

    /** Every truncation of a stream is an error naming where the data ended; never a silent short text. */
    @Test
    void everyTruncationIsAnError() throws IOException {
        final byte[] small = concat(ZstdInputStreamTest.rawFrame("kfree: ptr=1\n".getBytes()), skippable(4),
            ZstdInputStreamTest.rawFrame("kfree: ptr=2\n".getBytes()));
        final int firstEnd = ZstdInputStreamTest.rawFrame("kfree: ptr=1\n".getBytes()).length;
        for (int cut = 1; cut < small.length; cut++) {
            if (cut == firstEnd || cut == firstEnd + 12) {
                continue; // a whole frame: a clean end
            }
            final byte[] z = Arrays.copyOf(small, cut);
            final IOException e = assertThrows(IOException.class, () -> nativeDecode(z), "cut at " + cut);
            assertTrue(e.getMessage().startsWith("zstd: unexpected end of data at offset " + cut),
                e.getMessage());
        }
        final byte[] z = ZstdInputStreamTest.resource("small.trace.zst");
        final Random rnd = new Random(3);
        for (int i = 0; i < 100; i++) {
            final int cut = 1 + rnd.nextInt(z.length - 1);
            final IOException e = assertThrows(IOException.class, () -> nativeDecode(Arrays.copyOf(z, cut)));
            assertTrue(e.getMessage().startsWith("zstd: "), e.getMessage());
        }
    }

    /** Random corruption: an IOException naming zstd, or (a dead bit) exactly the Java decoder's text. */
    @Test
    void corruptionIsAnIoExceptionOrTheSameText() throws IOException {
        final byte[] z = ZstdInputStreamTest.resource("small.trace.zst");
        final byte[] plain = ZstdInputStreamTest.unzstd(z);
        final Random rnd = new Random(11);
        final int refused = ZstdInputStreamTest.refusedFlips(z, rnd, 300, (bad, bit) -> {
            final Object r = nativeResult(bad);
            if (r instanceof IOException e) {
                assertTrue(e.getMessage().startsWith("zstd: ") || e.getMessage().startsWith("not zstd"),
                    e.getMessage());
                return true;
            }
            assertArrayEquals(plain, (byte[]) r, "bit " + bit + " changed the text without an error");
            return false;
        });
        assertTrue(refused > 250, refused + " of 300 flips refused");
        for (int t = 0; t < 300; t++) {
            final byte[] f = z.clone();
            for (int i = 1 + rnd.nextInt(4); i > 0; i--) {
                f[4 + rnd.nextInt(f.length - 4)] ^= (byte) (1 + rnd.nextInt(255));
            }
            final Object r = nativeResult(f);
            if (r instanceof IOException e) {
                assertTrue(e.getMessage().startsWith("zstd: ") || e.getMessage().startsWith("not zstd"),
                    e.getMessage());
            } else {
                assertArrayEquals(plain, (byte[]) r);
            }
        }
    }

    @Test
    void aFailureIsThrownAgainAndCloseIsFinal() throws IOException {
        final InputStream in = new LibZstdInputStream(new ByteArrayInputStream("garbage".getBytes()),
            ZstdInputStream.DEFAULT_MAX_WINDOW);
        final IOException first = assertThrows(IOException.class, in::read);
        assertEquals(first, assertThrows(IOException.class, in::read));
        in.close();
        in.close();
        final IOException closed = assertThrows(IOException.class, in::read);
        assertEquals("zstd: stream closed", closed.getMessage());
    }

    /** The version as ZSTD_versionString prints it, read as ZSTD_versionNumber gives it; anything else is -1. */
    @Test
    void theVersionStringIsReadAsTheVersionNumber() {
        assertEquals(10504, LibZstd.versionNumber("1.5.4"));
        assertEquals(10400, LibZstd.versionNumber("1.4.0"));
        assertEquals(11099, LibZstd.versionNumber("1.10.99"));
        for (final String bad : new String[] {"", "1.5", "1.5.4.1", "1..4", "1.5.x", "1.5.100", "-1.5.4", "1.5.4 "}) {
            assertEquals(-1, LibZstd.versionNumber(bad), bad);
        }
        assertTrue(LibZstd.BINDINGS.version() >= LibZstd.MIN_VERSION, LibZstdInputStream.version());
        assertEquals(LibZstd.versionText(LibZstd.BINDINGS.version()), LibZstdInputStream.version());
    }

    /** The switch: java forces the Java decoder, native requires libzstd, anything else is an error. */
    @Test
    void thePropertyChoosesTheDecoder() throws Exception {
        final byte[] z = ZstdInputStreamTest.resource("small.trace.zst");
        SystemProperties.with(Zstd.PROPERTY, null, () -> {
            assertInstanceOf(LibZstdInputStream.class, Zstd.decoder(new ByteArrayInputStream(z), 1 << 20));
            assertTrue(Zstd.decoderName().startsWith("libzstd 1."), Zstd.decoderName());
        });
        SystemProperties.with(Zstd.PROPERTY, "java", () -> {
            assertInstanceOf(ZstdInputStream.class, Zstd.decoder(new ByteArrayInputStream(z), 1 << 20));
            assertEquals("java", Zstd.decoderName());
        });
        SystemProperties.with(Zstd.PROPERTY, "native", () ->
            assertInstanceOf(LibZstdInputStream.class, Zstd.decoder(new ByteArrayInputStream(z), 1 << 20)));
        SystemProperties.with(Zstd.PROPERTY, "jni", () -> {
            final IOException e = assertThrows(IOException.class, () -> Zstd.decoder(new ByteArrayInputStream(z),
                1 << 20));
            assertEquals("zstd: -Dmm4j.zstd=jni names no decoder (expected: auto, java or native)", e.getMessage());
        });
    }

    /**
     * Without native access a JVM falls back to the Java decoder silently (no warning printed), and
     * {@code -Dmm4j.zstd=native} then says why it cannot.
     */
    @Test
    void withoutNativeAccessTheJavaDecoderIsUsedSilently() throws Exception {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final String cp = System.getProperty("java.class.path");
        final Process p = new ProcessBuilder(java, "-cp", cp, ZstdProbe.class.getName()).start();
        final String out = new String(p.getInputStream().readAllBytes());
        final String err = new String(p.getErrorStream().readAllBytes());
        assertEquals(0, p.waitFor(), err);
        assertEquals("java ZstdInputStream 11\n", out);
        assertEquals("", err);
        final Process q = new ProcessBuilder(java, "-Dmm4j.zstd=native", "-cp", cp, ZstdProbe.class.getName())
            .start();
        final String qout = new String(q.getInputStream().readAllBytes());
        q.getErrorStream().readAllBytes();
        assertEquals(0, q.waitFor());
        assertTrue(qout.contains("-Dmm4j.zstd=native but libzstd is not usable: native access is not enabled"),
            qout);
        assertFalse(qout.contains("ZstdInputStream"), qout);
    }
}
