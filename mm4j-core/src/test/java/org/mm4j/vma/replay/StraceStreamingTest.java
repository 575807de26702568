package org.mm4j.vma.replay;

import org.junit.jupiter.api.Test;
import org.mm4j.io.EndlessZeros;
import org.mm4j.io.InputLineException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code replay strace} reads its input as a stream: a generated log of any size replays in bounded memory, and
 * hostile input (an endless line, bytes that are no UTF-8) is a clear error. The default size is 32 MiB; the soak
 * size is set with {@code -Dmm4j.strace.soakBytes=3g} (see the README).
 */
class StraceStreamingTest {
    private static final byte[] PAIR = ("1234 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)"
        + " = 0x7f0000000000\n1234 munmap(0x7f0000000000, 8192) = 0\n").getBytes(StandardCharsets.US_ASCII);

    /** A generated strace log of {@code total} bytes (whole pairs of lines); runs {@code atQuarter} once at 25%. */
    static final class Generator extends InputStream {
        private final long total;
        private final Runnable atQuarter;
        private long pos;
        private boolean quarterDone;

        Generator(final long total, final Runnable atQuarter) {
            this.total = total / PAIR.length * PAIR.length;
            this.atQuarter = atQuarter;
        }

        long pairs() {
            return total / PAIR.length;
        }

        @Override
        public int read() {
            if (pos >= total) {
                return -1;
            }
            return PAIR[(int) (pos++ % PAIR.length)];
        }

        @Override
        public int read(final byte[] b, final int off, final int len) {
            if (pos >= total) {
                return -1;
            }
            if (!quarterDone && pos >= total / 4) {
                quarterDone = true;
                atQuarter.run();
            }
            final int n = (int) Math.min(len, total - pos);
            for (int i = 0; i < n; i++) {
                b[off + i] = PAIR[(int) (pos++ % PAIR.length)];
            }
            return n;
        }
    }

    private static long usedHeapAfterGc() {
        final Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }

    private static long parseSize(final String s) {
        final String t = s.strip().toLowerCase(java.util.Locale.ROOT);
        final int shift = t.endsWith("g") ? 30 : t.endsWith("m") ? 20 : t.endsWith("k") ? 10 : 0;
        return Long.parseLong(shift == 0 ? t : t.substring(0, t.length() - 1)) << shift;
    }

    /**
     * A generated log (32 MiB by default, -Dmm4j.strace.soakBytes for GBs) replays with every call matched and the
     * retained heap does not grow with the input: measured after GC at a quarter and at the end of the stream.
     */
    @Test
    void aGeneratedLogReplaysInBoundedMemory() throws IOException {
        final long bytes = parseSize(System.getProperty("mm4j.strace.soakBytes", "32m"));
        final long[] quarter = {0};
        final Generator g = new Generator(bytes, () -> quarter[0] = usedHeapAfterGc());
        final long t0 = System.nanoTime();
        final StraceReplayer.Result r = new StraceReplayer(StraceReplayer.AddressMode.TRACE).replay("generated", g,
            StraceReplayer.DISCARD);
        final double secs = (System.nanoTime() - t0) / 1e9;
        final long end = usedHeapAfterGc();
        System.out.printf("StraceStreamingTest: %d bytes, %d lines in %.1f s (%.0f MB/s); retained heap %d KiB at"
            + " 25%%, %d KiB at the end%n", bytes, 2 * g.pairs(), secs, bytes / 1e6 / secs, quarter[0] >> 10,
            end >> 10);
        assertEquals(0, r.errorCount, r.errors::toString);
        assertEquals(2 * g.pairs(), r.calls);
        assertEquals(r.calls, r.callsMatched, r.mismatches::toString);
        assertTrue(r.maps.lines().allMatch(l -> l.endsWith("[vsyscall]")), r.maps);
        assertTrue(quarter[0] > 0, "the quarter mark was reached");
        // the whole input held as text would be 3/4 of it more at the end; allow 8 MiB of GC noise
        assertTrue(end - quarter[0] < 8L << 20, "retained heap grew from " + quarter[0] + " to " + end
            + " bytes while streaming " + bytes + " bytes");
    }

    @Test
    void anEndlessLineIsRefusedWithFileAndLine() {
        final EndlessZeros zeros = new EndlessZeros(4L << 20);
        final InputStream in = new SequenceInputStream(new ByteArrayInputStream(PAIR), zeros);
        final InputLineException e = assertThrows(InputLineException.class,
            () -> new StraceReplayer(StraceReplayer.AddressMode.TRACE).replay("zero.log", in, l -> { }));
        assertEquals("zero.log:3: line longer than 1048576 bytes", e.getMessage());
    }

    @Test
    void aLineThatIsNotUtf8IsAnErrorAndTheReplayGoesOn() {
        final byte[] bad = "1234 munmap(0x7f0000000000, 8192) = 0 \u00ff\n".getBytes(StandardCharsets.ISO_8859_1);
        final byte[] log = new byte[bad.length + PAIR.length];
        System.arraycopy(bad, 0, log, 0, bad.length);
        System.arraycopy(PAIR, 0, log, bad.length, PAIR.length);
        final StraceReplayer.Result s;
        try {
            s = new StraceReplayer(StraceReplayer.AddressMode.TRACE).replay("bad.log", new ByteArrayInputStream(log),
                l -> { });
        } catch (final IOException e) {
            throw new AssertionError(e);
        }
        assertEquals(java.util.List.of("bad.log:1: not UTF-8 text (byte 0xff at column 39)"), s.errors);
        assertEquals(2, s.calls);
        assertEquals(2, s.callsMatched);
    }
}
