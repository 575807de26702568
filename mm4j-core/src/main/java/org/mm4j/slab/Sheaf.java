package org.mm4j.slab;

/**
 * {@code struct slab_sheaf}: an array of allocated-but-unused objects (physical addresses) of one cache, Bonwick's
 * magazine. A sheaf is owned by exactly one holder at a time (a CPU slot's sheaves under their try-lock, a
 * thread's {@link ThreadSheaves}, or a {@link Barn} under its lock); ownership moves only by handing the
 * reference over under the barn lock or the slot lock, so its fields need no synchronization of their own.
 *
 * <p>Invariant: {@code 0 <= size <= objects.length}; {@code objects[0..size)} are objects of the cache that the
 * slab layer counts as in use and no caller holds.
 */
final class Sheaf {
    final long[] objects;
    int size;
    /**
     * {@code barn_list}: the next sheaf down the {@link Barn} list this sheaf is on, null at the bottom and while
     * it is on none. Read and written only under that barn's lock.
     */
    Sheaf barnNext;

    Sheaf(final int capacity) {
        this.objects = new long[capacity];
    }

    int capacity() {
        return objects.length;
    }
}
