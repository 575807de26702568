package org.mm4j.slab;

import org.mm4j.page.MemMap;

/**
 * mm4j's free marks (no kernel counterpart; a named departure, the state of {@link DoubleFreeGuard}): one byte
 * per 16 bytes of memory, beside {@code mem_map} ({@link MemMap#freeMarksAddress()}), that says whether the object
 * starting in those 16 bytes is free ({@link #FREE}) or not (0). The mark of an object is the byte of its start,
 * {@code phys >>> 4}: objects of 16 bytes and more start in distinct bytes, so every object has a byte of its own
 * (the caches whose objects are smaller, and the {@code ctor} and {@code SLAB_TYPESAFE_BY_RCU} caches, keep their
 * mark in the free pointer's word, {@link KmemCache#keyIsFp}). The mark lives outside the object so that a free
 * and the next handout of the object touch the object's own cache line not at all (the caller's first write does):
 * the marks of a ring of 1,024 objects of 64 bytes take 4 KiB, hot in the L1 cache, where their key words were
 * spread over 64 KiB.
 *
 * <p>Invariants (for the caches with {@link KmemCache#checkKey} and not {@link KmemCache#keyIsFp}): (1) an
 * object on a slab freelist, a CPU freelist, a per-CPU or per-thread sheaf or in a barn has its mark set; an
 * object in a caller's hands has it clear. (2) a mark is set when its object is freed (after the free was checked:
 * a set mark refuses it, {@link DoubleFreeGuard#checkFree}) and for every object of a new slab
 * ({@link SlabPages#newSlab}, before the slab is published); it is checked and cleared when the object is handed
 * out ({@link DoubleFreeGuard#handoutFromSheaf}, the sheaf fast path of {@code SlabAllocator}): an object popped
 * with a clear mark was put into a sheaf or onto a freelist twice (two frees racing with no happens-before between
 * them) and is dropped, never handed to a second owner. (3) the bytes of other offsets in a slab, and of pages that
 * are no slab, mean nothing: every reader first checks that the address is an object start of a live slab of the
 * cache (the slab index or {@code mem_map}), and a new slab sets the marks of all its objects.
 *
 * <p>Threads: a mark belongs to whoever holds its object (the caller that frees it, the owner of the sheaf or
 * freelist it is on, the thread that makes its slab), exactly as the object's memory does, so marks are read and
 * written with plain byte accesses: no atomic, no lock. Neighbouring objects held by different threads share a
 * word and a line of marks, never a byte; a byte store does not tear its neighbours (JLS 17.6, and a single
 * byte store on every platform the JDK supports), so two threads writing the marks of two objects at once do not
 * lose either. Handing an object over (a sheaf through the barn lock, a freelist through the slot lock or the
 * slab word's CAS, an object through the program's own synchronization) carries its mark's last write with it.
 * A double free racing the first may pass the free check, as with any check that takes no lock; (2) drops the
 * second copy at its handout.
 */
final class FreeMarks {
    /** The mark of a free object. */
    static final byte FREE = 1;

    private FreeMarks() {
    }

    /** Whether the object at {@code phys} is marked free. */
    static boolean isFree(final MemMap mm, final long phys) {
        return mm.freeMark(phys) == FREE;
    }

    /** Marks the object at {@code phys} free (its holder: the thread that frees it or makes its slab). */
    static void setFree(final MemMap mm, final long phys) {
        mm.freeMark(phys, FREE);
    }

    /** Clears the free mark of the object at {@code phys} (its holder: the thread that hands it out). */
    static void clear(final MemMap mm, final long phys) {
        mm.freeMark(phys, (byte) 0);
    }
}
