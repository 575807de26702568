package org.mm4j.base;

/**
 * {@code struct ratelimit_state} and {@code __ratelimit()}: at most {@code burst} messages per {@code interval};
 * when a new interval starts after messages were dropped, {@code "<name>: N callbacks suppressed"} is logged first,
 * as {@code ___ratelimit} does. The defaults are the kernel's {@code DEFAULT_RATELIMIT_INTERVAL} (5 s) and
 * {@code DEFAULT_RATELIMIT_BURST} (10).
 *
 * <p>Threads: any thread; the state is guarded by this object's monitor (the kernel's {@code rs->lock}). Only
 * error and warning paths call it.
 */
public final class RateLimit {
    /** {@code DEFAULT_RATELIMIT_INTERVAL}: 5 seconds. */
    public static final long DEFAULT_INTERVAL_NANOS = 5_000_000_000L;
    /** {@code DEFAULT_RATELIMIT_BURST}. */
    public static final int DEFAULT_BURST = 10;

    private final String name;
    private final long intervalNanos;
    private final int burst;
    private long begin;
    private int printed;
    private int missed;

    /** A limiter with the kernel's defaults; {@code name} prefixes the "callbacks suppressed" line. */
    public RateLimit(final String name) {
        this(name, DEFAULT_INTERVAL_NANOS, DEFAULT_BURST);
    }

    public RateLimit(final String name, final long intervalNanos, final int burst) {
        this.name = name;
        this.intervalNanos = intervalNanos;
        this.burst = burst;
    }

    /** True when the caller may print now; logs the suppressed count to {@code log} when an interval restarts. */
    public synchronized boolean ok(final KernelLog log) {
        final long now = System.nanoTime();
        if (begin == 0 || now - begin >= intervalNanos) {
            if (missed > 0) {
                log.printk(String.format("%s: %d callbacks suppressed", name, missed));
            }
            begin = now;
            printed = 0;
            missed = 0;
        }
        if (printed < burst) {
            printed++;
            return true;
        }
        missed++;
        return false;
    }
}
