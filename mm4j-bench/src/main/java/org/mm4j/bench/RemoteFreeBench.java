package org.mm4j.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Workload {@code remote-free-2t-64}: the JMH thread (CPU 0) allocates 64-byte objects, writes their first and
 * last 8 bytes and puts them into a bounded SPSC ring of
 * {@value #RING} slots; a consumer thread (CPU 1, started for the trial) frees every object it takes out, so every
 * free is remote; the producer publishes its objects {@value #HANDBACK} at a time, and the consumer frees whatever
 * the ring shows and hands the slots back at most {@value #HANDBACK} at a time, so the ring's own cache-line traffic
 * stays small beside the allocators' whichever side is faster. (Until issue 13's remote-free pass the producer
 * published every object, and a consumer that had caught up polled that line: a cost that grew with how well an
 * allocator's free keeps up; docs/speed-history.md, "Remote frees (issue 13)".) One operation = one object through
 * the pipeline; since the ring is bounded, the producer's
 * average time per object is the pipeline's wall time per object, which is what the row reports (threads = 2).
 *
 * <p>Both sides spin briefly, then yield, when the ring is full or empty (the machine may be shared).
 *
 * <p>Layout: in its loop the consumer touches nothing of this state object, whose {@code stamp} the producer writes
 * per object: its hand-off counters and the stop flag live in {@code consumerWords}, padded to lines of their own,
 * and the ring keeps each side's words apart ({@link SpscRing}). Until issue 13's sixth pass the consumer counted
 * its empty polls in a field of this object and read {@code running} here on every poll: in half the alignments
 * of the object on the line of {@code stamp}, so that each poll of a consumer that had caught up cost the producer
 * a line crossing (docs/speed-history.md, "Sixth pass (issue 13)").
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RemoteFreeBench extends PeerState {
    static final int RING = 1024;
    static final long SIZE = 64;
    static final int HANDBACK = 32;
    private static final int SPINS_BEFORE_YIELD = 64;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    /** Longs of padding around the consumer's words: 128 bytes, a pair of lines. */
    private static final int PAD = 16;
    private static final int EMPTY_WAITS = PAD;
    private static final int EMPTY_YIELDS = PAD + 1;
    /** Nonzero once {@link #finish} asks the consumer to stop (written once, release; read acquire). */
    private static final int STOP = PAD + 2;
    /** With {@link #timeWork}: the consumer's nanoseconds in whole batches of frees, and their objects. */
    private static final int WORK_NS = PAD + 3;
    private static final int WORK_OBJECTS = PAD + 4;
    /** A batch timed longer than this was descheduled: not counted. */
    static final long WORK_SAMPLE_MAX_NS = 20_000;

    /** Marks {@link #handOffs()}'s line in a fork's output. */
    static final String HAND_OFFS = "remote-free hand-offs:";
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

    private SpscRing ring;
    private Thread consumer;
    /**
     * Print {@link #handOffs()} when a trial of at least {@value #REPORT_MIN_OBJECTS} objects ends (a JMH fork
     * runs tens of millions; the tests' few thousand stay quiet); {@link RemoteFreeProbe} turns it off.
     */
    boolean reportHandOffs = true;
    /**
     * Set before the trial ({@link RemoteFreeProbe}'s pinned mode; never in the JMH rows): the consumer times each
     * whole batch of {@value #HANDBACK} frees with {@code System.nanoTime} ({@link #consumerWork()}). The consumer
     * reads it once, when it starts: off, it costs its loop nothing but a test of a local.
     */
    boolean timeWork;
    private static final long REPORT_MIN_OBJECTS = 1_000_000;
    private long producerCpu0;
    private long stamp0;
    private volatile Throwable consumerFailure;
    /**
     * The consumer's words: its hand-off counters ({@link #emptyWaits()}, {@link #emptyYields()}; plain, written by
     * the consumer only) and the stop flag, {@value #PAD} longs from each other array end, so that no word the
     * producer writes shares their lines whatever the array's alignment.
     */
    private long[] consumerWords;
    /**
     * Hand-offs, for {@link RemoteFreeProbe}: times the producer found the ring full (plain, producer only, off
     * the per-object path); of those waits' polls, the ones that yielded the CPU (past
     * {@value #SPINS_BEFORE_YIELD} spins).
     */
    long fullWaits;
    long fullYields;

    @Override
    protected void prepare() {
        ring = new SpscRing(RING);
        consumerWords = new long[WORK_OBJECTS + 1 + PAD];
        consumer = a.newThread(this::consume, "mm4j-bench-consumer");
        consumer.setDaemon(true);
        producerCpu0 = CPU.getCurrentThreadCpuTime();
        stamp0 = stamp;
        consumer.start();
    }

    /**
     * The trial's hand-offs and each side's CPU time per object, one line starting with {@value #HAND_OFFS}
     * (the fork's output, which {@link PeerComparison} shows above its progress line): which regime it ran in. A ring
     * that was full now and then with hardly an empty poll is a producer faster than the consumer; many empty
     * polls per 1,000 objects, a consumer that caught up and waits for the producer's batches.
     */
    String handOffs() {
        final double n = Math.max(1, stamp - stamp0);
        return String.format(Locale.ROOT, "%s %d objects; per 1,000: %.2f ring-full waits, %.1f empty polls "
                + "(%.1f of them yields); CPU ns per object: producer %.1f, consumer %.1f",
            HAND_OFFS, stamp - stamp0, fullWaits * 1000 / n, emptyWaits() * 1000 / n, emptyYields() * 1000 / n,
            (CPU.getCurrentThreadCpuTime() - producerCpu0) / n, CPU.getThreadCpuTime(consumer.threadId()) / n);
    }

    @Override
    protected void finish() {
        try {
            drain();
            if (reportHandOffs && stamp - stamp0 >= REPORT_MIN_OBJECTS) {
                System.out.println(handOffs());
            }
        } finally {
            LONGS.setRelease(consumerWords, STOP, 1L);
            try {
                consumer.join(10_000);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits until the consumer has freed everything produced so far. */
    @TearDown(Level.Iteration)
    public void drain() {
        final long t = ring.lpTail();
        ring.soTail(t);
        int spins = 0;
        while (ring.lvHead() != t) {
            checkConsumer();
            spins = backOff(spins);
        }
    }

    @Benchmark
    public void remoteFree64(final Blackhole bh) {
        final SpscRing r = ring;
        final long t = r.lpTail();
        if (t - r.lpHeadCache() >= r.capacity()) {
            waitForRoom(r, t);
        }
        final int i = (int) t & r.mask;
        final Allocator al = a;
        final long p = al.alloc(SIZE, r.refs, i);
        al.write8(p, SIZE, r.refs, i, stamp++);
        bh.consume(p);
        r.addrs[i] = p;
        final long n = t + 1;
        r.spTail(n);
        if ((n & (HANDBACK - 1)) == 0) {
            r.soTail(n);  // one shared write per batch, as the consumer's hand-back
        }
    }

    private void waitForRoom(final SpscRing r, final long t) {
        fullWaits++;
        r.soTail(t);  // the consumer may be waiting for the objects of a batch not yet published
        int spins = 0;
        long h;
        while (t - (h = r.lvHead()) >= r.capacity()) {
            checkConsumer();
            if (spins >= SPINS_BEFORE_YIELD) {
                fullYields++;
            }
            spins = backOff(spins);
        }
        r.spHeadCache(h);
    }

    private void consume() {
        final Allocator al = a;
        final SpscRing r = ring;
        final long[] w = consumerWords;
        final boolean timed = timeWork;  // set before Thread.start, which publishes it; read once, off the loop
        try {
            al.bindThread(1);
            int spins = 0;
            long h = r.lpHead();
            while (true) {
                long t = r.lpTailCache();
                if (h == t) {
                    t = r.lvTail();
                    if (h == t) {
                        w[EMPTY_WAITS]++;
                        if (spins >= SPINS_BEFORE_YIELD) {
                            w[EMPTY_YIELDS]++;
                        }
                        if ((long) LONGS.getAcquire(w, STOP) != 0) {
                            return;
                        }
                        spins = backOff(spins);
                        continue;
                    }
                    r.spTailCache(t);
                }
                spins = 0;
                // free what is visible, handing the slots back every HANDBACK objects (one shared write per batch)
                final long end = Math.min(t, h + HANDBACK);
                final long t0 = timed ? System.nanoTime() : 0;
                final boolean whole = end - h == HANDBACK;
                for (; h < end; h++) {
                    final int i = (int) h & r.mask;
                    al.free(r.addrs[i], SIZE, r.refs, i);
                }
                if (timed) {
                    final long d = System.nanoTime() - t0;
                    if (whole && d < WORK_SAMPLE_MAX_NS) {
                        w[WORK_NS] += d;
                        w[WORK_OBJECTS] += HANDBACK;
                    }
                }
                r.soHead(h);
            }
        } catch (final Throwable e) {
            consumerFailure = e;
        }
    }

    /** Times the consumer found the ring empty (a racy read while it runs: some recent count). */
    long emptyWaits() {
        return consumerWords[EMPTY_WAITS];
    }

    /**
     * With {@link #timeWork}: the consumer's time in whole batches of frees not longer than
     * {@value #WORK_SAMPLE_MAX_NS} ns, and their objects (racy reads while it runs).
     */
    long[] consumerWork() {
        return new long[] {consumerWords[WORK_NS], consumerWords[WORK_OBJECTS]};
    }

    /** Of the consumer's empty polls, the ones that yielded the CPU. */
    long emptyYields() {
        return consumerWords[EMPTY_YIELDS];
    }

    /** The consumer thread (for its CPU time), null before {@link #prepare}. */
    Thread consumer() {
        return consumer;
    }

    private void checkConsumer() {
        final Throwable f = consumerFailure;
        if (f != null) {
            throw new IllegalStateException(allocator + ": consumer thread failed", f);
        }
        if (!consumer.isAlive()) {
            throw new IllegalStateException(allocator + ": consumer thread ended");
        }
    }

    @SuppressWarnings("ThreadPriorityCheck") // backoff: on 2 CPUs the other side of the ring needs this CPU
    private static int backOff(final int spins) {
        if (spins < SPINS_BEFORE_YIELD) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
        return spins + 1;
    }
}
