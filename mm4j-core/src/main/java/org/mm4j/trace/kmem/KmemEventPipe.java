package org.mm4j.trace.kmem;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Decodes and parses a trace on a thread of its own ("mm4j-kmem-reader") and hands the events to the replaying
 * thread in {@link KmemEventBatch}es, so decompression and parsing overlap with the model's work.
 *
 * <p>Bounded and allocation-free per event: {@link #BATCHES} batches of {@link #BATCH_SIZE} events circulate
 * between two queues (empty ones to the reader, full ones to the consumer); the reader blocks when the consumer is
 * {@code BATCHES} batches behind. The reader's counters ({@link KmemTraceReader#lineNo()}, malformed lines, ...)
 * are final once {@link #next()} has returned null. A fatal error of the reader (an I/O error, a line over 1 MiB)
 * is thrown by {@link #next()} after the events read before it, as the single-threaded loop did.
 *
 * <p>Threading: one consumer thread calls {@link #next()}, {@link #recycle} and {@link #close()}. The reader's
 * {@link KmemTraceReader.ErrorSink} runs on the reader thread.
 */
public final class KmemEventPipe implements AutoCloseable {
    public static final int BATCH_SIZE = 4096;
    public static final int BATCHES = 4;
    private static final KmemEventBatch END = new KmemEventBatch(1);

    private final KmemTraceReader reader;
    private final BlockingQueue<KmemEventBatch> empty = new ArrayBlockingQueue<>(BATCHES);
    private final BlockingQueue<KmemEventBatch> full = new ArrayBlockingQueue<>(BATCHES + 1);
    private final Thread thread;
    private volatile Throwable failure;
    private boolean ended;

    /** Starts reading {@code reader} on a new daemon thread. */
    public KmemEventPipe(final KmemTraceReader reader) {
        this.reader = reader;
        for (int i = 0; i < BATCHES; i++) {
            empty.add(new KmemEventBatch(BATCH_SIZE));
        }
        thread = Thread.ofPlatform().name("mm4j-kmem-reader").daemon().unstarted(this::run);
        thread.start();
    }

    private void run() {
        final KmemEvent ev = new KmemEvent();
        try {
            boolean more = true;
            while (more) {
                final KmemEventBatch b = empty.take();
                b.clear();
                more = reader.read(b, ev);
                if (b.size() > 0) {
                    full.put(b);
                }
            }
        } catch (final InterruptedException e) {
            return; // closed by the consumer
        } catch (final IOException | RuntimeException | Error e) {
            failure = e;
        }
        try {
            full.put(END);
        } catch (final InterruptedException e) {
            // closed by the consumer
        }
    }

    /**
     * The next batch of events, or null at the end of the trace (the reader's counters are then final). Give each
     * batch back with {@link #recycle} before asking for more than {@link #BATCHES}.
     */
    public KmemEventBatch next() throws IOException {
        if (ended) {
            return null;
        }
        final KmemEventBatch b;
        try {
            b = full.take();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for the trace reader");
        }
        if (b != END) {
            return b;
        }
        ended = true;
        try {
            thread.join();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        final Throwable f = failure;
        if (f instanceof IOException io) {
            throw io;
        }
        if (f instanceof UncheckedIOException u) {
            throw u;
        }
        if (f instanceof RuntimeException r) {
            throw r;
        }
        if (f instanceof Error err) {
            throw err;
        }
        return null;
    }

    /** Gives a batch returned by {@link #next()} back to the reader. */
    public void recycle(final KmemEventBatch b) {
        empty.add(b);
    }

    /** Stops the reader thread (when the consumer gives up early) and waits for it; does not close the reader. */
    @Override
    public void close() {
        ReadAheadInputStream.stop(thread);
    }

    /** The reader (its counters are final once {@link #next()} has returned null). */
    public KmemTraceReader reader() {
        return reader;
    }
}
