package org.mm4j.page;

import org.junit.jupiter.api.Test;
import org.mm4j.boot.CmdlineException;
import org.mm4j.Kernel;
import org.mm4j.slab.Slub;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

/** Memory reserved, not committed, at boot: deferred struct pages, lazy reservations, addresses above 32 GiB. */
class LazyMemoryTest {
    /**
     * The same random program on a kernel whose struct pages are deferred and on one where they were all written
     * right after boot: every allocation returns the same pfn and /proc/buddyinfo agrees at every step.
     */
    @Test
    void deferredStructPagesChangeNothingTheAllocatorShows() {
        try (Kernel lazy = Kernel.boot("mem=1G nr_cpus=1"); Kernel eager = Kernel.boot("mem=1G nr_cpus=1")) {
            final BuddyAllocator a = lazy.buddy();
            final BuddyAllocator b = eager.buddy();
            final long deferredAtBoot = a.deferredPages();
            // ZONE_DMA (the first 16 MiB) is written at boot; ZONE_DMA32 defers all but its first 128 MiB
            assertEquals((1L << 30) - (16L << 20) - (128L << 20) >>> PhysicalMemory.PAGE_SHIFT, deferredAtBoot,
                "mem=1G defers all but DMA and the first 128 MiB of DMA32");
            b.initDeferred();
            assertEquals(0, b.deferredPages());
            assertEquals(PageProc.buddyinfo(b), PageProc.buddyinfo(a));
            assertEquals(b.freePages(), a.freePages());
            final int[] gfps = {Gfp.KERNEL, Gfp.KERNEL | Gfp.MOVABLE, Gfp.KERNEL | Gfp.RECLAIMABLE, Gfp.ATOMIC};
            final Random rnd = new Random(42);
            final List<long[]> live = new ArrayList<>();
            for (int step = 0; step < 3000; step++) {
                if (live.isEmpty() || rnd.nextInt(3) != 0) {
                    final int order = rnd.nextInt(4) == 0 ? Zone.MAX_PAGE_ORDER - rnd.nextInt(2) : rnd.nextInt(4);
                    final int gfp = gfps[rnd.nextInt(gfps.length)] | Gfp.NOWARN;
                    final long pa = a.allocPages(gfp, order);
                    final long pb = b.allocPages(gfp, order);
                    assertEquals(pb, pa, "step " + step + " order " + order);
                    if (pa >= 0) {
                        live.add(new long[] {pa, order});
                    }
                } else {
                    final long[] x = live.remove(rnd.nextInt(live.size()));
                    assertTrue(a.freePages(x[0], (int) x[1]));
                    assertTrue(b.freePages(x[0], (int) x[1]));
                }
                if (step % 100 == 0) {
                    assertEquals(PageProc.buddyinfo(b), PageProc.buddyinfo(a), "step " + step);
                }
            }
            assertTrue(a.deferredPages() < deferredAtBoot, "the program reached deferred blocks");
            live.forEach(x -> a.freePages(x[0], (int) x[1]));
            live.forEach(x -> b.freePages(x[0], (int) x[1]));
            a.drainAllPages();
            b.drainAllPages();
            assertEquals(PageProc.buddyinfo(b), PageProc.buddyinfo(a));
            a.checkInvariants();
            assertEquals(0, a.deferredPages(), "validate writes what is still deferred first");
            b.checkInvariants();
        }
    }

    @Test
    void aBadFreeOfADeferredPageIsReportedAsOfAWrittenOne() {
        // freeing a free page is reported only by CONFIG_DEBUG_VM's VM_BUG_ON_PAGE in put_page_testzero (without
        // it the count silently drops below zero, see below)
        try (Kernel lazy = Kernel.boot("mem=1G nr_cpus=1 mm4j.config.DEBUG_VM=y");
             Kernel eager = Kernel.boot("mem=1G nr_cpus=1 mm4j.config.DEBUG_VM=y")) {
            eager.buddy().initDeferred();
            final long pfn = (512L << 20) >>> PhysicalMemory.PAGE_SHIFT;
            assertTrue(lazy.buddy().deferredPages() > 0);
            lazy.log().clear();
            eager.log().clear();
            assertEquals(false, lazy.buddy().freePages(pfn, 0));
            assertEquals(false, eager.buddy().freePages(pfn, 0));
            final List<String> got = lazy.log().messages();
            final List<String> want = eager.log().messages();
            assertEquals(want, got.subList(got.size() - want.size(), got.size()), "the same bad_page report");
            assertTrue(String.join("\n", got).contains("deferred pages initialised"), got.toString());
            assertTrue(want.contains("page dumped because: VM_BUG_ON_PAGE(page_ref_count(page) == 0)"), want.toString());
            lazy.buddy().checkInvariants();
        }
        try (Kernel lazy = Kernel.boot("mem=1G nr_cpus=1"); Kernel eager = Kernel.boot("mem=1G nr_cpus=1")) {
            eager.buddy().initDeferred();
            final long pfn = (512L << 20) >>> PhysicalMemory.PAGE_SHIFT;
            assertEquals(false, lazy.buddy().freePages(pfn, 0));
            assertEquals(false, eager.buddy().freePages(pfn, 0));
            assertEquals(-1, eager.memMap().refcount(pfn), "page_ref_dec_and_test below zero");
            assertEquals(eager.memMap().refcount(pfn), lazy.memMap().refcount(pfn), "the same struct page");
            assertEquals(PageProc.buddyinfo(eager.buddy()), PageProc.buddyinfo(lazy.buddy()));
            lazy.buddy().checkInvariants();
            eager.buddy().checkInvariants();
        }
    }

    @Test
    void everyMaxOrderBlockIsHandedOutOnceInAscendingOrder() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            final long before = b.freePages();
            final List<Long> got = new ArrayList<>();
            long p;
            // the zonelist takes DMA32 (from pfn 4096) first, then DMA below it: ascending within each zone
            while ((p = b.allocPages(Gfp.KERNEL | Gfp.MOVABLE | Gfp.NOWARN, Zone.MAX_PAGE_ORDER)) >= 0) {
                final long prev = got.isEmpty() ? -1 : got.getLast();
                assertTrue(prev < 0 || p > prev || (prev >= 4096 && p < 4096), "ascending: " + got + " then " + p);
                got.add(p);
            }
            // 16 blocks, the first split for reserved pfn 0: 15, less what the watermarks keep back
            assertTrue(got.size() >= 10 && got.size() <= 15, got.toString());
            got.forEach(x -> b.freePages(x, Zone.MAX_PAGE_ORDER));
            assertEquals(before, b.freePages());
            b.checkInvariants();
        }
    }

    /** mem=64G with two fake nodes: node 1 lies above the old 32 GiB cap of the packed slab words. */
    @Test
    void slabObjectsAbove32GiBGoThroughTheFastPaths() {
        final Kernel k;
        try {
            k = Kernel.boot("mem=64G numa=fake=2 nr_cpus=2");
        } catch (final CmdlineException e) {
            assertTrue(e.getMessage().startsWith("mem=64G: cannot reserve"), e.getMessage());
            requireOrSkip(false, "this host cannot reserve 64G: " + e.getMessage());
            return;
        }
        try (k) {
            final Slub slub = k.slab();
            final var cache = slub.kmallocCache(64, Gfp.KERNEL);
            final long active = cache.activeObjects();
            final long above = PhysicalMemory.PAGE_OFFSET + (32L << 30);
            final List<Long> live = new ArrayList<>();
            for (int round = 0; round < 50; round++) {
                for (int i = 0; i < 200; i++) {
                    final long x = slub.kmallocNode(64, Gfp.KERNEL, 1);
                    assertTrue(x >= above, Long.toHexString(x));
                    slub.segment(x, 64).set(ValueLayout.JAVA_LONG, 8, x);
                    live.add(x);
                }
                for (final long x : live) {
                    assertEquals(x, slub.segment(x, 64).get(ValueLayout.JAVA_LONG, 8));
                    slub.kfree(x);
                }
                live.clear();
            }
            assertEquals(0, cache.validate(), "validate walks mem_map, skipping deferred struct pages");
            assertEquals(active, cache.activeObjects());
            assertTrue(k.buddy().deferredPages() > (60L << 30 >>> PhysicalMemory.PAGE_SHIFT),
                "64G stays mostly deferred: " + k.buddy().deferredPages());
            assertTrue(k.memory().totalBytes() == 64L << 30);
        }
    }

    @Test
    void addressesOutsideModelMemoryAreRefusedByName() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1")) {
            final Slub slub = k.slab();
            final IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> slub.nativeAddress(0));
            assertTrue(zero.getMessage().startsWith("0x0 is not inside the model's memory"), zero.getMessage());
            final long end = PhysicalMemory.PAGE_OFFSET + (16L << 20);
            final IllegalArgumentException past = assertThrows(IllegalArgumentException.class,
                () -> slub.nativeAddress(end));
            assertTrue(past.getMessage().contains(Long.toHexString(end)), past.getMessage());
            assertThrows(IllegalArgumentException.class, () -> slub.segment(end - 8, 16));
            assertThrows(IllegalArgumentException.class, () -> slub.segment(0, 8));
            final IllegalArgumentException phys = assertThrows(IllegalArgumentException.class,
                () -> k.memory().nativeAddress(-1));
            assertTrue(phys.getMessage().contains("0xffffffffffffffff"), phys.getMessage());
            final long x = slub.kmalloc(64, Gfp.KERNEL);
            assertEquals(slub.segment(x, 64).address(), slub.nativeAddress(x), "inside: the real address");
            final var cache = slub.kmallocCache(64, Gfp.KERNEL);
            final IllegalArgumentException viaCache = assertThrows(IllegalArgumentException.class,
                () -> cache.nativeAddress(end + 64));
            assertTrue(viaCache.getMessage().contains(Long.toHexString(end + 64)), viaCache.getMessage());
            assertThrows(IllegalArgumentException.class, () -> cache.segment(12345));
            slub.kfree(x);
        }
    }

    /**
     * __GFP_ZERO of pages never handed out since boot writes nothing (they hold the reservation's zeros), so a
     * zeroed allocation costs no resident memory until used; a page handed out before is zeroed as always.
     */
    @Test
    void zeroedAllocationsOfFreshPagesCommitNothingAndReusedPagesAreZeroed() throws Exception {
        requireOrSkip(Reservation.isLazy(), "no lazy mmap reservation here (Linux only)");
        try (Kernel k = Kernel.boot("mem=1G nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            final PhysicalMemory m = k.memory();
            final long before = residentBytes();
            final List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 64; i++) {  // 256 MiB, zeroed
                final long pfn = b.allocPages(Gfp.KERNEL | Gfp.MOVABLE | Gfp.ZERO, Zone.MAX_PAGE_ORDER);
                assertTrue(pfn > 0);
                blocks.add(pfn);
            }
            final long grown = residentBytes() - before;
            assertTrue(grown < (32L << 20), "256 MiB of zeroed fresh pages made " + (grown >> 20) + " MiB resident");
            for (final long pfn : blocks) {
                final long phys = PhysicalMemory.pfnToPhys(pfn);
                assertEquals(0, m.getLong(phys));
                assertEquals(0, m.getLong(phys + (4L << 20) - 8));
            }
            final long dirty = blocks.getLast();
            m.fill(PhysicalMemory.pfnToPhys(dirty), 4L << 20, (byte) 0x5a);
            assertTrue(b.freePages(dirty, Zone.MAX_PAGE_ORDER));
            final long again = b.allocPages(Gfp.KERNEL | Gfp.MOVABLE | Gfp.ZERO, Zone.MAX_PAGE_ORDER);
            assertEquals(dirty, again, "the block just freed comes back first");
            for (long off = 0; off < (4L << 20); off += 4096) {
                assertEquals(0, m.getLong(PhysicalMemory.pfnToPhys(again) + off), "offset " + off);
            }
            // a small page out of a pageblock that was handed out before: zeroed too
            final long small = b.allocPages(Gfp.KERNEL | Gfp.MOVABLE, 0);
            m.putLong(PhysicalMemory.pfnToPhys(small), -1);
            assertTrue(b.freePages(small, 0));
            b.drainAllPages();
            final long zeroed = b.allocPages(Gfp.KERNEL | Gfp.MOVABLE | Gfp.ZERO, 0);
            assertEquals(small, zeroed, "LIFO");
            assertEquals(0, m.getLong(PhysicalMemory.pfnToPhys(zeroed)));
        }
    }

    private static long residentBytes() throws java.io.IOException {
        return Long.parseLong(java.nio.file.Files.readString(Path.of("/proc/self/statm")).trim().split(" ")[1]) << 12;
    }

    /** The fallback of other systems (Arena allocation, committed at boot), forced with -Dmm4j.mmap=false. */
    @Test
    void theArenaFallbackBootsAndAllocates() throws Exception {
        final Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Dmm4j.mmap=false", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), FallbackMain.class.getName())
            .redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertEquals("lazy=false kmalloc=ok zero=0\n", out);
    }

    /** Run by {@link #theArenaFallbackBootsAndAllocates} in its own JVM. */
    public static final class FallbackMain {
        public static void main(final String[] args) {
            try (Kernel k = Kernel.boot("mem=16M nr_cpus=1")) {
                final long x = k.slab().kmalloc(64, Gfp.KERNEL | Gfp.ZERO);
                final long zero = k.slab().segment(x, 64).get(ValueLayout.JAVA_LONG, 0);
                k.slab().segment(x, 64).set(ValueLayout.JAVA_LONG, 0, 42);
                k.slab().kfree(x);
                k.buddy().checkInvariants();
                System.out.print("lazy=" + Reservation.isLazy() + " kmalloc=" + (x != 0 ? "ok" : "null") + " zero="
                    + zero + "\n");
            }
        }
    }

    @Test
    void aReservationTheHostCannotMakeIsAClearError() {
        requireOrSkip(Reservation.isLazy(), "no lazy mmap reservation here (Linux only)");
        try (Arena arena = Arena.ofShared()) {
            // 2^50 bytes: more than a 47-bit user address space holds
            final Reservation.ReservationException e = assertThrows(Reservation.ReservationException.class,
                () -> Reservation.reserve(arena, 1L << 50, PhysicalMemory.PAGE_SIZE));
            assertTrue(e.getMessage().contains("cannot reserve 1125899906842624 bytes"), e.getMessage());
            final MemorySegment ok = Reservation.reserve(arena, 1L << 30, PhysicalMemory.PAGE_SIZE);
            assertEquals(0, ok.get(ValueLayout.JAVA_LONG, (1L << 30) - 8), "fresh reservations read as zero");
        }
    }
}
