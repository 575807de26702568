package org.mm4j.trace.kmem;

import java.util.Arrays;

/**
 * The fast path's memory of the ends of canonical lines: the bytes after the pointer of a kmalloc, kmem_cache_alloc
 * or kmem_cache_free line ({@code name= bytes_req= bytes_alloc= gfp_flags= node= accounted=}, or {@code name=}) and
 * after the pfn of an mm_page_alloc line ({@code order= migratetype= gfp_flags=}) repeat across millions of lines
 * (one cache, one size, one gfp string), so {@link KmemLineParser} keeps what it read from each such tail once
 * and, for a later line whose tail has the same bytes and the same event type, copies the values instead of reading
 * the fields again.
 * A tail is remembered only after the fast path read it in full: the values are those it would read again.
 *
 * <p>Open addressing over the hash {@link Interner#hash} (length, first and last 8 bytes); a hit compares every
 * byte. Bounded: at most {@link #MAX} tails of at most {@link #MAX_TAIL} bytes (the kernel's tails are under 150),
 * 1 MiB of keys in all; past that, or for a longer tail, the fields are read one by one and nothing is remembered.
 * Threading: the reader's thread only.
 */
final class FieldMemo {
    /** Tails remembered at most. */
    static final int MAX = 1 << 12;
    /** Longest tail remembered, in bytes. */
    static final int MAX_TAIL = 256;
    /** Slots: a power of two, at least twice {@link #MAX}. */
    private static final int SLOTS = MAX << 1;

    private final byte[][] keys = new byte[SLOTS][];
    private final int[] hashes = new int[SLOTS];
    private final byte[] types = new byte[SLOTS];
    /** Per slot: bytes_req or order. */
    private final long[] first = new long[SLOTS];
    /** Per slot: bytes_alloc or migratetype. */
    private final long[] second = new long[SLOTS];
    private final int[] gfps = new int[SLOTS];
    private final int[] nodes = new int[SLOTS];
    private final String[] names = new String[SLOTS];
    private final int[] nameIds = new int[SLOTS];
    private int size;
    /**
     * Per slab event type and call site id (a few collide): the slot of the tail last found with them, +1 (0:
     * none), and the key it was found with ({@code site << 2 | type}). A guess only: a line's tail is taken from
     * it only when its bytes and the newline after them are there ({@link #endOf}).
     */
    private static final int GUESSES = 1 << 12;
    private final int[] guessSlot = new int[GUESSES];
    private final int[] guessKey = new int[GUESSES];

    /** The slot of the tail {@code [from, to)} of a line of {@code type}, or -1 when it is not remembered. */
    int find(final byte[] b, final int from, final int to, final int type, final int hash) {
        final int len = to - from;
        int i = hash & (SLOTS - 1);
        byte[] k;
        while ((k = keys[i]) != null) {
            if (hashes[i] == hash && types[i] == type && k.length == len
                && Arrays.equals(k, 0, len, b, from, to)) {
                return i;
            }
            i = (i + 1) & (SLOTS - 1);
        }
        return -1;
    }

    /** Remembers the values read from the tail {@code [from, to)} of a line of {@code type} (once full: no-op). */
    void put(final byte[] b, final int from, final int to, final int type, final int hash, final KmemEvent ev) {
        if (size >= MAX || to - from > MAX_TAIL || find(b, from, to, type, hash) >= 0) {
            return;
        }
        int i = hash & (SLOTS - 1);
        while (keys[i] != null) {
            i = (i + 1) & (SLOTS - 1);
        }
        hashes[i] = hash;
        types[i] = (byte) type;
        if (type == KmemEvent.MM_PAGE_ALLOC) {
            first[i] = ev.order;
            second[i] = ev.migratetype;
        } else {
            first[i] = ev.bytesReq;
            second[i] = ev.bytesAlloc;
        }
        gfps[i] = ev.gfp;
        nodes[i] = ev.node;
        names[i] = ev.cacheName;
        nameIds[i] = ev.cacheNameId;
        keys[i] = Arrays.copyOfRange(b, from, to);
        size++;
    }

    /** Copies the values remembered in slot {@code i} (from {@link #find}) into {@code ev}. */
    void load(final int i, final KmemEvent ev) {
        if (types[i] == KmemEvent.MM_PAGE_ALLOC) {
            ev.order = (int) first[i];
            ev.migratetype = (int) second[i];
        } else {
            ev.bytesReq = first[i];
            ev.bytesAlloc = second[i];
            ev.node = nodes[i];
            ev.cacheName = names[i];
            ev.cacheNameId = nameIds[i];
        }
        ev.gfp = gfps[i];
    }

    /**
     * The slot of the tail last found ({@link #predict}) for a line of {@code type} (a slab event) and call site id
     * {@code site}; -1: none.
     */
    int predicted(final int type, final int site) {
        final int key = site << 2 | type;
        final int i = key & (GUESSES - 1);
        return guessKey[i] == key ? guessSlot[i] - 1 : -1;
    }

    /** Remembers that the tail in {@code slot} was found for a line of {@code type} and call site id {@code site}. */
    void predict(final int type, final int site, final int slot) {
        final int key = site << 2 | type;
        final int i = key & (GUESSES - 1);
        guessKey[i] = key;
        guessSlot[i] = slot + 1;
    }

    /**
     * The index of the newline after the tail of {@code slot} at {@code from}, when {@code b} holds exactly that
     * tail there and then a newline, all before {@code limit}; else -1.
     */
    int endOf(final int slot, final byte[] b, final int from, final int limit) {
        final byte[] k = keys[slot];
        final int e = from + k.length;
        return e < limit && b[e] == '\n' && Arrays.equals(k, 0, k.length, b, from, e) ? e : -1;
    }

    /** Tails remembered. */
    int size() {
        return size;
    }
}
