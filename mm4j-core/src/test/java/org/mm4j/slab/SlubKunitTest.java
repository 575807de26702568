package org.mm4j.slab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.ToIntFunction;

import org.junit.jupiter.api.Test;

/**
 * The scenarios of lib/tests/slub_kunit.c, each run twice: inside a kunit error scope (the count must equal the
 * kernel's expected slab_errors) and printing (the count of BUG banners plus FIX lines must equal the same
 * number), and each checked to leave the cache usable.
 */
class SlubKunitTest {
    private static final long Z = SlabFlags.SLAB_RED_ZONE;
    private static final long P = SlabFlags.SLAB_POISON;
    private static final long U = SlabFlags.SLAB_STORE_USER;
    private static final long KMALLOC = SlabFlags.SLAB_KMALLOC;

    /** Runs the scenario in both modes; returns the printed dmesg of the second run. */
    private static List<String> both(final int expected, final ToIntFunction<DebugHarness> scenarioKunitCount) {
        try (DebugHarness h = new DebugHarness()) {
            final int counted;
            try (SlubDebug.KunitErrors errors = h.debug.kunitErrors()) {
                scenarioKunitCount.applyAsInt(h);
                counted = errors.count();
            }
            assertEquals(expected, counted, "slab_errors");
            assertTrue(h.dmesg().stream().noneMatch(l -> l.startsWith("BUG ") || l.startsWith("FIX ")),
                "nothing printed in a kunit scope: " + h.dmesg());
        }
        try (DebugHarness h = new DebugHarness()) {
            scenarioKunitCount.applyAsInt(h);
            assertEquals(expected, h.bugsAndFixes(), String.join("\n", h.dmesg()));
            return h.dmesg();
        }
    }

    @Test
    void testClobberZone() {
        final List<String> d = both(2, h -> {
            final DebugHarness.Cache s = h.create("TestSlub_RZ_alloc", 64, Z);
            final long p = s.alloc();
            h.write(p + 64, 0x12);
            s.validate();
            s.free(p);
            return 0;
        });
        assertTrue(d.stream().anyMatch(l -> l.matches(
            "\\[Right Redzone overwritten] 0x[0-9a-f]{16}-0x[0-9a-f]{16} @offset=\\d+\\. First byte 0x12 instead"
                + " of 0xcc")), String.join("\n", d));
        assertTrue(d.contains("BUG TestSlub_RZ_alloc (Not tainted): Object corrupt"), String.join("\n", d));
        assertTrue(d.stream().anyMatch(l -> l.matches("FIX TestSlub_RZ_alloc: Restoring Right Redzone "
            + "0x[0-9a-f]{16}-0x[0-9a-f]{16}=0xcc")));
    }

    @Test
    void testNextPointer() {
        for (final int mode : new int[] {0, 1}) {
            try (DebugHarness h = new DebugHarness()) {
                final DebugHarness.Cache s = h.create("TestSlub_next_ptr_free", 64, P);
                final long p = s.alloc();
                s.free(p);
                final long ptrAddr = p + s.offset();
                final long tmp = h.readLong(ptrAddr);
                h.write(ptrAddr, ~h.read(ptrAddr));
                int[] counts = new int[3];
                if (mode == 0) {
                    try (SlubDebug.KunitErrors e = h.debug.kunitErrors()) {
                        s.validate();
                        counts[0] = e.count();
                        h.writeLong(ptrAddr, tmp);
                        e.reset();
                        s.validate();
                        counts[1] = e.count();
                        e.reset();
                        s.validate();
                        counts[2] = e.count();
                    }
                } else {
                    s.validate();
                    counts[0] = h.bugsAndFixes();
                    h.log.clear();
                    h.writeLong(ptrAddr, tmp);
                    s.validate();
                    counts[1] = h.bugsAndFixes();
                    h.log.clear();
                    s.validate();
                    counts[2] = h.bugsAndFixes();
                }
                assertEquals(3, counts[0], "corrupted freechain, wrong count, fix");
                assertEquals(2, counts[1], "wrong count once the pointer is restored");
                assertEquals(0, counts[2], "repaired");
                final long q = s.alloc();
                assertNotEquals(0, q);
                s.free(q);
            }
        }
    }

    @Test
    void testFirstWord() {
        final List<String> d = both(2, h -> {
            final DebugHarness.Cache s = h.create("TestSlub_1th_word_free", 64, P);
            final long p = s.alloc();
            s.free(p);
            h.write(p, 0x78);
            s.validate();
            return 0;
        });
        assertTrue(d.stream().anyMatch(l -> l.startsWith("[Poison overwritten] ")
            && l.endsWith("@offset=0. First byte 0x78 instead of 0x6b")), String.join("\n", d));
    }

    @Test
    void testClobber50thByte() {
        final List<String> d = both(2, h -> {
            final DebugHarness.Cache s = h.create("TestSlub_50th_word_free", 64, P);
            final long p = s.alloc();
            s.free(p);
            h.write(p + 50, 0x9a);
            s.validate();
            return 0;
        });
        assertTrue(d.stream().anyMatch(l -> l.startsWith("[Poison overwritten] ")
            && l.endsWith("@offset=50. First byte 0x9a instead of 0x6b")), String.join("\n", d));
    }

    @Test
    void testClobberRedzoneFree() {
        final List<String> d = both(2, h -> {
            final DebugHarness.Cache s = h.create("TestSlub_RZ_free", 64, Z);
            final long p = s.alloc();
            s.free(p);
            h.write(p + 64, 0xab);
            s.validate();
            return 0;
        });
        assertTrue(d.stream().anyMatch(l -> l.startsWith("[Right Redzone overwritten] ")
            && l.endsWith("First byte 0xab instead of 0xbb")), String.join("\n", d));
    }

    @Test
    void testKmallocRedzoneAccess() {
        final List<String> d = both(2, h -> {
            final DebugHarness.Cache s = h.create("TestSlub_RZ_kmalloc", 32, KMALLOC | U | Z);
            final long p = s.alloc(18);
            h.write(p + 18, 0xab);
            h.write(p + 19, 0xab);
            s.validate();
            s.free(p);
            return 0;
        });
        assertTrue(d.stream().anyMatch(l -> l.startsWith("[kmalloc Redzone overwritten] ")
            && l.endsWith("First byte 0xab instead of 0xcc")), String.join("\n", d));
    }

    @Test
    void testLeakDestroy() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("TestSlub_leak_destroy", 64, 0);
            s.alloc();
            try (SlubDebug.KunitErrors e = h.debug.kunitErrors()) {
                s.destroy();
                assertEquals(2, e.count());
            }
        }
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("TestSlub_leak_destroy", 64, 0);
            final long p = s.alloc();
            s.destroy();
            final List<String> d = h.dmesg();
            // the kernel counts the banner and each leaked object: one BUG and one "Object" line here
            assertEquals(1, d.stream().filter(l -> l.startsWith("BUG ")).count());
            assertTrue(d.contains("BUG TestSlub_leak_destroy (Not tainted): Objects remaining on "
                + "__kmem_cache_shutdown()"), String.join("\n", d));
            assertTrue(d.stream().anyMatch(l -> l.matches("Object 0x[0-9a-f]{16} @offset=\\d+")));
            s.free(p);
            assertTrue(s.destroy());
        }
    }

    @Test
    void multipleFaultsInOneObjectPrintOneBanner() {
        // The kernel's own asymmetry: the second area of the same object prints no second BUG banner, but a
        // kunit test counts it (report + fix): 4 errors, 1 banner and 2 fixes.
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("two", 64, Z);
            final long p = s.alloc();
            h.write(p - 1, 0x11);
            h.write(p + 64, 0x22);
            try (SlubDebug.KunitErrors e = h.debug.kunitErrors()) {
                s.validate();
                assertEquals(4, e.count());
            }
        }
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("two", 64, Z);
            final long p = s.alloc();
            h.write(p - 1, 0x11);
            h.write(p + 64, 0x22);
            s.validate();
            assertEquals(3, h.bugsAndFixes());
        }
    }
}
