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
 * <p>Bounded and allocation-free after construction: {@link #CHUNKS} chunks of {@link #CHUNK} bytes circulate
 * between two queues (empty ones to the decoder thread, full ones to the reader). An exception of the source
 * ({@link IOException}, a {@link RuntimeException} or an {@link Error}) is thrown by {@link #read} after the bytes
 * read before it, as reading the source directly would.
 *
 * <p>Threading: one thread reads ({@link #read}, {@link #close}); the decoder thread alone touches the source until
 * {@link #close}, which stops it. The queue hand-over is the happens-before edge for a chunk's bytes.
 */
public final class ReadAheadInputStream extends InputStream {
    /** Bytes per chunk. */
    public static final int CHUNK = 1 << 18;
    /** Chunks in flight at most. */
    public static final int CHUNKS = 4;

    /** A chunk of the source: its bytes, and whether the source ended (or failed) after them. */
    private static final class Chunk {
        final byte[] bytes = new byte[CHUNK];
        int length;
        boolean end;
        Throwable failure;
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
        for (int i = 0; i < CHUNKS; i++) {
            empty.add(new Chunk());
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
                    while (c.length < CHUNK) {
                        final int n = in.read(c.bytes, c.length, CHUNK - c.length);
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
        while (current == null || pos == current.length) {
            if (current != null) {
                if (current.end) {
                    return endOf(current);
                }
                empty.add(current);
                current = null;
            }
            try {
                current = full.take();
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the decoder thread");
            }
            pos = 0;
        }
        final int n = Math.min(len, current.length - pos);
        System.arraycopy(current.bytes, pos, b, off, n);
        pos += n;
        return n;
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
