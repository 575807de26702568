package org.mm4j.bench;

import org.openjdk.jmh.annotations.CompilerControl;

import org.openjdk.jmh.infra.Blackhole;

/**
 * One allocator measured by the peer comparison: every workload runs the same loop over this interface, so the
 * rows differ only in the allocator behind it.
 *
 * <p>Handles: an allocation lives in a caller-owned slot {@code refs[slot]} plus the {@code long} it returns.
 * Address allocators (malloc, Unsafe, mm4j) return the native or kernel address and leave {@code refs} alone;
 * object allocators (Netty's {@code ByteBuf}, heap {@code byte[]}) keep their object in {@code refs[slot]} and
 * return its native address, or 0 for heap arrays. {@link #free} gets back the same address, size and slot.
 *
 * <p>Threads: an allocator may be used from several threads at once (the remote-free workload allocates on one
 * thread and frees on another), as its underlying library allows; {@link #bindThread} is called once by each
 * benchmark thread before its first use. Implementations must not allocate on the Java heap per call unless the
 * peer itself does (heap, Netty).
 */
public interface Allocator extends AutoCloseable {

    /** The row name in the comparison, e.g. {@code glibc-malloc}. */
    String name();

    /**
     * Allocates {@code byteSize} bytes.
     *
     * @return the allocation's address (native or kernel virtual), or 0 for an allocator without addresses
     * @throws OutOfMemoryError when the allocator has no memory left
     */
    long alloc(long byteSize, Object[] refs, int slot);

    /** Frees what {@link #alloc} returned for the same size and slot. */
    void free(long address, long byteSize, Object[] refs, int slot);

    /** Called by each thread before it allocates or frees, with a small CPU number (0, 1, ...). */
    default void bindThread(final int cpu) {
    }

    /** Creates a thread of the kind this allocator performs best on (Netty: its FastThreadLocalThread). */
    default Thread newThread(final Runnable task, final String name) {
        return new Thread(task, name);
    }

    /** The native memory an address points to when it can be written by the caller; {@code address} itself by default. */
    default long nativeAddress(final long address) {
        return address;
    }

    /**
     * Writes {@code value} into the first and the last 8 bytes of an allocation of {@code byteSize} (&gt;= 8) bytes,
     * the way a user of this allocator would: native memory through a {@link java.lang.foreign.MemorySegment}
     * over the whole address space (at {@link #nativeAddress}); object allocators override it (a heap array, a
     * Netty {@code ByteBuf}, an mm4j segment). Every workload calls it on every object it allocates.
     */
    default void write8(final long address, final long byteSize, final Object[] refs, final int slot,
                        final long value) {
        final long n = nativeAddress(address);
        Memory.EVERYTHING.set(Memory.LONG, n, value);
        Memory.EVERYTHING.set(Memory.LONG, n + byteSize - 8, value);
    }

    /**
     * The operation of {@code alloc-free-64} ({@link AllocFreeBench}), written the way a program using this
     * allocator writes allocate-write-free: allocates {@code byteSize} (&gt;= 8) bytes, writes {@code value} into
     * their first and last 8 bytes, hands the allocation to {@code bh} and frees it. The handle lives where such a
     * program keeps it, in a local: address allocators keep the {@code long} (this default, through {@link #alloc},
     * {@link #write8} and {@link #free} with {@code refs[0]}, which they leave alone) and {@code bh} consumes it;
     * object allocators (a {@code MemorySegment}, a {@code ByteBuf}, a heap array) override it to keep their object
     * in a local, write through it and give {@code bh} the object, instead of storing it into {@code refs[0]} and
     * loading it back (a heap store with the GC's write barrier that the address rows do not pay,
     * docs/speed-history.md, "Ninth pass (issue 13)"). The ring and batch workloads keep many objects live, so they
     * store every row's handle in an array ({@code long[]} or {@code Object[]}) and do not use this.
     */
    @CompilerControl(CompilerControl.Mode.INLINE)
    default void allocWriteFree(final long byteSize, final long value, final Object[] refs, final Blackhole bh) {
        final long p = alloc(byteSize, refs, 0);
        write8(p, byteSize, refs, 0, value);
        bh.consume(p);
        free(p, byteSize, refs, 0);
    }

    /**
     * Reads the 8 bytes at {@code offset} of an allocation (what {@link #write8} wrote there): how the tests check
     * that a workload's objects really hold what it wrote.
     */
    default long read8(final long address, final long byteSize, final Object[] refs, final int slot,
                       final long offset) {
        return Memory.EVERYTHING.get(Memory.LONG, nativeAddress(address) + offset);
    }

    /** Releases everything the allocator holds. Allocations still live are lost. */
    @Override
    default void close() {
    }
}
