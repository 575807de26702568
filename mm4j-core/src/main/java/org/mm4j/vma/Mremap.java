package org.mm4j.vma;

import static org.mm4j.vma.Errno.EFAULT;
import static org.mm4j.vma.Errno.EINVAL;
import static org.mm4j.vma.Errno.ENOMEM;
import static org.mm4j.vma.MmStruct.PAGE_MASK;
import static org.mm4j.vma.MmStruct.TASK_SIZE;
import static org.mm4j.vma.MmStruct.pageAlign;
import static org.mm4j.vma.VmFlags.VM_ACCOUNT;
import static org.mm4j.vma.VmFlags.VM_DONTEXPAND;
import static org.mm4j.vma.VmFlags.VM_LOCKED;
import static org.mm4j.vma.VmFlags.VM_LOCKED_MASK;
import static org.mm4j.vma.VmFlags.VM_MAYSHARE;
import static org.mm4j.vma.VmFlags.VM_PFNMAP;
import static org.mm4j.vma.VmFlags.VM_SHARED;

/**
 * {@code mremap(2)} ({@code mm/mremap.c} of Linux 6.18): shrink, grow in place, move (MREMAP_MAYMOVE,
 * MREMAP_FIXED, MREMAP_DONTUNMAP) and the 6.17+ same-length MREMAP_FIXED move of several VMAs
 * ({@code remap_move}). The state of one call is a {@link Vrm} ({@code struct vma_remap_struct}).
 *
 * <p>Errors as the kernel's: -EINVAL for bad flags/lengths/overlaps, -EFAULT when the source range is not one
 * VMA, -ENOMEM when it cannot grow in place without MREMAP_MAYMOVE, for the map count, the overcommit charge or
 * page tables that could not be had (nothing moved then).
 *
 * <p>Threads: the caller holds the mm's mmap lock for write (asserted); {@link MmStruct#mremap} takes it.
 */
final class Mremap {
    private Mremap() {
    }

    /** The state of one mremap ({@code struct vma_remap_struct}). */
    private static final class Vrm {
        Vma vma;
        long addr;
        long oldLen;
        long newLen;
        int flags;
        long newAddr;
        int type; // 0 no resize, 1 shrink, 2 expand

        boolean impliesNewAddr() {
            return (flags & (Mman.MREMAP_FIXED | Mman.MREMAP_DONTUNMAP)) != 0;
        }
    }

    private static final int NO_RESIZE = 0;
    private static final int SHRINK = 1;
    private static final int EXPAND = 2;

    /** {@code mremap(addr, old_len, new_len, flags, new_addr)}: the new address or -errno. */
    static long mremap(final MmStruct mm, final long addr, final long oldLen, final long newLen, final int flags,
                       final long newAddr) {
        assert mm.mmapAssertWriteLocked();
        final Vrm vrm = new Vrm();
        vrm.addr = addr;
        vrm.oldLen = pageAlign(oldLen);
        vrm.newLen = pageAlign(newLen);
        vrm.flags = flags;
        vrm.newAddr = newAddr;
        if ((flags & ~(Mman.MREMAP_FIXED | Mman.MREMAP_MAYMOVE | Mman.MREMAP_DONTUNMAP)) != 0) {
            return -EINVAL;
        }
        if ((addr & ~PAGE_MASK) != 0) {
            return -EINVAL;
        }
        if (vrm.newLen == 0 || Long.compareUnsigned(vrm.newLen, TASK_SIZE) > 0) {
            return -EINVAL;
        }
        if (vrm.impliesNewAddr()) {
            if (newAddr > TASK_SIZE - vrm.newLen || newAddr < 0) {
                return -EINVAL;
            }
            if ((newAddr & ~PAGE_MASK) != 0) {
                return -EINVAL;
            }
            if ((flags & Mman.MREMAP_MAYMOVE) == 0) {
                return -EINVAL;
            }
            if ((flags & Mman.MREMAP_DONTUNMAP) != 0 && vrm.oldLen != vrm.newLen) {
                return -EINVAL;
            }
            if (addr + vrm.oldLen > newAddr && newAddr + vrm.newLen > addr) {
                return -EINVAL;
            }
            if (mm.tree.count + 2 >= mm.maxMapCount() - 3) {
                return -ENOMEM;
            }
        }
        if ((flags & Mman.MREMAP_FIXED) != 0 && vrm.oldLen == vrm.newLen) {
            return remapMove(mm, vrm);
        }
        vrm.vma = mm.vmaLookupLocked(addr);
        final long res = checkPrepVma(mm, vrm);
        if (res != 0) {
            return res;
        }
        return vrm.impliesNewAddr() ? mremapTo(mm, vrm) : mremapAt(mm, vrm);
    }

    /**
     * {@code check_prep_vma}: the checks of the source VMA (-EFAULT when the range leaves it or it may not move,
     * -EINVAL for a private duplicate) and the overcommit charge of a growth ({@code vrm_calc_charge}); 0 or -errno.
     */
    private static long checkPrepVma(final MmStruct mm, final Vrm vrm) {
        final Vma vma = vrm.vma;
        if (vma == null) {
            return -EFAULT;
        }
        vrm.type = vrm.oldLen == vrm.newLen ? NO_RESIZE : vrm.oldLen > vrm.newLen ? SHRINK : EXPAND;
        if (!vrm.impliesNewAddr()) {
            vrm.newAddr = vrm.addr;
        }
        if (vrm.type != EXPAND && !vrm.impliesNewAddr()) {
            return 0;
        }
        long oldLen = vrm.oldLen;
        final long newLen = vrm.newLen;
        if (oldLen == 0 && (vma.flags & (VM_SHARED | VM_MAYSHARE)) == 0) {
            if (mm.pager != null) {
                mm.pager.warnOnce("mremap_dup_private", mm,
                    "attempted to duplicate a private mapping with mremap.  This is not supported.");
            }
            return -EINVAL;
        }
        if ((vrm.flags & Mman.MREMAP_DONTUNMAP) != 0 && (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) != 0) {
            return -EINVAL;
        }
        if (vrm.type == SHRINK) {
            oldLen = newLen;
        }
        if (oldLen > vma.end - vrm.addr) {
            return -EFAULT;
        }
        if (newLen == oldLen) {
            return 0;
        }
        final long pgoff = vma.pgoff + ((vrm.addr - vma.start) >>> 12);
        if (pgoff + (newLen >>> 12) < pgoff) {
            return -EINVAL;
        }
        if ((vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) != 0) {
            return -EFAULT;
        }
        // vrm_calc_charge: an accounted mapping charges its growth (a DONTUNMAP move: all of its new length)
        if ((vma.flags & VM_ACCOUNT) != 0 && (vrm.type == EXPAND || (vrm.flags & Mman.MREMAP_DONTUNMAP) != 0)) {
            final long charged = (vrm.flags & Mman.MREMAP_DONTUNMAP) != 0 ? newLen : newLen - vrm.oldLen;
            if (mm.vmEnoughMemory(charged >>> 12) != 0) {
                return -ENOMEM;
            }
        }
        return 0;
    }

    /** {@code mremap_at}: an in-place resize (none, shrink by unmapping the tail, or expand). */
    private static long mremapAt(final MmStruct mm, final Vrm vrm) {
        switch (vrm.type) {
            case NO_RESIZE:
                return vrm.addr;
            case SHRINK: {
                final int err = VmaOps.doMunmap(mm, vrm.addr + vrm.newLen, vrm.oldLen - vrm.newLen);
                return err != 0 ? err : vrm.addr;
            }
            default:
                return expandVma(mm, vrm);
        }
    }

    /** {@code expand_vma}: grows in place when the space after the VMA is free, else moves if MREMAP_MAYMOVE. */
    private static long expandVma(final MmStruct mm, final Vrm vrm) {
        final Vma vma = vrm.vma;
        final long delta = vrm.newLen - vrm.oldLen;
        if (vma.end - vrm.addr == vrm.oldLen && vmaExpandable(mm, vma, delta)) {
            final VmaOps.Vmg g = new VmaOps.Vmg();
            g.prev = vma;
            g.next = vma.next;
            g.middle = vma;
            g.start = vma.end;
            g.end = vma.end + delta;
            g.flags = vma.flags;
            g.file = vma.file;
            g.anonVma = vma.anonVma;
            g.anonName = vma.anonName;
            g.pgoff = vma.pgoff + vma.pages();
            if (VmaOps.mergeNewRange(mm, g) == null) {
                return -ENOMEM;
            }
            if ((vma.flags & VM_LOCKED) != 0) {
                Fault.populateLocked(mm, vrm.addr + vrm.oldLen, vrm.addr + vrm.newLen);
            }
            return vrm.addr;
        }
        if ((vrm.flags & Mman.MREMAP_MAYMOVE) == 0) {
            return -ENOMEM;
        }
        final long err = setNewAddr(mm, vrm);
        if (err != 0) {
            return err;
        }
        return moveVma(mm, vrm);
    }

    /** {@code vma_expandable}: {@code [end, end + delta)} is free and the result stays below TASK_SIZE. */
    private static boolean vmaExpandable(final MmStruct mm, final Vma vma, final long delta) {
        final long end = vma.end + delta;
        if (end < vma.end) {
            return false;
        }
        if (mm.findVmaIntersectionLocked(vma.end, end) != null) {
            return false;
        }
        return end - vma.start <= TASK_SIZE && vma.start <= TASK_SIZE - (end - vma.start);
    }

    /** {@code vrm_set_new_addr}: the destination through {@code get_unmapped_area} (MAP_FIXED for MREMAP_FIXED). */
    private static long setNewAddr(final MmStruct mm, final Vrm vrm) {
        final Vma vma = vrm.vma;
        final long pgoff = vma.pgoff + ((vrm.addr - vma.start) >>> 12);
        final long hint = vrm.impliesNewAddr() ? vrm.newAddr : 0;
        int mapFlags = 0;
        if ((vrm.flags & Mman.MREMAP_FIXED) != 0) {
            mapFlags |= Mman.MAP_FIXED;
        }
        if ((vma.flags & VM_MAYSHARE) != 0) {
            mapFlags |= Mman.MAP_SHARED;
        }
        final long res = Mmap.getUnmappedArea(mm, vma.file, hint, vrm.newLen, pgoff, mapFlags);
        if (Errno.isError(res)) {
            return res;
        }
        vrm.newAddr = res;
        return 0;
    }

    /**
     * {@code do_munmap} of {@code [addr, addr + len)}, then {@code vrm.vma} looked up again at {@code vrm.addr} (the
     * unmap may have split or freed it): 0, the unmap's -errno, or {@code -EFAULT} when no VMA is left there.
     */
    private static long unmapAndLookUpAgain(final MmStruct mm, final Vrm vrm, final long addr, final long len) {
        final int err = VmaOps.doMunmap(mm, addr, len);
        if (err != 0) {
            return err;
        }
        vrm.vma = mm.vmaLookupLocked(vrm.addr);
        return vrm.vma == null ? -EFAULT : 0;
    }

    /** {@code mremap_to}: a move to a new address (unmapping the destination first for MREMAP_FIXED). */
    private static long mremapTo(final MmStruct mm, final Vrm vrm) {
        if ((vrm.flags & Mman.MREMAP_FIXED) != 0) {
            final long err = unmapAndLookUpAgain(mm, vrm, vrm.newAddr, vrm.newLen);
            if (err != 0) {
                return err;
            }
        }
        if (vrm.type == SHRINK) {
            final long err = unmapAndLookUpAgain(mm, vrm, vrm.addr + vrm.newLen, vrm.oldLen - vrm.newLen);
            if (err != 0) {
                return err;
            }
            vrm.oldLen = vrm.newLen;
        }
        final long err = setNewAddr(mm, vrm);
        if (err != 0) {
            return err;
        }
        return moveVma(mm, vrm);
    }

    /** {@code remap_move}: a same-length MREMAP_FIXED move, possibly of several VMAs (6.17+). */
    private static long remapMove(final MmStruct mm, final Vrm vrm) {
        final long start = vrm.addr;
        final long end = vrm.addr + vrm.oldLen;
        long target = vrm.newAddr;
        long res = -EFAULT;
        long lastEnd = 0;
        boolean seen = false;
        long pos = start;
        while (true) {
            final Vma vma = mm.findVmaLocked(pos);
            if (vma == null || vma.start >= end) {
                break;
            }
            final long a = Math.max(vma.start, start);
            final long l = Math.min(end, vma.end) - a;
            if (!seen && start < vma.start) {
                return -EFAULT;
            }
            final long offset = seen ? vma.start - lastEnd : 0;
            lastEnd = vma.end;
            final Vrm one = new Vrm();
            one.vma = vma;
            one.addr = a;
            one.newAddr = target + offset;
            one.oldLen = l;
            one.newLen = l;
            one.flags = vrm.flags;
            long r = checkPrepVma(mm, one);
            if (r == 0) {
                r = mremapTo(mm, one);
            }
            if (Errno.isError(r)) {
                return r;
            }
            if (!seen) {
                res = r;
            }
            seen = true;
            target = r + l;
            pos = lastEnd; // the iterator continues after the VMA it found, whatever the move did to it
        }
        return res;
    }

    /**
     * {@code move_vma}: the page tables of the destination are made first ({@code move_page_tables} cannot fail
     * half-way), then {@code copy_vma}, the PTEs move, and the source is unmapped (kept, unlocked, with
     * MREMAP_DONTUNMAP); the new address or -ENOMEM with nothing moved.
     */
    private static long moveVma(final MmStruct mm, final Vrm vrm) {
        if (mm.tree.count >= mm.maxMapCount() - 3) {
            return -ENOMEM;
        }
        Vma vma = vrm.vma;
        final long newPgoff = vma.pgoff + ((vrm.addr - vma.start) >>> 12);
        final Vma[] src = {vma};
        if (mm.pageTables != null && !mm.pageTables.prepareMove(vrm.addr, vrm.newAddr, vrm.oldLen)) {
            return -ENOMEM; // move_page_tables could not allocate a table: nothing moved
        }
        final Vma newVma = VmaOps.copyVma(mm, src, vrm.newAddr, vrm.newLen, newPgoff);
        if (newVma == null) {
            return -ENOMEM; // copy_vma: no vm_area_struct or anon_vma chain; the source is untouched
        }
        vma = src[0];
        if (mm.pageTables != null) {
            mm.pageTables.moveRange(vrm.addr, vrm.newAddr, vrm.oldLen);
        }
        if ((vrm.flags & Mman.MREMAP_DONTUNMAP) != 0) {
            vma.flags &= ~VM_LOCKED_MASK;
            if (newVma != vma && vrm.addr == vma.start && vrm.addr + vrm.oldLen == vma.end) {
                Rmap.unlinkAnonVmas(vma);
                vma.anonVma = null;
            }
        } else {
            unmapSourceVma(mm, vma, vrm.addr, vrm.oldLen);
        }
        if ((newVma.flags & VM_LOCKED) != 0 && vrm.newLen > vrm.oldLen) {
            Fault.populateLocked(mm, vrm.newAddr + vrm.oldLen, vrm.newAddr + vrm.newLen);
        }
        return vrm.newAddr;
    }

    /** {@code unmap_source_vma}: unmaps the old range without uncharging it (VM_ACCOUNT moved with the pages). */
    private static void unmapSourceVma(final MmStruct mm, final Vma vma, final long addr, final long len) {
        final boolean accountable = (vma.flags & VM_ACCOUNT) != 0;
        final long vmStart = vma.start;
        final long vmEnd = vma.end;
        if (accountable) {
            vma.flags &= ~VM_ACCOUNT;
        }
        final int err = VmaOps.doMunmap(mm, addr, len);
        if (err != 0) {
            if (accountable) {
                vma.flags |= VM_ACCOUNT;
            }
            return;
        }
        if (accountable) {
            final long end = addr + len;
            if (vmStart < addr) {
                final Vma p = mm.tree.findBefore(addr);
                if (p != null) {
                    p.flags |= VM_ACCOUNT;
                }
            }
            if (vmEnd > end) {
                final Vma n = mm.findVmaLocked(addr);
                if (n != null) {
                    n.flags |= VM_ACCOUNT;
                }
            }
        }
    }
}
