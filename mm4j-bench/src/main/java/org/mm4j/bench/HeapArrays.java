package org.mm4j.bench;

import org.openjdk.jmh.annotations.CompilerControl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import org.openjdk.jmh.infra.Blackhole;

/**
 * {@code new byte[n]} on the Java heap: allocation is a TLAB bump, "free" is dropping the reference and leaving the
 * rest to the garbage collector, whose cost the row includes (the forks run with a fixed heap and young gen).
 *
 * <p>The array is stored in {@code refs[slot]} and {@link #free} deliberately leaves it there until the next
 * allocation into the slot overwrites it: clearing it right away would let the JIT prove the array dead and remove
 * the allocation altogether. Returns 0: heap arrays have no stable address. {@link #allocWriteFree} (alloc-free-64)
 * keeps the array in a local instead and hands it to the Blackhole, which keeps it from being optimised away.
 *
 * <p>Threads: thread-safe (each thread writes only the slots it was given).
 */
final class HeapArrays implements Allocator {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class,
        ByteOrder.nativeOrder());

    @Override
    public String name() {
        return "heap";
    }

    @Override
    public long alloc(final long byteSize, final Object[] refs, final int slot) {
        refs[slot] = new byte[Math.toIntExact(byteSize)];
        return 0;
    }

    @Override
    public void free(final long address, final long byteSize, final Object[] refs, final int slot) {
        // the garbage collector frees it once refs[slot] is overwritten
    }

    @Override
    public void write8(final long address, final long byteSize, final Object[] refs, final int slot,
                       final long value) {
        final byte[] b = (byte[]) refs[slot];
        LONGS.set(b, 0, value);
        LONGS.set(b, b.length - 8, value);
    }

    /** alloc-free-64 as a program writes it: the array in a local, written, consumed (so it is not optimised away). */
    @Override
    @CompilerControl(CompilerControl.Mode.INLINE)
    public void allocWriteFree(final long byteSize, final long value, final Object[] refs, final Blackhole bh) {
        final byte[] b = new byte[Math.toIntExact(byteSize)];
        LONGS.set(b, 0, value);
        LONGS.set(b, b.length - 8, value);
        bh.consume(b);
    }

    @Override
    public long read8(final long address, final long byteSize, final Object[] refs, final int slot,
                      final long offset) {
        return (long) LONGS.get((byte[]) refs[slot], (int) offset);
    }
}
