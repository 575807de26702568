package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.boot.CmdlineException;
import org.mm4j.page.Gfp;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JVM users' leak detector (issue 16): a segment dropped without free is reported with where it was
 * allocated; a freed one never is; DISABLED tracks nothing; sampling follows the level; the slab layer's counters
 * and validate are the same with tracking as without.
 */
class LeakDetectorTest {
    /** GC rounds before giving up: generous, and no time is asserted. */
    private static final int MAX_GC_ROUNDS = 200;

    /** Allocates a segment in a method of its own, so that nothing of this frame keeps it. */
    private static long leakOne(final SlabAllocator a) {
        final MemorySegment s = a.allocate(48);
        s.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 42L);
        return s.address();
    }

    private static List<LeakDetector.Leak> gcUntilReported(final LeakDetector d, final List<LeakDetector.Leak> seen,
                                                           final int expected) {
        for (int i = 0; i < MAX_GC_ROUNDS && seen.size() < expected; i++) {
            System.gc();
            d.reportLeaks();
            if (seen.size() < expected) {
                Thread.onSpinWait();
                try {
                    Thread.sleep(10);
                } catch (final InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        return seen;
    }

    @Test
    void aDroppedSegmentIsReportedWithItsAllocatingMethod() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1 mm4j.leak_detection=paranoid")) {
            final LeakDetector d = k.slab().leakDetector();
            assertEquals(LeakDetector.Level.PARANOID, d.level());
            final List<LeakDetector.Leak> leaks = new CopyOnWriteArrayList<>();
            d.addListener(leaks::add);
            final SlabAllocator a = k.slab().allocator();
            final long address = leakOne(a);
            gcUntilReported(d, leaks, 1);
            assertEquals(1, leaks.size(), "leaks reported after " + MAX_GC_ROUNDS + " GC rounds: " + leaks);
            final LeakDetector.Leak leak = leaks.get(0);
            assertEquals(k.slab().kaddrOfNative(address), leak.kaddr());
            assertEquals(48, leak.byteSize());
            assertEquals("kmalloc-64", leak.cache());
            assertTrue(leak.allocatedAt().get(0).startsWith(LeakDetectorTest.class.getName() + ".leakOne("),
                "innermost frame names the allocating method: " + leak.allocatedAt());
            assertTrue(leak.allocatedAt().size() > 1, "paranoid: the whole stack " + leak.allocatedAt());
            final List<String> dmesg = k.log().messages();
            final int at = indexOf(dmesg, "mm4j: LEAK: MemorySegment 0x" + Long.toHexString(leak.kaddr())
                + " (size 48, kmalloc-64) was garbage-collected without free(); allocated at:");
            assertTrue(at >= 0, "report line in dmesg: " + dmesg);
            assertTrue(dmesg.get(at + 1).startsWith(" " + LeakDetectorTest.class.getName() + ".leakOne("),
                dmesg.get(at + 1));
            assertEquals(1, d.leaksReported());
            assertEquals(0, d.trackedNow());
            // not reclaimed: the object stays allocated, and the cache is still consistent
            a.flush();
            assertEquals(0, k.slab().kmallocCache(48, Gfp.KERNEL).validate());
        }
    }

    @Test
    void freedSegmentsAreNeverReported() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1 mm4j.leak_detection=paranoid")) {
            final LeakDetector d = k.slab().leakDetector();
            final List<LeakDetector.Leak> leaks = new CopyOnWriteArrayList<>();
            d.addListener(leaks::add);
            final SlabAllocator a = k.slab().allocator();
            for (int i = 0; i < 1000; i++) {
                final MemorySegment s = a.allocate(8 + i % 200);
                assertTrue(d.isTracked(s));
                a.free(s);
                assertFalse(d.isTracked(s));
            }
            assertEquals(1000, d.trackedTotal());
            // a marker leak: once it is reported, the GC has run over every freed record too
            leakOne(a);
            gcUntilReported(d, leaks, 1);
            assertEquals(1, leaks.size(), "only the marker is reported: " + leaks);
            assertTrue(leaks.get(0).allocatedAt().get(0).contains(".leakOne("), leaks.get(0).allocatedAt().get(0));
        }
    }

    @Test
    void segmentsFreedByAnotherThreadAreNotReported() throws Exception {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2 mm4j.leak_detection=paranoid")) {
            final LeakDetector d = k.slab().leakDetector();
            final List<MemorySegment> made = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                made.add(k.slab().allocator().allocate(32));
            }
            final Thread t = new Thread(() -> made.forEach(s -> k.slab().allocator().free(s)));
            t.start();
            t.join();
            assertEquals(0, d.trackedNow());
        }
    }

    @Test
    void segmentsFreedByKernelAddressLoseTheirRecord() throws Exception {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2 mm4j.leak_detection=paranoid")) {
            final LeakDetector d = k.slab().leakDetector();
            final List<LeakDetector.Leak> leaks = new CopyOnWriteArrayList<>();
            d.addListener(leaks::add);
            final SlabAllocator a = k.slab().allocator();
            final KmemCache kmalloc64 = k.slab().kmallocCache(48, Gfp.KERNEL);
            final List<MemorySegment> byOther = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                final MemorySegment s = a.allocate(48);
                assertTrue(d.isTracked(s));
                final long kaddr = k.slab().kaddrOfNative(s.address());
                switch (i % 5) {
                    case 0 -> a.kfree(kaddr);
                    case 1 -> a.free(kmalloc64, kaddr);
                    case 2 -> k.slab().kfree(kaddr);  // the kernel layer's kfree and kmem_cache_free too
                    case 3 -> kmalloc64.free(kaddr);
                    default -> byOther.add(s);
                }
                if (i % 5 != 4) {
                    assertFalse(d.isTracked(s), "freed by kernel address: " + Long.toHexString(kaddr));
                }
            }
            final MemorySegment big = a.allocate(3 * 4096);  // a large kmalloc: the page allocator's
            assertTrue(d.isTracked(big));
            k.slab().kfree(k.slab().kaddrOfNative(big.address()));
            assertFalse(d.isTracked(big));
            final Thread t = new Thread(() -> byOther.forEach(s ->
                k.slab().allocator().kfree(k.slab().kaddrOfNative(s.address()))));
            t.start();
            t.join();
            assertEquals(0, d.trackedNow(), "every record dropped");
            // the freed objects are handed out again untracked; a stale record would be reported with its segment
            d.level(LeakDetector.Level.DISABLED);
            final long[] again = new long[300];
            for (int i = 0; i < again.length; i++) {
                again[i] = a.kmalloc(48);
            }
            byOther.clear();
            d.level(LeakDetector.Level.PARANOID);
            leakOne(a);  // a marker: once it is reported, the GC has run over the dropped segments too
            gcUntilReported(d, leaks, 1);
            assertEquals(1, leaks.size(), "only the marker is reported: " + leaks);
            assertTrue(leaks.get(0).allocatedAt().get(0).contains(".leakOne("), leaks.get(0).allocatedAt().get(0));
            for (final long p : again) {
                a.kfree(p);
            }
        }
    }

    @Test
    void recordsMadeBeforeDisablingAreStillDroppedOnFree() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1 mm4j.leak_detection=paranoid")) {
            final LeakDetector d = k.slab().leakDetector();
            final SlabAllocator a = k.slab().allocator();
            final MemorySegment s = a.allocate(64);
            final MemorySegment u = a.allocate(64);
            d.level(LeakDetector.Level.DISABLED);
            assertTrue(a.leakTracking, "two records live: the allocator still consults the detector");
            a.free(s);
            a.kfree(k.slab().kaddrOfNative(u.address()));
            assertEquals(0, d.trackedNow());
            d.level(LeakDetector.Level.DISABLED);
            assertFalse(a.leakTracking, "no record left: the allocator stops consulting the detector");
        }
    }

    @Test
    void disabledTracksNothing() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1")) {
            final LeakDetector d = k.slab().leakDetector();
            assertEquals(LeakDetector.Level.DISABLED, d.level());
            final SlabAllocator a = k.slab().allocator();
            assertFalse(a.leakTracking, "a sheaf allocator does not consult a disabled detector");
            for (int i = 0; i < 1000; i++) {
                leakOne(a);
            }
            assertEquals(0, d.trackedTotal());
            assertEquals(0, d.trackedNow());
            System.gc();
            assertEquals(0, d.reportLeaks());
        }
    }

    @Test
    void simpleSamplesOneInTheIntervalAndNamesTheSite() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1 mm4j.leak_detection=simple")) {
            final LeakDetector d = k.slab().leakDetector();
            final List<LeakDetector.Leak> leaks = new CopyOnWriteArrayList<>();
            d.addListener(leaks::add);
            final SlabAllocator a = k.slab().allocator();
            final int n = 10 * LeakDetector.SAMPLING_INTERVAL;
            for (int i = 0; i < n; i++) {
                leakOne(a);
            }
            assertEquals(10, d.trackedTotal(), "one in " + LeakDetector.SAMPLING_INTERVAL + " of " + n);
            gcUntilReported(d, leaks, 10);
            assertEquals(10, leaks.size());
            for (final LeakDetector.Leak l : leaks) {
                assertEquals(1, l.allocatedAt().size(), "simple: the allocation site only");
                assertTrue(l.allocatedAt().get(0).contains(".leakOne("), l.allocatedAt().get(0));
            }
        }
    }

    @Test
    void advancedKeepsTheNewestAccessRecords() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=1")) {
            final LeakDetector d = k.slab().leakDetector().level(LeakDetector.Level.ADVANCED);
            final List<LeakDetector.Leak> leaks = new CopyOnWriteArrayList<>();
            d.addListener(leaks::add);
            final SlabAllocator a = k.slab().allocator();
            assertTrue(a.leakTracking, "setting the level reaches the thread's allocator");
            MemorySegment tracked = null;
            for (int i = 0; i < LeakDetector.SAMPLING_INTERVAL; i++) {
                final MemorySegment s = a.allocate(100);
                if (d.isTracked(s)) {
                    tracked = s;
                } else {
                    a.free(s);
                }
            }
            assertTrue(tracked != null, "one of " + LeakDetector.SAMPLING_INTERVAL + " is tracked");
            for (int i = 0; i < LeakDetector.MAX_RECORDS + 2; i++) {
                d.record(tracked, "touch " + i);
            }
            tracked = null;
            gcUntilReported(d, leaks, 1);
            assertEquals(1, leaks.size());
            final List<String> records = leaks.get(0).records();
            assertEquals(LeakDetector.MAX_RECORDS, records.size());
            assertTrue(records.get(0).startsWith("#1: touch " + (LeakDetector.MAX_RECORDS + 1) + "\n "),
                records.get(0));
            assertTrue(records.get(0).contains("advancedKeepsTheNewestAccessRecords"), records.get(0));
            assertTrue(leaks.get(0).allocatedAt().get(0).contains("advancedKeepsTheNewestAccessRecords"));
            assertEquals("kmalloc-128", leaks.get(0).cache());
            d.level(LeakDetector.Level.DISABLED);
            assertFalse(a.leakTracking, "disabling reaches the thread's allocator");
        }
    }

    @Test
    void countersAndValidateAreTheSameWithTracking() {
        final long[] active = new long[2];
        int i = 0;
        for (final String level : new String[] {"disabled", "paranoid"}) {
            try (Kernel k = Kernel.boot("mem=64M nr_cpus=1 mm4j.random_seed=1 mm4j.leak_detection=" + level)) {
                final SlabAllocator a = k.slab().allocator();
                final List<MemorySegment> kept = new ArrayList<>();
                final Set<Long> addresses = new HashSet<>();
                for (int j = 0; j < 3000; j++) {
                    final MemorySegment s = a.allocate(1 + j % 1024, 1L << (j % 4));
                    assertTrue(addresses.add(s.address()), "handed out twice");
                    if (j % 3 == 0) {
                        kept.add(s);
                    } else {
                        a.free(s);
                        addresses.remove(s.address());
                    }
                }
                a.flush();
                long act = 0;
                final Set<KmemCache> seen = new HashSet<>();
                for (long size = 1; size <= 1024; size++) {
                    final KmemCache s = k.slab().kmallocCache(size, Gfp.KERNEL);
                    if (seen.add(s)) {
                        assertEquals(0, s.validate(), level + ": validate " + s.name());
                        act += s.activeObjects();
                    }
                }
                active[i++] = act;
                assertEquals(level.equals("paranoid") ? kept.size() : 0, k.slab().leakDetector().trackedNow());
                kept.forEach(a::free);
                assertEquals(0, k.slab().leakDetector().trackedNow());
            }
        }
        assertEquals(active[0], active[1], "active objects, disabled vs paranoid");
    }

    @Test
    void aBadLevelIsRefusedNamingIt() {
        final CmdlineException e = assertThrows(CmdlineException.class,
            () -> Kernel.boot("mem=64M mm4j.leak_detection=sometimes"));
        assertTrue(e.getMessage().contains("mm4j.leak_detection=sometimes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LeakDetector.Level.parse("often"));
        assertEquals(LeakDetector.Level.ADVANCED, LeakDetector.Level.parse("Advanced"));
    }

    private static int indexOf(final List<String> lines, final String line) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).equals(line)) {
                return i;
            }
        }
        return -1;
    }
}
