package org.mm4j.trace.kmem.zstd;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * A streaming zstd decoder (RFC 8878) in plain Java: frames, skippable frames, raw/RLE/compressed blocks, Huffman
 * literals (1 or 4 streams, tree reuse), FSE-coded sequences (predefined, RLE, compressed and repeated tables),
 * repeat offsets. Dictionaries are not supported (a frame that names one is an error). A frame's content checksum
 * (the low 32 bits of the {@link Xxh64} of its decoded bytes), when present, is verified at the frame's end: a
 * mismatch is an {@link IOException} naming the frame and its offset.
 *
 * <p>Memory: the decoded history is kept for the frame's window only, and a frame whose window is larger than the
 * limit ({@link #DEFAULT_MAX_WINDOW}, 128 MiB, unless the constructor is given another, at most
 * {@link #MAX_WINDOW}) is refused before anything is allocated, as {@code zstd --memory=} does; so a multi-GB
 * trace decodes in bounded memory. Malformed input is an {@link IOException} saying what is wrong, with the
 * compressed offset. Not thread-safe.
 */
public final class ZstdInputStream extends InputStream {
    /** {@link #read()}'s buffer (the reading thread only: the stream is not thread-safe). */
    private final byte[] one = new byte[1];
    /** The window limit unless the caller gives another (zstd's own default for --memory is 128 MiB). */
    public static final int DEFAULT_MAX_WINDOW = 1 << 27;
    /** The largest window limit that can be set (the history, twice the window, must fit one Java array). */
    public static final int MAX_WINDOW = 1 << 30;
    private static final int MAGIC = 0xFD2FB528;
    private static final int BLOCK_MAX = 128 << 10;

    private static final int[] LL_BASE = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 24,
        28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};
    private static final int[] LL_BITS = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4,
        6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    private static final int[] ML_BASE = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
        24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027,
        2051, 4099, 8195, 16387, 32771, 65539};
    private static final int[] ML_BITS = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    private static final short[] LL_DEFAULT = {4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2,
        2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1};
    private static final short[] ML_DEFAULT = {1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1};
    private static final short[] OF_DEFAULT = {1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        -1, -1, -1, -1, -1};
    private static final Fse LL_PREDEFINED = Fse.build(LL_DEFAULT, 6);
    private static final Fse ML_PREDEFINED = Fse.build(ML_DEFAULT, 6);
    private static final Fse OF_PREDEFINED = Fse.build(OF_DEFAULT, 5);

    private final InputStream in;
    private byte[] hist = new byte[0];
    private int histLen;
    private int readPos;
    private int windowSize;
    private boolean inFrame;
    private boolean lastBlock;
    private boolean checksum;
    private boolean eof;
    private final byte[] block = new byte[BLOCK_MAX];
    private final int[] rep = new int[3];
    private Huffman huffman;
    private Fse llTable;
    private Fse ofTable;
    private Fse mlTable;
    /** The tables a block's FSE-compressed descriptions are built in (no allocation per block), and scratch. */
    private final Fse llOwn = new Fse(9);
    private final Fse ofOwn = new Fse(8);
    private final Fse mlOwn = new Fse(9);
    private final short[] probsScratch = new short[256];
    private final int[] nextScratch = new int[256];
    private byte[] literals = new byte[BLOCK_MAX + WILD];
    private long frames;
    private final long maxWindow;
    private final Xxh64 xxh = new Xxh64(0);
    /** Bytes of compressed input consumed (for error messages). */
    private long inPos;
    private long frameStart;

    public ZstdInputStream(final InputStream in) {
        this(in, DEFAULT_MAX_WINDOW);
    }

    /**
     * A decoder that refuses frames whose window is larger than {@code maxWindow} bytes (1 KiB to
     * {@link #MAX_WINDOW}).
     */
    public ZstdInputStream(final InputStream in, final long maxWindow) {
        checkMaxWindow(maxWindow);
        this.in = in;
        this.maxWindow = maxWindow;
    }

    /**
     * Refuses a window limit outside 1 KiB to {@link #MAX_WINDOW} (both decoders' constructors).
     *
     * @throws IllegalArgumentException naming the limit
     */
    public static void checkMaxWindow(final long maxWindow) {
        if (maxWindow < 1024 || maxWindow > MAX_WINDOW) {
            throw new IllegalArgumentException("zstd window limit " + maxWindow + " out of range (expected: 1 KiB"
                + " to " + (MAX_WINDOW >> 20) + " MiB)");
        }
    }

    /** Parses a size as {@code zstd --memory=} takes it: bytes, or with a K/KiB/KB, M/MiB/MB or G/GiB/GB suffix. */
    public static long parseMemory(final String text) {
        final String t = text.strip();
        int i = 0;
        while (i < t.length() && Character.isDigit(t.charAt(i))) {
            i++;
        }
        if (i == 0 || i > 12) {
            throw new IllegalArgumentException("bad size '" + text + "' (expected: a number of bytes, or with K, M"
                + " or G, e.g. 512M)");
        }
        final long n = Long.parseLong(t.substring(0, i));
        final int shift = switch (t.substring(i)) {
            case "" -> 0;
            case "K", "KiB", "KB", "k" -> 10;
            case "M", "MiB", "MB", "m" -> 20;
            case "G", "GiB", "GB", "g" -> 30;
            default -> throw new IllegalArgumentException("bad size '" + text + "' (expected: a number of bytes,"
                + " or with K, M or G, e.g. 512M)");
        };
        if (n > MAX_WINDOW >> shift) {
            throw new IllegalArgumentException("size '" + text + "' above the largest zstd window mm4j decodes ("
                + (MAX_WINDOW >> 20) + " MiB)");
        }
        return n << shift;
    }

    @Override
    public int read() throws IOException {
        final int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(final byte[] b, final int off, final int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (readPos == histLen) {
            final boolean more;
            try {
                more = nextBlock();
            } catch (final IndexOutOfBoundsException | NegativeArraySizeException | ArithmeticException e) {
                // a corrupt table or length that slipped past the checks: still a data error, never a crash
                eof = true;
                throw new IOException("zstd: corrupt data (" + e.getClass().getSimpleName() + ")", e);
            }
            if (!more) {
                return -1;
            }
        }
        final int n = Math.min(len, histLen - readPos);
        System.arraycopy(hist, readPos, b, off, n);
        readPos += n;
        return n;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    // ---- frames and blocks -------------------------------------------------------------------------------------

    /** Decodes the next block (starting frames as needed); false at the end of the input. */
    private boolean nextBlock() throws IOException {
        if (eof) {
            return false;
        }
        if (!inFrame || lastBlock) {
            if (inFrame && checksum) {
                readFully(block, 0, 4);
                final int stored = (block[0] & 0xff) | (block[1] & 0xff) << 8 | (block[2] & 0xff) << 16
                    | (block[3] & 0xff) << 24;
                final int actual = (int) xxh.digest();
                if (stored != actual) {
                    eof = true;
                    throw new IOException(String.format("zstd: content checksum mismatch in frame %d (starting at"
                        + " offset %d): stored %08x, decoded data hashes to %08x (corrupt data)", frames,
                        frameStart, stored, actual));
                }
            }
            inFrame = false;
            if (!startFrame()) {
                eof = true;
                return false;
            }
        }
        compact();
        final int h0 = readByteOrFail();
        final int h = h0 | readByteOrFail() << 8 | readByteOrFail() << 16;
        lastBlock = (h & 1) != 0;
        final int type = h >>> 1 & 3;
        final int size = h >>> 3;
        final int before = histLen;
        switch (type) {
            case 0 -> {
                if (size > BLOCK_MAX) {
                    throw corrupt("raw block of " + size + " bytes");
                }
                ensure(size);
                readFully(hist, histLen, size);
                histLen += size;
            }
            case 1 -> {
                if (size > BLOCK_MAX) {
                    throw corrupt("RLE block of " + size + " bytes");
                }
                final byte v = (byte) readByteOrFail();
                ensure(size);
                java.util.Arrays.fill(hist, histLen, histLen + size, v);
                histLen += size;
            }
            case 2 -> {
                if (size > BLOCK_MAX) {
                    throw corrupt("compressed block of " + size + " bytes");
                }
                readFully(block, 0, size);
                decompressBlock(size);
            }
            default -> throw new IOException("zstd: reserved block type (corrupt data) at offset " + (inPos - 3));
        }
        if (histLen - before > BLOCK_MAX) {
            throw corrupt("block decodes to " + (histLen - before) + " bytes, above 128 KiB");
        }
        if (checksum) {
            xxh.update(hist, before, histLen - before);
        }
        return true;
    }

    /** Reads a frame header (skipping skippable frames); false at a clean end of input. */
    private boolean startFrame() throws IOException {
        while (true) {
            final int b0 = in.read();
            if (b0 < 0) {
                return false;
            }
            frameStart = inPos;
            inPos++;
            final int magic = b0 | readByteOrFail() << 8 | readByteOrFail() << 16 | readByteOrFail() << 24;
            if ((magic & 0xFFFFFFF0) == 0x184D2A50) {
                long skip = readLe(4);
                while (skip > 0) {
                    final long n = in.skip(skip);
                    if (n <= 0) {
                        if (in.read() < 0) {
                            throw new EOFException("zstd: truncated skippable frame");
                        }
                        skip--;
                        inPos++;
                    } else {
                        skip -= n;
                        inPos += n;
                    }
                }
                continue;
            }
            if (magic != MAGIC) {
                throw new IOException(frames == 0 ? "not zstd data (bad magic number)"
                    : "zstd: garbage after frame " + frames + " at offset " + frameStart);
            }
            break;
        }
        frames++;
        final int fhd = readByteOrFail();
        final int fcsFlag = fhd >>> 6;
        final boolean single = (fhd & 0x20) != 0;
        check((fhd & 0x08) == 0, "reserved frame header bit set");
        checksum = (fhd & 0x04) != 0;
        final int dictFlag = fhd & 3;
        long window = 0;
        if (!single) {
            window = windowOf(readByteOrFail());
        }
        final int dictBytes = dictFlag == 0 ? 0 : dictFlag == 1 ? 1 : dictFlag == 2 ? 2 : 4;
        if (dictBytes > 0 && readLe(dictBytes) != 0) {
            throw new IOException("zstd: frame needs a dictionary (not supported)");
        }
        final int fcsBytes = fcsFlag == 0 ? (single ? 1 : 0) : fcsFlag == 1 ? 2 : fcsFlag == 2 ? 4 : 8;
        long fcs = fcsBytes == 0 ? -1 : readLe(fcsBytes);
        if (fcsBytes == 2) {
            fcs += 256;
        }
        if (single) {
            window = fcs;
        }
        checkWindow(window, maxWindow, frames, frameStart);
        xxh.reset();
        windowSize = (int) Math.max(window, 1);
        histLen = 0;
        readPos = 0;
        rep[0] = 1;
        rep[1] = 4;
        rep[2] = 8;
        huffman = null;
        llTable = null;
        ofTable = null;
        mlTable = null;
        inFrame = true;
        lastBlock = false;
        return true;
    }

    /** Drops history older than the window (amortized: only when twice the window is held). */
    private void compact() {
        if (readPos < histLen) {
            return;
        }
        if (histLen > 2 * windowSize) {
            final int keep = windowSize;
            System.arraycopy(hist, histLen - keep, hist, 0, keep);
            histLen = keep;
            readPos = keep;
        }
    }

    private void ensure(final int more) throws IOException {
        final long need = (long) histLen + more;
        if (need > hist.length) {
            final long cap = Math.max(need, Math.min(2L * windowSize + 2L * BLOCK_MAX, Math.max(hist.length * 2L,
                1 << 16)));
            if (cap > Integer.MAX_VALUE - 16) {
                throw new IOException("zstd: window too large");
            }
            hist = java.util.Arrays.copyOf(hist, (int) Math.max(cap, need));
        }
    }

    // ---- compressed blocks -------------------------------------------------------------------------------------

    private void decompressBlock(final int size) throws IOException {
        int p = 0;
        final int b0 = block[0] & 0xff;
        final int litType = b0 & 3;
        final int sizeFormat = b0 >>> 2 & 3;
        final int litSize;
        if (litType <= 1) {
            final int hdr;
            if ((sizeFormat & 1) == 0) {
                litSize = b0 >>> 3;
                hdr = 1;
            } else if (sizeFormat == 1) {
                litSize = b0 >>> 4 | u8(1) << 4;
                hdr = 2;
            } else {
                litSize = b0 >>> 4 | u8(1) << 4 | u8(2) << 12;
                hdr = 3;
            }
            p = hdr;
            if (literals.length < litSize + WILD) {
                literals = new byte[litSize + WILD];
            }
            if (litType == 0) {
                check(p + litSize <= size, "raw literals past the block");
                System.arraycopy(block, p, literals, 0, litSize);
                p += litSize;
            } else {
                check(p < size, "RLE literals past the block");
                java.util.Arrays.fill(literals, 0, litSize, block[p]);
                p++;
            }
        } else {
            final int streams = sizeFormat == 0 ? 1 : 4;
            final int compSize;
            final int hdr = sizeFormat <= 1 ? 3 : sizeFormat == 2 ? 4 : 5;
            check(hdr <= size, "literals header past the block");
            long v = 0;
            for (int i = hdr - 1; i >= 0; i--) {
                v = v << 8 | u8(i);
            }
            final int bits = sizeFormat <= 1 ? 10 : sizeFormat == 2 ? 14 : 18;
            litSize = (int) (v >>> 4 & ((1 << bits) - 1));
            compSize = (int) (v >>> (4 + bits) & ((1 << bits) - 1));
            p = hdr;
            check(p + compSize <= size, "compressed literals past the block");
            if (litSize > BLOCK_MAX) {
                throw corrupt("literals of " + litSize + " bytes");
            }
            if (literals.length < litSize + WILD) {
                literals = new byte[litSize + WILD];
            }
            int q = p;
            if (litType == 2) {
                if (huffman == null) {
                    huffman = new Huffman();
                }
                q = huffman.read(block, p, p + compSize);
            } else {
                check(huffman != null && huffman.valid(), "treeless literals without a previous Huffman table");
            }
            huffman.decode(block, q, p + compSize, streams, literals, litSize);
            p += compSize;
        }
        sequences(p, size, litSize);
    }

    private void sequences(final int start, final int end, final int litSize) throws IOException {
        int p = start;
        check(p < end || p == end, "sequences past the block");
        if (p == end) {
            copyLiterals(0, litSize);
            return;
        }
        final int b0 = u8(p++);
        int nbSeq;
        if (b0 == 0) {
            copyLiterals(0, litSize);
            return;
        } else if (b0 < 128) {
            nbSeq = b0;
        } else if (b0 < 255) {
            nbSeq = (b0 - 128) << 8 | u8(p++);
        } else {
            nbSeq = u8(p) + (u8(p + 1) << 8) + 0x7F00;
            p += 2;
        }
        check(p < end, "sequence modes past the block");
        final int modes = u8(p++);
        check((modes & 3) == 0, "reserved sequence mode bits set");
        final int[] pos = {p};
        llTable = table(modes >>> 6, LL_PREDEFINED, llTable, llOwn, 35, 9, pos, end, "literal length");
        ofTable = table(modes >>> 4 & 3, OF_PREDEFINED, ofTable, ofOwn, 31, 8, pos, end, "offset");
        mlTable = table(modes >>> 2 & 3, ML_PREDEFINED, mlTable, mlOwn, 52, 9, pos, end, "match length");
        p = pos[0];
        // the backward bit stream in locals (see BitStream): container bc, bits consumed from its top bcn, at bp
        final byte[] bb;
        final int bs;
        final int streamLen = end - p;
        check(streamLen > 0, "empty bitstream");
        final int lastByte = block[end - 1] & 0xff;
        check(lastByte != 0, "bitstream without end marker");
        int bp;
        int bcn = 8 - highBit(lastByte);
        if (streamLen >= 8) {
            bb = block;
            bs = p;
            bp = end - 8;
        } else {
            bb = BitStream.tiny(block, p, streamLen);
            bs = 0;
            bp = 0;
            bcn += (8 - streamLen) * 8;
        }
        long bc = (long) LONGS.get(bb, bp);
        final Fse llT = llTable;
        final Fse ofT = ofTable;
        final Fse mlT = mlTable;
        int ll = (int) ((bc << bcn) >>> 1 >>> (63 - llT.log));
        bcn += llT.log;
        int of = (int) ((bc << bcn) >>> 1 >>> (63 - ofT.log));
        bcn += ofT.log;
        int ml = (int) ((bc << bcn) >>> 1 >>> (63 - mlT.log));
        bcn += mlT.log;
        int rep0 = rep[0];
        int rep1 = rep[1];
        int rep2 = rep[2];
        int lit = 0;
        final int blockStart = histLen;
        for (int s = 0; s < nbSeq; s++) {
            int nb = Math.min(bcn >>> 3, bp - bs);
            if (nb > 0) {
                bp -= nb;
                bcn -= nb << 3;
                bc = (long) LONGS.get(bb, bp);
            }
            final int ofCode = ofT.symbol[of];
            final int mlCode = mlT.symbol[ml];
            final int llCode = llT.symbol[ll];
            if (ofCode > 31 || mlCode >= ML_BASE.length || llCode >= LL_BASE.length) {
                throw corrupt("bad sequence code");
            }
            // offset (<= 31 bits) and match length (<= 16) extra bits fit what a reload leaves (>= 57 bits)
            final long ofValue = (1L << ofCode) + ((bc << bcn) >>> 1 >>> (63 - ofCode));
            bcn += ofCode;
            final int mlBits = ML_BITS[mlCode];
            final int matchLen = ML_BASE[mlCode] + (int) ((bc << bcn) >>> 1 >>> (63 - mlBits));
            bcn += mlBits;
            final int llBits = LL_BITS[llCode];
            if (ofCode + mlBits + llBits > 30) {
                // literal length bits plus the three state updates (<= 26 bits) might not fit: reload
                nb = Math.min(bcn >>> 3, bp - bs);
                if (nb > 0) {
                    bp -= nb;
                    bcn -= nb << 3;
                    bc = (long) LONGS.get(bb, bp);
                }
            }
            final int litLen = LL_BASE[llCode] + (int) ((bc << bcn) >>> 1 >>> (63 - llBits));
            bcn += llBits;
            // repeat offsets (RFC 8878 3.1.1.5)
            final int offset;
            if (ofValue > 3) {
                if (ofValue - 3 > Integer.MAX_VALUE) {
                    throw corrupt("offset too large");
                }
                offset = (int) (ofValue - 3);
                rep2 = rep1;
                rep1 = rep0;
                rep0 = offset;
            } else {
                final int idx = (int) ofValue - (litLen == 0 ? 0 : 1);
                if (idx == 0) {
                    offset = rep0;
                } else {
                    offset = idx == 1 ? rep1 : idx == 2 ? rep2 : rep0 - 1;
                    if (idx > 1) {
                        rep2 = rep1;
                    }
                    rep1 = rep0;
                    rep0 = offset;
                }
            }
            if (s + 1 < nbSeq) {
                int nbBits = llT.nbBits[ll];
                ll = llT.base[ll] + (int) ((bc << bcn) >>> 1 >>> (63 - nbBits));
                bcn += nbBits;
                nbBits = mlT.nbBits[ml];
                ml = mlT.base[ml] + (int) ((bc << bcn) >>> 1 >>> (63 - nbBits));
                bcn += nbBits;
                nbBits = ofT.nbBits[of];
                of = ofT.base[of] + (int) ((bc << bcn) >>> 1 >>> (63 - nbBits));
                bcn += nbBits;
            }
            if (lit + litLen > litSize) {
                throw corrupt("sequence uses more literals than decoded");
            }
            int dst = histLen;
            if (dst - blockStart + litLen + matchLen > BLOCK_MAX) {
                throw corrupt("block decodes to more than 128 KiB");
            }
            if (dst + litLen + matchLen + WILD > hist.length) {
                ensure(litLen + matchLen + WILD);
            }
            final byte[] h = hist;
            // literals, then the match: 8-byte copies may write up to WILD bytes past the end (slack kept by ensure)
            wildCopy(literals, lit, h, dst, litLen);
            dst += litLen;
            lit += litLen;
            if (offset <= 0 || offset > dst) {
                throw corrupt("match offset " + offset + " before the start of the window");
            }
            final int from = dst - offset;
            if (offset >= 8) {
                wildCopy(h, from, h, dst, matchLen);
            } else {
                for (int i = 0; i < matchLen; i++) {
                    h[dst + i] = h[from + i];
                }
            }
            histLen = dst + matchLen;
        }
        rep[0] = rep0;
        rep[1] = rep1;
        rep[2] = rep2;
        check(bp == bs && bcn == 64, "sequence bitstream not fully consumed (corrupt data)");
        copyLiterals(lit, litSize - lit);
    }

    /** Bytes that {@link #wildCopy} may write past the end of a copy. */
    private static final int WILD = 16;
    static final java.lang.invoke.VarHandle LONGS = java.lang.invoke.MethodHandles
        .byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /**
     * Copies {@code n} bytes 8 at a time (source and destination at least 8 apart, or the same array moving
     * forward by at least 8); may read and write up to {@link #WILD} - 1 bytes past {@code n}: both arrays must
     * have that slack.
     */
    @SuppressWarnings("ReferenceEquality") // the same array object means an overlapping copy
    private static void wildCopy(final byte[] src, final int from, final byte[] dst, final int to, final int n) {
        if (n <= 16) {
            LONGS.set(dst, to, (long) LONGS.get(src, from));
            LONGS.set(dst, to + 8, (long) LONGS.get(src, from + 8));
            return;
        }
        if (src != dst || to - from >= n) {
            System.arraycopy(src, from, dst, to, n);
            return;
        }
        for (int i = 0; i < n; i += 8) {
            LONGS.set(dst, to + i, (long) LONGS.get(src, from + i));
        }
    }

    static IOException corrupt(final String what) {
        return new IOException("zstd: corrupt data (" + what + ")");
    }

    private void copyLiterals(final int from, final int n) throws IOException {
        ensure(n);
        System.arraycopy(literals, from, hist, histLen, n);
        histLen += n;
    }

    private Fse table(final int mode, final Fse predefined, final Fse previous, final Fse own, final int maxSymbol,
                      final int maxLog, final int[] pos, final int end, final String what) throws IOException {
        switch (mode) {
            case 0 -> {
                return predefined;
            }
            case 1 -> {
                if (pos[0] >= end) {
                    throw corrupt(what + " RLE symbol past the block");
                }
                return Fse.rle(u8(pos[0]++));
            }
            case 2 -> {
                // this kind's own table, filled again: only the last table of a kind can be repeated (mode 3)
                final ForwardBits fb = new ForwardBits(block, pos[0], end);
                final Fse t = own.readInto(fb, maxSymbol, maxLog, probsScratch, nextScratch);
                pos[0] = fb.bytePosition();
                return t;
            }
            default -> {
                if (previous == null) {
                    throw corrupt(what + " table repeated before one was given");
                }
                return previous;
            }
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private int u8(final int i) {
        return block[i] & 0xff;
    }

    /** A frame's window size from its window descriptor byte (RFC 8878 3.1.1.1.2). */
    static long windowOf(final int descriptor) {
        final long base = 1L << (10 + (descriptor >>> 3));
        return base + (base >>> 3) * (descriptor & 7);
    }

    /**
     * Refuses a frame whose window (a single-segment frame's content size, which may read as negative when above
     * 2^63) is above {@code maxWindow}, as {@code zstd --memory=} does; shared with {@link LibZstdInputStream}.
     */
    static void checkWindow(final long window, final long maxWindow, final long frame, final long frameStart)
        throws IOException {
        if (window > maxWindow || window < 0) {
            throw new IOException("zstd: frame " + frame + " (at offset " + frameStart + ") needs a window of "
                + (window < 0 ? Long.toUnsignedString(window) + " bytes" : sizeText(window))
                + ", above the memory limit of " + sizeText(maxWindow) + " (as zstd --memory=: allow more with"
                + " --zstd-memory=SIZE, at most " + (MAX_WINDOW >> 20) + " MiB, or decompress with the zstd program)");
        }
    }

    static String sizeText(final long bytes) {
        return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : bytes + " bytes";
    }

    private int readByteOrFail() throws IOException {
        final int b = in.read();
        if (b < 0) {
            throw new EOFException("zstd: unexpected end of data at offset " + inPos + " (truncated file?)");
        }
        inPos++;
        return b;
    }

    private long readLe(final int n) throws IOException {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (long) readByteOrFail() << (8 * i);
        }
        return v;
    }

    private void readFully(final byte[] b, final int off, final int n) throws IOException {
        int done = 0;
        while (done < n) {
            final int r = in.read(b, off + done, n - done);
            if (r < 0) {
                throw new EOFException("zstd: unexpected end of data at offset " + inPos + " (truncated file?)");
            }
            done += r;
            inPos += r;
        }
    }

    static void check(final boolean ok, final String what) throws IOException {
        if (!ok) {
            throw new IOException("zstd: corrupt data (" + what + ")");
        }
    }

    static int highBit(final int v) {
        return 31 - Integer.numberOfLeadingZeros(v);
    }

    /** Little-endian bits read forwards (FSE table descriptions). */
    static final class ForwardBits {
        private final byte[] b;
        private final int end;
        private long bitPos;

        ForwardBits(final byte[] b, final int start, final int end) {
            this.b = b;
            this.end = end;
            this.bitPos = (long) start * 8;
        }

        int read(final int n) throws IOException {
            int v = 0;
            for (int i = 0; i < n; i++) {
                final int byteIdx = (int) (bitPos >>> 3);
                check(byteIdx < end, "table description past the block");
                v |= (b[byteIdx] >>> (bitPos & 7) & 1) << i;
                bitPos++;
            }
            return v;
        }

        void unread(final int n) {
            bitPos -= n;
        }

        int bytePosition() {
            return (int) ((bitPos + 7) >>> 3);
        }
    }

    /**
     * The fast backward bit reader, kept in three locals by the loops that use it ({@code sequences},
     * {@code Huffman.decodeStream}), as zstd's BIT_DStream: {@code bc} holds the 8 bytes at {@code bp} (little
     * endian, so the stream's next bits are at its top), {@code bcn} counts the bits of {@code bc} already consumed
     * from the top; reading n bits is {@code (bc << bcn) >>> 1 >>> (63 - n)}, then {@code bcn += n}. A reload moves
     * {@code bp} down by the whole bytes consumed (never below the stream's start {@code bs}). Bits below the start
     * read as zeros; the stream is exactly consumed when {@code bp == bs && bcn == 64}. A stream shorter than 8 bytes
     * is copied to the low bytes of an 8-byte array ({@link #tiny}) whose unused top bytes count as consumed.
     */
    static final class BitStream {
        private BitStream() {
        }

        /** {@code b[start, start+len)} (len < 8) in the low bytes of a zeroed 8-byte array. */
        static byte[] tiny(final byte[] b, final int start, final int len) {
            final byte[] t = new byte[8];
            System.arraycopy(b, start, t, 0, len);
            return t;
        }
    }

    /** Bits read backwards from the end of a stream, after its end marker; zeros once past its start. */
    static final class BackwardBits {
        private static final java.lang.invoke.VarHandle LE_LONG = java.lang.invoke.MethodHandles
            .byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
        private final byte[] b;
        private final int start;
        private final int end;
        private long offset;

        BackwardBits(final byte[] b, final int start, final int end) throws IOException {
            check(end > start, "empty bitstream");
            final int last = b[end - 1] & 0xff;
            check(last != 0, "bitstream without end marker");
            this.b = b;
            this.start = start;
            this.end = end;
            this.offset = (long) (end - start) * 8 - (8 - highBit(last));
        }

        long read(final int n) {
            if (n == 0) {
                return 0;
            }
            offset -= n;
            final long off = offset;
            if (off >= 0 && n <= 56) {
                // fast path: one little-endian 8-byte load holds bits [off, off + n) (n + (off & 7) <= 63)
                final int at = start + (int) (off >>> 3);
                if (at + 8 <= end) {
                    return (long) LE_LONG.get(b, at) >>> (off & 7) & (1L << n) - 1;
                }
            }
            long actualOff = offset;
            int actualBits = n;
            if (offset < 0) {
                actualBits += (int) offset;
                actualOff = 0;
            }
            long v = 0;
            for (int i = actualBits - 1; i >= 0; i--) {
                final long bit = actualOff + i;
                v = v << 1 | (b[start + (int) (bit >>> 3)] >>> (bit & 7) & 1);
            }
            if (offset < 0) {
                v <<= -offset;
            }
            return v;
        }

        boolean exhausted() {
            return offset == 0;
        }

        boolean overflowed() {
            return offset < 0;
        }
    }

    /** An FSE decoding table. */
    static final class Fse {
        /** The accuracy log of the table it holds now (at most the log it was made for). */
        int log;
        final int[] symbol;
        final int[] nbBits;
        final int[] base;

        /** A table with room for accuracy logs up to {@code log}: {@link #readInto} fills it again and again. */
        Fse(final int log) {
            this.log = log;
            this.symbol = new int[1 << log];
            this.nbBits = new int[1 << log];
            this.base = new int[1 << log];
        }

        static Fse rle(final int sym) {
            final Fse t = new Fse(0);
            t.symbol[0] = sym;
            return t;
        }

        int init(final BackwardBits bits) {
            return (int) bits.read(log);
        }

        int update(final int state, final BackwardBits bits) {
            return base[state] + (int) bits.read(nbBits[state]);
        }

        /** Reads a normalized-count description (FSE_readNCount) and builds a new table. */
        static Fse read(final ForwardBits in, final int maxSymbol, final int maxLog) throws IOException {
            return new Fse(maxLog).readInto(in, maxSymbol, maxLog, new short[maxSymbol + 1],
                new int[maxSymbol + 1]);
        }

        /**
         * Reads a normalized-count description (FSE_readNCount) and builds the table in this one (made for
         * {@code maxLog} or more), with {@code probs} and {@code next} (at least {@code maxSymbol + 1} long) as
         * scratch: nothing allocated. Returns this table.
         */
        Fse readInto(final ForwardBits in, final int maxSymbol, final int maxLog, final short[] probs,
                     final int[] next) throws IOException {
            final int log = in.read(4) + 5;
            if (log > maxLog) {
                throw corrupt("FSE accuracy log " + log + " above " + maxLog);
            }
            int remaining = (1 << log) + 1;
            int threshold = 1 << log;
            int nbBits = log + 1;
            int sym = 0;
            while (remaining > 1 && sym <= maxSymbol) {
                final int max = 2 * threshold - 1 - remaining;
                int value = in.read(nbBits - 1);
                if (value < max) {
                    // small value: nbBits - 1 bits were enough
                } else {
                    value |= in.read(1) << (nbBits - 1);
                    if (value >= threshold) {
                        value -= max;
                    }
                }
                final int prob = value - 1;
                probs[sym++] = (short) prob;
                remaining -= prob < 0 ? -prob : prob;
                if (prob == 0) {
                    while (true) {
                        final int repeat = in.read(2);
                        for (int i = 0; i < repeat && sym <= maxSymbol; i++) {
                            probs[sym++] = 0;
                        }
                        if (repeat != 3) {
                            break;
                        }
                    }
                }
                while (remaining < threshold && threshold > 1) {
                    nbBits--;
                    threshold >>= 1;
                }
            }
            check(remaining == 1, "FSE probabilities do not add up");
            return buildInto(probs, sym, log, next);
        }

        static Fse build(final short[] probs, final int log) {
            return new Fse(log).buildInto(probs, probs.length, log, new int[probs.length]);
        }

        /** Builds the decoding table of {@code probs[0..n)} at accuracy {@code log} in this one; returns it. */
        private Fse buildInto(final short[] probs, final int n, final int log, final int[] next) {
            final Fse t = this;
            t.log = log;
            final int size = 1 << log;
            int high = size - 1;
            for (int s = 0; s < n; s++) {
                if (probs[s] == -1) {
                    t.symbol[high--] = s;
                    next[s] = 1;
                } else {
                    next[s] = probs[s];
                }
            }
            final int step = (size >>> 1) + (size >>> 3) + 3;
            final int mask = size - 1;
            int pos = 0;
            for (int s = 0; s < n; s++) {
                for (int i = 0; i < probs[s]; i++) {
                    t.symbol[pos] = s;
                    do {
                        pos = (pos + step) & mask;
                    } while (pos > high);
                }
            }
            for (int u = 0; u < size; u++) {
                final int s = t.symbol[u];
                final int ns = next[s]++;
                t.nbBits[u] = log - highBit(ns);
                t.base[u] = (ns << t.nbBits[u]) - size;
            }
            return t;
        }
    }
}
