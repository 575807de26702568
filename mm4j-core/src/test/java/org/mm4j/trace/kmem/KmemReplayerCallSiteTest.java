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
        }
    }
}
