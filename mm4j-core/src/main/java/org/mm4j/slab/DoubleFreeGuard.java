package org.mm4j.slab;

import org.mm4j.page.MemMap;
import org.mm4j.slab.debug.SlubDebugException;

import static org.mm4j.slab.KmemCache.STRIDE;
import static org.mm4j.slab.KmemCache.W_FREELIST;
import static org.mm4j.slab.KmemCache.W_SLAB;
import static org.mm4j.slab.KmemCache.kaddr;
import static org.mm4j.slab.KmemCache.wFreelist;
import static org.mm4j.slab.KmemCache.wObjects;

/**
 * mm4j's refusal of double frees (the {@code Safety} part of {@link KmemCache}; off with
 * {@code mm4j.double_free=kernel} and in debug caches, which keep the kernel's own checks). A free object has its
 * free mark set ({@link FreeMarks}: a byte per object beside {@code mem_map}, outside the object); a free finds
 * the mark and refuses, a handout checks and clears it. Caches without a byte of their own per object (objects
 * under 16 bytes) and caches whose objects must keep their contents ({@code ctor}, {@code SLAB_TYPESAFE_BY_RCU})
 * keep the mark in the object instead ({@link KmemCache#keyIsFp}): the key {@code freeKey ^ phys} in the free
 * pointer's word while the object sits in a sheaf; on a freelist that word holds the encoded pointer, and a walk
 * of the slab's and the CPU freelists decides. {@link #doubleFree} is also the kernel's
 * {@code BUG_ON(object == fp)} of {@code set_freepointer}.
 *
 * <p>Errors: inside the model a refusal is a {@code slab_err} report in dmesg; at the Java API it is an
 * {@link IllegalStateException} naming the cache and the address, thrown after the report, with nothing changed.
 *
 * <p>Threads: the mark (or key word) of an object belongs to whoever holds the object ({@link FreeMarks});
 * the CPU freelist walk takes the slot's lock and seizes its word.
 */
final class DoubleFreeGuard {
    private DoubleFreeGuard() {
    }

    /**
     * Refuses the free of an object that is already free: a report and an {@link IllegalStateException}, nothing
     * changed. An object whose free mark is set is free (a live object's mark was cleared when it was handed out).
     * Where the mark is the key in the free pointer's word ({@link KmemCache#keyIsFp}), an object whose word holds
     * its key ({@code freeKey ^ phys}) is free (only a program that read the key out of freed memory could write
     * it back); an object on a freelist holds an encoded pointer instead: when that decodes to NULL or an object of
     * the slab, a walk of the slab's freelist and of the CPU freelists on it decides.
     */
    static void checkFree(final KmemCache s, final long slab, final long phys) {
        final boolean free;
        if (s.keyIsFp) {
            final long p = s.getFp(phys);
            free = s.raw(phys + s.keyOffset) == (s.freeKey ^ phys)
                || (p == 0 || s.validObject(slab, p)) && onFreelists(s, slab, phys);
        } else {
            free = FreeMarks.isFree(s.mm, phys);
        }
        if (free) {
            refuse(s, slab, phys, "Object already free (double free of 0x" + Long.toHexString(kaddr(phys))
                + " refused; mm4j departure: Linux 6.18 without slub_debug would hand the object out twice)",
                s.name + ": double free of 0x" + Long.toHexString(kaddr(phys)) + " refused (already free)");
        }
    }

    /** Marks an object free: its free mark, or its key where the key shares the free pointer's word. */
    static void markFree(final KmemCache s, final long phys) {
        if (s.keyIsFp) {
            s.raw(phys + s.keyOffset, s.freeKey ^ phys);
        } else {
            FreeMarks.setFree(s.mm, phys);
        }
    }

    /**
     * Hands out an object popped from a sheaf: true when it was marked free (now cleared); false when it was not
     * (reported: a double free that raced with the first, or a write after free of a key) and the object is
     * dropped, never handed to a second owner.
     */
    static boolean handoutFromSheaf(final KmemCache s, final long phys) {
        if (!s.keyIsFp) {
            if (!FreeMarks.isFree(s.mm, phys)) {
                badHandout(s, phys);
                return false;
            }
            FreeMarks.clear(s.mm, phys);
            return true;
        }
        final long at = phys + s.keyOffset;
        if (s.raw(at) != (s.freeKey ^ phys)) {
            badHandout(s, phys);
            return false;
        }
        s.raw(at, s.slub.initOnFree ? 0 : ~(s.freeKey ^ phys));
        return true;
    }

    /** Hands out an object taken from a freelist (whose free pointer was already checked when it was taken). */
    static boolean handoutFromFreelist(final KmemCache s, final long phys) {
        if (s.keyIsFp) {
            final long at = phys + s.keyOffset;
            if (!s.slub.initOnFree && s.raw(at) == ~(s.freeKey ^ phys)) {
                badHandout(s, phys);  // still marked handed out: it is on a freelist twice
                return false;
            }
            s.raw(at, s.slub.initOnFree ? 0 : ~(s.freeKey ^ phys));  // no stale pointer left behind
            return true;
        }
        return handoutFromSheaf(s, phys);
    }

    static void badHandout(final KmemCache s, final long phys) {
        final long slab = s.slub.virtToSlab(phys);
        s.slub.slabErr(s, slab, "Free object 0x" + Long.toHexString(kaddr(phys)) + " lost its free mark (a racing"
            + " double free or a write after free; mm4j: dropped, not handed out)");
        s.slub.debug().clearPending();
    }

    /** Whether {@code phys} is on the freelist of {@code slab} or on a CPU freelist of a slot using the slab. */
    static boolean onFreelists(final KmemCache s, final long slab, final long phys) {
        if (isOnFreelist(s, slab, phys)) {
            return true;
        }
        for (int c = 0; c < s.nrCpus; c++) {
            if (s.pcpu[c * STRIDE + W_SLAB] != slab) {
                continue;
            }
            s.lockSlot(c);
            try {
                if (s.pcpu[c * STRIDE + W_SLAB] == slab) {
                    final int max = wObjects(s.mm.lvLong(slab, MemMap.SLAB_WORD));
                    int n = 0;
                    for (long p = s.pcpu[c * STRIDE + W_FREELIST]; p > 0 && n <= max; p = s.nextChecked(slab, p), n++) {
                        if (p == phys) {
                            return true;
                        }
                    }
                }
            } finally {
                s.release(c);
            }
        }
        return isOnFreelist(s, slab, phys);  // a flush may have moved it meanwhile
    }

    /**
     * {@code BUG_ON(object == fp)} of {@code set_freepointer} (SLAB_FREELIST_HARDENED's naive detection: the
     * object freed is the head of the freelist it goes to). The kernel oopses; mm4j reports and throws.
     */
    static void doubleFree(final KmemCache s, final long slab, final long obj) {
        if (!s.checkKey) {
            s.log.printk("kernel BUG at mm/slub.c (set_freepointer): object == fp, naive detection of double free or"
                + " corruption");
        }
        refuse(s, slab, obj, "Object already free (double free of 0x" + Long.toHexString(kaddr(obj)) + ")",
            s.name + ": double free of 0x" + Long.toHexString(kaddr(obj)));
    }

    /** Reports {@code text} as slab_err does and throws an {@link IllegalStateException} with {@code message}. */
    static void refuse(final KmemCache s, final long slab, final long obj, final String text, final String message) {
        s.slub.slabErr(s, slab, text);
        try {
            s.slub.debug().checkpoint();  // the report is this exception's: no strict-mode leftover for a later call
        } catch (final SlubDebugException e) {
            throw new IllegalStateException(message, e);
        }
        throw new IllegalStateException(message);
    }

    /** Whether {@code obj} is on the slab's own freelist (bounded walk). */
    static boolean isOnFreelist(final KmemCache s, final long slab, final long obj) {
        final long w = s.mm.lvLong(slab, MemMap.SLAB_WORD);
        int n = 0;
        for (long p = wFreelist(slab, w); p > 0 && n <= wObjects(w); p = s.nextChecked(slab, p), n++) {
            if (p == obj) {
                return true;
            }
        }
        return false;
    }
}
