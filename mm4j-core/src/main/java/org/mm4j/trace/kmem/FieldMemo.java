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

    /**
     * A remembered tail: its bytes, its line's type and the values read from it, in one object (made with its bytes,
     * so that a hit reads one or two cache lines, not one per field).
     */
    private static final class Tail {
        final byte[] key;
        final int type;
        /** bytes_req, or order. */
        final long first;
        /** bytes_alloc, or migratetype. */
        final long second;
        final int gfp;
        final int node;
        final String name;
        final int nameId;

        Tail(final byte[] key, final int type, final KmemEvent ev) {
            this.key = key;
            this.type = type;
            final boolean page = type == KmemEvent.MM_PAGE_ALLOC;
            first = page ? ev.order : ev.bytesReq;
            second = page ? ev.migratetype : ev.bytesAlloc;
            gfp = ev.gfp;
            node = ev.node;
            name = ev.cacheName;
            nameId = ev.cacheNameId;
        }
    }

    private final Tail[] slots = new Tail[SLOTS];
    private final int[] hashes = new int[SLOTS];
    private int size;
    /**
     * Per slab event type and call site id (a few collide), in one word: the key the tail last found with them was
     * found with ({@code site << 2 | type}, high half) and its slot + 1 (low half; 0: none). A guess only: a line's tail is taken from
     * it only when its bytes and the newline after them are there ({@link #endOf}).
     */
    private static final int GUESSES = 1 << 12;
    private final long[] guesses = new long[GUESSES];

    /** The slot of the tail {@code [from, to)} of a line of {@code type}, or -1 when it is not remembered. */
    int find(final byte[] b, final int from, final int to, final int type, final int hash) {
        final int len = to - from;
        int i = hash & (SLOTS - 1);
        Tail t;
        while ((t = slots[i]) != null) {
            if (hashes[i] == hash && t.type == type && t.key.length == len
                && Arrays.equals(t.key, 0, len, b, from, to)) {
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
        while (slots[i] != null) {
            i = (i + 1) & (SLOTS - 1);
        }
        hashes[i] = hash;
        slots[i] = new Tail(Arrays.copyOfRange(b, from, to), type, ev);
        size++;
    }

    /** Copies the values remembered in slot {@code i} (from {@link #find}) into {@code ev}. */
    void load(final int i, final KmemEvent ev) {
        final Tail t = slots[i];
        if (t.type == KmemEvent.MM_PAGE_ALLOC) {
            ev.order = (int) t.first;
            ev.migratetype = (int) t.second;
        } else {
            ev.bytesReq = t.first;
            ev.bytesAlloc = t.second;
            ev.node = t.node;
            ev.cacheName = t.name;
            ev.cacheNameId = t.nameId;
        }
        ev.gfp = t.gfp;
    }

    /**
     * The slot of the tail last found ({@link #predict}) for a line of {@code type} (a slab event) and call site id
     * {@code site}; -1: none.
     */
    int predicted(final int type, final int site) {
        final int key = site << 2 | type;
        final int i = key & (GUESSES - 1);
        final long g = guesses[i];
        return (int) (g >>> 32) == key ? (int) g - 1 : -1;
    }

    /** Remembers that the tail in {@code slot} was found for a line of {@code type} and call site id {@code site}. */
    void predict(final int type, final int site, final int slot) {
        final int key = site << 2 | type;
        final int i = key & (GUESSES - 1);
        guesses[i] = (long) key << 32 | slot + 1;
    }

    /**
     * Bytes of an mm_page_alloc tail its guess is found by ({@link #pageGuess}): the kernel's tails of one order and
     * migratetype share their first 32 bytes and a gfp string's first flag; they differ further on, in the flags after
     * the first ({@code GFP_HIGHUSER_MOVABLE|__GFP_COMP}, {@code |__GFP_ZERO|__GFP_COMP}, ...).
     */
    static final int PAGE_GUESS_BYTES = 64;
    private static final int PAGE_GUESS_BITS = 9;
    /** Per {@link #pageGuess}: the slot of the mm_page_alloc tail last found with it, +1 (0: none). */
    private final int[] pageGuessSlot = new int[1 << PAGE_GUESS_BITS];

    /**
     * The guess of the mm_page_alloc tail at {@code from} ({@link #PAGE_GUESS_BYTES} bytes of {@code b} from there, the
     * line's and maybe the next line's): a hash of the words at 0, 40 and 56, which tell the kernel's tails apart.
     */
    static int pageGuess(final byte[] b, final int from) {
        final long h = ((long) KmemLineParser.LONGS.get(b, from) * 0x9E3779B97F4A7C15L
            ^ (long) KmemLineParser.LONGS.get(b, from + 40)) * 0xC2B2AE3D27D4EB4FL
            ^ (long) KmemLineParser.LONGS.get(b, from + 56) * 0x165667B19E3779F9L;
        return (int) (h >>> (64 - PAGE_GUESS_BITS));
    }

    /** The slot of the mm_page_alloc tail last found with guess {@code g} ({@link #pagePredict}); -1: none. */
    int pagePredicted(final int g) {
        return pageGuessSlot[g] - 1;
    }

    /** Remembers that the mm_page_alloc tail in {@code slot} was found with guess {@code g}. */
    void pagePredict(final int g, final int slot) {
        pageGuessSlot[g] = slot + 1;
    }

    /**
     * The index of the newline after the tail of {@code slot} at {@code from}, when {@code b} holds exactly that
     * tail there and then a newline, all before {@code limit}; else -1.
     */
    int endOf(final int slot, final byte[] b, final int from, final int limit) {
        final byte[] k = slots[slot].key;
        final int e = from + k.length;
        return e < limit && b[e] == '\n' && Arrays.equals(k, 0, k.length, b, from, e) ? e : -1;
    }

    /** Tails remembered. */
    int size() {
        return size;
    }
}
