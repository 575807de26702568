package org.mm4j.trace.kmem.zstd;

/**
 * Streaming XXH64 (the 64-bit xxHash that zstd stores, truncated to its low 32 bits, as a frame's content
 * checksum). Feed bytes with {@link #update}, read the hash with {@link #digest} (which does not change the
 * state). Invariants: {@code buffered < 32}; {@code total} counts every byte fed since {@link #reset}. Not
 * thread-safe; allocates nothing after construction.
 */
final class Xxh64 {
    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;

    private final long seed;
    private long v1;
    private long v2;
    private long v3;
    private long v4;
    private long total;
    private final byte[] mem = new byte[32];
    private int buffered;

    public Xxh64(final long seed) {
        this.seed = seed;
        reset();
    }

    public void reset() {
        v1 = seed + P1 + P2;
        v2 = seed + P2;
        v3 = seed;
        v4 = seed - P1;
        total = 0;
        buffered = 0;
    }

    /** The XXH64 of {@code b[off, off+len)} with seed 0. */
    public static long hash(final byte[] b, final int off, final int len) {
        final Xxh64 h = new Xxh64(0);
        h.update(b, off, len);
        return h.digest();
    }

    public void update(final byte[] b, final int off, final int len) {
        int p = off;
        final int end = off + len;
        total += len;
        if (buffered + len < 32) {
            System.arraycopy(b, p, mem, buffered, len);
            buffered += len;
            return;
        }
        if (buffered > 0) {
            final int fill = 32 - buffered;
            System.arraycopy(b, p, mem, buffered, fill);
            p += fill;
            stripe(mem, 0);
            buffered = 0;
        }
        if (p + 32 <= end) {
            // the accumulators stay in locals over the bulk of the input
            long a1 = v1;
            long a2 = v2;
            long a3 = v3;
            long a4 = v4;
            do {
                a1 = round(a1, le64(b, p));
                a2 = round(a2, le64(b, p + 8));
                a3 = round(a3, le64(b, p + 16));
                a4 = round(a4, le64(b, p + 24));
                p += 32;
            } while (p + 32 <= end);
            v1 = a1;
            v2 = a2;
            v3 = a3;
            v4 = a4;
        }
        if (p < end) {
            System.arraycopy(b, p, mem, 0, end - p);
            buffered = end - p;
        }
    }

    private void stripe(final byte[] b, final int p) {
        v1 = round(v1, le64(b, p));
        v2 = round(v2, le64(b, p + 8));
        v3 = round(v3, le64(b, p + 16));
        v4 = round(v4, le64(b, p + 24));
    }

    public long digest() {
        long h;
        if (total >= 32) {
            h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
            h = merge(h, v1);
            h = merge(h, v2);
            h = merge(h, v3);
            h = merge(h, v4);
        } else {
            h = seed + P5;
        }
        h += total;
        int p = 0;
        while (p + 8 <= buffered) {
            h ^= round(0, le64(mem, p));
            h = Long.rotateLeft(h, 27) * P1 + P4;
            p += 8;
        }
        if (p + 4 <= buffered) {
            h ^= (le32(mem, p) & 0xFFFFFFFFL) * P1;
            h = Long.rotateLeft(h, 23) * P2 + P3;
            p += 4;
        }
        while (p < buffered) {
            h ^= (mem[p] & 0xFFL) * P5;
            h = Long.rotateLeft(h, 11) * P1;
            p++;
        }
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        h ^= h >>> 32;
        return h;
    }

    private static long round(final long acc, final long input) {
        return Long.rotateLeft(acc + input * P2, 31) * P1;
    }

    private static long merge(final long h, final long v) {
        return (h ^ round(0, v)) * P1 + P4;
    }

    private static final java.lang.invoke.VarHandle LONGS = java.lang.invoke.MethodHandles
        .byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    private static long le64(final byte[] b, final int p) {
        return (long) LONGS.get(b, p);
    }

    private static int le32(final byte[] b, final int p) {
        return (b[p] & 0xff) | (b[p + 1] & 0xff) << 8 | (b[p + 2] & 0xff) << 16 | (b[p + 3] & 0xff) << 24;
    }
}
