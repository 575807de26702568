package org.mm4j.trace.kmem.zstd;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A streaming zstd decoder on the system's libzstd ({@code ZSTD_decompressStream} through FFM, no JNI), with
 * {@link ZstdInputStream}'s contract: the same frames accepted (concatenated frames, skippable frames, content
 * checksums verified), the same refusals with the same messages where mm4j checks them itself (bad magic, garbage
 * after a frame, a dictionary, a window above the limit, a truncated frame), and libzstd's reason otherwise (a
 * corrupt block, a checksum mismatch), always as an {@link IOException} naming the frame and compressed offsets.
 * {@link Zstd#decoder} picks this class when libzstd is usable; {@link ZstdInputStream} is the reference and the
 * fallback.
 *
 * <p>How it works: compressed bytes are read from the source into a staging array and copied into a native input
 * buffer. A read of at least {@link #DIRECT_MIN} bytes has libzstd decode straight into the caller's array
 * ({@code ZSTD_decompressStream_simpleArgs}, a critical downcall allowed to take heap memory: the GC waits for the
 * call, which decodes at most what the caller asked for); a smaller read, or a library without that symbol, goes
 * through {@code ZSTD_decompressStream} into a native output buffer copied out by {@link #read}. The buffers and
 * the {@code ZSTD_inBuffer}/{@code ZSTD_outBuffer} descriptors are allocated once: reading allocates nothing (but
 * a segment over the caller's array when it passes a new one). At each frame's start mm4j parses the frame header itself (up to 18 bytes, kept in the
 * staging array), to refuse what {@link ZstdInputStream} refuses with its words; libzstd's own window bound
 * ({@code ZSTD_d_windowLogMax}, the limit rounded up to a power of two) is the backstop. libzstd returns 0 exactly
 * when a frame (or skippable frame) has been decoded, checked and flushed, with its input position at the frame's
 * end: that is how frame boundaries (and so a truncated last frame) are known.
 *
 * <p>Invariants: {@code 0 <= inOff <= inLen <= IN} and the native input buffer holds the staging array's bytes
 * {@code [0, inLen)}; {@code inBase} is the compressed offset of staging byte 0; {@code 0 <= outOff <= outLen <= OUT}
 * with {@code [outOff, outLen)} decoded but not yet read. After a failure every read throws it again.
 *
 * <p>Threading: not thread-safe; one thread at a time reads (it may be handed to another thread with a
 * happens-before edge, as {@code ReadAheadInputStream} does). The native memory lives in a shared {@link Arena}:
 * {@link #close} from another thread while a {@code ZSTD_decompressStream} call is running cannot free the context
 * under it (the arena refuses to close; the memory is then left to the process's end), and a read after close is an
 * {@link IOException}, never a use after free.
 */
public final class LibZstdInputStream extends InputStream {
    /** Native input buffer bytes (about {@code ZSTD_DStreamInSize()}: one full block and its header). */
    static final int IN = 1 << 17;
    /** Native output buffer bytes (two blocks: fewer calls than {@code ZSTD_DStreamOutSize()}'s one). */
    static final int OUT = 1 << 18;
    /** Reads of at least this many bytes are decoded straight into the caller's array (with simpleArgs). */
    static final int DIRECT_MIN = 1 << 12;
    /** The longest frame header: magic 4, descriptor 1, window 1, dictionary id 4, content size 8. */
    private static final int HEADER_MAX = 18;
    private static final int MAGIC = 0xFD2FB528;

    private final LibZstd.Bindings lib;
    private final InputStream in;
    private final long maxWindow;
    private final Arena arena;
    private final MemorySegment dctx;
    private final MemorySegment inBuf;
    private final MemorySegment outBuf;
    private final MemorySegment inDesc;
    private final MemorySegment outDesc;
    /** {@code ZSTD_decompressStream_simpleArgs} (or null: the struct path) and its two {@code size_t *}. */
    private final java.lang.invoke.MethodHandle simpleArgs;
    private final MemorySegment dstPos;
    private final MemorySegment srcPos;
    /** The caller's array libzstd last wrote into directly, and its segment (made again only for a new array). */
    private byte[] heapArray;
    private MemorySegment heapSegment;
    /** Bytes the last call wrote. */
    private int lastProduced;
    private final byte[] staging = new byte[IN];
    /** {@link #read()}'s buffer. */
    private final byte[] one = new byte[1];
    private long inBase;
    private int inOff;
    private int inLen;
    private boolean inEnded;
    private int outOff;
    private int outLen;
    /** The last call filled the output buffer: libzstd may hold more output for the same input. */
    private boolean outFull;
    /** Between frames: the next input byte starts a frame (or the input's end). */
    private boolean atFrameStart = true;
    /** The current frame is a skippable one (not counted in {@link #frames}). */
    private boolean skippable;
    /** zstd frames started (skippable frames not counted), and the current one's compressed offset. */
    private long frames;
    private long frameStart;
    private IOException failure;
    /** Set by {@link #close} (perhaps on another thread than the reader's). */
    private volatile boolean closed;

    /**
     * A decoder on libzstd that refuses frames whose window is larger than {@code maxWindow} bytes (1 KiB to
     * {@link ZstdInputStream#MAX_WINDOW}).
     *
     * @throws IOException when libzstd is not usable here (see {@link Zstd#nativeAvailable}) or cannot make a
     *     decoding context
     */
    public LibZstdInputStream(final InputStream in, final long maxWindow) throws IOException {
        this(in, maxWindow, false);
    }

    /** As above; {@code structsOnly}: always call {@code ZSTD_decompressStream} (tests the fallback path). */
    @SuppressWarnings("MustBeClosedChecker") // the arena lives as long as this stream: close() closes it
    LibZstdInputStream(final InputStream in, final long maxWindow, final boolean structsOnly) throws IOException {
        ZstdInputStream.checkMaxWindow(maxWindow);
        lib = LibZstd.BINDINGS;
        if (lib == null) {
            throw new IOException("zstd: libzstd is not usable: " + LibZstd.UNAVAILABLE);
        }
        this.in = in;
        this.maxWindow = maxWindow;
        arena = Arena.ofShared();
        boolean ok = false;
        try {
            final MemorySegment raw = (MemorySegment) lib.createDCtx().invokeExact();
            if (raw.equals(MemorySegment.NULL)) {
                throw new IOException("zstd: libzstd could not allocate a decoding context (ZSTD_createDCtx)");
            }
            dctx = raw.reinterpret(arena, LibZstdInputStream::freeDCtx);
            // the smallest power of two at or above the limit: mm4j's own header check is the exact bound
            final int log = Math.max(LibZstd.WINDOW_LOG_MIN, 64 - Long.numberOfLeadingZeros(maxWindow - 1));
            if (log != LibZstd.WINDOW_LOG_LIMIT_DEFAULT) {
                check((long) lib.dctxSetParameter().invokeExact(dctx, LibZstd.D_WINDOW_LOG_MAX, log),
                    "ZSTD_DCtx_setParameter(ZSTD_d_windowLogMax, " + log + ")");
            }
            inBuf = arena.allocate(IN, 64);
            outBuf = arena.allocate(OUT, 64);
            inDesc = arena.allocate(LibZstd.BUFFER);
            outDesc = arena.allocate(LibZstd.BUFFER);
            inDesc.set(ValueLayout.ADDRESS, LibZstd.BUFFER_PTR, inBuf);
            outDesc.set(ValueLayout.ADDRESS, LibZstd.BUFFER_PTR, outBuf);
            dstPos = arena.allocate(ValueLayout.JAVA_LONG);
            srcPos = arena.allocate(ValueLayout.JAVA_LONG);
            simpleArgs = structsOnly ? null : lib.decompressStreamSimpleArgs();
            ok = true;
        } catch (final IOException | RuntimeException | Error e) {
            throw e;
        } catch (final Throwable t) {
            throw new IOException("zstd: libzstd failed: " + t, t);
        } finally {
            if (!ok) {
                arena.close();
            }
        }
    }

    private static void freeDCtx(final MemorySegment d) {
        try {
            final long ignored = (long) LibZstd.BINDINGS.freeDCtx().invokeExact(d);
        } catch (final Throwable t) {
            // ZSTD_freeDCtx of a valid context does not fail; nothing to do at close
        }
    }

    private void check(final long result, final String what) throws IOException {
        if (isError(result)) {
            throw new IOException("zstd: " + what + " failed: " + LibZstd.errorName(result) + " (libzstd)");
        }
    }

    private boolean isError(final long result) throws IOException {
        try {
            return LibZstd.isError(result);
        } catch (final Throwable t) {
            throw new IOException("zstd: libzstd failed: " + t, t);
        }
    }

    /** The libzstd version in use, as "1.5.4". */
    public static String version() {
        final LibZstd.Bindings b = LibZstd.BINDINGS;
        return b == null ? null : LibZstd.versionText(b.version());
    }

    @Override
    public int read() throws IOException {
        final int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(final byte[] b, final int off, final int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (closed) {
            throw new IOException("zstd: stream closed");
        }
        if (failure != null) {
            throw failure;
        }
        if (len == 0) {
            return 0;
        }
        try {
            if (outOff == outLen) {
                if (simpleArgs != null && len >= DIRECT_MIN) {
                    // libzstd writes into b itself: no copy out of a native buffer
                    if (b != heapArray) {
                        heapArray = b;
                        heapSegment = MemorySegment.ofArray(b);
                    }
                    final int n = decode(heapSegment, off, len);
                    return n == 0 ? -1 : n;
                }
                outOff = 0;
                outLen = decode(outBuf, 0, OUT);
                if (outLen == 0) {
                    return -1;
                }
            }
        } catch (final IllegalStateException e) {
            throw new IOException("zstd: stream closed", e); // closed by another thread: the arena is gone
        } catch (final IOException e) {
            failure = e;
            throw e;
        }
        final int n = Math.min(len, outLen - outOff);
        MemorySegment.copy(outBuf, ValueLayout.JAVA_BYTE, outOff, b, off, n);
        outOff += n;
        return n;
    }

    /**
     * Decodes into {@code dst}'s bytes {@code [off, off + cap)} until some output is there; returns how much, 0 at
     * a clean end of input (between frames).
     */
    private int decode(final MemorySegment dst, final int off, final int cap) throws IOException {
        int produced = 0;
        while (produced == 0) {
            if (!outFull && inOff == inLen && !refill(1)) {
                if (atFrameStart) {
                    return 0;
                }
                throw new EOFException("zstd: unexpected end of data at offset " + (inBase + inLen)
                    + " (truncated file?) in " + (skippable ? "a skippable frame" : "frame " + frames)
                    + " starting at offset " + frameStart);
            }
            if (atFrameStart) {
                startFrame();
            }
            final int before = inOff;
            final long r = call(dst, off, cap);
            if (isError(r)) {
                throw failed(r);
            }
            produced = lastProduced;
            outFull = produced == cap;
            if (r == 0) {
                atFrameStart = true;
                outFull = false;
            } else if (produced == 0 && inOff == before && inOff < inLen) {
                throw new IOException("zstd: libzstd made no progress in frame " + frames + " at offset "
                    + (inBase + inOff));
            }
        }
        return produced;
    }
    /**
     * One {@code ZSTD_decompressStream} call: input the native buffer's {@code [inOff, inLen)}, output {@code dst}'s
     * {@code [off, off + cap)}; advances {@link #inOff} and sets {@link #lastProduced}. Without
     * {@code ZSTD_decompressStream_simpleArgs}, {@code dst} is the native output buffer.
     */
    private long call(final MemorySegment dst, final int off, final int cap) throws IOException {
        try {
            final long r;
            if (simpleArgs != null) {
                dstPos.set(ValueLayout.JAVA_LONG, 0, off);
                srcPos.set(ValueLayout.JAVA_LONG, 0, inOff);
                r = (long) simpleArgs.invokeExact(dctx, dst, (long) off + cap, dstPos, inBuf, (long) inLen, srcPos);
                lastProduced = (int) (dstPos.get(ValueLayout.JAVA_LONG, 0) - off);
                inOff = (int) srcPos.get(ValueLayout.JAVA_LONG, 0);
            } else {
                assert dst.equals(outBuf);
                inDesc.set(ValueLayout.JAVA_LONG, LibZstd.BUFFER_SIZE, inLen);
                inDesc.set(ValueLayout.JAVA_LONG, LibZstd.BUFFER_POS, inOff);
                outDesc.set(ValueLayout.JAVA_LONG, LibZstd.BUFFER_SIZE, (long) off + cap);
                outDesc.set(ValueLayout.JAVA_LONG, LibZstd.BUFFER_POS, off);
                r = (long) lib.decompressStream().invokeExact(dctx, outDesc, inDesc);
                lastProduced = (int) (outDesc.get(ValueLayout.JAVA_LONG, LibZstd.BUFFER_POS) - off);
                inOff = (int) inDesc.get(ValueLayout.JAVA_LONG, LibZstd.BUFFER_POS);
            }
            return r;
        } catch (final IllegalStateException | IOException e) {
            throw e;
        } catch (final Throwable t) {
            throw new IOException("zstd: libzstd failed: " + t, t);
        }
    }

    /** libzstd's error result {@code r} as an IOException naming the frame and where in the input it was. */
    private IOException failed(final long r) {
        final int code;
        try {
            code = (int) lib.getErrorCode().invokeExact(r);
        } catch (final Throwable t) {
            return new IOException("zstd: libzstd failed: " + t, t);
        }
        final String frame = (skippable ? "skippable frame" : "frame " + frames) + " (starting at offset "
            + frameStart + ")";
        final String why = LibZstd.errorName(r) + " (libzstd)";
        return switch (code) {
            case LibZstd.ERROR_CHECKSUM_WRONG -> new IOException("zstd: content checksum mismatch in " + frame
                + ": " + why + " (corrupt data)");
            case LibZstd.ERROR_WINDOW_TOO_LARGE -> new IOException("zstd: " + frame + " needs a window above the"
                + " memory limit of " + ZstdInputStream.sizeText(maxWindow) + ": " + why);
            case LibZstd.ERROR_MEMORY_ALLOCATION -> new IOException("zstd: out of native memory decoding " + frame
                + ": " + why);
            default -> new IOException("zstd: corrupt data in " + frame + ", within compressed bytes "
                + (inBase + inOff) + " to " + (inBase + inLen) + ": " + why);
        };
    }

    /**
     * At a frame's first byte: reads its header (kept in the input buffer for libzstd) and refuses what
     * {@link ZstdInputStream} refuses, with its messages.
     */
    private void startFrame() throws IOException {
        refill(HEADER_MAX);
        atFrameStart = false;
        frameStart = inBase + inOff;
        final int magic = (int) le(0, 4);
        skippable = (magic & 0xFFFFFFF0) == 0x184D2A50;
        if (skippable) {
            return;
        }
        if (magic != MAGIC) {
            throw new IOException(frames == 0 ? "not zstd data (bad magic number)"
                : "zstd: garbage after frame " + frames + " at offset " + frameStart);
        }
        frames++;
        final int fhd = (int) le(4, 1);
        final boolean single = (fhd & 0x20) != 0;
        ZstdInputStream.check((fhd & 0x08) == 0, "reserved frame header bit set");
        int p = 5;
        long window = 0;
        if (!single) {
            window = ZstdInputStream.windowOf((int) le(p++, 1));
        }
        final int dictFlag = fhd & 3;
        final int dictBytes = dictFlag == 0 ? 0 : dictFlag == 1 ? 1 : dictFlag == 2 ? 2 : 4;
        if (dictBytes > 0 && le(p, dictBytes) != 0) {
            throw new IOException("zstd: frame needs a dictionary (not supported)");
        }
        p += dictBytes;
        final int fcsFlag = fhd >>> 6;
        final int fcsBytes = fcsFlag == 0 ? (single ? 1 : 0) : fcsFlag == 1 ? 2 : fcsFlag == 2 ? 4 : 8;
        if (single) {
            window = le(p, fcsBytes) + (fcsBytes == 2 ? 256 : 0);
        } else if (fcsBytes > 0) {
            le(p, fcsBytes); // present (or the header is truncated)
        }
        ZstdInputStream.checkWindow(window, maxWindow, frames, frameStart);
    }

    /** The little-endian value of the header's bytes {@code [at, at + n)}; a truncated header is an EOF error. */
    private long le(final int at, final int n) throws EOFException {
        if (inOff + at + n > inLen) {
            throw new EOFException("zstd: unexpected end of data at offset " + (inBase + inLen) + " (truncated file?)");
        }
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = v << 8 | staging[inOff + at + i] & 0xff;
        }
        return v;
    }

    /**
     * Reads more input until at least {@code want} unread bytes are buffered or the source ends; false when none
     * is left. Moves the unread bytes to the buffer's start first when they would not fit.
     */
    private boolean refill(final int want) throws IOException {
        if (inLen - inOff >= want) {
            return true;
        }
        if (inOff + want > IN || inOff == inLen) {
            final int keep = inLen - inOff;
            System.arraycopy(staging, inOff, staging, 0, keep);
            MemorySegment.copy(inBuf, inOff, inBuf, 0, keep);
            inBase += inOff;
            inOff = 0;
            inLen = keep;
        }
        while (inLen - inOff < want && !inEnded) {
            final int n = in.read(staging, inLen, IN - inLen);
            if (n < 0) {
                inEnded = true;
                break;
            }
            MemorySegment.copy(staging, inLen, inBuf, ValueLayout.JAVA_BYTE, inLen, n);
            inLen += n;
        }
        return inLen > inOff;
    }

    /** Closes the source and frees libzstd's context and the buffers. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            arena.close();
        } catch (final IllegalStateException e) {
            // another thread is inside ZSTD_decompressStream: the context stays allocated (see the class comment)
        }
        in.close();
    }
}
