package org.mm4j.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Workload {@code kmalloc-random-8-8192}: a window of {@value #LIVE} live objects; each operation frees a
 * randomly chosen one and allocates a new object of random size in its place, writing its first and last 8
 * bytes (the address goes to a Blackhole); ns per free+alloc pair.
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

    final Object[] refs = new Object[LIVE];
    final long[] addrs = new long[LIVE];
    final int[] liveSize = new int[LIVE];
    private final int[] sizes = new int[SEQUENCE];
    private final int[] victims = new int[SEQUENCE];
    private int cursor;

    /** The size sequence: log-uniform in [8, 8192] from seed 42 (shared with the tests). */
    static int[] sizes(final int n, final long seed) {
        return logUniform(n, seed, MIN_SIZE, MAX_SIZE);
    }

    /** {@code n} sizes log-uniform in [{@code min}, {@code max}] from {@code seed}: every allocator gets the same. */
    static int[] logUniform(final int n, final long seed, final int min, final int max) {
        final SplittableRandom rnd = new SplittableRandom(seed);
        final double lo = Math.log(min);
        final double hi = Math.log(max);
        final int[] s = new int[n];
        for (int i = 0; i < n; i++) {
            s[i] = (int) Math.min(max, Math.max(min, Math.round(Math.exp(lo + rnd.nextDouble() * (hi - lo)))));
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
            a.write8(addrs[j], liveSize[j], refs, j, stamp++);
        }
    }

    @Override
    protected void finish() {
        for (int j = 0; j < LIVE; j++) {
            a.free(addrs[j], liveSize[j], refs, j);
        }
    }

    @Benchmark
    public void kmallocRandom(final Blackhole bh) {
        final Allocator al = a;
        final int k = cursor++ & (SEQUENCE - 1);
        final int j = victims[k];
        al.free(addrs[j], liveSize[j], refs, j);
        final int n = sizes[k];
        liveSize[j] = n;
        final long p = al.alloc(n, refs, j);
        al.write8(p, n, refs, j, stamp++);
        bh.consume(p);
        addrs[j] = p;
    }
}
