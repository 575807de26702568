package org.mm4j.base;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The model's {@code jiffies}: the tick count since boot at {@code HZ} ticks a second, starting at
 * {@code INITIAL_JIFFIES} ({@code (unsigned int)(-300 * HZ)}, so that a wrap comes five minutes after boot on a
 * 32-bit kernel) as in include/linux/jiffies.h. It runs with the host's monotonic clock, plus the time the shell's
 * {@code sleep N} skipped: {@link #sleep} moves the clock forward at once instead of waiting, so that what
 * depends on age (kmemleak's {@code MSECS_MIN_AGE}, its automatic scans) can be shown without waiting. A clock made
 * with {@link #virtual} moves only by {@link #sleep} (deterministic tests).
 *
 * <p>Invariants: the value never decreases. Threads: any thread reads; {@link #sleep} is synchronized and runs
 * the listeners ({@link #onAdvance}) on the sleeping thread after the clock has moved.
 */
public final class Jiffies {
    private final int hz;
    private final long bootNanos = System.nanoTime();
    private final boolean realTime;
    private volatile long skipped;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    private Jiffies(final int hz, final boolean realTime) {
        if (hz <= 0 || hz > 10_000) {
            throw new IllegalArgumentException("HZ=" + hz + " (expected: 1 to 10000)");
        }
        this.hz = hz;
        this.realTime = realTime;
    }

    /** A clock at {@code hz} ticks a second that runs with the host's monotonic clock ({@code CONFIG_HZ}). */
    public static Jiffies realTime(final int hz) {
        return new Jiffies(hz, true);
    }

    /** A clock at {@code hz} that stands still except for {@link #sleep} (for tests). */
    public static Jiffies virtual(final int hz) {
        return new Jiffies(hz, false);
    }

    /** {@code HZ}. */
    public int hz() {
        return hz;
    }

    /** {@code INITIAL_JIFFIES}: {@code (unsigned long)(unsigned int)(-300 * HZ)}. */
    public long initial() {
        return (-300L * hz) & 0xffffffffL;
    }

    /** {@code jiffies} now. */
    public long get() {
        final long real = realTime ? (System.nanoTime() - bootNanos) * hz / 1_000_000_000L : 0;
        return initial() + real + skipped;
    }

    /** {@code msecs_to_jiffies(m)}: rounded up, as the kernel does for HZ below 1000. */
    public long msecsToJiffies(final long msecs) {
        return (msecs * hz + 999) / 1000;
    }

    /** {@code jiffies_to_msecs(j)}. */
    public long jiffiesToMsecs(final long j) {
        return j * 1000 / hz;
    }

    /** Moves the clock {@code msecs} forward (the shell's {@code sleep}), then runs the listeners. */
    public void sleep(final long msecs) {
        if (msecs < 0) {
            throw new IllegalArgumentException("sleep: " + msecs + " ms (expected: >= 0)");
        }
        synchronized (this) {
            skipped += msecsToJiffies(msecs);
        }
        for (final Runnable r : listeners) {
            r.run();
        }
    }

    /** Runs {@code r} after each {@link #sleep} (timers that fell due meanwhile, such as kmemleak's scan). */
    public void onAdvance(final Runnable r) {
        listeners.add(r);
    }
}
