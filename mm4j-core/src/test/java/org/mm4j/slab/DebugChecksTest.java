package org.mm4j.slab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.slab.debug.DebugTrack;
import org.mm4j.slab.debug.DebugReport;
import org.mm4j.slab.debug.SlubDebug;
import org.mm4j.slab.debug.SlubDebugException;

/**
 * One test per SLUB debug check, asserting the exact 6.18 headings in dmesg and the repair. Every cache is a real
 * {@link KmemCache} made by {@code kmem_cache_create} with the debug flags (its layout is the allocator's
 * calculate_sizes), driven through the allocator's own alloc, free and validate paths.
 */
class DebugChecksTest {
    private static final long F = SlabFlags.SLAB_CONSISTENCY_CHECKS;
    private static final long Z = SlabFlags.SLAB_RED_ZONE;
    private static final long P = SlabFlags.SLAB_POISON;
    private static final long U = SlabFlags.SLAB_STORE_USER;
    private static final long T = SlabFlags.SLAB_TRACE;
    private static final String HEX = "0x[0-9a-f]{16}";

    private static Kernel boot() {
        return Kernel.boot("mem=32M nr_cpus=2");
    }

    /** A cache with exactly {@code flags} (no boot-option flags, never merged). */
    private static KmemCache create(final Kernel k, final String name, final int size, final long flags) {
        return k.slab().kmemCacheCreate(name, size, 0, flags | SlabFlags.SLAB_NO_USER_FLAGS | SlabFlags.SLAB_NO_MERGE,
            null);
    }

    /** The slab (its struct page) holding the object at {@code kaddr}. */
    private static SlabPage slabOf(final Kernel k, final long kaddr) {
        final long pfn = k.slab().virtToSlab(kaddr - PhysicalMemory.PAGE_OFFSET);
        assertTrue(pfn >= 0, () -> Long.toHexString(kaddr) + " is in a slab");
        return new SlabPage(k.slab(), pfn);
    }

    /** A report's {@code @offset=}: the byte's distance from its slab's start (the free order is shuffled). */
    private static long inSlab(final Kernel k, final long kaddr) {
        return kaddr - slabOf(k, kaddr).address();
    }

    private static void poke(final Kernel k, final long kaddr, final int value) {
        k.slab().segment(kaddr, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) value);
    }

    private static int peek(final Kernel k, final long kaddr) {
        return k.slab().segment(kaddr, 1).get(ValueLayout.JAVA_BYTE, 0) & 0xff;
    }

    private static void pokeLong(final Kernel k, final long kaddr, final long value) {
        k.slab().segment(kaddr, 8).set(ValueLayout.JAVA_LONG_UNALIGNED, 0, value);
    }

    /** BUG banners plus FIX lines in dmesg. */
    private static int bugsAndFixes(final Kernel k) {
        return (int) count(k.log().messages(), "BUG ") + (int) count(k.log().messages(), "FIX ");
    }

    private static void assertLine(final List<String> dmesg, final String regex) {
        assertTrue(dmesg.stream().anyMatch(l -> l.matches(regex)), "no line matching " + regex + " in\n"
            + String.join("\n", dmesg));
    }

    private static long count(final List<String> dmesg, final String prefix) {
        return dmesg.stream().filter(l -> l.startsWith(prefix)).count();
    }

    @Test
    void leftRedzone() {
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "rz", 64, Z);
            final long p = s.alloc();
            poke(k, p - 3, 0x55);
            s.validate();
            final List<String> d = k.log().messages();
            assertLine(d, "\\[Left Redzone overwritten] " + HEX + "-" + HEX
                + " @offset=" + inSlab(k, p - 3) + "\\. First byte 0x55 instead of 0xcc");
            assertLine(d, "BUG rz \\(Not tainted\\): Object corrupt");
            assertLine(d, "FIX rz: Restoring Left Redzone " + HEX + "-" + HEX + "=0xcc");
            assertLine(d, "Redzone  ffff[0-9a-f]{12}: cc cc cc cc cc 55 cc cc {26}\\.\\.\\.\\.\\.U\\.\\.");
            assertEquals(0xcc, peek(k, p - 3), "restored");
            k.log().clear();
            s.validate();
            assertEquals(0, bugsAndFixes(k), "clean after the fix");
        }
    }

    @Test
    void trailerLayout() {
        try (Kernel k = boot()) {
            k.slab().debug().warnings(false);
            final KmemCache s = create(k, "layout", 64, Z | P);
            final long p = s.alloc();
            poke(k, p + 64, 0x12);
            s.validate();
            final List<String> d = k.log().messages();
            final int i = d.indexOf("BUG layout (Not tainted): Object corrupt");
            assertTrue(i > 0, String.join("\n", d));
            assertEquals("=".repeat(77), d.get(i - 1));
            assertEquals("-".repeat(77), d.get(i + 1));
            assertEquals("", d.get(i + 2));
            assertTrue(d.get(i + 3).matches("Slab 0xffffea[0-9a-f]{10} objects=\\d+ used=1 fp=" + HEX
                + " flags=.*"), d.get(i + 3));
            assertTrue(d.get(i + 4).matches("Object " + String.format("0x%016x", p) + " @offset=" + inSlab(k, p) + " fp=" + HEX), d.get(i + 4));
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
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "align", 60, P);
            final long p = s.alloc();
            s.free(p);
            poke(k, p + 61, 0x01);
            s.validate();
            assertLine(k.log().messages(), "\\[Alignment padding overwritten] " + HEX + "-" + HEX
                + " @offset=" + inSlab(k, p + 61) + "\\. First byte 0x1 instead of 0x5a");
        }
    }

    @Test
    void endPoisonAndObjectPadding() {
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "endp", 64, P | U);
            final long p = s.alloc();
            s.free(p);
            poke(k, p + 63, 0x00);
            s.validate();
            assertLine(k.log().messages(), "\\[End Poison overwritten] .* First byte 0x0 instead of 0xa5");
        }
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "opad", 64, Z | P | U);
            final long p = s.alloc();
            // padding: after the free pointer, both tracks
            final long pad = p + s.inuse() + 8 + 2 * DebugTrack.TRACK_SIZE;
            poke(k, pad, 0x77);
            s.validate();
            assertLine(k.log().messages(), "\\[Object padding overwritten] .* First byte 0x77 instead of 0x5a");
            assertLine(k.log().messages(), "FIX opad: Restoring Object padding " + HEX + "-" + HEX + "=0x5a");
        }
    }

    @Test
    void slabPadding() {
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "spad", 200, P);
            final long p = s.alloc();
            final SlabPage slab = slabOf(k, p);
            final long last = slab.byteSize() - 1;
            assertNotEquals(0, slab.byteSize() % s.size(), "the slab has a remainder");
            poke(k, slab.address() + last, 0x00);
            s.validate();
            final List<String> d = k.log().messages();
            assertLine(d, "BUG spad \\(Not tainted\\): Padding overwritten\\. " + HEX + "-" + HEX + " @offset=" + last);
            assertLine(d, "Padding  ?ffff[0-9a-f]{12}: .*");
            assertLine(d, "FIX spad: Restoring slab padding " + HEX + "-" + HEX + "=0x5a");
        }
    }

    @Test
    void freePointerCorruptInAFreeObject() {
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "fp", 64, P);
            final long a = s.alloc();
            final long b = s.alloc();
            s.free(a);
            s.free(b);
            // b is on the freelist head; corrupt the free pointer of a (second on the list): the chain is cut
            pokeLong(k, a + s.offset(), 0x1234);
            s.validate();
            final List<String> d = k.log().messages();
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
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "head", 64, P);
            final long a = s.alloc();
            final SlabPage slab = slabOf(k, a);
            // inside the slab and 8-byte aligned (the slab word counts the freelist in 8-byte units), no object's start
            assertNotEquals(0, 8 % s.size());
            slab.freelist(slab.address() + 8);
            assertEquals(slab.address() + 8, slab.freelist());
            s.validate();
            assertLine(k.log().messages(), "BUG head \\(Not tainted\\): Freepointer corrupt");
            assertLine(k.log().messages(), "FIX head: Freelist cleared");
            assertEquals(slab.objects(), slab.inuse());
        }
    }

    @Test
    void freelistCycle() {
        try (Kernel k = boot()) {
            // a debug cache keeps the slab's freelist in the slab (no per-CPU slab holds it)
            final KmemCache s = create(k, "cycle", 64, F);
            final long a = s.alloc();
            final SlabPage slab = slabOf(k, a);
            final long first = slab.freelist();
            s.setFreePointer(first, first);
            s.validate();
            assertLine(k.log().messages(), "BUG cycle \\(Not tainted\\): Freelist cycle detected");
            assertLine(k.log().messages(), "FIX cycle: Freelist cleared");
        }
    }

    @Test
    void wrongNumberOfObjects() {
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "nobj", 64, F);
            final long a = s.alloc();
            final SlabPage slab = slabOf(k, a);
            final int right = slab.objects();
            slab.objects(right - 1);
            s.validate();
            assertLine(k.log().messages(), "BUG nobj \\(.*\\): Wrong number of objects\\. Found " + (right - 1)
                + " but should be " + right);
            assertLine(k.log().messages(), "FIX nobj: Number of objects adjusted");
            assertEquals(right, slab.objects());
        }
    }

    /**
     * A double free is refused with exactly two reports: mm/slub.c's free_consistency_checks finds the object
     * on_freelist and calls object_err ("Object already free", one report), then free_debug_processing, its
     * checks failed, calls slab_fix ("Object at ... not freed", the second). Both count one slab_errors in a
     * kunit test (each starts with slab_add_kunit_errors) and each prints one BUG or FIX line otherwise.
     */
    @Test
    void doubleFree() {
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "dbl", 64, F | Z | P | U);
            final long a = s.alloc();
            final long keep = s.alloc();
            s.free(a);
            k.log().clear();
            s.free(a);
            final List<String> d = k.log().messages();
            assertLine(d, "BUG dbl \\(Not tainted\\): Object already free");
            // the allocator's own frames are skipped: the caller is this test
            assertLine(d, "Allocated in org\\.mm4j\\.slab\\.DebugChecksTest\\.doubleFree\\+0x[0-9a-f]+/0x0 "
                + "\\[DebugChecksTest\\.java:\\d+] age=\\d+ cpu=\\d pid=\\d+");
            assertLine(d, "Freed in org\\.mm4j\\.slab\\.DebugChecksTest\\.doubleFree\\+0x[0-9a-f]+/0x0 "
                + "\\[DebugChecksTest\\.java:\\d+] age=\\d+ cpu=\\d pid=\\d+");
            assertLine(d, "FIX dbl: Object at " + HEX + " not freed");
            assertEquals(1, count(d, "BUG "));
            assertEquals(1, count(d, "FIX "));
            assertEquals(1, slabOf(k, a).inuse(), "only keep is in use: the second free changed nothing");
            try (SlubDebug.KunitErrors errors = k.slab().debug().kunitErrors()) {
                s.free(a);
                assertEquals(2, errors.count(), "object_err + slab_fix");
            }
            s.free(keep);
        }
    }

    @Test
    void invalidObjectPointer() {
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "inv", 64, F);
            final long a = s.alloc();
            s.free(a + 8);
            assertLine(k.log().messages(), "BUG inv \\(Not tainted\\): Invalid object pointer " + HEX);
            assertLine(k.log().messages(), "FIX inv: Object at " + HEX + " not freed");
            s.free(a);
        }
    }

    @Test
    void freeingWithABadRedzoneIsRefused() {
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "frz", 64, F | Z);
            final long a = s.alloc();
            poke(k, a + 64, 0x99);
            s.free(a);
            final List<String> d = k.log().messages();
            assertLine(d, "\\[Right Redzone overwritten] .* First byte 0x99 instead of 0xcc");
            assertLine(d, "FIX frz: Object at " + HEX + " not freed");
            assertEquals(1, slabOf(k, a).inuse(), "leaked, as the kernel does");
        }
    }

    @Test
    void allocCheckFindsUseAfterFree() {
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "uaf", 64, F | P);
            final long a = s.alloc();
            s.free(a);
            poke(k, a + 10, 0x00);
            final long b = s.alloc();
            final List<String> d = k.log().messages();
            assertLine(d, "\\[Poison overwritten] .* @offset=" + inSlab(k, a + 10) + "\\. First byte 0x0 instead of 0x6b");
            assertLine(d, "FIX uaf: Marking all objects used");
            assertNotEquals(0, b, "another slab serves the allocation");
            assertNotEquals(a, b);
        }
    }

    @Test
    void trace() {
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "tr", 32, T);
            final long a = s.alloc();
            s.free(a);
            assertLine(k.log().messages(), "TRACE tr alloc " + HEX + " inuse=1 fp=" + HEX);
            assertLine(k.log().messages(), "TRACE tr free " + HEX + " inuse=1 fp=" + HEX);
            assertLine(k.log().messages(), "Object ffff[0-9a-f]{12}: .*");
        }
    }

    @Test
    void wrongCacheAndNotSlab() {
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "one", 64, F | U);
            final KmemCache t = create(k, "two", 64, F);
            final long a = s.alloc();
            // kmem_cache_free(two, a): cache_from_obj warns, then frees a into its own cache
            t.free(a);
            assertLine(k.log().messages(), "cache_from_obj: Wrong slab cache\\. two but object is from one");
            assertLine(k.log().messages(), "Allocated in org\\.mm4j\\.slab\\.DebugChecksTest\\.wrongCacheAndNotSlab\\+.*");
            assertEquals(0, s.activeObjects(), "freed into one");
            final long page = PhysicalMemory.pageAddress(k.buddy().allocPages(0, 0));
            assertThrows(IllegalArgumentException.class, () -> s.free(page + 64));
            assertLine(k.log().messages(), "virt_to_cache: Object is not a Slab page!");
        }
    }

    @Test
    void listenerGetsObjects() {
        try (Kernel k = boot()) {
            final List<DebugReport> reports = new ArrayList<>();
            k.slab().debug().addListener(reports::add);
            final KmemCache s = create(k, "lis", 64, Z | U);
            final long p = s.alloc();
            poke(k, p + 65, 0x42);
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
            assertEquals(slabOf(k, p).address(), r.slab());
            assertTrue(r.allocTrack().stack().stream().anyMatch(c -> c.methodName().equals("listenerGetsObjects")),
                r.allocTrack().toString());
            assertNull(r.freeTrack().site());
            assertTrue(r.lines().get(0).startsWith("[Right Redzone overwritten]"));
        }
    }

    @Test
    void strictModeThrowsAfterTheRepair() {
        try (Kernel k = boot()) {
            k.slab().debug().strict(true);
            final KmemCache s = create(k, "strict", 64, F | P);
            final long p = s.alloc();
            s.free(p);
            poke(k, p, 0x00);
            final SlubDebugException e = assertThrows(SlubDebugException.class, s::validate);
            assertEquals("Poison", e.report().what());
            assertTrue(e.getMessage().startsWith("strict: Object corrupt [Poison overwritten]"), e.getMessage());
            assertEquals(0x6b, peek(k, p), "repaired before the throw");
            s.validate();
            final long q = s.alloc();
            assertNotEquals(0, q);
            s.free(q);
            k.slab().debug().strict(false);
            assertFalse(k.slab().debug().strict());
        }
    }

    @Test
    void allocTracesAggregate() {
        try (Kernel k = boot()) {
            final KmemCache s = create(k, "calls", 64, U);
            final List<Long> objs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                objs.add(s.alloc());
            }
            final String text = SlubDebugSupport.traces(s, true, false);
            // one call site: one line for the three objects
            assertTrue(text.matches("      3 org\\.mm4j\\.slab\\.DebugChecksTest\\.allocTracesAggregate\\+0x[0-9a-f]+/0x0 "
                + "\\[DebugChecksTest\\.java:\\d+] age=\\d+(/\\d+/\\d+)? pid=\\d+ cpus=\\d\n"), text);
            assertTrue(SlubDebugSupport.traces(s, true, true).contains("\n        org.mm4j.slab.DebugChecksTest"
                + ".allocTracesAggregate+0x"));
            s.free(objs.get(0));
            assertEquals(2, total(SlubDebugSupport.traces(s, true, false)));
            // free_traces walks the allocated objects too: never freed, their free track is empty
            assertTrue(SlubDebugSupport.traces(s, false, false).startsWith("      2 <not-available> age="));
            assertEquals("No data\n", SlubDebugSupport.traces(create(k, "empty", 64, U), true, false));
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
