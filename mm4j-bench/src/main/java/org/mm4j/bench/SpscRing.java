package org.mm4j.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded single-producer single-consumer ring of allocations (address + reference slot), carrying objects from
 * the allocating thread to the freeing thread in the remote-free workload.
 *
 * <p>Protocol (JCTools-style accessor names: lv = acquire load, so = release store, lp/sp = plain):
 * the producer fills slot {@code tail & mask} (both arrays, plain stores), then {@code soTail(tail + 1)}; the
 * consumer sees it after {@code lvTail()}, frees it, then {@code soHead(head + 1)} hands the slot back.
 * Each side caches the other's index and re-reads it only when the ring looks full (producer) or empty (consumer).
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

    /** Producer only: its own tail (plain read of the field only it writes). */
    long lpTail() {
        return idx[TAIL];
    }

    /** Consumer only: its own head. */
    long lpHead() {
        return idx[HEAD];
    }
}
