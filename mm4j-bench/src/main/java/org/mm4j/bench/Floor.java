package org.mm4j.bench;

import org.openjdk.jmh.annotations.CompilerControl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The floor rows {@code floor-long} and {@code floor-segment} (not table rows, not peers, in no target): two
 * "allocators" that do <em>no allocator work</em>, used through the same caller loops as {@code mm4j} and
 * {@code mm4j-segment} (the segment rows share their caller's side, {@link SegmentFace}). What they bound, on
 * each workload of {@link CpuAb}:
 * <ul>
 * <li>{@code floor-segment} is the least any allocator handing out {@code MemorySegment}s to that caller can cost
 *     (it does less than any allocator that reuses memory), so {@code floor-segment / mm4j} is a lower bound of
 *     {@code mm4j-segment / mm4j}: where it reaches 1.3, no segment allocator over any {@code kmalloc} as fast as
 *     mm4j's can meet the 1.3x target;</li>
 * <li>{@code floor-segment - floor-long} is the FFM face's own cost (the caller's reference store, the view, the
 *     access checks of the writes, reading the address back) <em>where nothing else is in flight</em>: the bound
 *     {@code mm4j-segment >= mm4j + (floor-segment - floor-long)} holds only if costs add, and on an out-of-order
 *     core they need not (the face's loads overlap with {@code kmalloc}/{@code kfree}'s own), which
 *     {@link FloorBound} shows ("own", negative where they overlap);</li>
 * <li>{@code mm4j - floor-long} is {@code kmalloc}/{@code kfree}'s own work.</li>
 * </ul>
 *
 * <p>What they do: objects sit in one native region per power-of-two size class (8 B to 8 KiB, {@value #OBJECTS}
 * objects each, from a shared arena, written once at construction so no first touch falls in a measurement), and
 * a pre-filled stack of their addresses per class stands for the allocator: an allocation pops the top address, a
 * free pushes one back (LIFO like mm4j's sheaves, so the same objects come back hot). No statistics, no checks
 * (a double or invalid free corrupts the stack; the class of a size is its highest bit, the only computation).
 * <ul>
 * <li>{@link Longs} ({@code floor-long}): returns native addresses, frees by address and size; written as the
 *     {@code mm4j} row writes (through {@link Memory#EVERYTHING}; {@code mm4j} adds its kernel-to-native
 *     translation, one compare and one add);</li>
 * <li>{@link Segments} ({@code floor-segment}): the same stacks behind a {@code MemorySegment} face with the
 *     {@code mm4j-segment} row's caller shapes (the segment kept in {@code refs[slot]}, written through it, freed by
 *     it). {@code allocate} hands out, for a size it last made a view of in that class and that the object's
 *     cached view has, that cached view (one slot per object: no collisions, no key array), else a new view of
 *     exactly the size asked (the {@link java.lang.foreign.SegmentAllocator} contract), kept for the object;
 *     {@code free} reads the address and size back from the segment. The views are slices of the class's region,
 *     so they have the arena's shared scope, as {@code mm4j-segment}'s have the model memory's.</li>
 * </ul>
 * Not a bound on the machine: an allocator could beat a row here by doing less than the stacks do (no size
 * class), but not while it hands out and takes back individual objects of reused memory.
 *
 * <p>Threads: one thread only (the one that binds CPU 0; a second {@link #bindThread} is refused): the stacks are
 * plain arrays and fields, as a sheaf's are for its owner. Not for the remote-free workload.
 */
abstract sealed class Floor implements Allocator permits Floor.Longs, Floor.Segments {
    /** Objects per size class: a ring's 1,025 live objects or a batch's 1,024 fit, with room. */
    static final int OBJECTS = 2048;
    /** Size classes 0..13: sizes up to 1, 2, 4, 8, ..., 8192 bytes (objects of at least 8 bytes). */
    static final int CLASSES = 14;
    static final long MAX_SIZE = 1L << (CLASSES - 1);
    /**
     * Ablations (read once per class loader, so each {@link CpuAb} variant may set its own; empty = the row as
     * described): {@code -Dmm4j.floor.ablate=} {@code ref-store} ({@code floor-long} also stores an object in
     * {@code refs[slot]} and clears it at the free, as a segment row does: the GC's write barriers alone),
     * {@code no-cache} ({@code floor-segment} makes a new view at every allocation), {@code keys} (its cache is
     * checked by a per-object key array instead of the view's size), {@code raw-writes} (its writes go through
     * the native address, without the segment's access checks).
     */
    static final String ABLATE = System.getProperty("mm4j.floor.ablate", "");
    private static final boolean REF_STORE = ABLATE.equals("ref-store");
    private static final boolean NO_CACHE = ABLATE.equals("no-cache");
    private static final boolean KEYS = ABLATE.equals("keys");
    private static final boolean RAW_WRITES = ABLATE.equals("raw-writes");

    private final String name;
    private final Arena arena = Arena.ofShared();
    /** The stack of each size class, made at its first use. */
    final Stack[] stacks = new Stack[CLASSES];

    /** One size class: its region, the stack of its free objects' addresses, and (segment face) its views. */
    static final class Stack {
        /** Free objects' native addresses; {@code objects[size - 1]} is the top. */
        final long[] objects = new long[OBJECTS];
        int size;
        final MemorySegment region;
        final long base;
        final int shift;
        /** {@link Segments}: the view last made of each object (by index), or null. */
        final MemorySegment[] views;
        /** {@link Segments}: the size last asked of this class (the view cache's gate, as mm4j's). */
        long lastViewSize;
        /** {@link Segments} with the {@code keys} ablation: the size of each object's cached view, or 0. */
        final long[] viewSizes;

        Stack(final Arena arena, final int shift, final boolean views) {
            this.shift = shift;
            final long stride = 1L << shift;
            this.region = arena.allocate(stride * OBJECTS, 4096);
            region.fill((byte) 0);  // first touch here, not in the measurement
            this.base = region.address();
            for (int i = 0; i < OBJECTS; i++) {
                objects[i] = base + (OBJECTS - 1 - i) * stride;  // the lowest address on top
            }
            this.size = OBJECTS;
            this.views = views ? new MemorySegment[OBJECTS] : null;
            this.viewSizes = views && KEYS ? new long[OBJECTS] : null;
        }
    }

    Floor(final String name) {
        this.name = name;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final void bindThread(final int cpu) {
        if (cpu != 0) {
            throw new UnsupportedOperationException(name + ": bindThread(" + cpu + "): a floor row runs on one"
                + " thread only (its stacks have no owner check and no lock; not for the remote-free workload)");
        }
    }

    /** The size class of {@code byteSize}: {@code ceil(log2(byteSize))}. */
    static int sizeClass(final long byteSize) {
        return 64 - Long.numberOfLeadingZeros(byteSize - 1);
    }

    /** The stack of {@code byteSize}'s class (made at its first use). */
    final Stack stack(final long byteSize) {
        if (byteSize <= 0 || byteSize > MAX_SIZE) {
            throw new IllegalArgumentException(name + ": byteSize=" + byteSize + " (expected: 1.." + MAX_SIZE + ")");
        }
        final Stack s = stacks[sizeClass(byteSize)];
        return s != null ? s : newStack(byteSize);
    }

    private Stack newStack(final long byteSize) {
        final int c = sizeClass(byteSize);
        final Stack s = new Stack(arena, Math.max(c, 3), this instanceof Segments);
        stacks[c] = s;
        return s;
    }

    /** Pops a free object of {@code s}: its native address. */
    final long pop(final Stack s) {
        final int n = s.size - 1;
        if (n < 0) {
            throw new IllegalStateException(name + ": all " + OBJECTS + " objects of " + (1L << s.shift)
                + " bytes are live");
        }
        s.size = n;
        return s.objects[n];
    }

    /** Pushes the object at native address {@code address} back on {@code s}. */
    static void push(final Stack s, final long address) {
        final int n = s.size;
        s.objects[n] = address;  // past OBJECTS: more frees than allocations, an exception
        s.size = n + 1;
    }

    @Override
    public final void close() {
        arena.close();
    }

    /** Row {@code floor-long}: native addresses, freed by address and size. */
    static final class Longs extends Floor {
        Longs(final String name) {
            super(name);
        }

        private final Object held = new Object();

        @Override
        public long alloc(final long byteSize, final Object[] refs, final int slot) {
            if (REF_STORE) {
                refs[slot] = held;
            }
            return pop(stack(byteSize));
        }

        @Override
        public void free(final long address, final long byteSize, final Object[] refs, final int slot) {
            push(stack(byteSize), address);
            if (REF_STORE) {
                refs[slot] = null;
            }
        }
    }

    /** Row {@code floor-segment}: the same stacks behind {@code MemorySegment}s, with mm4j-segment's shapes. */
    static final class Segments extends Floor implements SegmentRow {
        Segments(final String name) {
            super(name);
        }

        /** A segment of exactly {@code byteSize} bytes (the cached view of the object, or a new one). */
        @Override
        public MemorySegment allocate(final long byteSize) {
            final Stack s = stack(byteSize);
            final long address = pop(s);
            final long offset = address - s.base;
            if (NO_CACHE || byteSize != s.lastViewSize) {  // sizes that vary: a new view, the cache left alone
                s.lastViewSize = byteSize;
                return s.region.asSlice(offset, byteSize);
            }
            final MemorySegment[] vs = s.views;
            final int i = (int) (offset >>> s.shift) & (vs.length - 1);
            if (KEYS) {
                final long[] k = s.viewSizes;
                if (k[i & (k.length - 1)] == byteSize) {
                    return vs[i];
                }
                k[i & (k.length - 1)] = byteSize;
            } else {
                final MemorySegment v = vs[i];
                if (v != null && v.byteSize() == byteSize) {
                    return v;
                }
            }
            final MemorySegment n = s.region.asSlice(offset, byteSize);
            vs[i] = n;
            return n;
        }

        /**
         * Gives back a segment {@link #allocate} returned: its address and size read back (the size, which
         * {@code allocate} checked, finds the class; a segment of another size class is not checked: a floor).
         */
        @Override
        public void free(final MemorySegment segment) {
            push(stacks[sizeClass(segment.byteSize())], segment.address());
        }

        @Override
        public long alloc(final long byteSize, final Object[] refs, final int slot) {
            return SegmentFace.hold(allocate(byteSize), refs, slot);
        }

        @Override
        public void free(final long address, final long byteSize, final Object[] refs, final int slot) {
            free(SegmentFace.held(refs, slot));
            refs[slot] = null;
        }

        /** As {@code mm4j-segment}'s: the segment in a local (docs/speed-history.md, "Ninth pass (issue 13)"). */
        @Override
        @CompilerControl(CompilerControl.Mode.INLINE)
        public void allocWriteFree(final long byteSize, final long value, final Object[] refs,
                                   final org.openjdk.jmh.infra.Blackhole bh) {
            final MemorySegment m = allocate(byteSize);
            if (RAW_WRITES) {
                final long a = m.address();
                Memory.EVERYTHING.set(Memory.LONG, a, value);
                Memory.EVERYTHING.set(Memory.LONG, a + byteSize - 8, value);
            } else {
                SegmentFace.write8(m, byteSize, value);
            }
            bh.consume(m);
            free(m);
        }

        @Override
        public void write8(final long address, final long byteSize, final Object[] refs, final int slot,
                           final long value) {
            if (RAW_WRITES) {
                final long a = SegmentFace.held(refs, slot).address();
                Memory.EVERYTHING.set(Memory.LONG, a, value);
                Memory.EVERYTHING.set(Memory.LONG, a + byteSize - 8, value);
                return;
            }
            SegmentFace.write8(byteSize, refs, slot, value);
        }

        @Override
        public long read8(final long address, final long byteSize, final Object[] refs, final int slot,
                          final long offset) {
            return SegmentFace.read8(refs, slot, offset);
        }
    }
}
