package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.Gfp;

import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SlabAllocator#kmallocSizeRoundup} ({@code kmalloc_size_roundup} of {@code mm/slab_common.c}): the kernel's
 * values at every edge, the model's kmalloc caches and large kmallocs agreeing with it, and what it is for: a
 * segment user whose sizes vary gets its views reused when it allocates the rounded size.
 */
class KmallocSizeRoundupTest {

    @Test
    void theKernelsRuleAtEveryEdge() {
        // {size, kmalloc_size_roundup(size)} on x86-64 (KMALLOC_MIN_SIZE 8, the 96 and 192 caches, 4 KiB pages)
        final long[][] cases = {
            {0, 0}, {1, 8}, {8, 8}, {9, 16}, {17, 32}, {33, 64}, {64, 64},
            {65, 96}, {96, 96}, {97, 128}, {126, 128}, {128, 128},
            {129, 192}, {192, 192}, {193, 256}, {257, 512}, {4095, 4096}, {4096, 4096}, {4097, 8192},
            {8192, 8192},
            {8193, 16384}, {12288, 16384}, {16384, 16384}, {16385, 32768}, {(1 << 20) + 1, 2 << 20},
            {Slub.KMALLOC_MAX_SIZE, Slub.KMALLOC_MAX_SIZE},
            {Slub.KMALLOC_MAX_SIZE + 1, Slub.KMALLOC_MAX_SIZE + 1},  // kmalloc fails: the size comes back
            {Long.MAX_VALUE, Long.MAX_VALUE}, {-1, -1},               // size_t: huge, unchanged
        };
        for (final long[] c : cases) {
            assertEquals(c[1], SlabAllocator.kmallocSizeRoundup(c[0]), "kmalloc_size_roundup(" + c[0] + ")");
        }
    }

    @Test
    void everySizeRoundsToWhatTheModelsKmallocGives() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1")) {
            final Slub slub = k.slab();
            for (long size = 1; size <= Slub.KMALLOC_MAX_CACHE_SIZE; size++) {
                final long r = SlabAllocator.kmallocSizeRoundup(size);
                assertEquals(slub.kmallocCache(size, Gfp.KERNEL).objectSize(), r, "object size for " + size);
                assertEquals(slub.kmallocCache(size, Gfp.KERNEL), slub.kmallocCache(r, Gfp.KERNEL),
                    "the rounded size " + r + " of " + size + " is served by the same cache");
            }
            for (final long size : new long[] {8193, 12288, 16385, 100_000, Slub.KMALLOC_MAX_SIZE}) {
                final long p = slub.kmalloc(size, Gfp.KERNEL);
                assertNotEquals(0, p, "kmalloc(" + size + ")");
                assertEquals(slub.ksize(p), SlabAllocator.kmallocSizeRoundup(size), "ksize of kmalloc(" + size + ")");
                slub.kfree(p);
            }
        }
    }

    @Test
    void varyingSizesRoundedUpReuseTheirViewsAndKeepEveryRefusal() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1")) {
            final SlabAllocator a = k.slab().allocator();
            final Set<MemorySegment> exact = Collections.newSetFromMap(new IdentityHashMap<>());
            final Set<MemorySegment> rounded = Collections.newSetFromMap(new IdentityHashMap<>());
            long at = 0;
            for (int i = 0; i < 64; i++) {
                final MemorySegment s = a.allocate(65 + i % 31);  // 65..95: one cache, kmalloc-96, sizes that vary
                exact.add(s);
                at = s.address();
                a.free(s);
            }
            for (int i = 0; i < 64; i++) {  // the same sizes, rounded up: one size asked of the cache
                final MemorySegment r = a.allocate(SlabAllocator.kmallocSizeRoundup(65 + i % 31));
                assertEquals(96, r.byteSize());
                assertEquals(at, r.address(), "the object freed last comes back first");
                rounded.add(r);
                a.free(r);
            }
            assertEquals(64, exact.size(), "exact sizes that vary: a new view every time");
            assertTrue(rounded.size() <= 3, "rounded sizes: the view is reused (" + rounded.size() + " views)");
            final MemorySegment r = a.allocate(SlabAllocator.kmallocSizeRoundup(70));
            a.free(r);
            assertThrows(IllegalStateException.class, () -> a.free(r), "a double free of a reused view is refused");
            a.flush();
        }
    }
}
