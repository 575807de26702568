package org.mm4j.trace.kmem;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads (and so decompresses) a stream ahead on a thread of its own ("mm4j-kmem-decoder"), so that decoding a
 * {@code .zst}/{@code .gz} trace overlaps with parsing it: the replay's three stages (decode, parse, model) then run
 * on three threads ({@link TraceInput#decompressAhead}).
 *
 * <p>Bounded and allocation-free after construction: {@link #CHUNKS} chunks of {@link #CHUNK} bytes (of
 * {@link #OPENED_CHUNK} bytes for a stream this class opens, a {@code .zst} trace's) circulate between two queues
 * (empty ones to the decoder thread, full ones to the reader). An exception of the source
 * ({@link IOException}, a {@link RuntimeException} or an {@link Error}) is thrown by {@link #read} after the bytes
 * read before it, as reading the source directly would.
 *
 * <p>A reader that parses the bytes in place takes whole chunks instead ({@link #nextChunk}): no copy then but of a
 * line cut by a chunk's end, carried into the head room before the next chunk's bytes. One reader uses either
 * {@link #read} or {@link #nextChunk}, not both.
 *
 * <p>Threading: one thread reads ({@link #read} or {@link #nextChunk}, {@link #close}); the decoder thread alone
 * touches the source until {@link #close}, which stops it. The queue hand-over is the happens-before edge for a
 * chunk's bytes.
 */
public final class ReadAheadInputStream extends InputStream {
    /** Bytes per chunk. */
    public static final int CHUNK = 1 << 18;
    /**
     * Bytes per chunk of a stream opened on the decoder thread ({@link #ReadAheadInputStream(InputStream, Opener)}:
     * a zstd trace's). libzstd decodes at most one chunk per call, and each call and chunk costs the decoder thread
     * Java code that the JIT compiles late in a replay (its queue is full of the parser's and the model's methods):
     * 1 MiB chunks take a third of the reads of 256 KiB ones (real5m: 1,193 instead of 3,408), for 3 MiB more in
     * flight (docs/replay-history.md, "Ninth pass (issue 14): the decoder").
     */
    public static final int OPENED_CHUNK = 1 << 20;
    /** Chunks in flight at most. */
    public static final int CHUNKS = 4;
    /** Head room before a chunk's bytes: the most {@link #nextChunk} carries over from the chunk before. */
    public static final int HEAD = 1 << 13;
    /** Bytes after a chunk's bytes that belong to none (8-byte loads of a parser may run into them). */
    public static final int SLACK = 16;

    /** A chunk of the source: its bytes ({@code [HEAD, HEAD + length)}), whether the source ended (or failed) after. */
    private static final class Chunk {
        final byte[] bytes;
        int length;
        boolean end;
        Throwable failure;

        Chunk(final int chunkBytes) {
            bytes = new byte[HEAD + chunkBytes + SLACK];
        }
    }

    /** Makes the decoding stream of a raw one, on the decoder thread (see the constructor that takes one). */
    @FunctionalInterface
    public interface Opener {
        InputStream open(InputStream raw) throws IOException;
    }

    /** The stream read; with an {@link Opener}, set by the decoder thread (null until it has opened it). */
    private volatile InputStream source;
    /** The raw stream an {@link Opener} decodes (closed by {@link #close} when the opener did not get to it). */
    private final InputStream raw;
    private final Opener opener;
    /** Bytes per chunk: {@link #CHUNK}, or {@link #OPENED_CHUNK} with an {@link Opener}. */
    private final int chunkBytes;
    private final BlockingQueue<Chunk> empty = new ArrayBlockingQueue<>(CHUNKS);
    private final BlockingQueue<Chunk> full = new ArrayBlockingQueue<>(CHUNKS);
    private final Thread thread;
    private Chunk current;
    private int pos;
    private boolean closed;
    /** {@link #read()}'s buffer (the reader's thread only). */
    private final byte[] one = new byte[1];

    /** Starts reading {@code source} on a new daemon thread. */
    public ReadAheadInputStream(final InputStream source) {
        this(source, null);
    }

    /**
     * Starts reading {@code opener.open(raw)} on a new daemon thread: the decoder is made there too (binding
     * libzstd costs tens of ms at start, which then overlap with the caller's work). A failure to open is thrown
     * by the first {@link #read}, as a failure of the source's first read would be.
     */
    public ReadAheadInputStream(final InputStream raw, final Opener opener) {
        this.raw = raw;
        this.opener = opener;
        this.source = opener == null ? raw : null;
        this.chunkBytes = opener == null ? CHUNK : OPENED_CHUNK;
        for (int i = 0; i < CHUNKS; i++) {
            empty.add(new Chunk(chunkBytes));
        }
        thread = Thread.ofPlatform().name("mm4j-kmem-decoder").daemon().unstarted(this::run);
        thread.start();
    }

    private void run() {
        try {
            boolean end = false;
            InputStream in = this.source;
            while (!end) {
                final Chunk c = empty.take();
                c.length = 0;
                try {
                    if (in == null) {
                        in = opener.open(raw);
                        source = in;
                    }
                    while (c.length < chunkBytes) {
                        final int n = in.read(c.bytes, HEAD + c.length, chunkBytes - c.length);
                        if (n < 0) {
                            end = true;
                            break;
                        }
                        c.length += n;
                    }
                } catch (final IOException | RuntimeException | Error e) {
                    c.failure = e;
                    end = true;
                }
                c.end = end;
                full.put(c);
            }
        } catch (final InterruptedException e) {
            // closed by the reader
        }
    }

    @Override
    public int read() throws IOException {
        final int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    /**
     * Interrupts a replay helper thread (the decoder's or the parser's) that may still run, and waits for it up to
     * 2 s: a read of a pipe may not wake up, and the thread is a daemon, so the JVM can exit anyway.
     */
    static void stop(final Thread t) {
        if (t.isAlive()) {
            t.interrupt();
            try {
                t.join(java.time.Duration.ofSeconds(2));
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public int read(final byte[] b, final int off, final int len) throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        if (len == 0) {
            return 0;
        }
        while (current == null || pos == HEAD + current.length) {
            if (current != null) {
                if (current.end) {
                    return endOf(current);
                }
                empty.add(current);
                current = null;
            }
            current = takeFull();
            pos = HEAD;
        }
        final int n = Math.min(len, HEAD + current.length - pos);
        System.arraycopy(current.bytes, pos, b, off, n);
        pos += n;
        return n;
    }

    private Chunk takeFull() throws InterruptedIOException {
        try {
            return full.take();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the decoder thread");
        }
    }

    /**
     * The next chunk's array, for a reader that parses in place: the source's next bytes are at
     * {@code [}{@link #chunkStart()}{@code , }{@link #chunkEnd()}{@code )} of it, preceded by a copy of
     * {@code carry[from, to)} (at most {@link #HEAD} bytes: the unread rest of the array this method returned
     * before, or of the reader's own buffer), so that the bytes from {@link #chunkStart()} on continue the ones the
     * reader had. At least {@link #SLACK} bytes follow {@link #chunkEnd()}. The array before is given back to the
     * decoder: the reader must no longer touch it. Returns null at the source's end (or throws the source's
     * exception there, as {@link #read} does), again on every later call; {@code carry} is then still the reader's.
     */
    public byte[] nextChunk(final byte[] carry, final int from, final int to) throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        if (to - from > HEAD || from > to) {
            throw new IllegalArgumentException("carry [" + from + ", " + to + ") (expected: at most " + HEAD
                + " bytes)");
        }
        if (current != null) {
            if (current.end) {
                endOf(current);
                return null;
            }
            if (carry != current.bytes) {
                throw new IllegalArgumentException("carry is not the last chunk's array");
            }
        }
        final Chunk next = takeFull();
        System.arraycopy(carry, from, next.bytes, HEAD - (to - from), to - from);
        if (current != null) {
            empty.add(current);
        }
        current = next;
        pos = HEAD - (to - from);
        return next.bytes;
    }

    /**
     * Whether the array {@link #nextChunk} returned last holds the source's last bytes (the source ended or failed
     * after them: the next {@link #nextChunk} returns null or throws); false before the first.
     */
    public boolean lastChunk() {
        return current != null && current.end;
    }

    /** Where the carried-over bytes start in the array {@link #nextChunk} returned last. */
    public int chunkStart() {
        return pos;
    }

    /** The end of the bytes in the array {@link #nextChunk} returned last. */
    public int chunkEnd() {
        return HEAD + current.length;
    }

    /** At the last chunk's end: -1, or the source's exception (thrown again on every later read). */
    private static int endOf(final Chunk c) throws IOException {
        final Throwable f = c.failure;
        if (f == null) {
            return -1;
        }
        if (f instanceof IOException io) {
            throw io;
        }
        if (f instanceof RuntimeException r) {
            throw r;
        }
        throw (Error) f;
    }

    /** Stops the decoder thread and closes the source. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        stop(thread);
        final InputStream s = source;
        (s != null ? s : raw).close();
    }
}
