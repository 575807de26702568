package org.mm4j.base;

/**
 * Thrown at the Java API boundary when the model's own memory is exhausted: what the kernel reports as
 * {@code -ENOMEM} (or a NULL return) after reclaim, and, for user memory, after the OOM killer could not help.
 *
 * <p>mm4j never throws {@link OutOfMemoryError} (the JVM's own fatal error) for model exhaustion: the JVM heap is
 * fine, only the simulated machine ran out. Inside the model the kernel's conventions hold (0/NULL, {@code -errno},
 * a {@code warn_alloc} report in dmesg); this exception is how a Java caller that cannot receive such a value (a
 * {@link java.lang.foreign.SegmentAllocator}, a fault on a user access) learns of it.
 */
public class ModelOutOfMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what could not be allocated, naming the size/order and gfp flags at fault */
    public ModelOutOfMemoryException(final String message) {
        super(message);
    }
}
