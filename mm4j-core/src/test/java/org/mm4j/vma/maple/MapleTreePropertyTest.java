package org.mm4j.vma.maple;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The maple tree against a plain reference (a TreeMap of non-NULL ranges) under random programs of stores,
 * erases and wide NULL stores (spanning stores): after every operation {@link MapleTree#validate()} holds (pivots
 * increase within and across nodes, every gap equals the real largest gap below it, node fill between
 * {@code mt_min_slots} and the slot count except the root, parent pointers, all leaves at one depth, no
 * sequential NULLs), the entries equal the reference's, and the gap searches equal a brute-force scan.
 */
class MapleTreePropertyTest {
    /** kind 0 = store a new entry over [a, a+len], 1 = erase the arg-th entry, 2 = NULL over [a, a+len]. */
    record Op(int kind, long a, long len, int arg) {
    }

    /** A reference range: [first, last] holds value. */
    record Range(long first, long last, Object value) {
    }

    private static final long UNIVERSE = 20_000;

    @Provide
    Arbitrary<List<Op>> programs() {
        final Arbitrary<Integer> kind = Arbitraries.frequency(Tuple.of(12, 0), Tuple.of(6, 1), Tuple.of(1, 2));
        final Arbitrary<Long> len = Arbitraries.frequencyOf(Tuple.of(10, Arbitraries.longs().between(0, 20)),
            Tuple.of(2, Arbitraries.longs().between(21, 400)), Tuple.of(1, Arbitraries.longs().between(401, 6000)));
        return Combinators.combine(kind, Arbitraries.longs().between(0, UNIVERSE), len,
                Arbitraries.integers().between(0, 1 << 20))
            .as(Op::new).list().ofMinSize(1).ofMaxSize(400);
    }

    /** The reference store: cut what overlaps [first, last], then put the new range (unless NULL). */
    static void refStore(final TreeMap<Long, Range> ref, final long first, final long last, final Object value) {
        final Map.Entry<Long, Range> below = ref.floorEntry(first);
        if (below != null && below.getValue().last() >= first) {
            final Range r = below.getValue();
            ref.remove(r.first());
            if (r.first() < first) {
                ref.put(r.first(), new Range(r.first(), first - 1, r.value()));
            }
            if (r.last() > last) {
                ref.put(last + 1, new Range(last + 1, r.last(), r.value()));
            }
        }
        while (true) {
            final Map.Entry<Long, Range> e = ref.ceilingEntry(first);
            if (e == null || e.getKey() > last) {
                break;
            }
            final Range r = e.getValue();
            ref.remove(r.first());
            if (r.last() > last) {
                ref.put(last + 1, new Range(last + 1, r.last(), r.value()));
            }
        }
        if (value != null) {
            ref.put(first, new Range(first, last, value));
        }
    }

    static void assertSameContents(final MapleTree<Object> mt, final TreeMap<Long, Range> ref) {
        final MaState mas = new MaState().set(0);
        for (final Range r : ref.values()) {
            final Object e = mt.find(mas, MapleTree.ULONG_MAX);
            assertSame(r.value(), e, () -> "entry at " + r);
            assertEquals(r.first(), mas.index, () -> "first of " + r);
            assertEquals(r.last(), mas.last, () -> "last of " + r);
            mas.set(mas.last + 1);
        }
        assertNull(mt.find(mas, MapleTree.ULONG_MAX), "no entry past the reference's last");
    }

    /** Brute force: the highest (rev) or lowest start of {@code size} free indices inside [min, max], or -1. */
    static long bruteArea(final TreeMap<Long, Range> ref, final long min, final long max, final long size,
                          final boolean rev) {
        long best = -1;
        long freeFrom = 0;
        final List<long[]> gaps = new ArrayList<>();
        for (final Range r : ref.values()) {
            if (r.first() > freeFrom) {
                gaps.add(new long[] {freeFrom, r.first() - 1});
            }
            freeFrom = r.last() + 1;
        }
        gaps.add(new long[] {freeFrom, Long.MAX_VALUE});
        for (final long[] g : gaps) {
            final long a = Math.max(g[0], min);
            final long b = Math.min(g[1], max);
            if (a <= b && b - a + 1 >= size) {
                if (!rev) {
                    return a;
                }
                best = b - size + 1;
            }
        }
        return best;
    }

    private static void checkAreas(final MapleTree<Object> mt, final TreeMap<Long, Range> ref,
                                   final SplittableRandom r) {
        for (int i = 0; i < 4; i++) {
            final long min = r.nextLong(UNIVERSE);
            final long max = min + r.nextLong(UNIVERSE);
            final long size = 1 + r.nextLong(i < 2 ? 30 : 3000);
            for (final boolean rev : new boolean[] {true, false}) {
                final MaState mas = new MaState();
                final int rc = rev ? mt.emptyAreaRev(mas, min, max, size) : mt.emptyArea(mas, min, max, size);
                final long want = bruteArea(ref, min, max, size, rev);
                if (want < 0) {
                    assertEquals(-MapleTree.EBUSY, rc, () -> "no area of " + size + " in " + min + "-" + max);
                } else {
                    assertEquals(0, rc);
                    assertEquals(want, mas.index, () -> (rev ? "highest" : "lowest") + " area of " + size + " in "
                        + min + "-" + max);
                    assertEquals(want + size - 1, mas.last);
                }
            }
        }
    }

    @Property(tries = 200)
    void randomProgramsKeepInvariantsAndMatchTheReference(@ForAll("programs") final List<Op> ops) {
        final MapleNodeCache cache = new MapleNodeCache();
        final MapleTree<Object> mt = new MapleTree<>(cache);
        final TreeMap<Long, Range> ref = new TreeMap<>();
        final SplittableRandom r = new SplittableRandom(ops.size());
        int id = 0;
        for (final Op op : ops) {
            switch (op.kind()) {
                case 0 -> {
                    final Object v = "e" + id++;
                    mt.store(op.a(), op.a() + op.len(), v);
                    refStore(ref, op.a(), op.a() + op.len(), v);
                }
                case 1 -> {
                    if (!ref.isEmpty()) {
                        final Range victim = new ArrayList<>(ref.values()).get(op.arg() % ref.size());
                        mt.store(victim.first(), victim.last(), null);
                        refStore(ref, victim.first(), victim.last(), null);
                    }
                }
                default -> {
                    mt.store(op.a(), op.a() + op.len(), null);
                    refStore(ref, op.a(), op.a() + op.len(), null);
                }
            }
            mt.validate();
            assertSameContents(mt, ref);
            assertEquals(mt.nodes(), cache.active(), "every node the tree holds is counted once in the cache");
        }
        checkAreas(mt, ref, r);
        for (final Range x : List.copyOf(ref.values())) {
            mt.store(x.first(), x.last(), null);
            mt.validate();
        }
        assertTrue(mt.isEmpty());
        assertEquals(0, cache.active(), "erasing everything frees every node");
    }

    @Test
    void manyAdjacentEntriesGrowTheTreeAndShrinkItBack() {
        final MapleNodeCache cache = new MapleNodeCache();
        final MapleTree<Object> mt = new MapleTree<>(cache);
        final TreeMap<Long, Range> ref = new TreeMap<>();
        final SplittableRandom r = new SplittableRandom(7);
        final int n = 5000;
        for (int i = 0; i < n; i++) {
            final long a = 0x1000L * (2 * i + 1);
            final Object v = "v" + i;
            mt.store(a, a + 0xfff, v);
            refStore(ref, a, a + 0xfff, v);
            if (i % 97 == 0) {
                mt.validate();
            }
        }
        mt.validate();
        assertSameContents(mt, ref);
        assertTrue(mt.height() >= 3, "5000 entries need three levels, height " + mt.height());
        // top-down gaps: the highest free page below the 4001st entry is the gap under it
        final MaState mas = new MaState();
        assertEquals(0, mt.emptyAreaRev(mas, 0, 0x1000L * 8001 - 1, 0x1000));
        assertEquals(0x1000L * 8000, mas.index);
        for (int k = 0; k < 200; k++) {
            final long lo = 0x1000L * r.nextInt(2 * n);
            final long hi = lo + 0x1000L * r.nextInt(300);
            mt.store(lo, hi, null); // spanning NULL stores over many leaves
            refStore(ref, lo, hi, null);
            mt.validate();
        }
        assertSameContents(mt, ref);
        for (final Range x : List.copyOf(ref.values())) {
            mt.store(x.first(), x.last(), null);
        }
        mt.validate();
        assertEquals(0, mt.height());
        assertEquals(0, cache.active());
    }

    /** A three-level tree of 600 one-index entries with one-index holes between them. */
    private static MapleTree<Object> bigTree() {
        final MapleTree<Object> mt = new MapleTree<>(new MapleNodeCache());
        for (int i = 0; i < 600; i++) {
            mt.store(2L * i + 1, 2L * i + 1, "x" + i);
        }
        mt.validate();
        return mt;
    }

    @Test
    void validateCatchesEveryKindOfCorruption() {
        final MapleTree<Object> a = bigTree();
        a.root().gap[0]++;
        assertTrue(assertThrows(IllegalStateException.class, a::validate).getMessage().contains("gap[0]"));

        final MapleTree<Object> b = bigTree();
        final MapleNode leaf = leftmostLeaf(b);
        final long t = leaf.pivot[1];
        leaf.pivot[1] = leaf.pivot[2];
        leaf.pivot[2] = t;
        assertThrows(IllegalStateException.class, b::validate, "pivots out of order");

        final MapleTree<Object> c = bigTree();
        final MapleNode child = (MapleNode) c.root().slot[1];
        child.parentSlot = 0;
        assertTrue(assertThrows(IllegalStateException.class, c::validate).getMessage().contains("parent"));

        final MapleTree<Object> d = bigTree();
        final MapleNode l = leftmostLeaf(d);
        l.slot[1] = null; // slots 0 and 2 are holes already: three NULLs in a row
        assertTrue(assertThrows(IllegalStateException.class, d::validate).getMessage().contains("sequential NULLs"));

        final MapleTree<Object> e = bigTree();
        final MapleNode lf = leftmostLeaf(e);
        lf.end = 2; // under mt_min_slots, and its range no longer reaches the parent's pivot
        assertThrows(IllegalStateException.class, e::validate, "underflow");
    }

    private static MapleNode leftmostLeaf(final MapleTree<Object> mt) {
        MapleNode n = mt.root();
        while (!n.leaf) {
            n = (MapleNode) n.slot[0];
        }
        return n;
    }

    @Test
    void findRevAndWalkReportTheRangeTheyFound() {
        final MapleTree<Object> mt = new MapleTree<>(new MapleNodeCache());
        final Object a = "a";
        final Object b = "b";
        mt.store(0x1000, 0x1fff, a);
        mt.store(0x5000, 0x6fff, b);
        final MaState mas = new MaState().set(0x4000);
        assertNull(mt.walk(mas));
        assertEquals(0x2000, mas.index);
        assertEquals(0x4fff, mas.last);
        assertSame(a, mt.findRev(mas.set(0x4fff), 0));
        assertEquals(0x1000, mas.index);
        assertSame(b, mt.find(mas.set(0x2000), MapleTree.ULONG_MAX));
        assertEquals(0x6fff, mas.last);
        assertNull(mt.find(mas.set(0x2000), 0x4fff), "nothing up to max");
        assertSame(b, mt.load(0x6fff));
        assertNull(mt.load(0x7000));
    }

    @Test
    void rangesAtTheTopOfTheIndexSpace() {
        final MapleNodeCache cache = new MapleNodeCache();
        final MapleTree<Object> mt = new MapleTree<>(cache);
        final Object top = "top";
        final Object all = "all";
        mt.store(MapleTree.ULONG_MAX - 9, MapleTree.ULONG_MAX, top);
        mt.validate();
        assertSame(top, mt.load(MapleTree.ULONG_MAX));
        final MaState mas = new MaState();
        assertEquals(0, mt.emptyAreaRev(mas, 0, MapleTree.ULONG_MAX, 1 << 20));
        assertEquals(MapleTree.ULONG_MAX - 10, mas.last, "the highest gap ends under the top entry");
        mt.store(0, MapleTree.ULONG_MAX, all);
        mt.validate();
        assertSame(all, mt.load(12345));
        assertEquals(1, mt.height());
        mt.store(0, MapleTree.ULONG_MAX, null);
        mt.validate();
        assertTrue(mt.isEmpty());
        assertEquals(0, cache.active());
        assertEquals(-MapleTree.EINVAL, mt.emptyArea(mas, 10, 5, 1), "min above max");
        assertThrows(IllegalArgumentException.class, () -> mt.store(5, 4, top));
    }
}
