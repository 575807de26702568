package org.mm4j.bench;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The ring workloads: {@value #LIVE} live objects; each operation allocates the new object (writing its first and
 * last 8 bytes, its handle to a Blackhole: the address, or a {@link SegmentRow}'s segment) <em>before</em> it frees
 * the oldest, so no allocator can hand the freed object straight back, and objects are freed {@value #LIVE}
 * operations after they were allocated, as in a queue, a cache or a request pipeline. ns per alloc+free pair.
 * Sizes come from a fixed sequence of {@value #SEQUENCE}, the same for every allocator ({@link Ring64Bench}: all
 * 64 B; {@link RingMixedBench}: log-uniform over 16..4096 B from seed 42).
 *
 * <p>Slots: {@value #SLOTS} = live + 1; {@link #spare} is the one free slot, where the new object goes; the
 * oldest object's slot then becomes the spare.
 */
public abstract class RingBench extends PeerState {
    static final int LIVE = 1024;
    static final int SLOTS = LIVE + 1;
    static final int SEQUENCE = 8192;

    final Object[] refs = new Object[SLOTS];
    final long[] addrs = new long[SLOTS];
    final int[] liveSize = new int[SLOTS];
    private final int[] sizes;
    /** Slot of the oldest live object. */
    int oldest;
    /** The free slot, where the next object goes. */
    int spare;
    private int cursor;

    RingBench(final int[] sizes) {
        if (sizes.length != SEQUENCE) {
            throw new IllegalArgumentException("sizes.length=" + sizes.length + " (expected: " + SEQUENCE + ")");
        }
        this.sizes = sizes;
    }

    /** The size of the {@code k}-th object allocated (0-based), the same for every allocator. */
    final int sizeOf(final long k) {
        return sizes[(int) (k & (SEQUENCE - 1))];
    }

    @Override
    protected void prepare() {
        for (int j = 0; j < LIVE; j++) {
            final int n = sizes[j];
            addrs[j] = a.alloc(n, refs, j);
            a.write8(addrs[j], n, refs, j, stamp++);
            liveSize[j] = n;
        }
        oldest = 0;
        spare = LIVE;
        cursor = LIVE;
    }

    @Override
    protected void finish() {
        for (int i = 0, o = oldest; i < LIVE; i++, o = o + 1 == SLOTS ? 0 : o + 1) {
            a.free(addrs[o], liveSize[o], refs, o);
        }
    }

    /**
     * One operation: allocate and write the new object, then free the oldest, in the row's natural form. An address
     * row keeps the {@code long} in {@link #addrs} (and whatever its {@link Allocator#alloc} keeps in {@link #refs}).
     * A {@link SegmentRow} does as a program holding segments: the new segment in a local, stored once into
     * {@link #refs} (its size into {@link #liveSize}, as the address rows store theirs), written through the local
     * and handed to {@code bh}; the oldest freed from {@code refs}. So the rows' steps differ only in the handle: no
     * address stored into {@link #addrs} (the segment has it), no {@code null} stored over the freed segment (its slot
     * is the next one written). {@link #finish} frees the live ones through {@link Allocator#free}, which reads
     * {@code refs}. Both forms are in this one method, so the JIT compiles the segment form into it and never as a
     * callee of its own (docs/speed-history.md, "Tenth pass (issue 13): the ring in JMH").
     */
    final void step(final Blackhole bh) {
        final Allocator al = a;
        final int k = cursor;
        cursor = (k + 1) & (SEQUENCE - 1);
        final int n = sizes[k];
        final int s = spare;
        if (al instanceof SegmentRow r) {  // folds to the row's class check, which the calls below need anyway
            final MemorySegment m = r.allocate(n);
            refs[s] = m;  // before the writes, as the slot form did (README: the order tried both ways)
            liveSize[s] = n;  // as the address rows' step (neither kfree nor free(MemorySegment) needs it)
            SegmentFace.write8(m, n, stamp++);
            bh.consume(m);
            final int o = oldest;
            r.free((MemorySegment) refs[o]);
            spare = o;
            oldest = o + 1 == SLOTS ? 0 : o + 1;
            return;
        }
        final long p = al.alloc(n, refs, s);
        al.write8(p, n, refs, s, stamp++);
        bh.consume(p);
        addrs[s] = p;
        liveSize[s] = n;
        final int o = oldest;
        al.free(addrs[o], liveSize[o], refs, o);
        spare = o;
        oldest = o + 1 == SLOTS ? 0 : o + 1;
    }

    static int[] constant(final int size) {
        final int[] s = new int[SEQUENCE];
        Arrays.fill(s, size);
        return s;
    }
}
