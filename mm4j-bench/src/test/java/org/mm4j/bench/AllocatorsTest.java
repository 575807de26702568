package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.openjdk.jmh.infra.Blackhole;

import static org.mm4j.testing.Prerequisite.requireOrSkip;

/**
 * Every allocator row allocates and frees real memory, and every workload does what it says over every row: writes
 * both ends of each object, keeps its live set, frees what it allocated (behaviour, no timing).
 */
class AllocatorsTest {

    static Stream<String> names() {
        return Allocators.NAMES.stream();
    }

    /** Runs {@code body} on a thread of the kind the allocator needs (Netty FTL rows need FastThreadLocalThreads). */
    private static void onAllocatorThread(final String name, final ThrowingRunnable body) throws Throwable {
        final String why = Allocators.unavailableReason(name);
        requireOrSkip(why == null, name + " unavailable: " + why);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread t;
        try (Allocator probe = Allocators.open(name)) {
            t = probe.newThread(() -> {
                try {
                    body.run();
                } catch (final Throwable e) {
                    failure.set(e);
                }
            }, "test-" + name);
        }
        t.start();
        t.join();
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    interface ThrowingRunnable {
        void run() throws Throwable;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void allocatesDistinctWritableMemoryAndFreesIt(final String name) throws Throwable {
        onAllocatorThread(name, () -> {
            try (Allocator a = Allocators.open(name)) {
                assertEquals(name, a.name());
                a.bindThread(0);
                final long[] sizes = {8, 64, 100, 1024, 4096, 8192};
                final Object[] refs = new Object[sizes.length];
                final long[] addrs = new long[sizes.length];
                final Set<Long> seen = new HashSet<>();
                for (int i = 0; i < sizes.length; i++) {
                    addrs[i] = a.alloc(sizes[i], refs, i);
                    if (addrs[i] == 0) {
                        assertNotEquals(null, refs[i], name + " returned neither an address nor an object");
                        continue;
                    }
                    assertTrue(seen.add(addrs[i]), name + " handed out " + Long.toHexString(addrs[i]) + " twice");
                    final MemorySegment m = MemorySegment.ofAddress(a.nativeAddress(addrs[i])).reinterpret(sizes[i]);
                    m.set(ValueLayout.JAVA_BYTE, 0, (byte) i);
                    m.set(ValueLayout.JAVA_BYTE, sizes[i] - 1, (byte) ~i);
                }
                for (int i = 0; i < sizes.length; i++) {
                    if (addrs[i] != 0) {
                        final MemorySegment m = MemorySegment.ofAddress(a.nativeAddress(addrs[i])).reinterpret(sizes[i]);
                        assertEquals((byte) i, m.get(ValueLayout.JAVA_BYTE, 0), name + " object " + i + " overwritten");
                        assertEquals((byte) ~i, m.get(ValueLayout.JAVA_BYTE, sizes[i] - 1));
                    }
                    a.free(addrs[i], sizes[i], refs, i);
                }
                // the same sizes again, after the frees: the allocator must still work
                for (int i = 0; i < sizes.length; i++) {
                    a.free(a.alloc(sizes[i], refs, i), sizes[i], refs, i);
                }
            }
        });
    }

    private static final Blackhole BH = new Blackhole(
        "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");

    /** Opens row {@code name} behind a {@link Watching} decorator and sets {@code state} up over it. */
    static Watching setUp(final PeerState state, final String name) {
        state.allocator = name;
        final Watching w = new Watching(Allocators.open(name));
        state.setUp(w);
        return w;
    }

    /** After the trial: nothing left live, and no breach of the workload contract along the way. */
    static void tearDownClean(final PeerState state, final Watching w, final String what) {
        state.tearDown();
        assertEquals(List.of(), w.violations(), what);
        assertEquals(0, w.live(), what + ": objects left live after tearDown");
        assertEquals(w.allocs(), w.frees(), what);
    }

    /**
     * The cache-resident bump floor has no free: its 256 KiB wrap, and live objects overlap, when the live set is
     * larger (mixed ring about 750 KiB, random kmalloc about 300 KiB); the 64 KiB sets of the 64-byte workloads fit.
     */
    private static boolean wrapsUnderItsLiveSet(final String name, final String workload) {
        return name.equals("arena-bump-256k")
            && (workload.equals("ring-mixed-16-4096") || workload.equals("kmalloc-random-8-8192"));
    }

    static void assertLiveMemoryHoldsWhatWasWritten(final Watching w, final String what) {
        final List<String> bad = w.checkLiveMemory();
        assertTrue(bad.isEmpty(), what + ": " + bad.size() + " bad objects, first: " + bad.stream().limit(3).toList());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void allocFreeWritesEachObjectAndHoldsAtMostOne(final String name) throws Throwable {
        onAllocatorThread(name, () -> {
            final AllocFreeBench af = new AllocFreeBench();
            final Watching w = setUp(af, name);
            for (int i = 0; i < 1000; i++) {
                af.allocFree64(BH);
                assertEquals(0, w.live());
            }
            assertEquals(1000, w.allocs());
            assertEquals(1000, w.pairs(), "alloc-free-64 runs each row's own allocWriteFree");
            assertEquals(1, w.maxLive());
            assertEquals(List.of(64L), w.sizes().stream().distinct().toList());
            tearDownClean(af, w, name + " alloc-free-64");
        });
    }

    /** {@code mm4j-segment-roundup} asks for kmalloc_size_roundup(n), writes the n bytes asked, frees the segment. */
    @Test
    void theRoundupRowAllocatesTheRoundedSizeAndWritesTheBytesAsked() throws Throwable {
        onAllocatorThread("mm4j-segment-roundup", () -> {
            try (Allocator a = Allocators.open("mm4j-segment-roundup")) {
                a.bindThread(0);
                final Object[] refs = new Object[1];
                final long p = a.alloc(70, refs, 0);
                assertEquals(96, ((MemorySegment) refs[0]).byteSize(), "kmalloc-96's size, not the 70 asked");
                a.write8(p, 70, refs, 0, 0x5eedL);
                assertEquals(0x5eedL, a.read8(p, 70, refs, 0, 0), "first 8 bytes");
                assertEquals(0x5eedL, a.read8(p, 70, refs, 0, 62), "last 8 of the 70 bytes asked");
                a.free(p, 70, refs, 0);
                assertNull(refs[0]);
            }
        });
    }

    static Stream<String> namesAndFloors() {
        return Stream.concat(names(), Stream.of("floor-long", "floor-segment", "mm4j-segment-leak-paranoid",
            "mm4j-segment-roundup"));
    }

    /**
     * Each row's own form of alloc-free-64 (docs/speed-history.md, "Ninth pass (issue 13)"): the handle held in a
     * local, so nothing is left in the caller's slot (the heap row used to park its array there); both ends written
     * and the object freed: the allocators that reuse the last object freed (LIFO sheaves, the floor's stacks) hand
     * it back holding the stamp.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("namesAndFloors")
    void allocWriteFreeKeepsTheHandleOutOfTheSlotWritesBothEndsAndFrees(final String name) throws Throwable {
        onAllocatorThread(name, () -> {
            try (Allocator a = Allocators.open(name)) {
                a.bindThread(0);
                final Object[] refs = new Object[1];
                for (int i = 1; i <= 3; i++) {
                    a.allocWriteFree(64, 0x5eed0000L + i, refs, BH);
                    assertNull(refs[0], name + " left its handle in the slot");
                }
                if (name.startsWith("mm4j") && !name.equals("mm4j-cpu-slab") || name.startsWith("floor")) {
                    final long p = a.alloc(64, refs, 0);
                    assertEquals(0x5eed0003L, a.read8(p, 64, refs, 0, 0), name + ": first 8 bytes");
                    assertEquals(0x5eed0003L, a.read8(p, 64, refs, 0, 56), name + ": last 8 bytes");
                    a.free(p, 64, refs, 0);
                }
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void batchWritesAllThousandAndTwentyFourObjectsThenFreesThem(final String name) throws Throwable {
        onAllocatorThread(name, () -> {
            final BatchBench b = new BatchBench();
            final Watching w = setUp(b, name);
            b.allocAll(64, BH);
            assertEquals(BatchBench.BATCH, w.live());
            assertLiveMemoryHoldsWhatWasWritten(w, name + " batch-1024x64");
            b.freeAll(64);
            assertEquals(0, w.live());
            assertEquals(-1, w.firstFreedOutOfOrder(), "frees in allocation order");
            b.batch1024x64(BH);
            b.batch1024x1k(BH);
            assertEquals(BatchBench.BATCH, w.maxLive());
            assertEquals(3L * BatchBench.BATCH, w.allocs());
            tearDownClean(b, w, name + " batch");
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void kmallocRandomKeepsTwoHundredFiftySixWrittenObjects(final String name) throws Throwable {
        onAllocatorThread(name, () -> {
            final KmallocRandomBench k = new KmallocRandomBench();
            final Watching w = setUp(k, name);
            assertEquals(KmallocRandomBench.LIVE, w.live());
            for (int i = 0; i < 5000; i++) {
                k.kmallocRandom(BH);
            }
            assertEquals(KmallocRandomBench.LIVE, w.maxLive());
            assertEquals(KmallocRandomBench.LIVE, w.live());
            assertEquals(KmallocRandomBench.LIVE + 5000, w.allocs());
            if (!wrapsUnderItsLiveSet(name, "kmalloc-random-8-8192")) {
                assertLiveMemoryHoldsWhatWasWritten(w, name + " kmalloc-random-8-8192");
            }
            tearDownClean(k, w, name + " kmalloc-random-8-8192");
        });
    }

    static Stream<Arguments> ringsByName() {
        return Allocators.NAMES.stream().flatMap(n -> Stream.of(Arguments.of(n, "ring-64"),
            Arguments.of(n, "ring-mixed-16-4096")));
    }

    /**
     * A ring keeps exactly 1024 live objects between operations, allocates the new one before it frees the oldest
     * (1025 live for a moment, frees in allocation order), follows the seeded size sequence, and every live object
     * holds what was written into both of its ends.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("ringsByName")
    void ringKeepsItsLiveSetAllocatingBeforeFreeingTheOldest(final String name, final String workload)
            throws Throwable {
        onAllocatorThread(name, () -> {
            final RingBench r = workload.equals("ring-64") ? new Ring64Bench() : new RingMixedBench();
            final Watching w = setUp(r, name);
            assertEquals(RingBench.LIVE, w.live());
            final int steps = 5000;
            for (int i = 0; i < steps; i++) {
                r.step(BH);
                assertEquals(RingBench.LIVE, w.live(), "live objects after step " + i);
            }
            assertEquals(RingBench.LIVE + 1, w.maxLive(), "the new object is allocated before the oldest is freed");
            assertEquals(-1, w.firstFreedOutOfOrder(), "each step frees the oldest object");
            final List<Long> sizes = w.sizes();
            assertEquals(RingBench.LIVE + steps, sizes.size());
            for (int k = 0; k < sizes.size(); k++) {
                assertEquals(r.sizeOf(k), (long) sizes.get(k), "size of object " + k);
            }
            if (workload.equals("ring-mixed-16-4096")) {
                assertEquals(List.of(16L, 4096L), List.of(sizes.stream().mapToLong(x -> x).min().orElseThrow(),
                    sizes.stream().mapToLong(x -> x).max().orElseThrow()), "sizes span 16..4096");
            }
            if (!wrapsUnderItsLiveSet(name, workload)) {
                assertLiveMemoryHoldsWhatWasWritten(w, name + " " + workload);
            }
            tearDownClean(r, w, name + " " + workload);
        });
    }

    @Test
    void ringSizeSequencesAreSeededAndTheSameForEveryRun() {
        final RingBench a = new RingMixedBench();
        final RingBench b = new RingMixedBench();
        for (int k = 0; k < RingBench.SEQUENCE; k++) {
            assertEquals(a.sizeOf(k), b.sizeOf(k));
        }
        assertEquals(64, new Ring64Bench().sizeOf(12345));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void remoteFreeWritesEveryObjectAndTheConsumerFreesThemAll(final String name) throws Throwable {
        onAllocatorThread(name, () -> {
            final RemoteFreeBench r = new RemoteFreeBench();
            final Watching w = setUp(r, name);
            for (int i = 0; i < 5000; i++) {
                r.remoteFree64(BH);
            }
            r.drain();
            assertEquals(0, w.live());
            assertEquals(5000, w.frees());
            assertTrue(w.maxLive() <= RemoteFreeBench.RING, "at most a ring of live objects: " + w.maxLive());
            tearDownClean(r, w, name + " remote-free-2t-64");
        });
    }

    @Test
    void remoteFreeCountsTheProducersWaitsForRoom() throws Throwable {
        onAllocatorThread("mm4j", () -> {
            final RemoteFreeBench r = new RemoteFreeBench();
            final Watching w = setUp(r, "mm4j");
            for (int i = 0; i < 5000; i++) {
                r.remoteFree64(BH);
            }
            r.drain();
            // the producer re-reads the consumer's head only when its cached head says the ring is full: at least
            // once per ring of objects after the first (what RemoteFreeProbe reports as hand-offs)
            assertTrue(r.fullWaits >= (5000 - RemoteFreeBench.RING) / RemoteFreeBench.RING,
                "full-ring waits: " + r.fullWaits);
            assertTrue(r.consumer() != null && r.consumer().isAlive(), "the consumer runs until tearDown");
            tearDownClean(r, w, "mm4j remote-free-2t-64");
        });
    }

    @Test
    void remoteFreeReportsItsHandOffsPerObject() throws Throwable {
        onAllocatorThread("mm4j", () -> {
            final RemoteFreeBench r = new RemoteFreeBench();
            final Watching w = setUp(r, "mm4j");
            for (int i = 0; i < 3000; i++) {
                r.remoteFree64(BH);
            }
            r.drain();
            final String line = r.handOffs();
            // the line a fork prints (./mm4j bench shows it), with the trial's object count
            assertTrue(line.startsWith(RemoteFreeBench.HAND_OFFS) && line.contains(" 3000 objects;"), line);
            assertTrue(line.contains("ring-full waits") && line.contains("empty polls")
                && line.contains("producer ") && line.contains("consumer "), line);
            tearDownClean(r, w, "mm4j remote-free-2t-64");
        });
    }

    @Test
    void unknownNameIsRejectedWithTheList() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> Allocators.open("tcmalloc"));
        assertTrue(e.getMessage().contains("'tcmalloc'") && e.getMessage().contains("glibc-malloc"), e.getMessage());
    }

    @Test
    void glibcIsAlwaysAvailable() {
        assertNull(Allocators.unavailableReason("glibc-malloc"));
        assertNull(Allocators.unavailableReason("glibc-malloc-critical"));
        assertNull(Allocators.unavailableReason("heap"));
        assertNull(Allocators.unavailableReason("arena-bump"));
    }

    @Test
    void fastThreadRowRefusesAPlainThread() {
        try (Allocator a = Allocators.open("netty-pooled-direct-ftl")) {
            assertThrows(IllegalStateException.class, () -> a.bindThread(0));
        }
    }

    @Test
    void missingLibraryIsReportedAsUnavailableNamingThePackage() {
        final Allocators.Unavailable e = assertThrows(Allocators.Unavailable.class,
            () -> NativeMalloc.openLibrary("libnothing1", "libmm4j-no-such-library.so.9", "/nonexistent/lib.so"));
        assertTrue(e.getMessage().contains("libnothing1") && e.getMessage().contains("/nonexistent/lib.so: absent"),
            e.getMessage());
    }

    @Test
    void kmallocSizesAreLogUniformWithinBounds() {
        final int[] s = KmallocRandomBench.sizes(20_000, 42);
        int small = 0;
        for (final int x : s) {
            assertTrue(x >= 8 && x <= 8192, "size " + x);
            if (x <= 90) {
                small++;
            }
        }
        // log-uniform: about a third of the draws fall in 8..90 (log 90/8 / log 1024 = 0.35)
        assertTrue(small > 6000 && small < 8000, "small=" + small);
    }
}
