package org.mm4j.vma;

import static org.mm4j.vma.Errno.EAGAIN;
import static org.mm4j.vma.Errno.EFAULT;
import static org.mm4j.vma.Errno.EINVAL;
import static org.mm4j.vma.Errno.ENOMEM;
import static org.mm4j.vma.MmStruct.MCL_CURRENT;
import static org.mm4j.vma.MmStruct.MCL_FUTURE;
import static org.mm4j.vma.MmStruct.MCL_ONFAULT;
import static org.mm4j.vma.MmStruct.MLOCK_ONFAULT;
import static org.mm4j.vma.MmStruct.PAGE_MASK;
import static org.mm4j.vma.MmStruct.pageAlign;
import static org.mm4j.vma.VmFlags.VM_LOCKED;
import static org.mm4j.vma.VmFlags.VM_LOCKED_MASK;
import static org.mm4j.vma.VmFlags.VM_LOCKONFAULT;
import static org.mm4j.vma.VmFlags.VM_SPECIAL;

/**
 * {@code mlock}, {@code mlock2}, {@code munlock}, {@code mlockall} and {@code munlockall} ({@code mm/mlock.c} of
 * Linux 6.18): VM_LOCKED (and VM_LOCKONFAULT) set or cleared VMA by VMA through {@code vma_modify}, VM_SPECIAL VMAs
 * left as they are, the locked range faulted in ({@code __mm_populate}); MCL_FUTURE sets {@code mm->def_flags}.
 *
 * <p>Errors: a hole in the range is {@code -ENOMEM} (the VMAs before it stay changed, as in the kernel); a failed
 * fault-in is {@code -EAGAIN} (out of memory) or {@code -ENOMEM} (SIGBUS), as {@code __mlock_posix_error_return}
 * maps them; mlockall ignores both.
 *
 * <p>Threads: the caller holds the mm's mmap lock for write (asserted); {@link MmStruct}'s public methods take it.
 */
final class Mlock {
    private Mlock() {
    }

    /** {@code mlock(start, len)}: 0 or -errno; the locked range is faulted in. */
    static long mlock(final MmStruct mm, final long start, final long len) {
        return doMlock(mm, start, len, VM_LOCKED);
    }

    /**
     * {@code mlock2(start, len, flags)} (mm/mlock.c): any flag bit other than {@code MLOCK_ONFAULT} is -EINVAL
     * before the range is looked at.
     */
    static long mlock2(final MmStruct mm, final long start, final long len, final int flags) {
        if ((flags & ~MLOCK_ONFAULT) != 0) {
            return -EINVAL;
        }
        return doMlock(mm, start, len, (flags & MLOCK_ONFAULT) != 0 ? VM_LOCKED | VM_LOCKONFAULT : VM_LOCKED);
    }

    /** {@code munlock(start, len)}. */
    static long munlock(final MmStruct mm, final long start, final long len) {
        return doMlock(mm, start, len, 0);
    }

    /** {@code do_mlock} + {@code apply_vma_lock_flags}: sets {@code lockFlags} (0: unlock) on each VMA of the range. */
    private static long doMlock(final MmStruct mm, final long startIn, final long lenIn, final long lockFlags) {
        assert mm.mmapAssertWriteLocked();
        final long len = pageAlign(lenIn + (startIn & ~PAGE_MASK));
        final long start = startIn & PAGE_MASK;
        final long end = start + len;
        if (Long.compareUnsigned(end, start) < 0) {
            return -EINVAL;
        }
        if (end == start) {
            return 0;
        }
        Vma vma = mm.vmaLookupLocked(start);
        if (vma == null) {
            return -ENOMEM;
        }
        long nstart = start;
        long tmp = vma.start;
        while (vma != null && vma.start < end) {
            if (vma.start != tmp) {
                return -ENOMEM;
            }
            final long newFlags = (vma.flags & ~VM_LOCKED_MASK) | lockFlags;
            tmp = Math.min(vma.end, end);
            Vma r = vma;
            if (newFlags != vma.flags && (vma.flags & VM_SPECIAL) == 0) {
                r = VmaOps.vmaModify(mm, vma, nstart, tmp, newFlags, vma.anonName);
                if (r == null) {
                    return mm.modifyError;
                }
                r.flags = newFlags;
            }
            tmp = r.end;
            nstart = tmp;
            vma = r.next;
        }
        if (tmp < end) {
            return -ENOMEM;
        }
        if ((lockFlags & VM_LOCKED) != 0 && (lockFlags & VM_LOCKONFAULT) == 0) {
            // __mlock_posix_error_return: a failed fault-in (-ENOMEM) is EAGAIN, a SIGBUS one (-EFAULT) ENOMEM
            final long r = Fault.populateLocked(mm, start, end);
            if (r == -ENOMEM) {
                return -EAGAIN;
            }
            if (r == -EFAULT) {
                return -ENOMEM;
            }
        }
        return 0;
    }

    /** {@code mlockall(flags)}: locks every VMA (MCL_CURRENT) and/or every future one (MCL_FUTURE). */
    static long mlockall(final MmStruct mm, final int flags) {
        if (flags == 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) != 0 || flags == MCL_ONFAULT) {
            return -EINVAL;
        }
        return applyMlockall(mm, flags);
    }

    /** {@code munlockall()}. */
    static long munlockall(final MmStruct mm) {
        return applyMlockall(mm, 0);
    }

    /** {@code apply_mlockall_flags}: {@code def_flags} for MCL_FUTURE, every VMA for MCL_CURRENT. */
    private static long applyMlockall(final MmStruct mm, final int flags) {
        assert mm.mmapAssertWriteLocked();
        mm.defFlags &= ~VM_LOCKED_MASK;
        if ((flags & MCL_FUTURE) != 0) {
            mm.defFlags |= VM_LOCKED | ((flags & MCL_ONFAULT) != 0 ? VM_LOCKONFAULT : 0);
            if ((flags & MCL_CURRENT) == 0) {
                return 0;
            }
        }
        long toAdd = 0;
        if ((flags & MCL_CURRENT) != 0) {
            toAdd = VM_LOCKED | ((flags & MCL_ONFAULT) != 0 ? VM_LOCKONFAULT : 0);
        }
        Vma vma = mm.tree.first;
        while (vma != null) {
            final long newFlags = (vma.flags & ~VM_LOCKED_MASK) | toAdd;
            Vma r = vma;
            if (newFlags != vma.flags && (vma.flags & VM_SPECIAL) == 0) {
                r = VmaOps.vmaModify(mm, vma, vma.start, vma.end, newFlags, vma.anonName);
                if (r == null) {
                    break; // errors are ignored, as mlockall does
                }
                r.flags = newFlags;
            }
            vma = r.next;
        }
        if ((toAdd & VM_LOCKED) != 0 && (toAdd & VM_LOCKONFAULT) == 0 && mm.tree.first != null) {
            Fault.populateLocked(mm, mm.tree.first.start, mm.tree.last.end);
        }
        return 0;
    }
}
