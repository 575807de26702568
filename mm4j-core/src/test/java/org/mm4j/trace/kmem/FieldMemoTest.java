package org.mm4j.trace.kmem;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FieldMemoTest {
    private static byte[] ascii(final String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static KmemEvent alloc(final long req, final long alloc, final int gfp, final String name, final int id) {
        final KmemEvent ev = new KmemEvent();
        ev.bytesReq = req;
        ev.bytesAlloc = alloc;
        ev.gfp = gfp;
        ev.node = 3;
        ev.cacheName = name;
        ev.cacheNameId = id;
        return ev;
    }

    /** A tail is found by its bytes and type only; equal hashes with other bytes, or another type, miss. */
    @Test
    void aTailIsFoundByEveryByteAndItsType() {
        final FieldMemo m = new FieldMemo();
        final byte[] a = ascii("xx name=a bytes_req=8 yy");
        final byte[] b = ascii("xx name=b bytes_req=8 yy");
        m.put(a, 2, a.length - 2, KmemEvent.KMEM_CACHE_ALLOC, 42, alloc(8, 16, 5, "a", 0));
        assertEquals(1, m.size());
        assertEquals(-1, m.find(b, 2, b.length - 2, KmemEvent.KMEM_CACHE_ALLOC, 42), "same hash, other bytes");
        assertEquals(-1, m.find(a, 2, a.length - 2, KmemEvent.KMALLOC, 42), "same bytes, other type");
        assertEquals(-1, m.find(a, 2, a.length - 3, KmemEvent.KMEM_CACHE_ALLOC, 42), "a prefix");
        m.put(b, 2, b.length - 2, KmemEvent.KMEM_CACHE_ALLOC, 42, alloc(8, 24, 6, "b", 1));
        assertEquals(2, m.size());
        final KmemEvent ev = new KmemEvent();
        m.load(m.find(a, 2, a.length - 2, KmemEvent.KMEM_CACHE_ALLOC, 42), ev);
        assertEquals(16, ev.bytesAlloc());
        assertEquals(5, ev.gfp());
        assertEquals(3, ev.node());
        assertEquals("a", ev.cacheName());
        assertEquals(0, ev.cacheNameId);
        m.load(m.find(b, 2, b.length - 2, KmemEvent.KMEM_CACHE_ALLOC, 42), ev);
        assertEquals(24, ev.bytesAlloc());
        assertEquals("b", ev.cacheName());
        assertEquals(1, ev.cacheNameId);
        m.put(a, 2, a.length - 2, KmemEvent.KMEM_CACHE_ALLOC, 42, alloc(1, 1, 1, "z", 9));
        assertEquals(2, m.size(), "a tail is remembered once");
    }

    /** Page tails keep order, migratetype and gfp, and leave the slab fields alone. */
    @Test
    void pageTailsKeepTheirOwnFields() {
        final FieldMemo m = new FieldMemo();
        final byte[] t = ascii(" order=3 migratetype=1 gfp_flags=GFP_KERNEL");
        final KmemEvent src = new KmemEvent();
        src.order = 3;
        src.migratetype = 1;
        src.gfp = 7;
        m.put(t, 0, t.length, KmemEvent.MM_PAGE_ALLOC, Interner.hash(t, 0, t.length), src);
        final KmemEvent ev = new KmemEvent();
        m.load(m.find(t, 0, t.length, KmemEvent.MM_PAGE_ALLOC, Interner.hash(t, 0, t.length)), ev);
        assertEquals(3, ev.order());
        assertEquals(1, ev.migratetype());
        assertEquals(7, ev.gfp());
        assertEquals(-1, ev.node());
        assertNull(ev.cacheName());
        assertEquals(0, ev.bytesReq());
    }

    /** Bounded: past MAX tails nothing more is remembered, and what was stays found. */
    @Test
    void boundedAtMax() {
        final FieldMemo m = new FieldMemo();
        for (int i = 0; i < FieldMemo.MAX + 100; i++) {
            final byte[] t = ascii(" bytes_req=" + i + " bytes_alloc=8");
            m.put(t, 0, t.length, KmemEvent.KMALLOC, Interner.hash(t, 0, t.length), alloc(i, 8, 0, null, -1));
        }
        assertEquals(FieldMemo.MAX, m.size());
        final byte[] first = ascii(" bytes_req=0 bytes_alloc=8");
        assertTrue(m.find(first, 0, first.length, KmemEvent.KMALLOC, Interner.hash(first, 0, first.length)) >= 0);
        final byte[] late = ascii(" bytes_req=" + (FieldMemo.MAX + 50) + " bytes_alloc=8");
        assertEquals(-1, m.find(late, 0, late.length, KmemEvent.KMALLOC, Interner.hash(late, 0, late.length)));
    }

    /** A tail longer than MAX_TAIL is never remembered (memory stays at MAX x MAX_TAIL bytes of keys). */
    @Test
    void longTailsAreNotRemembered() {
        final FieldMemo m = new FieldMemo();
        final byte[] t = ascii(" name=" + "x".repeat(FieldMemo.MAX_TAIL) + " bytes_req=8");
        final int h = Interner.hash(t, 0, t.length);
        m.put(t, 0, t.length, KmemEvent.KMEM_CACHE_ALLOC, h, alloc(8, 8, 0, "x", 0));
        assertEquals(0, m.size());
        assertEquals(-1, m.find(t, 0, t.length, KmemEvent.KMEM_CACHE_ALLOC, h));
        final byte[] fits = java.util.Arrays.copyOf(t, FieldMemo.MAX_TAIL);
        final int hf = Interner.hash(fits, 0, fits.length);
        m.put(fits, 0, fits.length, KmemEvent.KMEM_CACHE_ALLOC, hf, alloc(8, 8, 0, "x", 0));
        assertTrue(m.find(fits, 0, fits.length, KmemEvent.KMEM_CACHE_ALLOC, hf) >= 0);
    }

    /**
     * Through the reader: tails that agree in length and in their first and last 8 bytes (one hash) but not in
     * between, repeated, read as the general parser reads them; a repeated tail gives the same interned name.
     */
    @Test
    void collidingTailsReadAsTheGeneralParserReadsThem() throws IOException {
        final StringBuilder sb = new StringBuilder();
        final String[] names = {"cache_aaaa", "cache_bbbb", "cache_abab"};
        for (int i = 0; i < 30; i++) {
            final String n = names[i % 3];
            sb.append("sh-1 [000] ..... 1.").append(String.format("%06d", i)).append(": kmem_cache_alloc: "
                + "call_site=f+0x1/0x2 ptr=").append(String.format("%016x", i + 1)).append(" name=").append(n)
                .append(" bytes_req=").append(i % 2 == 0 ? 64 : 96).append(" bytes_alloc=128 gfp_flags=GFP_KERNEL "
                + "node=-1 accounted=false\n");
            sb.append("sh-1 [001] ..... 1.").append(String.format("%06d", i)).append(": kmem_cache_free: "
                + "call_site=h+0x1/0x2 ptr=").append(String.format("%016x", i + 1)).append(" name=")
                .append(names[(i + 1) % 3]).append('\n');
            sb.append("sh-1 [001] ..... 1.").append(String.format("%06d", i)).append(": mm_page_alloc: page=0 pfn=0x")
                .append(Integer.toHexString(i + 16)).append(" order=").append(i % 4).append(" migratetype=1 gfp_flags=")
                .append(i % 3 == 0 ? "GFP_KERNEL" : "GFP_USER").append('\n');
            sb.append("sh-1 [001] ..... 1.").append(String.format("%06d", i)).append(": kmalloc: call_site=g+0x1/0x2 "
                + "ptr=").append(String.format("%016x", i + 1000)).append(" bytes_req=").append(i % 5 + 10)
                .append(" bytes_alloc=16 gfp_flags=GFP_KERNEL node=-1 accounted=false\n");
        }
        final byte[] text = sb.toString().getBytes(StandardCharsets.US_ASCII);
        assertEquals(KmemTraceReaderProperties.readAll(text, false), KmemTraceReaderProperties.readAll(text, true));
        final KmemTraceReader r = new KmemTraceReader(new ByteArrayInputStream(text), (l, msg) -> { });
        final KmemEvent ev = new KmemEvent();
        final List<String> seen = new ArrayList<>();
        final List<String> freed = new ArrayList<>();
        while (r.next(ev)) {
            if (ev.type() == KmemEvent.KMEM_CACHE_ALLOC) {
                seen.add(ev.cacheName());
            } else if (ev.type() == KmemEvent.KMEM_CACHE_FREE) {
                freed.add(ev.cacheName());
            }
        }
        assertEquals(30, seen.size());
        assertSame(seen.get(0), seen.get(3));
        assertEquals("cache_abab", seen.get(29));
        assertEquals(30, freed.size());
        assertSame(seen.get(1), freed.get(0), "one interned name for the alloc and the free lines");
        assertEquals("cache_aaaa", freed.get(29));
        assertEquals(0, r.generalLines());
    }
}
