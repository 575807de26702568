package org.mm4j.trace.kmem;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KmemReplayerCallSiteTest {
    @Test
    void callSiteFiguresAddUpToTheCacheFiguresAndTheTrace() throws IOException {
        final byte[] trace = KmemTraceGenerator.generate(5, 2, 2048, 40_000);
        // what the trace itself says per call site (every allocation of the model succeeds in 256M)
        final Map<String, long[]> expected = new HashMap<>();
        // perf kmem's ping-pong: a live pointer's allocating CPU and site; a replayed free on another CPU counts
        final Map<Long, Object[]> live = new HashMap<>();
        final Map<String, Long> pingPong = new HashMap<>();
        long pingPongs = 0;
        long pageAllocEvents = 0;
        try (Kernel k = Kernel.boot("mem=256M slab_nomerge");
             KmemTraceReader r = new KmemTraceReader(new ByteArrayInputStream(trace), null)) {
            final KmemReplayer rp = new KmemReplayer(k.params(), k.buddy(), k.slab(), k.cpus());
            final KmemEvent ev = new KmemEvent();
            while (r.next(ev)) {
                if (ev.type() == KmemEvent.KMALLOC || ev.type() == KmemEvent.KMEM_CACHE_ALLOC) {
                    final long[] e = expected.computeIfAbsent(ev.callSite(), s -> new long[2]);
                    e[0]++;
                    e[1] += ev.bytesReq();
                    if (ev.ptr() != 0) {
                        live.put(ev.ptr(), new Object[] {ev.cpu(), ev.callSite()});
                    }
                } else if (ev.type() == KmemEvent.KFREE || ev.type() == KmemEvent.KMEM_CACHE_FREE) {
                    final Object[] a = live.remove(ev.ptr());
                    if (a != null && (int) a[0] != ev.cpu()) {
                        pingPong.merge((String) a[1], 1L, Long::sum);
                        pingPongs++;
                    }
                } else if (ev.type() == KmemEvent.MM_PAGE_ALLOC) {
                    pageAllocEvents++;
                }
                rp.replay(ev);
            }
            assertEquals(0, rp.modelObjectFailures());
            assertEquals(expected.size(), rp.callSites().size());
            long hits = 0;
            long req = 0;
            long alloc = 0;
            for (final KmemReplayer.CallSiteStats s : rp.callSites()) {
                final long[] e = expected.get(s.site());
                assertEquals(e[0], s.hits(), s.site());
                assertEquals(e[1], s.bytesReq(), s.site());
                assertEquals(pingPong.getOrDefault(s.site(), 0L), s.pingPong(), s.site());
                assertTrue(s.bytesAlloc() >= s.bytesReq(), s.site());
                hits += s.hits();
                req += s.bytesReq();
                alloc += s.bytesAlloc();
            }
            long cacheAllocs = 0;
            long cacheReq = 0;
            long cacheAlloc = 0;
            for (final KmemReplayer.CacheStats c : rp.caches()) {
                cacheAllocs += c.allocs();
                cacheReq += c.bytesReq();
                cacheAlloc += c.bytesAlloc();
            }
            assertEquals(cacheAllocs, hits);
            assertEquals(cacheReq, req);
            assertEquals(cacheAlloc, alloc);
            long pageAllocs = 0;
            for (int o = 0; o < Timeline.ORDERS; o++) {
                pageAllocs += rp.pageAllocs(o);
            }
            assertEquals(pageAllocEvents - rp.kernelPageFailures() - rp.modelPageFailures(), pageAllocs);
            assertTrue(rp.objectFrees() > 0);
            assertEquals(pingPongs, rp.pingPongs());
            assertTrue(pingPongs > 0 && pingPongs < rp.objectFrees(), pingPongs + " of " + rp.objectFrees());
        }
    }

    @Test
    void aFreeOnAnotherCpuIsAPingPongOfTheAllocatingSite() throws IOException {
        final String trace = String.join("\n",
            " a-1 [000] ..... 1.000001: kmalloc: call_site=alpha+0x1/0x10 ptr=0000000000000010 bytes_req=64"
                + " bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1 accounted=false",
            " a-1 [000] ..... 1.000002: kmalloc: call_site=alpha+0x1/0x10 ptr=0000000000000020 bytes_req=64"
                + " bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1 accounted=false",
            " a-1 [003] ..... 1.000003: kmalloc: call_site=beta+0x2/0x20 ptr=0000000000000030 bytes_req=100"
                + " bytes_alloc=128 gfp_flags=GFP_KERNEL node=-1 accounted=false",
            // alpha's first object freed on CPU 1 (ping-pong), its second on CPU 0 (not)
            " b-2 [001] ..... 1.000004: kfree: call_site=gamma+0x3/0x30 ptr=0000000000000010",
            " a-1 [000] ..... 1.000005: kfree: call_site=gamma+0x3/0x30 ptr=0000000000000020",
            // beta's object freed on CPU 2 (ping-pong), then a pointer never allocated here (nothing)
            " c-3 [002] ..... 1.000006: kfree: call_site=gamma+0x3/0x30 ptr=0000000000000030",
            " c-3 [002] ..... 1.000007: kfree: call_site=gamma+0x3/0x30 ptr=0000000000000040", "");
        try (Kernel k = Kernel.boot("mem=256M nr_cpus=4");
             KmemTraceReader r = new KmemTraceReader(new ByteArrayInputStream(
                 trace.getBytes(java.nio.charset.StandardCharsets.US_ASCII)), null)) {
            final KmemReplayer rp = new KmemReplayer(k.params(), k.buddy(), k.slab(), k.cpus());
            final KmemEvent ev = new KmemEvent();
            while (r.next(ev)) {
                rp.replay(ev);
            }
            final Map<String, Long> got = new HashMap<>();
            for (final KmemReplayer.CallSiteStats s : rp.callSites()) {
                got.put(s.site(), s.pingPong());
            }
            assertEquals(Map.of("alpha+0x1/0x10", 1L, "beta+0x2/0x20", 1L), got);
            assertEquals(2, rp.pingPongs());
            assertEquals(3, rp.objectFrees());
            assertEquals(1, rp.preCaptureObjectFrees());
        }
    }
}
