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
 * <p>Layout: the four indexes live in one {@code long[]}, consumer's line (head, its tail cache) and producer's
 * line (tail, its head cache) 128 bytes apart and 64 bytes away from the array header (no false sharing).
 */
final class SpscRing {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int HEAD = 8;
    private static final int TAIL_CACHE = 9;
    private static final int TAIL = 24;
    private static final int HEAD_CACHE = 25;
    private static final int TAIL_LOCAL = 26;

    final long[] addrs;
    final Object[] refs;
    final int mask;
    private final long[] idx = new long[40];

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
