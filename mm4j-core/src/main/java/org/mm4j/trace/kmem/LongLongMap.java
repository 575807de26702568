package org.mm4j.trace.kmem;

import java.util.Arrays;

/**
 * An open-addressing hash map from {@code long} to {@code long} without boxing: linear probing, deletion by
 * backward shift (no tombstones, so a long replay's churn never degrades probing). Key 0 is reserved (the empty
 * slot), which suits hashed kernel pointers ({@code kfree(NULL)} is never stored).
 *
 * <p>Bounded: the table grows up to {@code maxEntries}; past that {@link #put} refuses new keys (returns false) and
 * the caller counts them, so memory stays bounded whatever the input. Not thread-safe.
 */
final class LongLongMap {
    /** What {@link #get} returns for an absent key. */
    public static final long MISSING = Long.MIN_VALUE;

    private final int maxEntries;
    private long[] keys;
    private long[] values;
    private int mask;
    private int size;

    public LongLongMap(final int initialCapacity, final int maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries=" + maxEntries + " (expected: >= 1)");
        }
        final int cap = Integer.highestOneBit(Math.max(16, initialCapacity - 1) << 1);
        this.keys = new long[cap];
        this.values = new long[cap];
        this.mask = cap - 1;
        this.maxEntries = maxEntries;
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
        int i = hash(key) & mask;
        while (true) {
            final long k = keys[i];
            if (k == key) {
                return values[i];
            }
            if (k == 0) {
                return MISSING;
            }
            i = (i + 1) & mask;
        }
    }

    /** Sets {@code key}'s value; false when the key is new and the map is full (nothing stored). */
    public boolean put(final long key, final long value) {
        checkKey(key);
        int i = hash(key) & mask;
        while (true) {
            final long k = keys[i];
            if (k == key) {
                values[i] = value;
                return true;
            }
            if (k == 0) {
                break;
            }
            i = (i + 1) & mask;
        }
        if (size >= maxEntries) {
            return false;
        }
        keys[i] = key;
        values[i] = value;
        if (++size * 4 > keys.length * 3 - 4) {
            grow();
        }
        return true;
    }

    /** Removes {@code key}; returns its value, or {@link #MISSING} when absent. */
    public long remove(final long key) {
        checkKey(key);
        int i = hash(key) & mask;
        while (true) {
            final long k = keys[i];
            if (k == 0) {
                return MISSING;
            }
            if (k == key) {
                break;
            }
            i = (i + 1) & mask;
        }
        final long old = values[i];
        // backward shift: pull later entries of the probe run into the hole
        int hole = i;
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            final long k = keys[j];
            if (k == 0) {
                break;
            }
            final int home = hash(k) & mask;
            // move k when its home is not in (hole, j] cyclically
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                keys[hole] = k;
                values[hole] = values[j];
                hole = j;
            }
        }
        keys[hole] = 0;
        values[hole] = 0;
        size--;
        return old;
    }

    public void clear() {
        Arrays.fill(keys, 0);
        Arrays.fill(values, 0);
        size = 0;
    }

    private static void checkKey(final long key) {
        if (key == 0) {
            throw new IllegalArgumentException("key=0 (reserved for empty slots)");
        }
    }

    private void grow() {
        final long[] oldK = keys;
        final long[] oldV = values;
        keys = new long[oldK.length * 2];
        values = new long[oldK.length * 2];
        mask = keys.length - 1;
        for (int j = 0; j < oldK.length; j++) {
            final long k = oldK[j];
            if (k != 0) {
                int i = hash(k) & mask;
                while (keys[i] != 0) {
                    i = (i + 1) & mask;
                }
                keys[i] = k;
                values[i] = oldV[j];
            }
        }
    }
}
