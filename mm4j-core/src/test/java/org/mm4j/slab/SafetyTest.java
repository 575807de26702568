package org.mm4j.slab;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.Gfp;
import org.mm4j.page.PhysicalMemory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Safety of the slab layer: double frees refused on every path (same thread, another thread, A-B-A) with sheaves
 * on and off, the kernel's own behaviour behind {@code mm4j.double_free=kernel}, hardened free pointers
 * (obfuscated, a corrupted one never followed) and the shuffled free order of new slabs.
 */
class SafetyTest {
    private static String hex(final long kaddr) {
        return "0x" + Long.toHexString(kaddr);
    }

    private static void assertRefused(final Kernel k, final String cache, final long kaddr, final Runnable free) {
        k.log().clear();
        final IllegalStateException e = assertThrows(IllegalStateException.class, free::run);
        assertTrue(e.getMessage().contains(hex(kaddr)) && e.getMessage().contains(cache), e.getMessage());
        assertTrue(k.log().messages().stream().anyMatch(l -> l.contains("Object already free")
            && l.contains(hex(kaddr))), () -> String.join("\n", k.log().messages()));
    }

    /** Every cache clean, no live object left, the buddy allocator back to {@code freeAtBoot}. */
    private static void assertClean(final Kernel k, final long freeAtBoot, final KmemCache... caches) {
        k.slab().allocator().flush();
        for (final KmemCache s : caches) {
            assertEquals(0, s.activeObjects(), s.name());
            assertEquals(0, s.validate(), () -> s.name() + "\n" + String.join("\n", k.log().messages()));
            s.shrink();
        }
        k.buddy().drainAllPages();
        assertEquals(freeAtBoot, k.buddy().freePages());
    }

    /** {@link #assertClean} over every cache the {@code paths} allocate from. */
    private static void assertClean(final Kernel k, final long freeAtBoot, final List<Path> paths) {
        assertClean(k, freeAtBoot, paths.stream().map(p -> k.slab().findCache(p.cache())).distinct()
            .toArray(KmemCache[]::new));
    }

    private static long freeAtBoot(final Kernel k) {
        k.buddy().drainAllPages();
        return k.buddy().freePages();
    }

    // ------------------------------------------------------------------ the issue's reproductions

    @ParameterizedTest
    @ValueSource(ints = {32, 0})
    void issueItem1KfreeTwiceIsRefusedAndNoAddressHasTwoOwners(final int sheaves) {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 mm4j.sheaves=" + sheaves)) {
            final long free0 = freeAtBoot(k);
            final SlabAllocator a = k.slab().allocator();
            final KmemCache s = k.slab().kmallocCache(64, Gfp.KERNEL);
            final long p = a.kmalloc(64);
            a.kfree(p);
            assertRefused(k, "kmalloc-64", p, () -> a.kfree(p));
            final long x = a.kmalloc(64);
            final long y = a.kmalloc(64);
            assertNotEquals(x, y, "one object, two owners");
            assertEquals(2, s.activeObjects());
            a.kfree(x);
            a.kfree(y);
            assertEquals(0, s.validate());
            assertClean(k, free0, s);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 0})
    void issueItem1SegmentsFreedTwiceAreRefused(final int sheaves) {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 mm4j.sheaves=" + sheaves)) {
            final long free0 = freeAtBoot(k);
            final SlabAllocator a = k.slab().allocator();
            final MemorySegment seg = a.allocate(64);
            a.free(seg);
            final long kaddr = k.slab().kaddrOfNative(seg.address());
            assertRefused(k, "kmalloc-64", kaddr, () -> a.free(seg));
            final MemorySegment x = a.allocate(64);
            final MemorySegment y = a.allocate(64);
            assertNotEquals(x.address(), y.address());
            a.free(x);
            a.free(y);
            a.flush();
            assertEquals(0, k.slab().kmallocCache(64, Gfp.KERNEL).activeObjects());
            assertClean(k, free0, k.slab().kmallocCache(64, Gfp.KERNEL));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 0})
    void issueItem2AbaFreeIsRefused(final int sheaves) {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 mm4j.sheaves=" + sheaves)) {
            final long free0 = freeAtBoot(k);
            final SlabAllocator a = k.slab().allocator();
            final KmemCache s = k.slab().kmallocCache(64, Gfp.KERNEL);
            final long p = a.kmalloc(64);
            final long q = a.kmalloc(64);
            a.kfree(p);
            a.kfree(q);
            assertRefused(k, "kmalloc-64", p, () -> a.kfree(p));
            final Set<Long> seen = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                assertTrue(seen.add(a.kmalloc(64)), "an address handed out twice");
            }
            for (final long o : seen) {
                a.kfree(o);
            }
            s.shrink();
            assertClean(k, free0, s);
        }
    }

    // ------------------------------------------------------------------ every path

    /** One way to allocate and free: through which API and which cache. */
    private record Path(String name, String cache, LongSupplier alloc, LongConsumer free) {
    }

    private static List<Path> paths(final Kernel k) {
        final Slub slub = k.slab();
        final KmemCache named = slub.kmemCacheCreate("safety_obj", 72, 0, 0, null);
        final KmemCache sheafed = slub.kmemCacheCreate("safety_sheaf", 40,
            KmemCacheArgs.DEFAULT.withSheafCapacity(8));
        final KmemCache ctor = slub.kmemCacheCreate("safety_ctor", 48, 0, 0, seg -> seg.fill((byte) 0x5a));
        final KmemCache rcu = slub.kmemCacheCreate("safety_rcu", 64, 0, SlabFlags.SLAB_TYPESAFE_BY_RCU, null);
        final List<Path> out = new ArrayList<>();
        out.add(new Path("allocator kmalloc-64", "kmalloc-64", () -> slub.allocator().kmalloc(64),
            x -> slub.allocator().kfree(x)));
        out.add(new Path("allocator kmalloc-8", "kmalloc-8", () -> slub.allocator().kmalloc(8),
            x -> slub.allocator().kfree(x)));
        out.add(new Path("kmalloc/kfree", "kmalloc-128", () -> slub.kmalloc(128, Gfp.KERNEL), slub::kfree));
        out.add(new Path("kmalloc-8/kfree", "kmalloc-8", () -> slub.kmalloc(8, Gfp.KERNEL), slub::kfree));
        out.add(new Path("kmem_cache", "safety_obj", named::alloc, named::free));
        out.add(new Path("kmem_cache per-CPU sheaves", "safety_sheaf", sheafed::alloc, sheafed::free));
        out.add(new Path("kmem_cache ctor", "safety_ctor", ctor::alloc, ctor::free));
        out.add(new Path("kmem_cache rcu", "safety_rcu", rcu::alloc, rcu::free));
        out.add(new Path("allocator + kmem_cache", "safety_obj", () -> slub.allocator().alloc(named),
            x -> slub.allocator().free(named, x)));
        out.add(new Path("bulk", "safety_obj", () -> {
            final long[] o = new long[1];
            assertEquals(1, named.allocBulk(Gfp.KERNEL, o, 1));
            return o[0];
        }, x -> named.freeBulk(new long[] {x}, 1)));
        return out;
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 0})
    void everyPathRefusesSameThreadCrossThreadAndAbaDoubleFrees(final int sheaves) throws Exception {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2 mm4j.sheaves=" + sheaves)) {
            final long free0 = freeAtBoot(k);
            final List<Path> paths = paths(k);
            for (final Path path : paths) {
                final List<Long> held = new ArrayList<>();
                for (int i = 0; i < 40; i++) {  // objects from slabs in every state: CPU, partial, sheaves
                    held.add(path.alloc.getAsLong());
                }
                // same thread, right after the free
                final long p = held.removeLast();
                path.free.accept(p);
                assertRefused(k, path.cache, p, () -> path.free.accept(p));
                // A-B-A
                final long a = held.removeLast();
                final long b = held.removeLast();
                path.free.accept(a);
                path.free.accept(b);
                assertRefused(k, path.cache, a, () -> path.free.accept(a));
                // another thread
                final long c = held.removeLast();
                path.free.accept(c);
                final AtomicReference<Throwable> other = new AtomicReference<>();
                final Thread t = new Thread(() -> {
                    try {
                        path.free.accept(c);
                    } catch (final Throwable e) {
                        other.set(e);
                    }
                });
                t.start();
                t.join();
                assertTrue(other.get() instanceof IllegalStateException, path.name + ": " + other.get());
                // an old object (freed long ago, moved on to slabs by the frees in between)
                final long old = held.removeFirst();
                path.free.accept(old);
                for (final long o : held) {
                    path.free.accept(o);
                }
                assertRefused(k, path.cache, old, () -> path.free.accept(old));
                // nothing handed out twice afterwards, counters intact
                final Set<Long> again = new HashSet<>();
                for (int i = 0; i < 50; i++) {
                    assertTrue(again.add(path.alloc.getAsLong()), path.name + ": an address handed out twice");
                }
                for (final long o : again) {
                    path.free.accept(o);
                }
            }
            assertClean(k, free0, paths);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 0})
    void invalidFreesAreRefusedOnEveryPath(final int sheaves) {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2 mm4j.sheaves=" + sheaves)) {
            final long free0 = freeAtBoot(k);
            final List<Path> paths = paths(k);
            for (final Path path : paths) {
                final long p = path.alloc.getAsLong();
                for (final long bad : new long[] {p + 8, p - 8, p + 1, 0xffff880000000000L, PhysicalMemory.PAGE_OFFSET
                    + k.memory().totalBytes() + 64}) {
                    k.log().clear();
                    final RuntimeException e = assertThrows(RuntimeException.class, () -> path.free.accept(bad),
                        path.name + " " + hex(bad));
                    assertTrue(e instanceof IllegalArgumentException || e instanceof IllegalStateException,
                        path.name + ": " + e);
                    assertFalse(k.log().messages().isEmpty(), path.name + ": no report for " + hex(bad));
                }
                path.free.accept(p);  // the object itself is still live and frees normally
            }
            assertClean(k, free0, paths);
        }
    }

    @Test
    void fakeNumaNodesKeepTheChecks() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2 numa=fake=2")) {
            final SlabAllocator a = k.slab().allocator();
            final long p = a.kmalloc(256);
            a.kfree(p);
            assertRefused(k, "kmalloc-256", p, () -> a.kfree(p));
        }
    }

    @Test
    void bulkFreeRefusesTheDuplicateAndFreesTheRest() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1")) {
            final long free0 = freeAtBoot(k);
            final KmemCache s = k.slab().kmemCacheCreate("bulk_obj", 96, 0, 0, null);
            final long[] o = new long[8];
            assertEquals(8, s.allocBulk(Gfp.KERNEL, o, 8));
            final long[] twice = Arrays.copyOf(o, 9);
            twice[8] = o[3];
            assertRefused(k, "bulk_obj", o[3], () -> s.freeBulk(twice, 9));
            assertEquals(0, s.activeObjects(), "the other eight were freed");
            assertClean(k, free0, s);
        }
    }

    @Test
    void aDuplicateThatSlippedIntoASheafIsNeverHandedOutTwice() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1")) {
            final KmemCache s = k.slab().kmemCacheCreate("dup_obj", 64, KmemCacheArgs.DEFAULT.withSheafCapacity(8));
            final long p = s.alloc();
            final long r = s.alloc();
            s.free(p);
            // what two racing frees of p (no happens-before between them) can leave behind: p twice in sheaves
            final Sheaf main = s.pcs[0].main;
            main.objects[main.size++] = p - PhysicalMemory.PAGE_OFFSET;
            k.log().clear();
            final long x = s.alloc();
            final long y = s.alloc();
            assertEquals(p, x);
            assertNotEquals(p, y, "the duplicate must be dropped");
            assertTrue(k.log().messages().stream().anyMatch(l -> l.contains("lost its free mark")));
            s.free(x);
            s.free(y);
            s.free(r);
        }
    }

    @Test
    void anAllocatorUsedAfterItsKernelClosedThrowsInsteadOfTouchingFreedMemory() {
        final Kernel k = Kernel.boot("mem=32M nr_cpus=1");
        final SlabAllocator a = k.slab().allocator();
        final long p = a.kmalloc(64);
        a.kfree(a.kmalloc(64));  // the sheaf holds objects
        k.close();
        assertThrows(IllegalStateException.class, () -> a.kmalloc(64));
        assertThrows(IllegalStateException.class, () -> a.kfree(p));
    }

    // ------------------------------------------------------------------ the kernel's behaviour, for learners

    @Test
    void kernelModeThreadSheavesSilentlyHandOneObjectToTwoOwners() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 mm4j.double_free=kernel")) {
            final SlabAllocator a = k.slab().allocator();
            final long p = a.kmalloc(64);
            a.kfree(p);
            a.kfree(p);  // accepted: 6.18 has no check on this path
            assertEquals(a.kmalloc(64), a.kmalloc(64), "one object, two owners: the kernel's silent corruption");
        }
    }

    @Test
    void kernelModeCorruptionNeverHangsTheWalks() {
        // the issue's item 1 after a.flush(): activeObjects looped forever on the cycle, holding the slot lock
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 mm4j.double_free=kernel")) {
            final SlabAllocator a = k.slab().allocator();
            final KmemCache s = k.slab().kmallocCache(64, Gfp.KERNEL);
            final long p = a.kmalloc(64);
            a.kfree(p);
            a.kfree(p);
            try {
                a.flush();
            } catch (final IllegalStateException e) {
                // set_freepointer's BUG_ON(object == fp) stops the second free of p, as the kernel would BUG
            }
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> {
                s.activeObjects();
                assertTrue(s.validate() > 0, "validate reports the corruption");
                s.activeObjects();
            });
        }
    }

    @Test
    void kernelModeCatchesOnlyTheNaiveCase() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 mm4j.sheaves=0 mm4j.double_free=kernel")) {
            final KmemCache s = k.slab().kmemCacheCreate("naive", 64, 0, 0, null);
            final long p = s.alloc();
            final long q = s.alloc();
            s.free(p);
            k.log().clear();
            assertThrows(IllegalStateException.class, () -> s.free(p), "BUG_ON(object == fp)");
            assertTrue(k.log().messages().stream().anyMatch(l -> l.contains("kernel BUG at mm/slub.c")));
            s.free(q);
            s.free(p);  // p, q, p: not caught by the naive check
            assertEquals(s.alloc(), p);
            assertEquals(s.alloc(), q);
            assertEquals(s.alloc(), p, "the freelist now cycles p, q, p");
        }
    }

    @Test
    void kernelModeWithoutHardeningHasNoCheckAtAll() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 mm4j.sheaves=0 mm4j.double_free=kernel"
            + " mm4j.config.SLAB_FREELIST_HARDENED=n")) {
            final KmemCache s = k.slab().kmemCacheCreate("naive", 64, 0, 0, null);
            final long p = s.alloc();
            s.free(p);
            s.free(p);  // the freelist points p at itself
            assertEquals(p, s.alloc());
            assertEquals(p, s.alloc());
        }
    }

    @Test
    void badDoubleFreeOptionIsRefusedAtBoot() {
        final RuntimeException e = assertThrows(RuntimeException.class,
            () -> Kernel.boot("mem=32M mm4j.double_free=maybe"));
        assertTrue(e.getMessage().contains("mm4j.double_free=maybe"), e.getMessage());
    }

    // ------------------------------------------------------------------ hardened free pointers

    @Test
    void freePointersAreStoredObfuscatedAndPlainWithoutHardening() {
        for (final boolean hardened : new boolean[] {true, false}) {
            try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 mm4j.sheaves=0 mm4j.config.SLAB_FREELIST_HARDENED="
                + (hardened ? "y" : "n"))) {
                final KmemCache s = k.slab().kmemCacheCreate("fp", 64, 0, 0, null);
                final long p = s.alloc();
                final long q = s.alloc();
                s.free(p);
                s.free(q);  // q's free pointer now names p
                final long stored = k.memory().getLong(q - PhysicalMemory.PAGE_OFFSET + s.offset());
                final long expect = hardened ? p ^ s.random ^ Long.reverseBytes(q + s.offset()) : p;
                assertEquals(expect, stored, "freelist_ptr_encode, hardened=" + hardened);
                assertEquals(p, s.getFreePointer(q));
                assertEquals(q, s.alloc());
                assertEquals(p, s.alloc());
            }
        }
    }

    @Test
    void aCorruptedFreePointerIsReportedAndNeverFollowed() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 mm4j.sheaves=0")) {
            final KmemCache s = k.slab().kmemCacheCreate("victim", 64, 0, 0, null);
            final List<Long> objs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                objs.add(s.alloc());
            }
            final long q = objs.get(7);
            for (int i = 0; i < 8; i++) {
                s.free(objs.get(i));
            }
            // a write after free: q is the head of the CPU freelist; point it at memory outside the slab
            k.memory().putLong(q - PhysicalMemory.PAGE_OFFSET + s.offset(), 0x4141414141414141L);
            k.log().clear();
            final Set<Long> got = new HashSet<>();
            for (int i = 0; i < 64; i++) {
                final long x = s.alloc();
                assertTrue(k.slab().virtToSlab(x - PhysicalMemory.PAGE_OFFSET) >= 0, "not a slab object: " + hex(x));
                assertTrue(got.add(x), "handed out twice: " + hex(x));
            }
            assertTrue(k.log().messages().stream().anyMatch(l -> l.contains("Freechain corrupt")),
                () -> String.join("\n", k.log().messages()));
        }
    }

    // ------------------------------------------------------------------ SLAB_FREELIST_RANDOM

    private static long[] firstObjects(final String cmdline, final int n) {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 mm4j.sheaves=0 " + cmdline)) {
            final KmemCache s = k.slab().kmemCacheCreate("order", 64, 0, 0, null);
            final long[] out = new long[n];
            for (int i = 0; i < n; i++) {
                out[i] = s.alloc() - PhysicalMemory.PAGE_OFFSET;
            }
            return out;
        }
    }

    @Test
    void newSlabsAreShuffledReproduciblyBySeed() {
        final long[] a = firstObjects("", 64);
        assertArrayEquals(a, firstObjects("", 64), "same seed, same order");
        assertFalse(Arrays.equals(a, firstObjects("mm4j.random_seed=42", 64)), "another seed, another order");
        final long[] fixed = firstObjects("mm4j.config.SLAB_FREELIST_RANDOM=n", 64);
        for (int i = 1; i < fixed.length; i++) {
            assertEquals(fixed[0] + 64L * i, fixed[i], "SLAB_FREELIST_RANDOM=n: address order");
        }
        final long[] sorted = a.clone();
        Arrays.sort(sorted);
        assertArrayEquals(fixed, sorted, "a permutation of the same slab's objects");
        assertFalse(Arrays.equals(a, fixed));
    }

    @Test
    void randomSeqIsAPermutationOfObjectOffsets() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1")) {
            final KmemCache s = k.slab().kmallocCache(192, Gfp.KERNEL);
            final int[] seq = s.randomSeq();
            assertNotNull(seq);
            assertEquals(s.objsPerSlab(), seq.length);
            final int[] sorted = seq.clone();
            Arrays.sort(sorted);
            for (int i = 0; i < sorted.length; i++) {
                assertEquals(i * s.size(), sorted[i]);
            }
        }
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 mm4j.config.SLAB_FREELIST_RANDOM=n")) {
            assertNull(k.slab().kmallocCache(192, Gfp.KERNEL).randomSeq());
        }
    }
}
