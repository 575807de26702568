package org.mm4j.boot;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BootParamsTest {
    @Test
    void defaults() {
        for (final String blank : new String[] {null, "", "   "}) {
            final BootParams p = BootParams.parse(blank);
            assertEquals(256L << 20, p.memBytes());
            assertEquals(Math.min(BootParams.MAX_CPUS, Runtime.getRuntime().availableProcessors()), p.nrCpus());
            assertEquals(1, p.numaNodes());
            assertNull(p.slubDebug());
            assertEquals(3, p.slubMaxOrder());
            assertEquals(0, p.slubMinOrder());
            assertEquals(0, p.slubMinObjects());
            assertFalse(p.initOnAlloc());
            assertFalse(p.initOnFree());
            assertFalse(p.slabNomerge());
            assertTrue(p.unknown().isEmpty());
        }
    }

    @Test
    void sizeSuffixesAsMemparse() {
        assertEquals(64L << 20, BootParams.parse("mem=65536K").memBytes());
        assertEquals(64L << 20, BootParams.parse("mem=64m").memBytes());
        assertEquals(1L << 30, BootParams.parse("mem=1G").memBytes());
        assertEquals(16L << 20, BootParams.parse("mem=0x1000000").memBytes());
        assertEquals(16L << 20, BootParams.parse("mem=16777216").memBytes());
        assertEquals(8L << 20, BootParams.parse("mem=10M").memBytes(), "whole 4 MiB blocks");
        assertEquals(16L << 20, BootParams.parse("mem=20M numa=fake=2").memBytes(), "equal fake nodes");
        assertEquals(32L << 20, BootParams.parse("mem=16M mem=32M").memBytes(), "the last one wins");
        assertEquals(1L << 40, BootParams.parseSize("x", "1T"));
    }

    @Test
    void everyIssueParameterIsStored() {
        final BootParams p = BootParams.parse("mem=64M nr_cpus=3 numa=fake=2 slub_debug=FZ,kmalloc-64 "
            + "slub_max_order=2 slub_min_order=1 slub_min_objects=8 init_on_alloc=1 init_on_free=on slab_nomerge "
            + "mm4j.sheaves=32");
        assertEquals(3, p.nrCpus());
        assertEquals(2, p.numaNodes());
        assertEquals("FZ,kmalloc-64", p.slubDebug());
        assertEquals(2, p.slubMaxOrder());
        assertEquals(1, p.slubMinOrder());
        assertEquals(8, p.slubMinObjects());
        assertTrue(p.initOnAlloc());
        assertTrue(p.initOnFree());
        assertTrue(p.slabNomerge());
        assertEquals(32, p.sheafCapacity());
        assertFalse(BootParams.parse("slab_nomerge slab_merge").slabNomerge());
        assertEquals("", BootParams.parse("slub_debug").slubDebug());
        assertEquals(4, BootParams.parse("slab_max_order=4").slubMaxOrder());
        assertEquals(1, BootParams.parse("numa=off").numaNodes());
        assertFalse(BootParams.parse("init_on_free=off").initOnFree());
        assertTrue(BootParams.parse("init_on_alloc=Yes").initOnAlloc());
        assertTrue(BootParams.parse("init_on_alloc").initOnAlloc());
        assertEquals("x y", BootParams.parse("foo=\"x y\"").all().get("foo"));
    }

    @Test
    void malformedValuesNameTheParameterAndValue() {
        expect("mem=abc", "mem=abc is not a size");
        expect("mem=", "mem= needs a value");
        expect("mem=2M", "mem=2M is out of range");
        expect("mem=2T", "mem=2T is out of range");
        expect("mem=99999999999999999999", "mem=99999999999999999999 is not a size");
        expect("nr_cpus=0", "nr_cpus=0 is out of range");
        expect("nr_cpus=two", "nr_cpus=two is not a number");
        expect("numa=fake=0", "numa=fake=0 is out of range");
        expect("numa=on", "numa=on is not supported");
        expect("mem=8M numa=fake=4", "per node");
        expect("slub_max_order=11", "slub_max_order=11 is out of range");
        expect("slub_min_order=3 slub_max_order=2", "slub_min_order=3 is above slub_max_order=2");
        expect("init_on_alloc=maybe", "init_on_alloc=maybe is not a boolean");
        expect("slub_min_objects=-1", "slub_min_objects=-1 is out of range");
        expect("foo=\"bar", "unterminated quote");
    }

    private static void expect(final String cmdline, final String message) {
        final CmdlineException e = assertThrows(CmdlineException.class, () -> BootParams.parse(cmdline), cmdline);
        assertTrue(e.getMessage().contains(message), cmdline + " -> " + e.getMessage());
    }

    @Test
    void unknownParametersAreKeptAndReportedInDmesg() {
        final BootParams p = BootParams.parse("mem=16M foo=bar nosmt_x quiet2");
        assertEquals(List.of("foo=bar", "nosmt_x", "quiet2"), p.unknown());
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1 foo=bar nosmt_x")) {
            assertTrue(k.log().messages().contains(
                "Unknown kernel command line parameters \"foo=bar nosmt_x\", will be passed to user space."),
                k.log().messages().toString());
            assertTrue(k.log().messages().contains("Command line: mem=16M nr_cpus=1 foo=bar nosmt_x"));
        }
    }

    @Test
    void aslrSeedIsMm4jsOwnParameterNotPassedToUserSpace() {
        assertEquals(1, BootParams.parse("mem=16M").aslrSeed());
        final BootParams p = BootParams.parse("mem=16M mm4j.aslr_seed=7");
        assertEquals(7, p.aslrSeed());
        assertTrue(p.unknown().isEmpty(), p.unknown().toString());
        expect("mem=16M mm4j.aslr_seed=x", "mm4j.aslr_seed=x is not a number");
        try (Kernel a = Kernel.boot("mem=16M nr_cpus=1 mm4j.aslr_seed=7");
             Kernel b = Kernel.boot("mem=16M nr_cpus=1 mm4j.aslr_seed=8")) {
            assertFalse(String.join("\n", a.log().messages()).contains("Unknown kernel command line"));
            assertNotEquals(a.processes().currentMm().mmapBase(), b.processes().currentMm().mmapBase());
        }
    }

    @Test
    void transparentHugePagesAreAlwaysNeverOrHostAndAnythingElseIsRefused() {
        assertEquals("host", BootParams.parse("mem=16M").thp(), "default: no advice, the host decides");
        for (final String v : new String[] {"always", "never", "host"}) {
            final BootParams p = BootParams.parse("mem=16M mm4j.thp=" + v);
            assertEquals(v, p.thp());
            assertFalse(p.unknown().contains("mm4j.thp=" + v), p.unknown().toString());
        }
        for (final String bad : new String[] {"mm4j.thp=madvise", "mm4j.thp=Always", "mm4j.thp=", "mm4j.thp"}) {
            final CmdlineException e = assertThrows(CmdlineException.class, () -> BootParams.parse("mem=16M " + bad),
                bad);
            assertEquals((bad.contains("=") ? bad : bad + "=null") + " (expected: always, never or host)",
                e.getMessage());
        }
    }
}
