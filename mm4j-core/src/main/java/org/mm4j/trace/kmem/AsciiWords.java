package org.mm4j.trace.kmem;

/**
 * Byte tricks of the fast path ({@link KmemLineParser}) on 8 bytes of a line at a time, as a little-endian
 * {@code long} (the first byte lowest): masks of the bytes of a class (blank, digit, hex digit, not printable) and
 * the value of a run of digits, without a branch per byte. "Exact for the lowest such byte" is all a scan needs:
 * a borrow or carry may flag a byte after the first flagged one, never one before it. Also {@link #parseHex} of a
 * byte range, which the general parser shares. Stateless; any thread.
 */
final class AsciiWords {
    static final long ONES = 0x0101010101010101L;
    static final long HIGHS = 0x8080808080808080L;
    static final long LOWS = 0x7f7f7f7f7f7f7f7fL;
    static final long SPACES = 0x2020202020202020L;
    /** {@link #parseHex}: not a hex number. */
    static final long BAD = Long.MIN_VALUE;

    private AsciiWords() {
    }

    /** High bit set in each byte of {@code w} below 0x20, at or above 0x7f (exact for the lowest such byte). */
    static long special(final long w) {
        // no borrow or carry crosses a printable byte, so the lowest other byte is found exactly
        return ((w - SPACES) | (w + ONES) | w) & HIGHS;
    }

    /**
     * High bit set in each byte of {@code w} that is a blank, when the bytes are printable ASCII (a line of the fast
     * path): only 0x20 borrows from 0x21 among them (exact for the lowest such byte; other bytes, past a line's end,
     * may be flagged too, and the newline at its end is).
     */
    static long blanks(final long w) {
        return (w - 0x2121212121212121L) & HIGHS;
    }

    /**
     * High bit set in each byte of {@code w} that is a blank, a control byte, DEL or not ASCII: each byte not in
     * 0x21..0x7e (exact for the lowest such byte; the bytes before it borrow and carry nothing).
     */
    static long stops(final long w) {
        return ((w - 0x2121212121212121L) | (w + ONES) | w) & HIGHS;
    }

    /** High bit set in each byte of {@code w} that is not zero (exact for every byte). */
    static long nonZero(final long x) {
        return ((x & LOWS) + LOWS | x) & HIGHS;
    }

    /** High bit set in each byte of {@code w} that is zero (exact for the lowest such byte). */
    static long zeros(final long x) {
        return (x - ONES) & ~x & HIGHS;
    }

    /**
     * The fraction of a timestamp from the word after its '.': six digits, ':' and a blank, as microseconds; -1
     * when the word is not so (the parser's byte loop then reads it). The two bytes shifted in are
     * made digits ('0') so that only the six fraction bytes decide.
     */
    static long frac6(final long w) {
        final long d = w << 16 | 0x3030;
        return (w >>> 48) == (' ' << 8 | ':') && digits(d) == 8 ? dec8(d) : -1;
    }

    /** The low {@code n} bytes of a word (all of it from 8). */
    static long mask(final int n) {
        return n >= 8 ? -1L : (1L << (n << 3)) - 1;
    }

    /** The first {@code n} (1 to 8) bytes of {@code w} as hex digits, or -1 when one is not. */
    static long hex8(final long w, final int n) {
        return hexDigits(w) >= n ? hexValue(w, n) : -1;
    }

    /**
     * How many of the low bytes of {@code w} are hex digits before the first that is not (8: all); exact when the
     * bytes before that one are ASCII (no carry then crosses a byte).
     */
    static int hexDigits(final long x) {
        // digits: 0x30..0x39; letters (lower-cased by 0x20): 0x61..0x66
        final long l = x | SPACES;
        final long digit = (x + 0x5050505050505050L) & ~(x + 0x4646464646464646L);
        final long letter = (l + 0x1f1f1f1f1f1f1f1fL) & ~(l + 0x1919191919191919L);
        return Long.numberOfTrailingZeros(~(digit | letter) & HIGHS) >>> 3;
    }

    /** The first {@code n} (1 to 8) bytes of {@code w} moved to the top of the word, '0's below them. */
    static long padded(final long w, final int n) {
        return n == 8 ? w : w << ((8 - n) << 3) | 0x3030303030303030L >>> (n << 3);
    }

    /** The first {@code n} (1 to 8) bytes of {@code w}, decimal digits, as a number. */
    static long decValue(final long w, final int n) {
        return dec8(padded(w, n));
    }

    /** The first {@code n} (1 to 8) bytes of {@code w}, hex digits, as a number. */
    static long hexValue(final long w, final int n) {
        final long x = padded(w, n);
        // a nibble per byte (first digit in the lowest byte), then pairs, quads, the 32-bit value
        long d = (x & 0x0f0f0f0f0f0f0f0fL) + 9 * (x >>> 6 & ONES);
        d = (d << 4 | d >>> 8) & 0x00ff00ff00ff00ffL;
        d = (d << 8 | d >>> 16) & 0x0000ffff0000ffffL;
        return (d << 16 | d >>> 32) & 0xffffffffL;
    }

    /** How many of the low bytes of {@code w} are decimal digits before the first that is not (8: all). */
    static int digits(final long w) {
        // ASCII only: no borrow or carry crosses a digit, so the lowest non-digit is found exactly
        final long m = ((w - 0x3030303030303030L) | (w + 0x4646464646464646L)) & HIGHS;
        return Long.numberOfTrailingZeros(m) >>> 3;
    }

    /** The 8 decimal digits of {@code w} (the first in the lowest byte) as a number. */
    static long dec8(final long w) {
        long v = w - 0x3030303030303030L;
        v = (v * 10 + (v >>> 8)) & 0x00ff00ff00ff00ffL;
        v = (v * 100 + (v >>> 16)) & 0x0000ffff0000ffffL;
        return (v * 10000 + (v >>> 32)) & 0xffffffffL;
    }

    /** Hex with or without 0x, at most 16 significant digits (unsigned 64 bits); {@link Long#MIN_VALUE} otherwise. */
    static long parseHex(final byte[] buf, final int from, final int e) {
        int s = from;
        if (e - s >= 2 && buf[s] == '0' && (buf[s + 1] == 'x' || buf[s + 1] == 'X')) {
            s += 2;
        }
        while (s < e - 1 && buf[s] == '0') {
            s++;
        }
        if (e <= s || e - s > 16) {
            return BAD;
        }
        long v = 0;
        for (int i = s; i < e; i++) {
            final int d = HEX[buf[i] & 0xff];
            if (d < 0) {
                return BAD;
            }
            v = v << 4 | d;
        }
        return v;
    }

    /** The value of each byte as a hex digit, or -1. */
    private static final byte[] HEX = new byte[256];

    static {
        java.util.Arrays.fill(HEX, (byte) -1);
        for (int c = '0'; c <= '9'; c++) {
            HEX[c] = (byte) (c - '0');
        }
        for (int c = 'a'; c <= 'f'; c++) {
            HEX[c] = (byte) (c - 'a' + 10);
            HEX[c - 'a' + 'A'] = (byte) (c - 'a' + 10);
        }
    }
}
