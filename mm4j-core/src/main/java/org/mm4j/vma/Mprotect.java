package org.mm4j.vma;

import static org.mm4j.vma.Errno.EACCES;
import static org.mm4j.vma.Errno.EINVAL;
import static org.mm4j.vma.Errno.ENOMEM;
import static org.mm4j.vma.MmStruct.PAGE_MASK;
import static org.mm4j.vma.MmStruct.pageAlign;
import static org.mm4j.vma.VmFlags.VM_ACCESS_FLAGS;
import static org.mm4j.vma.VmFlags.VM_ACCOUNT;
import static org.mm4j.vma.VmFlags.VM_GROWSDOWN;
import static org.mm4j.vma.VmFlags.VM_HUGETLB;
import static org.mm4j.vma.VmFlags.VM_LOCKED;
import static org.mm4j.vma.VmFlags.VM_NORESERVE;
import static org.mm4j.vma.VmFlags.VM_SHARED;
import static org.mm4j.vma.VmFlags.VM_WRITE;

/**
 * {@code mprotect(2)} ({@code mm/mprotect.c} of Linux 6.18): the argument checks, PROT_GROWSDOWN, the walk over the
 * VMAs of the range (a hole is -ENOMEM, a protection the VMA may not have, VM_MAY*, is -EACCES) and
 * {@code mprotect_fixup} for each. As in the kernel, VMAs changed before a failure keep their new protection.
 *
 * <p>Threads: the caller holds the mm's mmap lock for write (asserted); {@link MmStruct#mprotect} takes it.
 */
final class Mprotect {
    private Mprotect() {
    }

    /** {@code do_mprotect_pkey(start, len, prot, -1)}: 0 or -errno; changes made before a failure stay. */
    static long mprotect(final MmStruct mm, long start, long len, int prot) {
        assert mm.mmapAssertWriteLocked();
        final int grows = prot & (Mman.PROT_GROWSDOWN | Mman.PROT_GROWSUP);
        prot &= ~(Mman.PROT_GROWSDOWN | Mman.PROT_GROWSUP);
        if (grows == (Mman.PROT_GROWSDOWN | Mman.PROT_GROWSUP)) {
            return -EINVAL;
        }
        if ((start & ~PAGE_MASK) != 0) {
            return -EINVAL;
        }
        if (len == 0) {
            return 0;
        }
        len = pageAlign(len);
        long end = start + len;
        if (Long.compareUnsigned(end, start) <= 0) {
            return -ENOMEM;
        }
        if ((prot & ~(Mman.PROT_READ | Mman.PROT_WRITE | Mman.PROT_EXEC | Mman.PROT_SEM)) != 0) {
            return -EINVAL;
        }
        Vma vma = mm.findVmaLocked(start);
        if (vma == null || vma.start >= end) {
            return -ENOMEM;
        }
        if ((grows & Mman.PROT_GROWSDOWN) != 0) {
            if (vma.start >= end) {
                return -ENOMEM;
            }
            start = vma.start;
            if ((vma.flags & VM_GROWSDOWN) == 0) {
                return -EINVAL;
            }
        } else if (vma.start > start) {
            return -ENOMEM;
        } else if (grows != 0) {
            return -EINVAL;
        }
        long nstart = start;
        long tmp = vma.start;
        int error = 0;
        while (vma != null && vma.start < end) {
            if (vma.start != tmp) {
                error = -ENOMEM;
                break;
            }
            long newFlags = VmFlags.protToFlags(prot) | (vma.flags & ~VM_ACCESS_FLAGS);
            if ((newFlags & ~(newFlags >>> 4) & VM_ACCESS_FLAGS) != 0) {
                error = -EACCES;
                break;
            }
            tmp = Math.min(vma.end, end);
            final Vma r = mprotectFixup(mm, vma, nstart, tmp, newFlags);
            if (r == null) {
                error = mm.modifyError;
                break;
            }
            tmp = r.end;
            nstart = tmp;
            vma = r.next;
        }
        if (error == 0 && tmp < end) {
            error = -ENOMEM;
        }
        return error;
    }

    /**
     * {@code mprotect_fixup}: gives {@code [start, end)} of {@code vma} the flags {@code newFlags} (charging a private
     * mapping made writable, VM_ACCOUNT), merging or splitting through {@link VmaOps#vmaModify}, then changes the
     * PTEs ({@code change_protection}); a locked private mapping made writable is faulted in again. The VMA now
     * covering the range, or null with {@link MmStruct#modifyError} set.
     */
    private static Vma mprotectFixup(final MmStruct mm, final Vma vma, final long start, final long end,
                                     long newFlags) {
        final long oldFlags = vma.flags;
        if (newFlags == oldFlags) {
            return vma;
        }
        if ((newFlags & VM_WRITE) != 0) {
            if ((oldFlags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE)) == 0) {
                if (mm.vmEnoughMemory((end - start) >>> 12) != 0) {
                    return mm.fail(-ENOMEM); // mprotect_fixup charges a private mapping made writable
                }
                newFlags |= VM_ACCOUNT;
            }
        } else if ((oldFlags & VM_ACCOUNT) != 0 && vma.isAnonymous() && vma.anonVma == null) {
            newFlags &= ~VM_ACCOUNT;
        }
        final Vma r = VmaOps.vmaModify(mm, vma, start, end, newFlags, vma.anonName);
        if (r == null) {
            return null;
        }
        r.flags = newFlags;
        if (mm.pageTables != null) {
            mm.pageTables.changeProtection(r, start, end);
        }
        if ((oldFlags & (VM_WRITE | VM_SHARED | VM_LOCKED)) == VM_LOCKED && (newFlags & VM_WRITE) != 0) {
            Fault.populateLocked(mm, start, end);
        }
        return r;
    }
}
