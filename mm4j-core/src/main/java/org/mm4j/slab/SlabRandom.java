package org.mm4j.slab;

/**
 * The slab layer's {@code get_random_long()}/{@code get_random_u32_below()}: SplitMix64 over the boot seed
 * ({@code mm4j.random_seed=N}, default 0), so that every run of the same program sees the same
 * {@code s->random}, {@code random_seq} and shuffle positions. Departure from Linux, named: the kernel draws
 * these from its CRNG at boot; mm4j makes them reproducible (a learner's tool, not a secret).
 *
 * <p>Threads: stateless functions; callers pass a counter they advance themselves (atomically when shared).
 */
final class SlabRandom {
    private SlabRandom() {
    }

    /** SplitMix64's finalizer: a bijective mix of all 64 bits. */
    static long mix(final long z0) {
        long z = z0;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** The {@code n}-th value of the stream named {@code stream} under {@code seed}. */
    static long next(final long seed, final long stream, final long n) {
        return mix(seed * 0x9e3779b97f4a7c15L + mix(stream) + n * 0x9e3779b97f4a7c15L);
    }

    /** A stream id for a cache from its name (independent of creation order). */
    static long stream(final String cacheName, final int purpose) {
        return (long) cacheName.hashCode() << 8 | purpose;
    }

    /** {@code get_random_u32_below(bound)} from one random word (Lemire's multiply-shift). */
    static int below(final long random, final int bound) {
        return (int) (((random >>> 32) * bound) >>> 32);
    }
}
