package org.mm4j.vma;

import static org.mm4j.vma.Errno.EACCES;
import static org.mm4j.vma.Errno.EBADF;
import static org.mm4j.vma.Errno.EINVAL;
import static org.mm4j.vma.Errno.ENOMEM;
import static org.mm4j.vma.MmStruct.ANON_VMA_NAME_MAX_LEN;
import static org.mm4j.vma.MmStruct.PAGE_MASK;
import static org.mm4j.vma.MmStruct.PAGE_SIZE;
import static org.mm4j.vma.MmStruct.PMD_SIZE;
import static org.mm4j.vma.MmStruct.pageAlign;
import static org.mm4j.vma.VmFlags.VM_DONTCOPY;
import static org.mm4j.vma.VmFlags.VM_DONTDUMP;
import static org.mm4j.vma.VmFlags.VM_HUGEPAGE;
import static org.mm4j.vma.VmFlags.VM_HUGETLB;
import static org.mm4j.vma.VmFlags.VM_IO;
import static org.mm4j.vma.VmFlags.VM_LOCKED;
import static org.mm4j.vma.VmFlags.VM_MIXEDMAP;
import static org.mm4j.vma.VmFlags.VM_NOHUGEPAGE;
import static org.mm4j.vma.VmFlags.VM_PFNMAP;
import static org.mm4j.vma.VmFlags.VM_RAND_READ;
import static org.mm4j.vma.VmFlags.VM_SEQ_READ;
import static org.mm4j.vma.VmFlags.VM_SHARED;
import static org.mm4j.vma.VmFlags.VM_SPECIAL;
import static org.mm4j.vma.VmFlags.VM_WIPEONFORK;

/**
 * {@code madvise(2)} ({@code mm/madvise.c} of Linux 6.18) and the anonymous-VMA names set through
 * {@code prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME)} ({@code madvise_set_anon_name}, reached from
 * {@code kernel/sys.c}'s {@code prctl_set_vma}): both walk the VMAs of a range ({@code madvise_walk_vmas}), a hole
 * giving {@code -ENOMEM} at the end, an error stopping the walk with the changes made before it kept.
 *
 * <p>Advice that changes flags or names splits or merges through {@link VmaOps#vmaModify}; advice on pages
 * (DONTNEED, FREE, REMOVE, POPULATE, GUARD_*) works on the {@link PageTables}.
 *
 * <p>Threads: the caller holds the mm's mmap lock (asserted); {@link MmStruct}'s public {@code madvise},
 * {@code setAnonName} and {@code prctl} take it, as the kernel's {@code madvise_lock} takes {@code mmap_lock}.
 */
final class Madvise {
    private Madvise() {
    }

    private static boolean madviseBehaviorValid(final int b) {
        return b >= 0 && b <= 4 || b >= 8 && b <= 25 || b == Mman.MADV_GUARD_INSTALL || b == Mman.MADV_GUARD_REMOVE;
    }

    /** {@code madvise(start, len, behavior)}: 0 or -errno. */
    static long madvise(final MmStruct mm, final long start, final long lenIn, final int behavior) {
        assert mm.mmapAssertLocked();
        if (!madviseBehaviorValid(behavior)) {
            return -EINVAL;
        }
        return walkRange(mm, start, lenIn, (vma, s, e) -> madviseVma(mm, vma, s, e, behavior));
    }

    /** What {@link #walkVmas} applies to each VMA piece: the resulting VMA (for the walk to continue) or null. */
    private interface Visit {
        Vma visit(Vma vma, long start, long end);
    }

    /**
     * The range checks {@code do_madvise} and {@code madvise_set_anon_name} share (a page-aligned start, a length
     * that does not wrap; an empty range is 0), then {@link #walkVmas}.
     */
    private static long walkRange(final MmStruct mm, final long start, final long lenIn, final Visit visit) {
        if ((start & ~PAGE_MASK) != 0) {
            return -EINVAL;
        }
        final long len = pageAlign(lenIn);
        if (lenIn != 0 && len == 0) {
            return -EINVAL;
        }
        final long end = start + len;
        if (Long.compareUnsigned(end, start) < 0) {
            return -EINVAL;
        }
        if (end == start) {
            return 0;
        }
        return walkVmas(mm, start, end, visit);
    }

    /** {@code madvise_walk_vmas}: visits each mapped piece; a hole gives ENOMEM at the end, an error stops. */
    private static long walkVmas(final MmStruct mm, long start, final long end, final Visit visit) {
        int unmappedError = 0;
        Vma vma = mm.findVmaLocked(start);
        while (true) {
            if (vma == null) {
                return -ENOMEM;
            }
            if (start < vma.start) {
                unmappedError = -ENOMEM;
                start = vma.start;
                if (start >= end) {
                    break;
                }
            }
            final long tmp = Math.min(vma.end, end);
            final Vma r = visit.visit(vma, start, tmp);
            if (r == null) {
                return mm.modifyError;
            }
            start = Math.max(tmp, r.end);
            if (start >= end) {
                break;
            }
            vma = mm.findVmaLocked(r.end);
        }
        return unmappedError;
    }

    private static Vma madviseVma(final MmStruct mm, final Vma vma, final long start, final long end,
                                  final int behavior) {
        long newFlags = vma.flags;
        switch (behavior) {
            case Mman.MADV_DONTNEED, Mman.MADV_DONTNEED_LOCKED -> {
                long forbidden = VM_PFNMAP;
                if (behavior != Mman.MADV_DONTNEED_LOCKED) {
                    forbidden |= VM_LOCKED;
                }
                if ((vma.flags & forbidden) != 0) {
                    return mm.fail(-EINVAL);
                }
                if (mm.pageTables != null) {
                    mm.pageTables.zapRange(vma, start, end);
                }
                return vma;
            }
            case Mman.MADV_FREE -> {
                // madvise_dontneed_free_valid_vma: VM_LOCKED and VM_PFNMAP are refused before
                // madvise_free_single_vma's anonymous-only rule
                if ((vma.flags & (VM_LOCKED | VM_PFNMAP)) != 0 || !vma.isAnonymous()) {
                    return mm.fail(-EINVAL);
                }
                if (mm.pageTables != null) {
                    mm.pageTables.markLazyfree(start, end); // kept, readable, until reclaim discards them
                }
                return vma;
            }
            case Mman.MADV_REMOVE -> {
                if ((vma.flags & VM_LOCKED) != 0) {
                    return mm.fail(-EINVAL);
                }
                if (vma.file == null || (vma.flags & VM_SHARED) == 0) {
                    return mm.fail(-EACCES);
                }
                if (mm.pageTables != null) {
                    mm.pageTables.zapRange(vma, start, end);
                }
                return vma;
            }
            case Mman.MADV_POPULATE_READ, Mman.MADV_POPULATE_WRITE -> {
                final long r = Fault.populateLocked(mm, start, end);
                if (r != 0) {
                    return mm.fail((int) r); // madvise_populate: -EFAULT for SIGBUS, -ENOMEM out of memory
                }
                return vma;
            }
            case Mman.MADV_COLD, Mman.MADV_PAGEOUT -> {
                // can_madv_lru_vma: no LRU advice on locked, PFN-mapped or hugetlb VMAs
                if ((vma.flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB)) != 0) {
                    return mm.fail(-EINVAL);
                }
                return vma;
            }
            case Mman.MADV_COLLAPSE -> {
                // madvise_collapse: thp_vma_allowable_order(PMD_ORDER) must hold, which needs a PMD-aligned
                // PMD-sized range inside the VMA (thp_vma_suitable_order) and no VM_NOHUGEPAGE
                if (!thpPmdSuitable(vma)) {
                    return mm.fail(-EINVAL);
                }
                return vma;
            }
            case Mman.MADV_WILLNEED, Mman.MADV_MERGEABLE, Mman.MADV_UNMERGEABLE -> {
                return vma;
            }
            case Mman.MADV_GUARD_INSTALL, Mman.MADV_GUARD_REMOVE -> {
                // is_valid_guard_vma: not VM_SPECIAL nor hugetlb; install also refuses VM_LOCKED (no zap of locked)
                final long disallowed = VM_SPECIAL | VM_HUGETLB
                    | (behavior == Mman.MADV_GUARD_INSTALL ? VM_LOCKED : 0);
                if ((vma.flags & disallowed) != 0) {
                    return mm.fail(-EINVAL);
                }
                if (mm.pageTables != null) {
                    if (behavior == Mman.MADV_GUARD_REMOVE) {
                        mm.pageTables.removeGuards(start, end);
                    } else {
                        if (vma.isAnonymous() && Fault.anonVmaPrepare(mm, vma) != 0) {
                            return mm.fail(-ENOMEM); // so that fork copies the markers
                        }
                        if (!mm.pageTables.installGuards(vma, start, end)) {
                            return mm.fail(-ENOMEM);
                        }
                    }
                }
                return vma;
            }
            case Mman.MADV_NORMAL -> newFlags &= ~(VM_RAND_READ | VM_SEQ_READ);
            case Mman.MADV_SEQUENTIAL -> newFlags = (newFlags & ~VM_RAND_READ) | VM_SEQ_READ;
            case Mman.MADV_RANDOM -> newFlags = (newFlags & ~VM_SEQ_READ) | VM_RAND_READ;
            case Mman.MADV_DONTFORK -> newFlags |= VM_DONTCOPY;
            case Mman.MADV_DOFORK -> {
                if ((vma.flags & VM_IO) != 0) {
                    return mm.fail(-EINVAL);
                }
                newFlags &= ~VM_DONTCOPY;
            }
            case Mman.MADV_WIPEONFORK -> {
                if (vma.file != null || (vma.flags & VM_SHARED) != 0) {
                    return mm.fail(-EINVAL);
                }
                newFlags |= VM_WIPEONFORK;
            }
            case Mman.MADV_KEEPONFORK -> newFlags &= ~VM_WIPEONFORK;
            case Mman.MADV_DONTDUMP -> newFlags |= VM_DONTDUMP;
            case Mman.MADV_DODUMP -> {
                if ((newFlags & VM_SPECIAL) != 0) {
                    return mm.fail(-EINVAL);
                }
                newFlags &= ~VM_DONTDUMP;
            }
            case Mman.MADV_HUGEPAGE -> newFlags = (newFlags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
            case Mman.MADV_NOHUGEPAGE -> newFlags = (newFlags & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
            default -> {
                return mm.fail(-EINVAL);
            }
        }
        if (newFlags == vma.flags) {
            return vma;
        }
        final Vma r = VmaOps.vmaModify(mm, vma, start, end, newFlags, vma.anonName);
        if (r != null) {
            r.flags = newFlags;
        }
        return r;
    }

    /**
     * {@code thp_vma_allowable_order(vma, ..., PMD_ORDER)} as MADV_COLLAPSE asks it (sysfs settings ignored):
     * false for VM_NOHUGEPAGE, hugetlb and PFN/mixed maps, and when no PMD-aligned {@code PMD_SIZE} range fits
     * the VMA (checked, as {@code __thp_vma_allowable_orders} does, for the range ending nearest {@code vm_end});
     * a file VMA also needs its file offset aligned with its address ({@code thp_vma_suitable_order}).
     */
    private static boolean thpPmdSuitable(final Vma vma) {
        if ((vma.flags & (VM_NOHUGEPAGE | VM_HUGETLB | VM_PFNMAP | VM_MIXEDMAP)) != 0) {
            return false;
        }
        final long haddr = (vma.end - PMD_SIZE) & ~(PMD_SIZE - 1);
        if (vma.end - vma.start < PMD_SIZE || haddr < vma.start || haddr + PMD_SIZE > vma.end) {
            return false;
        }
        return vma.isAnonymous() || ((vma.start >>> 12) - vma.pgoff & (PMD_SIZE / PAGE_SIZE - 1)) == 0;
    }
    private static boolean validNameChar(final char c) {
        return c >= 0x20 && c < 0x7f && c != '\\' && c != '`' && c != '$' && c != '[' && c != ']';
    }

    /**
     * {@code prctl(mm, PR_SET_VMA, PR_SET_VMA_ANON_NAME, start, len, name)}: names anonymous memory ({@code name}
     * null clears). 0 or -errno.
     */
    static long setAnonName(final MmStruct mm, final long start, final long lenIn, final String name) {
        assert mm.mmapAssertWriteLocked();
        if (name != null) {
            if (name.length() >= ANON_VMA_NAME_MAX_LEN) {
                return -EINVAL;
            }
            for (int i = 0; i < name.length(); i++) {
                if (!validNameChar(name.charAt(i))) {
                    return -EINVAL;
                }
            }
        }
        return walkRange(mm, start, lenIn, (vma, s, e) -> {
            if (vma.file != null && !vma.file.isShmem()) {
                return mm.fail(-EBADF);
            }
            if (java.util.Objects.equals(vma.anonName, name)) {
                return vma;
            }
            final Vma r = VmaOps.vmaModify(mm, vma, s, e, vma.flags, name);
            if (r != null) {
                r.anonName = name;
            }
            return r;
        });
    }

    /** {@code prctl(option, arg2, arg3, arg4, name)} for PR_SET_VMA; other options give EINVAL. */
    static long prctl(final MmStruct mm, final int option, final long arg2, final long start, final long len,
                      final String name) {
        if (option != Mman.PR_SET_VMA || arg2 != Mman.PR_SET_VMA_ANON_NAME) {
            return -EINVAL;
        }
        return setAnonName(mm, start, len, name);
    }
}
