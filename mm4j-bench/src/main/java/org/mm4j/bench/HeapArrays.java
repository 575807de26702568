package org.mm4j.bench;

/**
 * {@code new byte[n]} on the Java heap: allocation is a TLAB bump, "free" is dropping the reference and leaving the
 * rest to the garbage collector, whose cost the row includes (the forks run with a fixed heap and young gen).
 *
 * <p>The array is stored in {@code refs[slot]} and {@link #free} deliberately leaves it there until the next
 * allocation into the slot overwrites it: clearing it right away would let the JIT prove the array dead and remove
 * the allocation altogether. Returns 0: heap arrays have no stable address.
 *
 * <p>Threads: thread-safe (each thread writes only the slots it was given).
 */
final class HeapArrays implements Allocator {
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
}
