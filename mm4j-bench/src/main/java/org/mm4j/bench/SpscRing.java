package org.mm4j.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded single-producer single-consumer ring of allocations (address + reference slot), carrying objects from
 * the allocating thread to the freeing thread in the remote-free workload.
 *
 * <p>Protocol (JCTools-style accessor names: lv = acquire load, so = release store, lp/sp = plain):
 * the producer fills slot {@code tail & mask} (both arrays, plain stores) and advances its own tail
 * ({@code spTail}); it publishes the tail ({@code soTail}) once per batch, before it waits for room and when it
 * drains; the consumer sees what is published after {@code lvTail()}, frees it, then {@code soHead(head + n)} hands
 * the slots back, also in batches. Each side caches the other's index and re-reads it only when the ring looks
 * full (producer) or empty (consumer). Batching both directions keeps the ring's own line transfers at about one
 * per batch whichever side is faster (a consumer that has caught up polls the published tail).
 *
 * <p>Layout: the indexes live in one {@code long[]}, in four groups {@value #GAP} longs (128 bytes: a pair of lines,
 * which the adjacent-line prefetcher fetches together) apart and from the array's ends, whatever the array's
 * alignment: what each side publishes (the consumer's head, the producer's tail), each alone, since the other side
 * polls it; and what each side keeps to itself (the consumer's tail cache; the producer's head cache and its own
 * tail, written per object). Until issue 13's sixth pass the producer's own tail shared the published tail's line
 * (in 6 of the 8 alignments of the array), so every poll of a consumer that had caught up took the line the
 * producer writes per object away from it (docs/speed-history.md, "Sixth pass (issue 13)").
 */
final class SpscRing {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    /** Longs between groups: 128 bytes. */
    static final int GAP = 16;
    /** Consumer publishes (per batch), producer polls when the ring looks full. */
    static final int HEAD = GAP;
    /** Consumer only. */
    static final int TAIL_CACHE = 2 * GAP;
    /** Producer publishes (per batch), consumer polls when the ring looks empty. */
    static final int TAIL = 3 * GAP;
    /** Producer only (its tail is written per object). */
    static final int HEAD_CACHE = 4 * GAP;
    static final int TAIL_LOCAL = 4 * GAP + 1;

    final long[] addrs;
    final Object[] refs;
    final int mask;
    private final long[] idx = new long[TAIL_LOCAL + 1 + GAP];

    SpscRing(final int capacity) {
        if (capacity < 1 || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity=" + capacity + " (expected: a power of two)");
        }
        addrs = new long[capacity];
        refs = new Object[capacity];
        mask = capacity - 1;
    }

    int capacity() {
        return mask + 1;
    }

    long lvHead() {
        return (long) LONGS.getAcquire(idx, HEAD);
    }

    void soHead(final long value) {
        LONGS.setRelease(idx, HEAD, value);
    }

    long lvTail() {
        return (long) LONGS.getAcquire(idx, TAIL);
    }

    void soTail(final long value) {
        LONGS.setRelease(idx, TAIL, value);
    }

    /** Producer only: its last seen head. */
    long lpHeadCache() {
        return idx[HEAD_CACHE];
    }

    void spHeadCache(final long value) {
        idx[HEAD_CACHE] = value;
    }

    /** Consumer only: its last seen tail. */
    long lpTailCache() {
        return idx[TAIL_CACHE];
    }

    void spTailCache(final long value) {
        idx[TAIL_CACHE] = value;
    }

    /** Producer only: its own tail, published or not (plain read of the field only it writes). */
    long lpTail() {
        return idx[TAIL_LOCAL];
    }

    /** Producer only: advances its own tail without publishing it. */
    void spTail(final long value) {
        idx[TAIL_LOCAL] = value;
    }

    /** Consumer only: its own head. */
    long lpHead() {
        return idx[HEAD];
    }
}
