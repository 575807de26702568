package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SpscRingTest {
    /** Bytes between two index words of the ring's array. */
    private static int apart(final int i, final int j) {
        return Math.abs(i - j) * Long.BYTES;
    }

    @Test
    void eachSidesWordsArePairsOfLinesAwayFromWhatTheOtherSidePolls() {
        // the producer writes TAIL_LOCAL per object (and HEAD_CACHE when full), publishes TAIL per batch; the consumer
        // writes TAIL_CACHE and publishes HEAD per batch; each side polls the other's published word
        final int[] producerWrites = {SpscRing.TAIL_LOCAL, SpscRing.HEAD_CACHE, SpscRing.TAIL};
        final int[] consumerWrites = {SpscRing.TAIL_CACHE, SpscRing.HEAD};
        for (final int p : producerWrites) {
            for (final int c : consumerWrites) {
                assertTrue(apart(p, c) >= 128, "producer word " + p + " and consumer word " + c + ": " + apart(p, c)
                    + " bytes apart (expected: >= 128, whatever the array's alignment)");
            }
        }
        // a published word is alone: the publishing side's private words are not on its lines either
        assertTrue(apart(SpscRing.TAIL, SpscRing.HEAD_CACHE) >= 128 && apart(SpscRing.TAIL, SpscRing.TAIL_LOCAL) >= 128,
            "the producer's own words must not share the published tail's lines");
        assertTrue(apart(SpscRing.HEAD, SpscRing.TAIL_CACHE) >= 128,
            "the consumer's own words must not share the published head's lines");
        // and nothing next to the array shares them: the array's header (16 bytes) counts toward the first gap
        final int first = Math.min(SpscRing.HEAD, SpscRing.TAIL_CACHE);
        assertTrue(16 + first * Long.BYTES >= 128, "first word at byte " + (16 + first * Long.BYTES));
    }

    @Test
    void carriesObjectsInOrderAndPublishesOnlyWhatTheProducerPublished() {
        final SpscRing r = new SpscRing(8);
        for (int k = 0; k < 5; k++) {
            r.addrs[k & r.mask] = 100 + k;
            r.spTail(k + 1);
        }
        assertEquals(0, r.lvTail(), "the tail is not published before soTail");
        r.soTail(r.lpTail());
        assertEquals(5, r.lvTail());
        for (long h = r.lpHead(); h < r.lvTail(); h++) {
            assertEquals(100 + h, r.addrs[(int) h & r.mask]);
        }
        r.soHead(5);
        assertEquals(5, r.lvHead());
        assertEquals(0, r.lpHeadCache(), "the producer's head cache changes only when it re-reads the head");
    }

    @Test
    void capacityMustBeAPowerOfTwo() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SpscRing(12));
        assertTrue(e.getMessage().contains("capacity=12"), e.getMessage());
    }
}
