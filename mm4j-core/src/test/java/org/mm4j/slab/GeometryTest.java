package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

class GeometryTest {
    private static List<Map<String, String>> rows(final InputStream in) throws IOException {
        final List<Map<String, String>> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            final String[] head = r.readLine().split("\t", -1);
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank()) {
                    continue;
                }
                final String[] f = line.split("\t", -1);
                final Map<String, String> m = new HashMap<>();
                for (int i = 0; i < head.length; i++) {
                    m.put(head[i], i < f.length ? f[i] : "");
                }
                out.add(m);
            }
        }
        return out;
    }

    private static void checkRows(final List<Map<String, String>> rows) {
        assertTrue(rows.size() >= 13, "rows: " + rows.size());
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            for (final Map<String, String> row : rows) {
                final String name = row.get("name");
                final KmemCache s = k.slab().findCache(name);
                assertNotNull(s, name);
                final String at = name + ": ";
                for (final String attr : new String[] {"object_size", "slab_size", "align", "objs_per_slab", "order",
                    "red_zone", "poison", "store_user", "hwcache_align", "reclaim_account", "destroy_by_rcu",
                    "cache_dma", "cpu_partial", "min_partial", "sheaf_capacity", "usersize", "ctor",
                    "sanity_checks", "trace"}) {
                    final String got = k.procfs().read("/sys/kernel/slab/" + name + "/" + attr).strip();
                    assertEquals(row.get(attr), got, at + attr);
                }
                assertEquals(row.get("aliases_names").isEmpty() ? "0" : String.valueOf(
                    row.get("aliases_names").split(",").length),
                    k.procfs().read("/sys/kernel/slab/" + name + "/aliases").strip(), at + "aliases");
            }
        }
    }

    @Test
    void kmallocGeometryMatchesBundledKernelSample() throws IOException {
        try (InputStream in = GeometryTest.class.getResourceAsStream("/slab/slabgeom-kmalloc.tsv")) {
            assertNotNull(in);
            checkRows(rows(in));
        }
    }

    @Test
    void kmallocGeometryMatchesSharedSample() throws IOException {
        final Path p = Path.of("../shared/samples/slab/slabgeom-kmalloc.tsv");
        final Path q = Path.of("../../shared/samples/slab/slabgeom-kmalloc.tsv");
        final Path f = Files.exists(p) ? p : q;
        requireOrSkip(Files.exists(f), f + " absent");
        try (InputStream in = Files.newInputStream(f)) {
            checkRows(rows(in));
        }
    }

    @Test
    void hardwareCacheAlignedCache() {
        final Geometry g = Geometry.compute(100, 0, SlabFlags.SLAB_HWCACHE_ALIGN, 2);
        assertEquals(64, g.align());
        assertEquals(128, g.size());
        assertEquals(48, g.offset());
        assertEquals(104, g.inuse());
        assertEquals(0, g.order());
        assertEquals(32, g.objects());
        assertEquals(120, g.cpuPartial());
        assertEquals(5, g.minPartial());
        // small objects get a smaller cache-line fraction: 20 bytes -> 32-byte alignment
        assertEquals(32, Geometry.compute(20, 0, SlabFlags.SLAB_HWCACHE_ALIGN, 2).align());
        assertEquals(16, Geometry.compute(12, 0, SlabFlags.SLAB_HWCACHE_ALIGN, 2).align());
    }

    @Test
    void debugFlagsLayout() {
        final long f = SlabFlags.SLAB_RED_ZONE | SlabFlags.SLAB_POISON | SlabFlags.SLAB_STORE_USER;
        final Geometry g = Geometry.compute(64, 0, f, false, 2, 3, 0, 0, false, 0);
        assertEquals(72, g.inuse(), "right red zone word added");
        assertEquals(72, g.offset(), "free pointer after the object (poison)");
        assertEquals(8, g.redLeftPad());
        assertEquals(160, g.size());
        assertEquals(25, g.objects());
        assertEquals(0, g.cpuPartial(), "debug caches have no cpu partial");
        assertTrue((g.flags() & SlabFlags.OBJECT_POISON) != 0);
        // kmalloc-64 under slub_debug=FZPU: orig_size word and 64-byte kmalloc alignment
        final Geometry k = Geometry.compute(64, 0, SlabFlags.DEBUG_DEFAULT_FLAGS | SlabFlags.SLAB_KMALLOC, false, 2,
            3, 0, 0, false, 0);
        assertEquals(64, k.align());
        assertEquals(64, k.redLeftPad());
        assertEquals(256, k.size());
    }

    @Test
    void ctorAndRcuMoveTheFreePointer() {
        final Geometry c = Geometry.compute(24, 0, 0, true, 2, 3, 0, 0, false, 0);
        assertEquals(24, c.offset());
        assertEquals(32, c.size());
        assertEquals(128, c.objects());
        final Geometry r = Geometry.compute(64, 0, SlabFlags.SLAB_TYPESAFE_BY_RCU, false, 2, 3, 0, 0, false, 0);
        assertEquals(64, r.offset());
        assertEquals(72, r.size());
        final Geometry rf = Geometry.compute(64, 0, SlabFlags.SLAB_TYPESAFE_BY_RCU, false, 2, 3, 0, 0, true, 8);
        assertEquals(8, rf.offset());
        assertEquals(64, rf.size());
        assertThrows(IllegalArgumentException.class,
            () -> Geometry.compute(64, 0, 0, false, 2, 3, 0, 0, true, 8), "freeptr_offset needs RCU");
        // poison with a ctor: no object poisoning
        final Geometry pc = Geometry.compute(64, 0, SlabFlags.SLAB_POISON, true, 2, 3, 0, 0, false, 0);
        assertEquals(0, pc.flags() & SlabFlags.OBJECT_POISON);
    }

    @Test
    void tinyRedZonedObject() {
        final Geometry g = Geometry.compute(4, 0, SlabFlags.SLAB_RED_ZONE, false, 2, 3, 0, 0, false, 0);
        assertEquals(8, g.inuse(), "word alignment already leaves a right red zone");
        assertEquals(8, g.offset(), "objects under 8 bytes keep the free pointer out");
        assertEquals(32, g.size());
    }

    @Test
    void orderFollowsCpusAndBootOptions() {
        // min_objects = 4 * (fls(nr_cpus) + 1): 8 for 1 cpu, 12 for 2 or 3, 16 for 4..7
        assertEquals(1, Geometry.calculateOrder(512, 2, 3, 0, 0));
        assertEquals(0, Geometry.calculateOrder(512, 1, 3, 0, 0));
        assertEquals(2, Geometry.calculateOrder(1024, 4, 3, 0, 0));
        assertEquals(3, Geometry.calculateOrder(1024, 8, 3, 0, 0));
        assertEquals(0, Geometry.calculateOrder(1024, 2, 0, 0, 0), "slub_max_order=0");
        assertEquals(2, Geometry.calculateOrder(64, 2, 3, 2, 0), "slub_min_order=2");
        assertEquals(0, Geometry.calculateOrder(2048, 2, 3, 0, 1), "slub_min_objects=1");
        // an object that leaves much waste at order 0 goes up
        assertEquals(3, Geometry.calculateOrder(1400, 2, 3, 0, 0));
        assertEquals(3, Geometry.getOrder(32768));
        assertEquals(0, Geometry.getOrder(1));
        assertEquals(1, Geometry.getOrder(4097));
    }

    @Test
    void badArgumentsAreNamed() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> Geometry.compute(0, 0, 0, 2));
        assertTrue(e.getMessage().contains("object size 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Geometry.compute(64, 3, 0, 2));
    }

    @Test
    void flagsParseAndPrint() {
        assertEquals(SlabFlags.SLAB_RED_ZONE | SlabFlags.SLAB_POISON, SlabFlags.parse("SLAB_RED_ZONE|SLAB_POISON"));
        assertEquals(SlabFlags.SLAB_HWCACHE_ALIGN, SlabFlags.parse("hwcache_align"));
        assertEquals("SLAB_RED_ZONE|SLAB_POISON", SlabFlags.toString(SlabFlags.parse("SLAB_POISON|SLAB_RED_ZONE")));
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> SlabFlags.parse("SLAB_BOGUS"));
        assertTrue(e.getMessage().contains("SLAB_BOGUS"));
    }
}
