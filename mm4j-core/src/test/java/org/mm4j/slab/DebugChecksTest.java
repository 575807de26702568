package org.mm4j.slab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** One test per SLUB debug check, asserting the exact 6.18 headings in dmesg and the repair. */
class DebugChecksTest {
    private static final long F = SlabFlags.SLAB_CONSISTENCY_CHECKS;
    private static final long Z = SlabFlags.SLAB_RED_ZONE;
    private static final long P = SlabFlags.SLAB_POISON;
    private static final long U = SlabFlags.SLAB_STORE_USER;
    private static final long T = SlabFlags.SLAB_TRACE;
    private static final String HEX = "0x[0-9a-f]{16}";

    private static void assertLine(final List<String> dmesg, final String regex) {
        assertTrue(dmesg.stream().anyMatch(l -> l.matches(regex)), "no line matching " + regex + " in\n"
            + String.join("\n", dmesg));
    }

    private static long count(final List<String> dmesg, final String prefix) {
        return dmesg.stream().filter(l -> l.startsWith(prefix)).count();
    }

    @Test
    void leftRedzone() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("rz", 64, Z);
            final long p = s.alloc();
            h.write(p - 3, 0x55);
            s.validate();
            final List<String> d = h.dmesg();
            assertLine(d, "\\[Left Redzone overwritten] " + HEX + "-" + HEX
                + " @offset=5\\. First byte 0x55 instead of 0xcc");
            assertLine(d, "BUG rz \\(Not tainted\\): Object corrupt");
            assertLine(d, "FIX rz: Restoring Left Redzone " + HEX + "-" + HEX + "=0xcc");
            assertLine(d, "Redzone  ffff[0-9a-f]{12}: cc cc cc cc cc 55 cc cc {26}\\.\\.\\.\\.\\.U\\.\\.");
            assertEquals(0xcc, h.read(p - 3), "restored");
            h.log.clear();
            s.validate();
            assertEquals(0, h.bugsAndFixes(), "clean after the fix");
        }
    }

    @Test
    void trailerLayout() {
        try (DebugHarness h = new DebugHarness()) {
            h.debug.warnings(false);
            final DebugHarness.Cache s = h.create("layout", 64, Z | P);
            final long p = s.alloc();
            h.write(p + 64, 0x12);
            s.validate();
            final List<String> d = h.dmesg();
            final int i = d.indexOf("BUG layout (Not tainted): Object corrupt");
            assertTrue(i > 0, String.join("\n", d));
            assertEquals("=".repeat(77), d.get(i - 1));
            assertEquals("-".repeat(77), d.get(i + 1));
            assertEquals("", d.get(i + 2));
            assertTrue(d.get(i + 3).matches("Slab 0xffffea[0-9a-f]{10} objects=\\d+ used=1 fp=" + HEX
                + " flags=.*"), d.get(i + 3));
            assertTrue(d.get(i + 4).matches("Object " + HEX + " @offset=8 fp=" + HEX), d.get(i + 4));
            assertEquals("", d.get(i + 5));
            assertTrue(d.get(i + 6).startsWith("Redzone  "));
            assertTrue(d.get(i + 7).startsWith("Object   ") && d.get(i + 7).endsWith("  kkkkkkkkkkkkkkkk"));
            assertTrue(d.get(i + 11).startsWith("Redzone  ") && d.get(i + 11).contains(": 12 cc cc"));
            assertTrue(d.get(i + 12).startsWith("Padding  "), d.get(i + 12));
            assertTrue(d.get(i + 13).startsWith("FIX layout: Restoring Right Redzone"), d.get(i + 13));
        }
    }

    @Test
    void alignmentPaddingWithPoisonOnly() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("align", 60, P);
            final long p = s.alloc();
            s.free(p);
            h.write(p + 61, 0x01);
            s.validate();
            assertLine(h.dmesg(), "\\[Alignment padding overwritten] " + HEX + "-" + HEX
                + " @offset=61\\. First byte 0x1 instead of 0x5a");
        }
    }

    @Test
    void endPoisonAndObjectPadding() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("endp", 64, P | U);
            final long p = s.alloc();
            s.free(p);
            h.write(p + 63, 0x00);
            s.validate();
            assertLine(h.dmesg(), "\\[End Poison overwritten] .* First byte 0x0 instead of 0xa5");
        }
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("opad", 64, Z | P | U);
            final long p = s.alloc();
            // padding: after the free pointer, both tracks
            final long pad = p + s.inuse() + 8 + 2 * DebugTrack.TRACK_SIZE;
            h.write(pad, 0x77);
            s.validate();
            assertLine(h.dmesg(), "\\[Object padding overwritten] .* First byte 0x77 instead of 0x5a");
            assertLine(h.dmesg(), "FIX opad: Restoring Object padding " + HEX + "-" + HEX + "=0x5a");
        }
    }

    @Test
    void slabPadding() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("spad", 200, P);
            final long p = s.alloc();
            final long slab = p & ~4095L;
            assertNotEquals(0, 4096 % s.size(), "the slab has a remainder");
            h.write(slab + 4095, 0x00);
            s.validate();
            final List<String> d = h.dmesg();
            assertLine(d, "BUG spad \\(Not tainted\\): Padding overwritten\\. " + HEX + "-" + HEX + " @offset=4095");
            assertLine(d, "Padding  ?ffff[0-9a-f]{12}: .*");
            assertLine(d, "FIX spad: Restoring slab padding " + HEX + "-" + HEX + "=0x5a");
        }
    }

    @Test
    void freePointerCorruptInAFreeObject() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("fp", 64, P);
            final long a = s.alloc();
            final long b = s.alloc();
            s.free(a);
            s.free(b);
            // b is on the freelist head; corrupt the free pointer of a (second on the list): the chain is cut
            h.writeLong(a + s.offset(), 0x1234);
            s.validate();
            final List<String> d = h.dmesg();
            assertLine(d, "BUG fp \\(Not tainted\\): Freechain corrupt");
            assertLine(d, "BUG fp \\(Tainted: G    B   W {10}\\): Wrong object count\\. Counter is 0 but counted"
                + " were \\d+");
            assertLine(d, "FIX fp: Object count adjusted");
            assertEquals(0, s.getFreePointer(a), "chain cut at a");
            final long c = s.alloc();
            assertNotEquals(0, c, "the cache keeps working");
        }
    }

    @Test
    void freePointerCorruptAtTheSlabHead() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("head", 64, P);
            final long a = s.alloc();
            final DebugHarness.Slab slab = s.slabOf(a);
            slab.freelist = 0xffff888000000003L;
            s.validate();
            assertLine(h.dmesg(), "BUG head \\(Not tainted\\): Freepointer corrupt");
            assertLine(h.dmesg(), "FIX head: Freelist cleared");
            assertEquals(slab.objects, slab.inuse);
        }
    }

    @Test
    void freelistCycle() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("cycle", 64, 0);
            final long a = s.alloc();
            final DebugHarness.Slab slab = s.slabOf(a);
            final long first = slab.freelist;
            s.setFreePointer(first, first);
            s.validate();
            assertLine(h.dmesg(), "BUG cycle \\(Not tainted\\): Freelist cycle detected");
            assertLine(h.dmesg(), "FIX cycle: Freelist cleared");
        }
    }

    @Test
    void wrongNumberOfObjects() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("nobj", 64, F);
            final long a = s.alloc();
            final DebugHarness.Slab slab = s.slabOf(a);
            final int right = slab.objects;
            slab.objects = right - 1;
            s.validate();
            assertLine(h.dmesg(), "BUG nobj \\(.*\\): Wrong number of objects\\. Found " + (right - 1)
                + " but should be " + right);
            assertLine(h.dmesg(), "FIX nobj: Number of objects adjusted");
            assertEquals(right, slab.objects);
        }
    }

    @Test
    void doubleFree() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("dbl", 64, F | Z | P | U);
            final long a = s.alloc();
            final long keep = s.alloc();
            s.free(a);
            s.free(a);
            final List<String> d = h.dmesg();
            assertLine(d, "BUG dbl \\(Not tainted\\): Object already free");
            // the harness is test code, so its frames are the "callers"; with the real allocator they are skipped
            assertLine(d, "Allocated in .*\\+0x[0-9a-f]+/0x0 \\[\\w+\\.java:\\d+] age=\\d+ cpu=\\d pid=\\d+");
            assertLine(d, "Freed in .*\\+0x[0-9a-f]+/0x0 \\[\\w+\\.java:\\d+] age=\\d+ cpu=\\d pid=\\d+");
            assertLine(d, " org\\.mm4j\\.slab\\.DebugChecksTest\\.doubleFree\\+0x[0-9a-f]+/0x0 "
                + "\\[DebugChecksTest\\.java:\\d+]");
            assertLine(d, "FIX dbl: Object at " + HEX + " not freed");
            assertEquals(1, count(d, "BUG "));
            s.free(keep);
        }
    }

    @Test
    void invalidObjectPointer() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("inv", 64, F);
            final long a = s.alloc();
            s.free(a + 8);
            assertLine(h.dmesg(), "BUG inv \\(Not tainted\\): Invalid object pointer " + HEX);
            assertLine(h.dmesg(), "FIX inv: Object at " + HEX + " not freed");
            s.free(a);
        }
    }

    @Test
    void freeingWithABadRedzoneIsRefused() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("frz", 64, F | Z);
            final long a = s.alloc();
            h.write(a + 64, 0x99);
            s.free(a);
            final List<String> d = h.dmesg();
            assertLine(d, "\\[Right Redzone overwritten] .* First byte 0x99 instead of 0xcc");
            assertLine(d, "FIX frz: Object at " + HEX + " not freed");
            assertEquals(1, s.slabOf(a).inuse, "leaked, as the kernel does");
        }
    }

    @Test
    void allocCheckFindsUseAfterFree() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("uaf", 64, F | P);
            final long a = s.alloc();
            s.free(a);
            h.write(a + 10, 0x00);
            final long b = s.alloc();
            final List<String> d = h.dmesg();
            assertLine(d, "\\[Poison overwritten] .* @offset=10\\. First byte 0x0 instead of 0x6b");
            assertLine(d, "FIX uaf: Marking all objects used");
            assertNotEquals(0, b, "another slab serves the allocation");
            assertNotEquals(a, b);
        }
    }

    @Test
    void trace() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("tr", 32, T);
            final long a = s.alloc();
            s.free(a);
            assertLine(h.dmesg(), "TRACE tr alloc " + HEX + " inuse=1 fp=" + HEX);
            assertLine(h.dmesg(), "TRACE tr free " + HEX + " inuse=1 fp=" + HEX);
            assertLine(h.dmesg(), "Object ffff[0-9a-f]{12}: .*");
        }
    }

    @Test
    void wrongCacheAndNotSlab() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("one", 64, F | U);
            final DebugHarness.Cache t = h.create("two", 64, F);
            final long a = s.alloc();
            h.debug.wrongCacheWarning(t, s, s.slabOf(a), a);
            assertLine(h.dmesg(), "cache_from_obj: Wrong slab cache\\. two but object is from one");
            assertLine(h.dmesg(), "Allocated in .*");
            h.debug.notSlabWarning("one", 0xffff888000300000L);
            assertLine(h.dmesg(), "virt_to_cache: Object is not a Slab page!");
        }
    }

    @Test
    void listenerGetsObjects() {
        try (DebugHarness h = new DebugHarness()) {
            final List<DebugReport> reports = new ArrayList<>();
            h.debug.addListener(reports::add);
            final DebugHarness.Cache s = h.create("lis", 64, Z | U);
            final long p = s.alloc();
            h.write(p + 65, 0x42);
            s.validate();
            assertEquals(1, reports.size());
            final DebugReport r = reports.get(0);
            assertEquals(DebugReport.Kind.BYTES, r.kind());
            assertEquals("lis", r.cache());
            assertEquals("Object corrupt", r.reason());
            assertEquals("Right Redzone", r.what());
            assertEquals(p + 65, r.start());
            assertEquals(p + 65, r.end());
            assertEquals(0x42, r.found());
            assertEquals(0xcc, r.expected());
            assertEquals(p, r.object());
            assertEquals(p & ~4095L, r.slab());
            assertTrue(r.allocTrack().stack().stream().anyMatch(c -> c.methodName().equals("listenerGetsObjects")),
                r.allocTrack().toString());
            assertNull(r.freeTrack().site());
            assertTrue(r.lines().get(0).startsWith("[Right Redzone overwritten]"));
        }
    }

    @Test
    void strictModeThrowsAfterTheRepair() {
        try (DebugHarness h = new DebugHarness()) {
            h.debug.strict(true);
            final DebugHarness.Cache s = h.create("strict", 64, F | P);
            final long p = s.alloc();
            s.free(p);
            h.write(p, 0x00);
            final SlubDebugException e = assertThrows(SlubDebugException.class, s::validate);
            assertEquals("Poison", e.report().what());
            assertTrue(e.getMessage().startsWith("strict: Object corrupt [Poison overwritten]"), e.getMessage());
            assertEquals(0x6b, h.read(p), "repaired before the throw");
            s.validate();
            final long q = s.alloc();
            assertNotEquals(0, q);
            s.free(q);
            h.debug.strict(false);
            assertFalse(h.debug.strict());
        }
    }

    @Test
    void allocTracesAggregate() {
        try (DebugHarness h = new DebugHarness()) {
            final DebugHarness.Cache s = h.create("calls", 64, U);
            final List<Long> objs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                objs.add(s.alloc());
            }
            final String text = h.debug.traces(s, s.all(), true, false, 1);
            assertEquals(3, total(text), text);
            for (final String line : text.split("\n")) {
                assertTrue(line.matches(" {6}\\d org\\.mm4j\\.slab\\.DebugHarness\\$Cache\\.alloc\\+0x[0-9a-f]+/0x0 "
                    + "\\[DebugHarness\\.java:\\d+] age=\\d+(/\\d+/\\d+)? pid=\\d+ cpus=0"), line);
            }
            assertTrue(h.debug.traces(s, s.all(), true, true, 1).contains("\n        org.mm4j.slab.DebugChecksTest"
                + ".allocTracesAggregate+0x"));
            s.free(objs.get(0));
            assertEquals(2, total(h.debug.traces(s, s.all(), true, false, 1)));
            // free_traces walks the allocated objects too: never freed, their free track is empty
            assertTrue(h.debug.traces(s, s.all(), false, false, 1).startsWith("      2 <not-available> age="));
            assertEquals("No data\n", h.debug.traces(h.create("empty", 64, U), List.of(), true, false, 1));
        }
    }

    private static int total(final String traces) {
        int n = 0;
        for (final String line : traces.split("\n")) {
            if (line.matches(" +\\d+ .*")) {
                n += Integer.parseInt(line.strip().split(" ")[0]);
            }
        }
        return n;
    }
}
