package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

/** Every allocator row allocates and frees real memory, and every workload loop runs over it (no timing). */
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void everyWorkloadLoopRuns(final String name) throws Throwable {
        onAllocatorThread(name, () -> {
            final AllocFreeBench af = new AllocFreeBench();
            af.allocator = name;
            af.setUp();
            for (int i = 0; i < 1000; i++) {
                af.allocFree64();
            }
            af.tearDown();

            final BatchBench b = new BatchBench();
            b.allocator = name;
            b.setUp();
            b.batch1024x64();
            b.batch1024x1k();
            b.tearDown();

            final KmallocRandomBench k = new KmallocRandomBench();
            k.allocator = name;
            k.setUp();
            for (int i = 0; i < 5000; i++) {
                k.kmallocRandom();
            }
            k.tearDown();

            final RemoteFreeBench r = new RemoteFreeBench();
            r.allocator = name;
            r.setUp();
            for (int i = 0; i < 5000; i++) {
                r.remoteFree64();
            }
            r.drain();
            r.tearDown();
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
