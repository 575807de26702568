package org.mm4j.trace.kmem;

import static org.mm4j.trace.kmem.AsciiWords.mask;

/**
 * The fast path's memory of line headers: the bytes of a canonical line before its timestamp (leading blanks, task,
 * pid, CPU column, flags, the blanks before the timestamp) and the pid and CPU read from them. Consecutive lines of
 * one task on one CPU (most of a capture) share these bytes, and a few hundred tasks, CPUs and flag columns take
 * turns; a line starting with exactly a remembered header and a digit after it has that header's task, pid and CPU
 * (each is read from these bytes alone), so {@link KmemLineParser} does not read its header again.
 *
 * <p>Rows of {@link #WORDS} words (the header's bytes, the last word masked) with their length, CPU and pid; length
 * 0: none. A header of at least {@link #HASHED} bytes lives in the set its first {@link #HASHED} bytes hash to
 * ({@link #set}): {@link #WAYS} rows, the one found last first (a hit in a later row moves it to the front, a new
 * header takes the front row and pushes the others back, the last one out). A shorter header has the last row of
 * its own. Four ways per set keep apart the headers of a busy capture that hash alike: on a realistic 5 M-line
 * capture (288 headers) 375 lines are not read ahead with 512 sets of four, 2,667 with 512 sets of two (their
 * header missed: the old path then reads it, and its header reader, called 1,700 times with a dozen loop turns
 * each, got compiled by C2 near the replay's end), 104 k with 256 rows of one.
 *
 * <p>Invariant: a row's values are those the fast path read from its bytes; which lines remember or find a header
 * (and in which order) changes only which lines are found, never a value read. Threading: the reader's thread only.
 */
final class HeaderMemo {
    /** Longest header remembered, in bytes. */
    static final int MAX = 64;
    /** Words per row. */
    private static final int WORDS = MAX / 8;
    /** Bytes a header's set is hashed from (four words: task, pid, CPU and flags in the kernel's layout). */
    static final int HASHED = 32;
    private static final int SET_BITS = 9;
    /** Rows per set. */
    static final int WAYS = 4;
    /** Rows of the sets ({@link #WAYS} per set), then the row of short headers. */
    private static final int ROWS = WAYS << SET_BITS;
    private static final int SHORT = ROWS;

    private final long[] words = new long[(ROWS + 1) * WORDS];
    /** Per row: its header's length (bits 0-15), CPU (16-31) and pid (32-63), read together (one load). */
    private final long[] meta = new long[ROWS + 1];

    private static long word(final byte[] b, final int p) {
        return (long) KmemLineParser.LONGS.get(b, p);
    }

    /** The first row of the set of a header of at least {@link #HASHED} bytes at {@code ls}. */
    static int set(final byte[] b, final int ls) {
        final long h = (word(b, ls) * 0x9E3779B97F4A7C15L ^ word(b, ls + 8)) * 0xC2B2AE3D27D4EB4FL
            ^ (word(b, ls + 16) * 0x165667B19E3779F9L ^ word(b, ls + 24)) * 0x9E3779B97F4A7C15L;
        return (int) (h >>> (64 - SET_BITS)) * WAYS;
    }

    /**
     * The row whose header the line {@code [ls, le)} of {@code b} starts with, followed by a digit, or -1 when none;
     * {@code le} may be past the line's end (the row's bytes and the digit then say where it is not). A header found
     * in a set's later row is moved to its first.
     */
    int find(final byte[] b, final int ls, final int le) {
        if (le - ls <= HASHED) {
            return same(SHORT, b, ls, le) ? SHORT : -1;
        }
        final int row = set(b, ls);
        if (same(row, b, ls, le)) {
            return row;
        }
        return findLater(row, b, ls, le);
    }

    /** {@link #find} past the first row of the set {@code row}: the later rows, then the short header's row. */
    private int findLater(final int row, final byte[] b, final int ls, final int le) {
        for (int w = 1; w < WAYS; w++) {
            if (same(row + w, b, ls, le)) {
                toFront(row, w);
                return row;
            }
        }
        return same(SHORT, b, ls, le) ? SHORT : -1;
    }

    /** Whether the line {@code [ls, le)} starts with the header of {@code row} and a digit after it. */
    private boolean same(final int row, final byte[] b, final int ls, final int le) {
        final int n = (int) meta[row] & 0xffff;
        if (n == 0 || le - ls <= n || b[ls + n] < '0' || b[ls + n] > '9') {
            return false;
        }
        final long[] h = words;
        final int base = row * WORDS;
        int i = 0;
        if (n >= HASHED) {
            // the kernel's layout (33 bytes and more): the first four words in one test
            if (word(b, ls) != h[base] | word(b, ls + 8) != h[base + 1] | word(b, ls + 16) != h[base + 2]
                | word(b, ls + 24) != h[base + 3]) {
                return false;
            }
            i = HASHED;
        }
        for (; i + 8 <= n; i += 8) {
            if (word(b, ls + i) != h[base + (i >>> 3)]) {
                return false;
            }
        }
        return i == n || ((word(b, ls + i) ^ h[base + (i >>> 3)]) & mask(n - i)) == 0;
    }

    /** Moves row {@code w} of the set whose first row is {@code row} to the front, the rows before it back one. */
    private void toFront(final int row, final int w) {
        final long[] h = words;
        final int base = row * WORDS;
        for (int i = 0; i < WORDS; i++) {
            final long x = h[base + w * WORDS + i];
            for (int k = w; k > 0; k--) {
                h[base + k * WORDS + i] = h[base + (k - 1) * WORDS + i];
            }
            h[base + i] = x;
        }
        final long m = meta[row + w];
        for (int k = w; k > 0; k--) {
            meta[row + k] = meta[row + k - 1];
        }
        meta[row] = m;
    }

    /** Remembers the {@code n} header bytes of the line at {@code ls} and the CPU and pid read from them. */
    void remember(final byte[] b, final int ls, final int n, final int cpu, final int pid) {
        if (n > MAX) {
            return;
        }
        final int row;
        if (n >= HASHED) {
            row = set(b, ls);
            toFront(row, WAYS - 1); // the set's last row (its least recently found header) becomes the first, rewritten
        } else {
            row = SHORT;
        }
        final int base = row * WORDS;
        for (int i = 0; i < WORDS; i++) {
            words[base + i] = i << 3 < n ? word(b, ls + (i << 3)) & mask(n - (i << 3)) : 0;
        }
        meta[row] = n | (long) cpu << 16 | (long) pid << 32;
    }

    /** The header length of {@code row} (from {@link #find}): where its line's timestamp starts. */
    int length(final int row) {
        return (int) meta[row] & 0xffff;
    }

    int cpu(final int row) {
        return (int) meta[row] >>> 16;
    }

    int pid(final int row) {
        return (int) (meta[row] >>> 32);
    }
}
