package org.mm4j.bench;

import java.lang.reflect.Field;

/**
 * {@code sun.misc.Unsafe.allocateMemory}/{@code freeMemory} (malloc underneath, no downcall transition, plus the
 * JDK's NMT bookkeeping). Only the benchmark module may touch Unsafe, and only for this peer row.
 *
 * <p>JDK 25 still allows it, with a warning unless the JVM runs with {@code --sun-misc-unsafe-memory-access=allow};
 * under {@code =deny} (the JDK's announced future default) the probe in {@link #open} fails and the row is skipped.
 *
 * <p>Threads: thread-safe, as malloc is.
 */
@SuppressWarnings({"removal", "deprecation", "restricted"})
final class UnsafeMemory implements Allocator {
    private static final String NAME = "unsafe";
    private final sun.misc.Unsafe unsafe;

    private UnsafeMemory(final sun.misc.Unsafe unsafe) {
        this.unsafe = unsafe;
    }

    static UnsafeMemory open() {
        final sun.misc.Unsafe u;
        try {
            final Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            u = (sun.misc.Unsafe) f.get(null);
        } catch (final ReflectiveOperationException | RuntimeException e) {
            throw new Allocators.Unavailable("sun.misc.Unsafe not reachable on this JDK: " + e);
        }
        try {
            u.freeMemory(u.allocateMemory(8));
        } catch (final UnsupportedOperationException e) {
            throw new Allocators.Unavailable("sun.misc.Unsafe memory access denied on this JDK "
                + "(--sun-misc-unsafe-memory-access): " + e.getMessage());
        }
        return new UnsafeMemory(u);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public long alloc(final long byteSize, final Object[] refs, final int slot) {
        return unsafe.allocateMemory(byteSize);
    }

    @Override
    public void free(final long address, final long byteSize, final Object[] refs, final int slot) {
        unsafe.freeMemory(address);
    }
}
