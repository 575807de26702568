package org.mm4j.trace.kmem;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KmemTraceGeneratorTest {
    private static final int EVENTS = 50_000;
    private static final int LIVE = 1024;

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() {
        assertArrayEquals(KmemTraceGenerator.generate(7, 4, LIVE, 2000), KmemTraceGenerator.generate(7, 4, LIVE, 2000));
        assertFalse(java.util.Arrays.equals(KmemTraceGenerator.generate(7, 4, LIVE, 2000),
            KmemTraceGenerator.generate(8, 4, LIVE, 2000)));
    }

    @Test
    void everyLineIsAWellFormedKmemEventAndFreesFollowTheirAllocations() throws IOException {
        final byte[] trace = KmemTraceGenerator.generate(3, 4, LIVE, EVENTS);
        final long[] malformed = {0};
        final Set<Long> liveObjects = new HashSet<>();
        final Set<Long> livePfns = new HashSet<>();
        final Set<Integer> cpus = new HashSet<>();
        long matchedFrees = 0;
        long unmatchedFrees = 0;
        int maxLive = 0;
        try (KmemTraceReader r = new KmemTraceReader(new ByteArrayInputStream(trace), (l, m) -> malformed[0]++)) {
            final KmemEvent ev = new KmemEvent();
            while (r.next(ev)) {
                cpus.add(ev.cpu());
                switch (ev.type()) {
                    case KmemEvent.KMALLOC, KmemEvent.KMEM_CACHE_ALLOC -> {
                        assertTrue(ev.bytesReq() <= ev.bytesAlloc(), ev.toString());
                        assertTrue(liveObjects.add(ev.ptr()), "pointer allocated twice: " + ev);
                    }
                    case KmemEvent.KFREE, KmemEvent.KMEM_CACHE_FREE -> {
                        if (liveObjects.remove(ev.ptr())) {
                            matchedFrees++;
                        } else {
                            unmatchedFrees++;
                        }
                    }
                    case KmemEvent.MM_PAGE_ALLOC -> livePfns.add(ev.pfn());
                    default -> assertTrue(livePfns.remove(ev.pfn()), "page freed before its allocation: " + ev);
                }
                maxLive = Math.max(maxLive, liveObjects.size() + livePfns.size());
            }
            assertEquals(0, malformed[0]);
            assertEquals(EVENTS, r.events());
            assertEquals(EVENTS, r.lineNo());
            for (int t = 0; t < KmemEvent.NR_TYPES; t++) {
                assertTrue(r.events(t) > 0, KmemEvent.typeName(t));
            }
        }
        assertEquals(Set.of(0, 1, 2, 3), cpus);
        assertTrue(maxLive <= LIVE, "live set " + maxLive);
        // most frees match an allocation; a few are of objects from "before the capture" or kfree(NULL)
        assertTrue(matchedFrees > 10 * unmatchedFrees, matchedFrees + " vs " + unmatchedFrees);
        assertTrue(unmatchedFrees > 0);
    }

    @Test
    void badArgumentsAreRefusedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new KmemTraceGenerator(1, 0, LIVE))
            .getMessage().contains("nrCpus=0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new KmemTraceGenerator(1, 2, 3))
            .getMessage().contains("maxLive=3"));
    }
}
