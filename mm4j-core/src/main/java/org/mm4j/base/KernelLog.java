package org.mm4j.base;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The kernel log ring ({@code dmesg}): every line the model prints with {@code printk}, time-stamped in seconds
 * since boot like {@code [    1.234567] text}.
 *
 * <p>Invariants: at most {@link #capacity()} lines are kept, the oldest dropped first (as the printk ring
 * overwrites); {@link #clear()} empties the ring as {@code dmesg -c}. Any thread may log; lines are appended under
 * the ring's monitor, so they never interleave. Sinks (listeners) run on the logging thread, after the line is in
 * the ring; a sink that throws is removed from the list with a note in the log. Not on any hot path: the
 * allocators log only on errors and debug reports.
 */
public final class KernelLog {
    private final long bootNanos = System.nanoTime();
    private final int capacity;
    private final ArrayDeque<String> ring = new ArrayDeque<>();
    private final List<Consumer<String>> sinks = new CopyOnWriteArrayList<>();

    private final int kernelId;

    public KernelLog() {
        this(1 << 16);
    }

    public KernelLog(final int capacity) {
        this(capacity, 0);
    }

    /**
     * @param capacity lines the ring keeps
     * @param kernelId the id of the kernel whose log this is ({@code Kernel.id()}, as in the MBean names), which
     *                 the model's JFR events carry; 0 for a log made outside a booted kernel
     */
    public KernelLog(final int capacity, final int kernelId) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity=" + capacity + " (expected: > 0)");
        }
        this.capacity = capacity;
        this.kernelId = kernelId;
    }

    /** The id of the kernel this log belongs to (0: none); what the JFR events name as "Kernel". */
    public int kernelId() {
        return kernelId;
    }

    public int capacity() {
        return capacity;
    }

    /** Logs one line (or several, split at newlines), each with the time stamp. */
    public void printk(final String text) {
        final double secs = (System.nanoTime() - bootNanos) / 1e9;
        final String stamp = String.format("[%12.6f] ", secs);
        final String[] lines = text.split("\n", -1);
        final int n = lines.length > 1 && lines[lines.length - 1].isEmpty() ? lines.length - 1 : lines.length;
        synchronized (this) {
            for (int i = 0; i < n; i++) {
                if (ring.size() == capacity) {
                    ring.removeFirst();
                }
                ring.addLast(stamp + lines[i]);
            }
        }
        for (final Consumer<String> sink : sinks) {
            for (int i = 0; i < n; i++) {
                try {
                    sink.accept(lines[i]);
                } catch (final RuntimeException e) {
                    sinks.remove(sink);
                    printk("kernel log: removed a sink that threw " + e);
                    break;
                }
            }
        }
    }

    /** printf-style {@link #printk(String)}. */
    public void printk(final String format, final Object... args) {
        printk(String.format(format, args));
    }

    /** The lines in the ring, oldest first, with time stamps. */
    public synchronized List<String> lines() {
        return new ArrayList<>(ring);
    }

    /** The lines without their time stamps. */
    public synchronized List<String> messages() {
        final List<String> out = new ArrayList<>(ring.size());
        for (final String l : ring) {
            out.add(l.substring(l.indexOf("] ") + 2));
        }
        return out;
    }

    /** {@code dmesg -c}: returns the lines and empties the ring. */
    public synchronized List<String> readAndClear() {
        final List<String> out = new ArrayList<>(ring);
        ring.clear();
        return out;
    }

    public synchronized void clear() {
        ring.clear();
    }

    /** Adds a sink that sees each new line (without time stamp) on the logging thread. */
    public void addSink(final Consumer<String> sink) {
        sinks.add(sink);
    }

    public void removeSink(final Consumer<String> sink) {
        sinks.remove(sink);
    }
}
