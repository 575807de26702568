package org.mm4j.trace.kmem.zstd;

import org.mm4j.trace.kmem.zstd.ZstdInputStream.BackwardBits;
import org.mm4j.trace.kmem.zstd.ZstdInputStream.BitStream;
import org.mm4j.trace.kmem.zstd.ZstdInputStream.ForwardBits;
import org.mm4j.trace.kmem.zstd.ZstdInputStream.Fse;

import java.io.IOException;
import java.util.Arrays;

/**
 * A Huffman decoding table for literals, read again for every block that brings a new tree description: its arrays
 * are reused (nothing allocated per block).
 */
final class Huffman {
    /** Largest code length (HUF_TABLELOG_MAX). */
    private static final int MAX_BITS = 11;
    private int maxBits;
    /** Per code of maxBits bits: the symbol in the low byte, the code's length in bits above it. */
    private final short[] table = new short[1 << MAX_BITS];
    /** Whether {@link #table} holds a complete tree (a read that failed leaves none). */
    private boolean valid;
    // scratch of read()
    private final int[] weights = new int[256];
    private final int[] rankCount = new int[MAX_BITS + 2];
    private final int[] rankIdx = new int[MAX_BITS + 2];
    private final Fse weightTable = new Fse(6);
    private final short[] probs = new short[256];
    private final int[] next = new int[256];

    /** Whether a tree has been read (treeless literals reuse it). */
    boolean valid() {
        return valid;
    }

    /** Reads the tree description at {@code p}; returns where the streams start. */
    int read(final byte[] b, final int p, final int end) throws IOException {
        valid = false;
        ZstdInputStream.check(p < end, "Huffman header past the block");
        final int header = b[p] & 0xff;
        final int[] weights = this.weights;
        int n;
        int q;
        if (header >= 128) {
            n = header - 127;
            q = p + 1 + (n + 1) / 2;
            ZstdInputStream.check(q <= end, "Huffman weights past the block");
            for (int i = 0; i < n; i++) {
                final int byteVal = b[p + 1 + i / 2] & 0xff;
                weights[i] = (i & 1) == 0 ? byteVal >>> 4 : byteVal & 0xf;
            }
        } else {
            q = p + 1 + header;
            ZstdInputStream.check(q <= end, "Huffman weights past the block");
            final ForwardBits fb = new ForwardBits(b, p + 1, q);
            final Fse t = weightTable.readInto(fb, 255, 6, probs, next);
            final BackwardBits bb = new BackwardBits(b, fb.bytePosition(), q);
            int s1 = t.init(bb);
            int s2 = t.init(bb);
            n = 0;
            while (true) {
                ZstdInputStream.check(n < 255, "too many Huffman weights");
                weights[n++] = t.symbol[s1];
                s1 = t.update(s1, bb);
                if (bb.overflowed()) {
                    weights[n++] = t.symbol[s2];
                    break;
                }
                ZstdInputStream.check(n < 255, "too many Huffman weights");
                weights[n++] = t.symbol[s2];
                s2 = t.update(s2, bb);
                if (bb.overflowed()) {
                    weights[n++] = t.symbol[s1];
                    break;
                }
            }
        }
        int sum = 0;
        for (int i = 0; i < n; i++) {
            ZstdInputStream.check(weights[i] <= 11, "Huffman weight above 11");
            sum += weights[i] == 0 ? 0 : 1 << (weights[i] - 1);
        }
        ZstdInputStream.check(sum > 0, "Huffman weights all zero");
        maxBits = ZstdInputStream.highBit(sum) + 1;
        final int left = (1 << maxBits) - sum;
        ZstdInputStream.check(Integer.bitCount(left) == 1, "Huffman weights do not make a full tree");
        weights[n++] = ZstdInputStream.highBit(left) + 1;
        ZstdInputStream.check(maxBits <= 11, "Huffman table log above 11");
        final int[] rankCount = this.rankCount;
        final int[] rankIdx = this.rankIdx;
        Arrays.fill(rankCount, 0);
        for (int i = 0; i < n; i++) {
            if (weights[i] > 0) {
                rankCount[maxBits + 1 - weights[i]]++;
            }
        }
        rankIdx[maxBits] = 0;
        for (int nb = maxBits; nb >= 1; nb--) {
            rankIdx[nb - 1] = rankIdx[nb] + rankCount[nb] * (1 << (maxBits - nb));
        }
        for (int i = 0; i < n; i++) {
            if (weights[i] > 0) {
                final int nb = maxBits + 1 - weights[i];
                final int len = 1 << (maxBits - nb);
                final int code = rankIdx[nb];
                // the symbol in the low byte, the code's length above it
                Arrays.fill(table, code, code + len, (short) (i | nb << 8));
                rankIdx[nb] += len;
            }
        }
        valid = true;
        return q;
    }

    void decode(final byte[] b, final int start, final int end, final int streams, final byte[] out,
                final int outSize) throws IOException {
        if (streams == 1) {
            decodeStream(b, start, end, out, 0, outSize);
            return;
        }
        ZstdInputStream.check(start + 6 <= end, "Huffman jump table past the block");
        final int s1 = (b[start] & 0xff) | (b[start + 1] & 0xff) << 8;
        final int s2 = (b[start + 2] & 0xff) | (b[start + 3] & 0xff) << 8;
        final int s3 = (b[start + 4] & 0xff) | (b[start + 5] & 0xff) << 8;
        final int p1 = start + 6;
        final int p2 = p1 + s1;
        final int p3 = p2 + s2;
        final int p4 = p3 + s3;
        ZstdInputStream.check(p4 <= end, "Huffman streams past the block");
        final int seg = (outSize + 3) / 4;
        ZstdInputStream.check(3 * seg <= outSize, "literal streams larger than the literals");
        decodeStream(b, p1, p2, out, 0, seg);
        decodeStream(b, p2, p3, out, seg, seg);
        decodeStream(b, p3, p4, out, 2 * seg, seg);
        decodeStream(b, p4, end, out, 3 * seg, outSize - 3 * seg);
    }

    private void decodeStream(final byte[] b, final int start, final int end, final byte[] out, final int off,
                              final int n) throws IOException {
        ZstdInputStream.check(end > start, "empty bitstream");
        final int lastByte = b[end - 1] & 0xff;
        ZstdInputStream.check(lastByte != 0, "bitstream without end marker");
        // the backward bit stream in locals (see BitStream)
        final byte[] bb;
        final int bs;
        int bp;
        int bcn = 8 - ZstdInputStream.highBit(lastByte);
        if (end - start >= 8) {
            bb = b;
            bs = start;
            bp = end - 8;
        } else {
            bb = BitStream.tiny(b, start, end - start);
            bs = 0;
            bp = 0;
            bcn += (8 - (end - start)) * 8;
        }
        long bc = (long) ZstdInputStream.LONGS.get(bb, bp);
        final short[] dt = table;
        final int shift = 64 - maxBits;
        int o = off;
        final int oEnd = off + n;
        // four symbols per reload: a reload leaves >= 57 bits, four codes take <= 44
        while (oEnd - o >= 4 && bp - bs >= 8) {
            bp -= bcn >>> 3;
            bcn &= 7;
            bc = (long) ZstdInputStream.LONGS.get(bb, bp);
            int e = dt[(int) ((bc << bcn) >>> shift)];
            out[o] = (byte) e;
            bcn += e >>> 8;
            e = dt[(int) ((bc << bcn) >>> shift)];
            out[o + 1] = (byte) e;
            bcn += e >>> 8;
            e = dt[(int) ((bc << bcn) >>> shift)];
            out[o + 2] = (byte) e;
            bcn += e >>> 8;
            e = dt[(int) ((bc << bcn) >>> shift)];
            out[o + 3] = (byte) e;
            bcn += e >>> 8;
            o += 4;
        }
        // the tail: one symbol per reload; below the stream's start the bits read as zeros
        while (o < oEnd) {
            final int nb = Math.min(bcn >>> 3, bp - bs);
            if (nb > 0) {
                bp -= nb;
                bcn -= nb << 3;
                bc = (long) ZstdInputStream.LONGS.get(bb, bp);
            }
            ZstdInputStream.check(bcn < 64, "Huffman stream overflowed");
            final int e = dt[(int) ((bc << bcn) >>> shift)];
            out[o++] = (byte) e;
            bcn += e >>> 8;
        }
        ZstdInputStream.check(bp == bs && bcn == 64, "Huffman stream not fully consumed (corrupt data)");
    }
}
