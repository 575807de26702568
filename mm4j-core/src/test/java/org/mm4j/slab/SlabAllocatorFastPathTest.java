package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.Gfp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fast paths of {@link SlabAllocator} (issue 13): the size-indexed sheaves, the flat main sheaf, the unchecked
 * slab index read on free ({@link SlabIndex}) and the reused segment views give the same answers as the slab layer,
 * and every refusal still happens on them.
 */
class SlabAllocatorFastPathTest {

    @Test
    void everySizeComesFromItsKmallocCacheAndGoesBackThroughTheFastPath() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1")) {
            final Slub slub = k.slab();
            final SlabAllocator a = slub.allocator();
            for (int round = 0; round < 2; round++) {  // the second round finds every size's sheaves filled in
                for (long size = 1; size <= Slub.KMALLOC_MAX_CACHE_SIZE; size++) {
                    final long p = a.kmalloc(size);
                    assertNotEquals(0, p, "kmalloc(" + size + ")");
                    assertEquals(slub.kmallocCache(size, Gfp.KERNEL).size(), slub.ksize(p), "ksize of kmalloc(" + size + ")");
                    a.kfree(p);
                }
            }
            a.flush();
            assertEquals(0, validateKmalloc(slub), "validate after every size");
        }
    }

    @Test
    void objectsOfMultiPageSlabsAreFreedAndReusedThroughTheirHeadPage() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1")) {
            final SlabAllocator a = k.slab().allocator();
            final long[] p = new long[200];
            final Set<Long> live = new HashSet<>();
            for (int i = 0; i < p.length; i++) {
                p[i] = a.kmalloc(4096);  // kmalloc-4k slabs are order 3: most objects sit on tail pages
                assertTrue(live.add(p[i]), "handed out twice: 0x" + Long.toHexString(p[i]));
            }
            for (final long x : p) {
                a.kfree(x);
            }
            for (final long x : p) {
                assertThrows(IllegalStateException.class, () -> a.kfree(x), "double free of a tail-page object");
            }
            live.clear();
            for (int i = 0; i < p.length; i++) {
                assertTrue(live.add(a.kmalloc(4096)), "handed out twice after the refused frees");
            }
            for (final long x : live) {
                a.kfree(x);
            }
            a.flush();
            assertEquals(0, validateKmalloc(k.slab()));
        }
    }

    @Test
    void aReusedSegmentViewHasTheRequestedSizeAndAddress() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1")) {
            final SlabAllocator a = k.slab().allocator();
            final MemorySegment s = a.allocate(64);
            final long at = s.address();
            s.set(ValueLayout.JAVA_LONG, 56, 7L);
            a.free(s);
            final MemorySegment t = a.allocate(64);
            assertEquals(at, t.address(), "the object freed last comes back first");
            assertEquals(64, t.byteSize());
            a.free(t);
            final MemorySegment u = a.allocate(40);  // same object, another size: a view of exactly 40 bytes
            assertEquals(at, u.address());
            assertEquals(40, u.byteSize());
            assertThrows(IndexOutOfBoundsException.class, () -> u.get(ValueLayout.JAVA_LONG, 40));
            a.free(u);
            assertThrows(IllegalStateException.class, () -> a.free(u), "a double free through a segment");
            assertThrows(IllegalStateException.class, () -> a.free(t), "an earlier view of the same free object");
            final MemorySegment v = a.allocate(64);
            assertEquals(at, v.address());
            assertEquals(64, v.byteSize());
            a.free(v);
            a.flush();
            assertEquals(0, validateKmalloc(k.slab()));
        }
    }

    @Test
    void aSizeAskedTwiceInARowReusesItsViewAndVaryingSizesGetExactViews() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1")) {
            final SlabAllocator a = k.slab().allocator();
            for (int i = 0; i < 3; i++) {  // the sheaves are made, then 64 is asked twice in a row: the view is cached
                a.free(a.allocate(64));
            }
            final MemorySegment second = a.allocate(64);
            a.free(second);
            final MemorySegment third = a.allocate(64);
            assertTrue(second == third, "the same object and size hand out the cached view again");
            a.free(third);
            for (long size = 33; size <= 64; size++) {  // one cache (kmalloc-64), a new size every time
                final MemorySegment s = a.allocate(size);
                assertEquals(size, s.byteSize());
                assertEquals(third.address(), s.address(), "the object freed last comes back first");
                s.set(ValueLayout.JAVA_BYTE, size - 1, (byte) 1);
                assertThrows(IndexOutOfBoundsException.class, () -> s.get(ValueLayout.JAVA_BYTE, s.byteSize()));
                a.free(s);
            }
            final MemorySegment again = a.allocate(64);
            assertEquals(64, again.byteSize());
            a.free(again);
            a.flush();
            assertEquals(0, validateKmalloc(k.slab()));
        }
    }

    @Test
    void theLastViewACacheMadeComesBackAfterAnotherCacheTookItsSlotAndOnlyForItsSize() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1")) {
            final SlabAllocator a = k.slab().allocator();
            for (int i = 0; i < 2; i++) {  // the sheaves are made, then 64 is asked twice in a row
                a.free(a.allocate(64));
            }
            final MemorySegment made = a.allocate(64);  // a new view, cached: kmalloc-64's last view
            a.free(made);
            // 16-byte objects of kmalloc-16, each a new view cached, until one takes the keyed slot of made's
            // object (the keyed cache's slot is phys >>> 4 modulo 8192: 128 KiB apart)
            final MemorySegment[] small = new MemorySegment[20_000];
            int n = 0;
            boolean tookSlot = false;
            while (!tookSlot && n < small.length) {
                small[n] = a.allocate(16);
                tookSlot = n > 0 && (small[n].address() - made.address()) % (1 << 17) == 0;
                n++;
            }
            assertTrue(tookSlot, "a kmalloc-16 object 128 KiB apart from made's within " + n);
            for (int i = 0; i < n; i++) {
                a.free(small[i]);
            }
            final MemorySegment again = a.allocate(64);
            assertTrue(made == again, "the same object and size hand out kmalloc-64's last view, not a new one");
            a.free(again);
            for (int i = 0; i < 2; i++) {  // 40's first slow path, then another size: the size gate's new view
                a.free(a.allocate(40));
            }
            final MemorySegment other = a.allocate(40);  // 40 twice in a row, the same object: not the 64-byte view
            assertEquals(made.address(), other.address());
            assertEquals(40, other.byteSize());
            a.free(other);
            assertThrows(IllegalStateException.class, () -> a.free(other), "a double free is still refused");
            assertThrows(IllegalStateException.class, () -> a.free(made), "and so is the free of its last view");
            a.flush();
            assertEquals(0, validateKmalloc(k.slab()));
        }
    }

    @Test
    void allocateOfASizeIsAllocateWithAlignmentOneThroughTheInterfaceToo() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1 mm4j.leak_detection=paranoid")) {
            final SlabAllocator a = k.slab().allocator();
            final SegmentAllocator viaInterface = a;
            final MemorySegment tracked = viaInterface.allocate(24);  // the override keeps the leak detector's hook
            assertEquals(24, tracked.byteSize());
            assertEquals(1, k.slab().leakDetector().trackedNow(), "allocate(long) is recorded as allocate(long, long) is");
            a.free(tracked);
            assertEquals(0, k.slab().leakDetector().trackedNow(), "and its free drops the record");
        }
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1")) {
            final SlabAllocator a = k.slab().allocator();
            final SegmentAllocator viaInterface = a;
            for (int i = 0; i < 3; i++) {  // sheaves made, then 40 asked twice in a row: its view is cached
                a.free(viaInterface.allocate(40));
            }
            final MemorySegment one = viaInterface.allocate(40);
            a.free(one);
            final MemorySegment two = a.allocate(40, 1);
            assertTrue(one == two, "allocate(40) and allocate(40, 1) take the same fast path and the same view");
            assertThrows(IllegalArgumentException.class, () -> viaInterface.allocate(-1));
            a.free(two);
            assertThrows(IllegalStateException.class, () -> a.free(two));  // a double free is still refused
        }
    }

    @Test
    void segmentsOfAClosedKernelFailAndTheAllocatorThrowsInsteadOfTouchingFreedMemory() {
        final Kernel k = Kernel.boot("mem=32M nr_cpus=1");
        final SlabAllocator a = k.slab().allocator();
        final MemorySegment s = a.allocate(64);
        a.free(a.allocate(64));  // a cached view and a sheaf holding objects
        k.close();
        assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_LONG, 0));
        assertThrows(IllegalStateException.class, () -> a.allocate(64));
        assertThrows(IllegalStateException.class, () -> a.free(s));
    }

    /** validate() of every kmalloc cache: the errors found. */
    private static int validateKmalloc(final Slub slub) {
        final Set<KmemCache> seen = new HashSet<>();
        int errors = 0;
        for (long size = 1; size <= Slub.KMALLOC_MAX_CACHE_SIZE; size++) {
            final KmemCache s = slub.kmallocCache(size, Gfp.KERNEL);
            if (seen.add(s)) {
                errors += s.validate();
            }
        }
        return errors;
    }
}
