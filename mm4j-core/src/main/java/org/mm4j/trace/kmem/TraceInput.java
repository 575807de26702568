package org.mm4j.trace.kmem;

import org.mm4j.trace.kmem.zstd.Zstd;
import org.mm4j.trace.kmem.zstd.ZstdInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Opening a trace: a file or stream, plain or compressed (gzip, zstd: recognised by their magic bytes, whatever the
 * name), with zstd's window bounded as {@code zstd --memory=} bounds it. Stateless; any thread.
 */
public final class TraceInput {
    private TraceInput() {
    }

    /**
     * Opens a trace file, decompressing gzip or zstd (recognised by their magic bytes, whatever the name).
     */
    public static InputStream open(final Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "No such file or directory");
        }
        final BufferedInputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        return decompress(raw, file.toString());
    }

    /** The largest zstd window a trace may ask for by default (128 MiB, as {@code zstd -d} without {@code --memory}). */
    public static final long DEFAULT_ZSTD_MAX_WINDOW = ZstdInputStream.DEFAULT_MAX_WINDOW;

    /**
     * Parses a {@code --zstd-memory} value as {@code zstd --memory=} reads it ({@code 128M}, {@code 2G}, bytes).
     *
     * @throws IllegalArgumentException naming the value when it is not a size
     */
    public static long parseZstdMemory(final String text) {
        return ZstdInputStream.parseMemory(text);
    }

    /**
     * The stream {@link #decompress(InputStream, String, long)} makes of {@code raw}, decoded ahead on a thread of
     * its own ({@link ReadAheadInputStream}) when it is compressed; plain text is read on the caller's thread. A zstd
     * decoder is made on that thread too, not the caller's: binding libzstd costs tens of ms of start-up, which then
     * overlap with the caller's (booting the model). The same refusals as {@code decompress}, at the same point.
     * Measured for libzstd (5 M-event replays alternating in one run, load 8-11): decoding on the parser's thread
     * took the same CPU in all (6.1-6.5 s vs 6.1-7.0 s) but longer on the clock (12.7-20.9 s vs 9.1-16.0 s), so
     * libzstd keeps the thread as the Java decoder and gzip do (docs/replay-history.md, "Third pass (issue 14): zstd
     * on libzstd").
     */
    public static InputStream decompressAhead(final InputStream raw, final String name, final long zstdMaxWindow)
        throws IOException {
        final int kind = magic(raw);
        if (kind == PLAIN) {
            return raw;
        }
        if (kind == GZIP) {
            return new ReadAheadInputStream(new GZIPInputStream(raw, 1 << 16)); // reads the gzip header here
        }
        // what decompress refuses at once is refused here too: a window limit out of range, an unknown
        // -Dmm4j.zstd, native without a usable libzstd; only finding out whether auto means libzstd waits
        ZstdInputStream.checkMaxWindow(zstdMaxWindow);
        Zstd.checkChoice();
        return new ReadAheadInputStream(raw, r -> Zstd.decoder(r, zstdMaxWindow));
    }

    private static final int PLAIN = 0;
    private static final int GZIP = 1;
    private static final int ZSTD = 2;

    /** Which format {@code raw} (which must support mark) starts with, by its magic bytes; nothing is consumed. */
    private static int magic(final InputStream raw) throws IOException {
        raw.mark(4);
        final int b0 = raw.read();
        final int b1 = raw.read();
        final int b2 = raw.read();
        final int b3 = raw.read();
        raw.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            return GZIP;
        }
        return b0 == 0x28 && b1 == 0xb5 && b2 == 0x2f && b3 == 0xfd ? ZSTD : PLAIN;
    }

    /** Wraps {@code raw} (which must support mark) in a gzip or zstd decoder when it starts with their magic. */
    public static InputStream decompress(final InputStream raw, final String name) throws IOException {
        return decompress(raw, name, ZstdInputStream.DEFAULT_MAX_WINDOW);
    }

    /**
     * As {@link #decompress(InputStream, String)}, refusing zstd frames whose window is above
     * {@code zstdMaxWindow} bytes (as {@code zstd --memory=} does). gzip's CRC-32 and size trailer are checked by
     * {@link GZIPInputStream}; zstd's content checksum by the decoder {@link Zstd#decoder} picks (the system's
     * libzstd when usable, else the pure-Java {@link ZstdInputStream}; {@code -Dmm4j.zstd=java} forces Java).
     */
    public static InputStream decompress(final InputStream raw, final String name, final long zstdMaxWindow)
        throws IOException {
        final int kind = magic(raw);
        return kind == GZIP ? new GZIPInputStream(raw, 1 << 16) : kind == ZSTD ? Zstd.decoder(raw, zstdMaxWindow)
            : raw;
    }
}
