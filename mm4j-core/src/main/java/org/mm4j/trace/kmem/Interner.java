package org.mm4j.trace.kmem;

import java.util.Arrays;
import java.nio.charset.StandardCharsets;

/**
 * A small open-addressing table from byte strings to an interned String or an int, so that the cache names and
 * gfp strings of millions of lines cost one allocation each. Bounded: past {@link #MAX} entries it stops
 * caching (hostile input with a new name on every line then allocates, but memory stays bounded). For the fast
 * path's lines read before their end is known, a guess of the key at a place from the bytes there
 * ({@link #guess}: the call site, without looking for its end). Threading: the reader's thread only.
 */
final class Interner {
    static final int MISSING = Integer.MIN_VALUE;
    static final int MAX = 1 << 15;
    private byte[][] keys = new byte[256][];
    private String[] strings = new String[256];
    private int[] ints = new int[256];
    private int[] ids = new int[256];
    private int size;
    /** The id of the string {@link #string} returned last. */
    int lastId = -1;

    /** The hash {@link #find} uses: the length and up to the first and the last 8 bytes. */
    static int hash(final byte[] b, final int off, final int len) {
        long h = len * 0x9E3779B97F4A7C15L;
        if (len >= 8) {
            h ^= (long) KmemLineParser.LONGS.get(b, off) * 0xC2B2AE3D27D4EB4FL;
            h = Long.rotateLeft(h, 29) ^ (long) KmemLineParser.LONGS.get(b, off + len - 8) * 0x165667B19E3779F9L;
        } else {
            for (int i = off; i < off + len; i++) {
                h = (h ^ b[i]) * 0x100000001B3L;
            }
        }
        h *= 0x9E3779B97F4A7C15L;
        return (int) (h ^ h >>> 32);
    }

    String string(final byte[] b, final int off, final int len) {
        return string(b, off, len, hash(b, off, len));
    }

    /**
     * The interned string of the bytes; its id ({@link #lastId}: 0, 1, 2... in order of first sight, -1 when
     * the table is full and the string is not interned) in {@link #lastId}.
     */
    String string(final byte[] b, final int off, final int len, final int hash) {
        final int i = find(b, off, len, hash);
        if (keys[i] != null) {
            if (strings[i] == null) {
                strings[i] = new String(b, off, len, StandardCharsets.ISO_8859_1);
            }
            lastId = ids[i];
            return strings[i];
        }
        final String s = new String(b, off, len, StandardCharsets.ISO_8859_1);
        lastId = -1;
        if (size < MAX) {
            lastId = size;
            ids[i] = size;
            strings[i] = s;
            insert(i, b, off, len);
        }
        return s;
    }

    /** The interned string of the bytes (its id in {@link #lastId}) when they are interned; else null (adds none). */
    String known(final byte[] b, final int off, final int len, final int hash) {
        final int i = find(b, off, len, hash);
        final String s = strings[i];
        if (keys[i] == null || s == null) {
            return null;
        }
        lastId = ids[i];
        lastKey = keys[i];
        lastString = s;
        return s;
    }

    // ---- guesses: a token found from the bytes at its start, before its end is known ---------------------------

    /** Bytes a guess is found by: the token's first 24, or fewer and what follows it on its line. */
    static final int GUESS_BYTES = 24;
    private static final int GUESS_BITS = 9;
    /**
     * Per hash of the {@link #GUESS_BYTES} bytes at a token's start ({@link #guessSlot}): up to two keys
     * {@link #remember}ed there (ways {@code 2 * slot} and {@code 2 * slot + 1}). A guess is taken only when the
     * bytes after it are exactly the key and a blank ({@link #guess}). Two keys that share their first bytes (a
     * function's allocating and freeing call sites, {@code getname_flags.part.0+0x25/0x1c0} and {@code +0x2e/0x60})
     * take turns in one slot: the byte where they first differ (the blank after the shorter one counting as its
     * byte) tells which of the two to compare, so neither evicts the other.
     */
    private final Guess[] guessWays = new Guess[2 << GUESS_BITS];
    /**
     * Per slot: 0 with one key; else 1 + the index at which the two keys first differ (bits 0-15) and way 0's byte
     * there (bits 16-23; a blank when way 0's key ends there).
     */
    private final int[] guessAt = new int[1 << GUESS_BITS];
    /** Per id: its guess (made on its first {@link #remember}), so that a key's guess is made once. */
    private Guess[] guessById = new Guess[64];
    /** What {@link #known} found last, for {@link #remember}. */
    private byte[] lastKey;
    private String lastString;
    /** The end (the blank after the token) {@link #guess} found last. */
    int lastEnd;
    /** The way {@link #guess} compared last. */
    private int lastWay;

    /** A key a guess takes: its bytes (a copy, beside it in memory), string and id. */
    private static final class Guess {
        final byte[] key;
        final String string;
        final int id;

        Guess(final byte[] key, final String string, final int id) {
            this.key = key;
            this.string = string;
            this.id = id;
        }
    }

    /** The guess slot of the {@link #GUESS_BYTES} bytes at {@code off} (all of them in {@code b}). */
    static int guessSlot(final byte[] b, final int off) {
        final long h = ((long) KmemLineParser.LONGS.get(b, off) * 0x9E3779B97F4A7C15L
            ^ (long) KmemLineParser.LONGS.get(b, off + 8)) * 0xC2B2AE3D27D4EB4FL
            ^ (long) KmemLineParser.LONGS.get(b, off + 16) * 0x165667B19E3779F9L;
        return (int) (h >>> (64 - GUESS_BITS));
    }

    /**
     * The string of a key of slot {@code slot} when {@code b} holds exactly that key at {@code off} and a blank
     * after it, before {@code limit} (its id in {@link #lastId}, the blank's index in {@link #lastEnd}); else null.
     * Of two keys, the one the byte at the slot's {@code guessAt} picks is compared.
     */
    String guess(final byte[] b, final int off, final int limit, final int slot) {
        final int d = guessAt[slot];
        int way = slot << 1;
        if (d != 0 && off + (d & 0xffff) <= limit && b[off + (d & 0xffff) - 1] != (byte) (d >>> 16)) {
            way++;
        }
        lastWay = way;
        final Guess g = guessWays[way];
        if (g == null) {
            return null;
        }
        final byte[] k = g.key;
        final int e = off + k.length;
        if (e >= limit || b[e] != ' ' || !Arrays.equals(k, 0, k.length, b, off, e)) {
            return null;
        }
        lastId = g.id;
        lastEnd = e;
        return g.string;
    }

    /**
     * Makes what {@link #known} found last a guess of {@code slot}: beside the slot's one key, or in place of the
     * key {@link #guess} compared last for this slot (the one the line's bytes picked) when it has two. A key that is
     * not interned (the table is full: no id) is not made a guess.
     */
    void remember(final int slot) {
        final int id = lastId;
        if (id < 0) {
            return;
        }
        if (id >= guessById.length) {
            guessById = Arrays.copyOf(guessById, Math.max(id + 1, guessById.length * 2));
        }
        Guess g = guessById[id];
        if (g == null) {
            g = new Guess(lastKey.clone(), lastString, id);
            guessById[id] = g;
        }
        int way = slot << 1;
        if ((lastWay >>> 1) == slot) {
            way = lastWay;
            if (guessAt[slot] == 0 && guessWays[way] != null) {
                way++; // one key so far (in way 0): the new one goes beside it
            }
        }
        guessWays[way] = g;
        final Guess g0 = guessWays[slot << 1];
        final Guess g1 = guessWays[(slot << 1) + 1];
        if (g0 == null || g1 == null) {
            guessAt[slot] = 0;
            return;
        }
        final int m = Arrays.mismatch(g0.key, g1.key);
        if (m < 0 || m >= 0xffff) {
            // the same key in both ways (or keys alike for longer than a guess tells apart): keep one
            guessWays[(slot << 1) + 1] = null;
            guessAt[slot] = 0;
            return;
        }
        guessAt[slot] = m + 1 | ((m < g0.key.length ? g0.key[m] : ' ') & 0xff) << 16;
    }

    int intValue(final byte[] b, final int off, final int len, final int hash) {
        final int i = find(b, off, len, hash);
        return keys[i] != null ? ints[i] : MISSING;
    }

    void putInt(final byte[] b, final int off, final int len, final int hash, final int v) {
        final int i = find(b, off, len, hash);
        if (keys[i] == null) {
            if (size >= MAX) {
                return;
            }
            ints[i] = v;
            insert(i, b, off, len);
        } else {
            ints[i] = v;
        }
    }

    /** Takes slot {@code i} for the bytes; the slot's string, int and id must be set before (a grow moves them). */
    private void insert(final int i, final byte[] b, final int off, final int len) {
        keys[i] = java.util.Arrays.copyOfRange(b, off, off + len);
        size++;
        if (size * 2 > keys.length) {
            grow();
        }
    }

    private int find(final byte[] b, final int off, final int len, final int hash) {
        final int mask = keys.length - 1;
        int i = hash & mask;
        byte[] k;
        while ((k = keys[i]) != null && (k.length != len || !java.util.Arrays.equals(k, 0, len, b, off,
            off + len))) {
            i = (i + 1) & mask;
        }
        return i;
    }

    private void grow() {
        final byte[][] oldK = keys;
        final String[] oldS = strings;
        final int[] oldI = ints;
        final int[] oldIds = ids;
        keys = new byte[oldK.length * 2][];
        strings = new String[oldK.length * 2];
        ints = new int[oldK.length * 2];
        ids = new int[oldK.length * 2];
        for (int j = 0; j < oldK.length; j++) {
            if (oldK[j] != null) {
                final int i = find(oldK[j], 0, oldK[j].length, hash(oldK[j], 0, oldK[j].length));
                keys[i] = oldK[j];
                strings[i] = oldS[j];
                ints[i] = oldI[j];
                ids[i] = oldIds[j];
            }
        }
    }
}
