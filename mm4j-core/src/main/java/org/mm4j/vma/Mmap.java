package org.mm4j.vma;

import static org.mm4j.vma.Errno.EACCES;
import static org.mm4j.vma.Errno.EBADF;
import static org.mm4j.vma.Errno.EEXIST;
import static org.mm4j.vma.Errno.EINVAL;
import static org.mm4j.vma.Errno.ENOMEM;
import static org.mm4j.vma.Errno.EOPNOTSUPP;
import static org.mm4j.vma.Errno.EOVERFLOW;
import static org.mm4j.vma.Errno.EPERM;
import static org.mm4j.vma.MmStruct.DEFAULT_MAP_WINDOW;
import static org.mm4j.vma.MmStruct.PAGE_MASK;
import static org.mm4j.vma.MmStruct.PAGE_SIZE;
import static org.mm4j.vma.MmStruct.PMD_SIZE;
import static org.mm4j.vma.MmStruct.TASK_SIZE;
import static org.mm4j.vma.MmStruct.pageAlign;
import static org.mm4j.vma.VmFlags.VM_ACCESS_FLAGS;
import static org.mm4j.vma.VmFlags.VM_GROWSDOWN;
import static org.mm4j.vma.VmFlags.VM_LOCKED;
import static org.mm4j.vma.VmFlags.VM_MAYEXEC;
import static org.mm4j.vma.VmFlags.VM_MAYREAD;
import static org.mm4j.vma.VmFlags.VM_MAYSHARE;
import static org.mm4j.vma.VmFlags.VM_MAYWRITE;
import static org.mm4j.vma.VmFlags.VM_NOHUGEPAGE;
import static org.mm4j.vma.VmFlags.VM_NORESERVE;
import static org.mm4j.vma.VmFlags.VM_SHARED;

/**
 * {@code mmap(2)} and {@code brk(2)} with the placement of new mappings ({@code mm/mmap.c} of Linux 6.18, with the
 * x86-64 {@code arch_get_unmapped_area[_topdown]} of {@code arch/x86/kernel/sys_x86_64.c} and the THP alignment of
 * {@code thp_get_unmapped_area_vmflags}) and the growth of a stack VMA ({@code expand_downwards}).
 *
 * <p>Placement: a free hint wins; otherwise top-down from {@code mmap_base} through the tree's subtree gaps (a
 * stack's guard gap counted as used), falling back to bottom-up, or bottom-up from {@code mmap_legacy_base} with the
 * legacy layout; replay's placement override ({@link MmStruct#setPlacementOverride}) goes first when its range is
 * free. The VMA work itself ({@code mmap_region}, {@code do_brk_flags}, the unmap) is {@link VmaOps}'.
 *
 * <p>Threads: the caller holds the mm's mmap lock (asserted: for write where the syscall takes it for write);
 * {@link MmStruct}'s public {@code mmap}, {@code brk}, {@code getUnmappedArea} and {@code findExtendVma} take it.
 */
final class Mmap {
    private Mmap() {
    }

    // ------------------------------------------------------------------------------------------------ stack

    /** {@code find_extend_vma_locked}: the VMA containing addr, growing a stack down to it when allowed; or null. */
    static Vma findExtendVma(final MmStruct mm, final long addr) {
        assert mm.mmapAssertWriteLocked();
        final long a = addr & PAGE_MASK;
        final Vma v = mm.findVmaLocked(a);
        if (v != null && v.start <= a) {
            return v;
        }
        if (v != null && (v.flags & VM_GROWSDOWN) != 0 && expandDownwards(mm, v, a) == 0) {
            return v;
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------------ placement

    /** The hint check of {@code arch_get_unmapped_area[_topdown]}: the range fits and stays in one map window. */
    private static boolean hintValid(final long addr, final long len) {
        if (Long.compareUnsigned(TASK_SIZE - len, addr) < 0) {
            return false;
        }
        return (addr > DEFAULT_MAP_WINDOW) == (addr + len > DEFAULT_MAP_WINDOW);
    }

    /** {@code arch_get_unmapped_area}: the hint if free, else the lowest gap above {@code mmap_legacy_base}. */
    private static long archGetUnmappedAreaBottomup(final MmStruct mm, final long addr0, final long len,
                                                    final int flags) {
        if ((flags & Mman.MAP_FIXED) != 0) {
            return addr0;
        }
        if (len > TASK_SIZE) {
            return -ENOMEM;
        }
        if (addr0 != 0) {
            final long addr = pageAlign(addr0);
            if (hintValid(addr, len)) {
                final Vma v = mm.findVmaLocked(addr);
                if (v == null || addr + len <= mm.tree.startGap(v)) {
                    return addr;
                }
            }
        }
        final long r = mm.tree.lowestGap(len, Math.max(mm.mmapLegacyBase, mm.mmapMinAddr), TASK_SIZE);
        return r == -1 ? -ENOMEM : r;
    }

    /**
     * {@code arch_get_unmapped_area_topdown}: the hint if free, else the highest gap below {@code mmap_base}, else
     * the bottom-up search.
     */
    private static long archGetUnmappedAreaTopdown(final MmStruct mm, final long addr0, final long len,
                                                   final int flags) {
        if (len > TASK_SIZE) {
            return -ENOMEM;
        }
        if ((flags & Mman.MAP_FIXED) != 0) {
            return addr0;
        }
        if (addr0 != 0) {
            final long addr = addr0 & PAGE_MASK;
            if (hintValid(addr, len)) {
                final Vma v = mm.findVmaLocked(addr);
                if (v == null || addr + len <= mm.tree.startGap(v)) {
                    return addr;
                }
            }
        }
        final long r = mm.tree.highestGap(len, Math.max(PAGE_SIZE, mm.mmapMinAddr), mm.mmapBase);
        if (r != -1) {
            return r;
        }
        return archGetUnmappedAreaBottomup(mm, addr0, len, flags);
    }

    /** {@code mm_get_unmapped_area}: top-down or, with the legacy layout ({@code !MMF_TOPDOWN}), bottom-up. */
    private static long mmGetUnmappedArea(final MmStruct mm, final long addr, final long len, final int flags) {
        return mm.topdown ? archGetUnmappedAreaTopdown(mm, addr, len, flags)
            : archGetUnmappedAreaBottomup(mm, addr, len, flags);
    }

    /** {@code __thp_get_unmapped_area} then the plain search ({@code thp_get_unmapped_area_vmflags}). */
    private static long thpGetUnmappedArea(final MmStruct mm, final long addr, final long len, final long pgoff,
                                           final int flags) {
        final long off = pgoff << 12;
        final long offEnd = off + len;
        final long offAlign = (off + PMD_SIZE - 1) & ~(PMD_SIZE - 1);
        if (!(offEnd <= offAlign || offEnd - offAlign < PMD_SIZE)) {
            final long lenPad = len + PMD_SIZE;
            if (lenPad >= len && off + lenPad >= off) {
                long ret = mmGetUnmappedArea(mm, addr, lenPad, flags);
                if (!Errno.isError(ret)) {
                    if (ret == addr) {
                        return addr;
                    }
                    final long offSub = (off - ret) & (PMD_SIZE - 1);
                    if (mm.topdown && offSub == 0) {
                        return ret + PMD_SIZE;
                    }
                    return ret + offSub;
                }
            }
        }
        return mmGetUnmappedArea(mm, addr, len, flags);
    }

    /**
     * {@code get_unmapped_area} ({@code __get_unmapped_area} with no vm_flags): where a mapping of {@code len}
     * bytes goes. Anonymous private mappings with no hint and a multiple of 2 MiB and ext4 file mappings covering a
     * 2 MiB-aligned file block are THP-aligned. The address, or -ENOMEM, -EINVAL or -EPERM.
     */
    static long getUnmappedArea(final MmStruct mm, final VmFile file, final long addr, final long len,
                                final long pgoff, final int flags) {
        assert mm.mmapAssertLocked();
        if (Long.compareUnsigned(len, TASK_SIZE) > 0) {
            return -ENOMEM;
        }
        if (mm.placementOverride != -1 && (flags & Mman.MAP_FIXED) == 0) {
            final long o = mm.placementOverride;
            mm.placementOverride = -1;
            if ((o & ~PAGE_MASK) == 0 && Long.compareUnsigned(o, mm.mmapMinAddr) >= 0
                && Long.compareUnsigned(o, TASK_SIZE - len) <= 0
                && mm.findVmaIntersectionLocked(o, o + len) == null) {
                return o;
            }
        }
        long r;
        if (file != null) {
            r = file.kind == VmFile.Kind.EXT4 ? thpGetUnmappedArea(mm, addr, len, pgoff, flags)
                : mmGetUnmappedArea(mm, addr, len, flags);
        } else if ((flags & Mman.MAP_SHARED) != 0) {
            r = mmGetUnmappedArea(mm, addr, len, flags);
        } else if (addr == 0 && (len & (PMD_SIZE - 1)) == 0) {
            r = thpGetUnmappedArea(mm, addr, len, 0, flags);
        } else {
            r = mmGetUnmappedArea(mm, addr, len, flags);
        }
        if (Errno.isError(r)) {
            return r;
        }
        if (Long.compareUnsigned(r, TASK_SIZE - len) > 0) {
            return -ENOMEM;
        }
        if ((r & ~PAGE_MASK) != 0) {
            return -EINVAL;
        }
        if (Long.compareUnsigned(r, mm.mmapMinAddr) < 0) {
            return -EPERM;
        }
        return r;
    }

    // ------------------------------------------------------------------------------------------------ mmap

    /**
     * {@code mmap(addr, len, prot, flags, fd, off)} ({@code ksys_mmap_pgoff}): {@code file} is the open file for a
     * file mapping (null with MAP_ANONYMOUS; null without it is EBADF). Returns the address or -errno.
     */
    static long mmap(final MmStruct mm, final long addr, final long len, final int prot, final int flags,
                     final VmFile file, final long off) {
        assert mm.mmapAssertWriteLocked();
        if ((off & ~PAGE_MASK) != 0) {
            return -EINVAL;
        }
        VmFile f = null;
        if ((flags & Mman.MAP_ANONYMOUS) == 0) {
            if (file == null) {
                return -EBADF;
            }
            if ((flags & Mman.MAP_HUGETLB) != 0) {
                return -EINVAL;
            }
            f = file;
        } else if ((flags & Mman.MAP_HUGETLB) != 0) {
            return -ENOMEM; // no huge pages are reserved in the model
        }
        if (f != null && f.inode.path.equals("/dev/zero")) {
            // mmap of /dev/zero: private becomes anonymous memory, shared a new shmem object
            f = null;
            final int fl = flags | Mman.MAP_ANONYMOUS;
            return doMmap(mm, null, addr, len, prot, fl, Long.divideUnsigned(off, PAGE_SIZE));
        }
        return doMmap(mm, f, addr, len, prot, flags, Long.divideUnsigned(off, PAGE_SIZE));
    }

    /**
     * {@code do_mmap}: the flag and length checks, {@code vm_flags} from prot and flags, the placement, then
     * {@link VmaOps#mmapRegion}; MAP_POPULATE and VM_LOCKED mappings are faulted in (best effort).
     */
    private static long doMmap(final MmStruct mm, final VmFile file, long addr, long len, final int prot, int flags,
                               long pgoff) {
        if (len == 0) {
            return -EINVAL;
        }
        if ((flags & Mman.MAP_FIXED_NOREPLACE) != 0) {
            flags |= Mman.MAP_FIXED;
        }
        if ((flags & Mman.MAP_FIXED) == 0) {
            addr &= PAGE_MASK;
            if (addr != 0 && addr < mm.mmapMinAddr) {
                addr = pageAlign(mm.mmapMinAddr);
            }
        }
        len = pageAlign(len);
        if (len == 0) {
            return -ENOMEM;
        }
        if (pgoff + (len >>> 12) < pgoff) {
            return -EOVERFLOW;
        }
        if (mm.tree.count > mm.maxMapCount()) {
            return -ENOMEM;
        }
        long vmFlags = VmFlags.protToFlags(prot) | mm.defFlags | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
        if ((flags & Mman.MAP_GROWSDOWN) != 0) {
            vmFlags |= VM_GROWSDOWN;
        }
        if ((flags & Mman.MAP_LOCKED) != 0) {
            vmFlags |= VM_LOCKED;
        }
        if ((flags & Mman.MAP_STACK) != 0) {
            vmFlags |= VM_NOHUGEPAGE;
        }
        final long a = getUnmappedArea(mm, file, addr, len, pgoff, flags);
        if (Errno.isError(a)) {
            return a;
        }
        addr = a;
        if ((flags & Mman.MAP_FIXED_NOREPLACE) != 0 && mm.findVmaIntersectionLocked(addr, addr + len) != null) {
            return -EEXIST;
        }
        if (file != null) {
            switch (flags & Mman.MAP_TYPE) {
                case Mman.MAP_SHARED, Mman.MAP_SHARED_VALIDATE -> {
                    if ((flags & Mman.MAP_TYPE) == Mman.MAP_SHARED) {
                        flags &= Mman.LEGACY_MAP_MASK;
                    } else if ((flags & ~(Mman.LEGACY_MAP_MASK | Mman.MAP_FIXED_NOREPLACE)) != 0) {
                        return -EOPNOTSUPP;
                    }
                    if ((prot & Mman.PROT_WRITE) != 0 && !file.writable) {
                        return -EACCES;
                    }
                    vmFlags |= VM_SHARED | VM_MAYSHARE;
                    if (!file.writable) {
                        vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
                    }
                    if (!file.readable) {
                        return -EACCES;
                    }
                    if ((vmFlags & VM_GROWSDOWN) != 0) {
                        return -EINVAL;
                    }
                }
                case Mman.MAP_PRIVATE -> {
                    if (!file.readable) {
                        return -EACCES;
                    }
                    if ((vmFlags & VM_GROWSDOWN) != 0) {
                        return -EINVAL;
                    }
                }
                default -> {
                    return -EINVAL;
                }
            }
        } else {
            switch (flags & Mman.MAP_TYPE) {
                case Mman.MAP_SHARED -> {
                    if ((vmFlags & VM_GROWSDOWN) != 0) {
                        return -EINVAL;
                    }
                    pgoff = 0;
                    vmFlags |= VM_SHARED | VM_MAYSHARE;
                }
                case Mman.MAP_PRIVATE -> pgoff = addr >>> 12;
                default -> {
                    return -EINVAL;
                }
            }
        }
        if ((flags & Mman.MAP_NORESERVE) != 0) {
            vmFlags |= VM_NORESERVE;
        }
        final long r = VmaOps.mmapRegion(mm, file, addr, len, vmFlags, pgoff);
        if (!Errno.isError(r) && ((vmFlags & VM_LOCKED) != 0
            || (flags & (Mman.MAP_POPULATE | Mman.MAP_NONBLOCK)) == Mman.MAP_POPULATE)) {
            Fault.populateLocked(mm, r, r + len);
        }
        return r;
    }

    // ------------------------------------------------------------------------------------------------ brk

    /** {@code brk(addr)}: the new break, or the unchanged one on failure ({@code brk(0)} queries it). */
    static long brk(final MmStruct mm, final long newBrkReq) {
        assert mm.mmapAssertWriteLocked();
        final long origBrk = mm.brk;
        if (newBrkReq < mm.startBrk) {
            return mm.brk;
        }
        final long newBrk = pageAlign(newBrkReq);
        final long oldBrk = pageAlign(mm.brk);
        if (oldBrk == newBrk) {
            mm.brk = newBrkReq;
            return mm.brk;
        }
        if (newBrkReq <= mm.brk) {
            final Vma v = mm.findVmaLocked(newBrk);
            if (v == null || v.start >= oldBrk) {
                return origBrk;
            }
            mm.brk = newBrkReq;
            if (VmaOps.alignMunmap(mm, v, newBrk, oldBrk) != 0) {
                mm.brk = origBrk;
            }
            return mm.brk;
        }
        // check_brk_limits: a MAP_FIXED get_unmapped_area of the new range
        final long len = newBrk - oldBrk;
        if (len > TASK_SIZE || oldBrk > TASK_SIZE - len || oldBrk < mm.mmapMinAddr) {
            return origBrk;
        }
        final Vma next = mm.findVmaLocked(oldBrk);
        if (next != null && next.start < newBrk + PAGE_SIZE + mm.tree.stackGuardGap
            && newBrk + PAGE_SIZE > mm.tree.startGap(next)) {
            return origBrk;
        }
        final Vma p = mm.tree.findBefore(oldBrk);
        final Vma brkVma = p != null && p.start >= mm.startBrk ? p : null;
        if (VmaOps.doBrkFlags(mm, brkVma, oldBrk, len) != 0) {
            return origBrk;
        }
        mm.brk = newBrkReq;
        if ((mm.defFlags & VM_LOCKED) != 0) {
            Fault.populateLocked(mm, oldBrk, newBrk); // mm_populate after mlockall(MCL_FUTURE): errors are ignored
        }
        return mm.brk;
    }

    /**
     * {@code expand_downwards}: grows a stack VMA down to {@code addr}; 0, -EPERM below {@code mmap_min_addr}, or
     * -ENOMEM when the stack guard gap or {@code RLIMIT_STACK} forbid it.
     */
    static int expandDownwards(final MmStruct mm, final Vma vma, final long addrIn) {
        assert mm.mmapAssertWriteLocked();
        final long addr = addrIn & PAGE_MASK;
        if (addr < mm.mmapMinAddr) {
            return -EPERM;
        }
        final Vma prev = vma.prev;
        if (prev != null && (prev.flags & VM_GROWSDOWN) == 0 && (prev.flags & VM_ACCESS_FLAGS) != 0
            && addr - prev.end < mm.tree.stackGuardGap) {
            return -ENOMEM;
        }
        if (vma.end - addr > mm.rlimitStack) {
            return -ENOMEM;
        }
        final long grow = (vma.start - addr) >>> 12;
        mm.setRange(vma, addr, vma.end, vma.pgoff - grow);
        return 0;
    }
}
