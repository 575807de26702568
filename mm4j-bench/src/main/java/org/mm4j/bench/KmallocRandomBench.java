package org.mm4j.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * Workload {@code kmalloc-random-8-8192}: a window of {@value #LIVE} live objects; each operation frees a
 * randomly chosen one and allocates a new object of random size in its place; ns per free+alloc pair.
 *
 * <p>Sizes are log-uniform over 8..8192 bytes (every power-of-two band equally likely, like the kmalloc caches a
 * kernel sees), from a fixed seed, so every allocator gets the same sequence of {@value #SEQUENCE} sizes and
 * victims, repeated.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class KmallocRandomBench extends PeerState {
    static final int LIVE = 256;
    static final int SEQUENCE = 4096;
    static final int MIN_SIZE = 8;
    static final int MAX_SIZE = 8192;

    private final Object[] refs = new Object[LIVE];
    private final long[] addrs = new long[LIVE];
    private final int[] liveSize = new int[LIVE];
    private final int[] sizes = new int[SEQUENCE];
    private final int[] victims = new int[SEQUENCE];
    private int cursor;

    /** The size sequence: log-uniform in [8, 8192] from seed 42 (shared with the tests). */
    static int[] sizes(final int n, final long seed) {
        final SplittableRandom rnd = new SplittableRandom(seed);
        final double lo = Math.log(MIN_SIZE);
        final double hi = Math.log(MAX_SIZE);
        final int[] s = new int[n];
        for (int i = 0; i < n; i++) {
            s[i] = (int) Math.min(MAX_SIZE, Math.max(MIN_SIZE, Math.round(Math.exp(lo + rnd.nextDouble() * (hi - lo)))));
        }
        return s;
    }

    @Override
    protected void prepare() {
        System.arraycopy(sizes(SEQUENCE, 42), 0, sizes, 0, SEQUENCE);
        final SplittableRandom rnd = new SplittableRandom(4242);
        for (int i = 0; i < SEQUENCE; i++) {
            victims[i] = rnd.nextInt(LIVE);
        }
        for (int j = 0; j < LIVE; j++) {
            liveSize[j] = sizes[(SEQUENCE - 1 - j)];
            addrs[j] = a.alloc(liveSize[j], refs, j);
        }
    }

    @Override
    protected void finish() {
        for (int j = 0; j < LIVE; j++) {
            a.free(addrs[j], liveSize[j], refs, j);
        }
    }

    @Benchmark
    public void kmallocRandom() {
        final Allocator al = a;
        final int k = cursor++ & (SEQUENCE - 1);
        final int j = victims[k];
        al.free(addrs[j], liveSize[j], refs, j);
        final int n = sizes[k];
        liveSize[j] = n;
        addrs[j] = al.alloc(n, refs, j);
    }
}
