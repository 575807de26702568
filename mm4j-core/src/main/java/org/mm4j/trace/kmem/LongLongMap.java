package org.mm4j.trace.kmem;

import java.util.Arrays;

/**
 * An open-addressing hash map from {@code long} to {@code long} without boxing: linear probing, deletion by
 * backward shift (no tombstones, so a long replay's churn never degrades probing). Key 0 is reserved (the empty
 * slot), which suits hashed kernel pointers ({@code kfree(NULL)} is never stored).
 *
 * <p>Load: the table doubles when more than half its slots are taken, so probe runs stay short (on a 5 M-event
 * replay's pointers, 1.6 slots looked at per operation, against 4.6 when tables filled to three quarters). A key
 * stays one cache line away from its home slot in most cases, and a removal's backward shift moves few entries.
 *
 * <p>Bounded: the table grows up to {@code maxEntries}; past that {@link #put} refuses new keys (returns false) and
 * the caller counts them, so memory stays bounded whatever the input. The largest table is the one that holds
 * {@code maxEntries} at three quarters full: that last table may fill beyond half (never beyond three quarters), so
 * the bound is what it was before the half-full rule. Not thread-safe.
 */
final class LongLongMap {
    /** What {@link #get} returns for an absent key. */
    public static final long MISSING = Long.MIN_VALUE;
    /** What {@link #swap} returns when the key is new and the map is full (nothing stored). */
    public static final long FULL = Long.MIN_VALUE + 1;

    private final int maxEntries;
    /** Slots of the largest table: the smallest power of two that holds {@code maxEntries} at three quarters full. */
    private final int maxSlots;
    /** Key and value side by side ({@code [2i]} key, {@code [2i+1]} value): one cache line per probe. */
    private long[] slots;
    /** Slots - 1 (a power of two minus one). */
    private int mask;
    private int size;

    public LongLongMap(final int initialCapacity, final int maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries=" + maxEntries + " (expected: >= 1)");
        }
        final int cap = Integer.highestOneBit(Math.max(16, initialCapacity - 1) << 1);
        this.slots = new long[2 * cap];
        this.mask = cap - 1;
        this.maxEntries = maxEntries;
        int m = cap;
        while (m < 1 << 30 && (long) maxEntries * 4 > (long) m * 3 - 4) {
            m <<= 1;
        }
        this.maxSlots = m;
    }

    public int size() {
        return size;
    }

    public int maxEntries() {
        return maxEntries;
    }

    private static int hash(final long key) {
        final long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ h >>> 32);
    }

    /** The value of {@code key}, or {@link #MISSING}. */
    public long get(final long key) {
        checkKey(key);
        final long[] t = slots;
        final int i = find(t, key, hash(key) & mask);
        return t[2 * i] == key ? t[2 * i + 1] : MISSING;
    }

    /**
     * The slot of {@code key} in {@code t}, or the empty slot that ends its probe run, starting at {@code i}: the
     * home slot answers most lookups (the table is at most half full), so the probe loop is a method of its own,
     * entered on collisions only. The JIT then compiles that loop on its own (a hot loop gets an on-stack compile),
     * not {@link #swap} and {@link #remove} twice over, and those stay small enough to be inlined where called.
     */
    private int find(final long[] t, final long key, final int i) {
        final long k = t[2 * i];
        return k == key || k == 0 ? i : probe(t, key, i);
    }

    private int probe(final long[] t, final long key, final int home) {
        int i = home;
        long k;
        do {
            i = (i + 1) & mask;
            k = t[2 * i];
        } while (k != key && k != 0);
        return i;
    }

    /** Sets {@code key}'s value; false when the key is new and the map is full (nothing stored). */
    public boolean put(final long key, final long value) {
        return swap(key, value) != FULL;
    }

    /**
     * Sets {@code key}'s value in one probe; returns the value it replaced, {@link #MISSING} when the key was new,
     * or {@link #FULL} when it was new and the map is full (nothing stored). Values must not be {@link #MISSING}
     * or {@link #FULL} for the answer to be told apart.
     */
    public long swap(final long key, final long value) {
        checkKey(key);
        final long[] t = slots;
        final int i = find(t, key, hash(key) & mask);
        if (t[2 * i] == key) {
            final long old = t[2 * i + 1];
            t[2 * i + 1] = value;
            return old;
        }
        return insert(t, i, key, value);
    }

    /** Stores a new key in its empty slot {@code i} (see {@link #swap}); {@link #MISSING}, or {@link #FULL}. */
    private long insert(final long[] t, final int i, final long key, final long value) {
        if (size >= maxEntries) {
            return FULL;
        }
        t[2 * i] = key;
        t[2 * i + 1] = value;
        final int slotCount = mask + 1;
        if (++size * 2 > slotCount && slotCount < maxSlots || size * 4 > slotCount * 3 - 4) {
            grow();
        }
        return MISSING;
    }

    /** Removes {@code key}; returns its value, or {@link #MISSING} when absent. */
    public long remove(final long key) {
        checkKey(key);
        final long[] t = slots;
        final int i = find(t, key, hash(key) & mask);
        if (t[2 * i] == 0) {
            return MISSING;
        }
        final long old = t[2 * i + 1];
        final int next = (i + 1) & mask;
        // backward shift (in a method of its own, as the probe loop) when the probe run goes on after the hole
        final int hole = t[2 * next] == 0 ? i : shiftBack(t, i);
        t[2 * hole] = 0;
        t[2 * hole + 1] = 0;
        size--;
        return old;
    }

    /** Backward shift: pulls the later entries of the probe run into the hole at {@code i}; returns the last hole. */
    private int shiftBack(final long[] t, final int i) {
        int hole = i;
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            final long k = t[2 * j];
            if (k == 0) {
                return hole;
            }
            final int home = hash(k) & mask;
            // move k when its home is not in (hole, j] cyclically
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                t[2 * hole] = k;
                t[2 * hole + 1] = t[2 * j + 1];
                hole = j;
            }
        }
    }

    public void clear() {
        Arrays.fill(slots, 0);
        size = 0;
    }

    private static void checkKey(final long key) {
        if (key == 0) {
            throw new IllegalArgumentException("key=0 (reserved for empty slots)");
        }
    }

    private void grow() {
        final long[] old = slots;
        slots = new long[old.length * 2];
        mask = slots.length / 2 - 1;
        for (int j = 0; j < old.length; j += 2) {
            final long k = old[j];
            if (k != 0) {
                int i = hash(k) & mask;
                while (slots[2 * i] != 0) {
                    i = (i + 1) & mask;
                }
                slots[2 * i] = k;
                slots[2 * i + 1] = old[j + 1];
            }
        }
    }
}
