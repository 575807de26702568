package org.mm4j.vma;

import static org.mm4j.vma.Errno.EINVAL;
import static org.mm4j.vma.Errno.ENOMEM;
import static org.mm4j.vma.MmStruct.PAGE_MASK;
import static org.mm4j.vma.MmStruct.TASK_SIZE;
import static org.mm4j.vma.MmStruct.pageAlign;
import static org.mm4j.vma.VmFlags.VM_ACCOUNT;
import static org.mm4j.vma.VmFlags.VM_LOCKED;
import static org.mm4j.vma.VmFlags.VM_LOCKED_MASK;
import static org.mm4j.vma.VmFlags.VM_MAYEXEC;
import static org.mm4j.vma.VmFlags.VM_MAYREAD;
import static org.mm4j.vma.VmFlags.VM_MAYWRITE;
import static org.mm4j.vma.VmFlags.VM_NORESERVE;
import static org.mm4j.vma.VmFlags.VM_READ;
import static org.mm4j.vma.VmFlags.VM_SHARED;
import static org.mm4j.vma.VmFlags.VM_SPECIAL;
import static org.mm4j.vma.VmFlags.VM_WRITE;

/**
 * The VMA operations of {@code mm/vma.c} (Linux 6.18) every system call builds on: split ({@code __split_vma},
 * {@code split_vma}), merge of a new range ({@code vma_merge_new_range}) and of an existing one whose flags or name
 * change ({@code vma_merge_existing_range}, {@code vma_modify}), {@code copy_vma} for mremap, the unmap of a range
 * ({@code do_vmi_munmap}, {@code do_vmi_align_munmap}), {@code mmap_region} and {@code do_brk_flags}.
 *
 * <p>Merge rules (the state of one attempt is a {@link Vmg}, {@code struct vma_merge_struct}): neighbours merge
 * when their flags (but VM_SOFTDIRTY), file and anonymous name are equal, their {@code vm_pgoff}s are contiguous,
 * neither is a special mapping nor VM_SPECIAL, and their anon_vmas are compatible (one side without one, when the
 * other is not a fork child's, or both the same; on a three-way merge prev's and next's must also agree).
 *
 * <p>Invariants kept: VMAs never overlap and stay page aligned; every change of the VMA set goes through
 * {@link MmStruct}'s store edits ({@code insertVma}, {@code removeVma}, {@code setRange}), which invalidate the
 * vmacaches; a split refused for {@code max_map_count} changes nothing.
 *
 * <p>Threads: every method needs the mm's mmap lock held for write (asserted where the kernel asserts
 * {@code mmap_assert_write_locked} or takes {@code vma_start_write}); the callers are {@link MmStruct}'s public
 * methods, which take it, and the per-syscall classes they call.
 */
final class VmaOps {
    private VmaOps() {
    }

    // ------------------------------------------------------------------------------------------------ split

    /**
     * {@code __split_vma}: splits {@code v} at {@code addr}; {@code newBelow}: the new VMA is the lower part. Returns
     * the new VMA, or null (nothing changed) when its {@code vm_area_struct} or its anon_vma chains could not be
     * had ({@code vm_area_dup}, {@code anon_vma_clone}: -ENOMEM). Unchecked: it bypasses the {@code max_map_count}
     * limit ({@link #splitVma} checks it).
     */
    static Vma splitVmaUnchecked(final MmStruct mm, final Vma v, final long addr, final boolean newBelow) {
        assert mm.mmapAssertWriteLocked();
        final Vma n = VmaInit.vmAreaDupClone(v);
        if (n == null) {
            return null;
        }
        final long delta = (addr - v.start) >>> 12;
        if (newBelow) {
            n.end = addr;
            mm.setRange(v, addr, v.end, v.pgoff + delta);
        } else {
            n.start = addr;
            n.pgoff = v.pgoff + delta;
            mm.setRange(v, v.start, addr, v.pgoff);
        }
        mm.insertVma(n);
        return n;
    }

    /**
     * {@code split_vma}: refuses with ENOMEM when the map count is at its limit, or when the new VMA's memory
     * could not be had. Returns 0 or -errno.
     */
    static int splitVma(final MmStruct mm, final Vma v, final long addr, final boolean newBelow) {
        if (mm.tree.count >= mm.maxMapCount()) {
            return -ENOMEM;
        }
        return splitVmaUnchecked(mm, v, addr, newBelow) == null ? -ENOMEM : 0;
    }

    // ------------------------------------------------------------------------------------------------ merging

    /** The state of one merge attempt ({@code struct vma_merge_struct}). */
    static final class Vmg {
        Vma prev;
        Vma next;
        Vma middle;
        Vma copiedFrom;
        long start;
        long end;
        long pgoff;
        long flags;
        VmFile file;
        AnonVma anonVma;
        String anonName;
        boolean justExpand;

        /** {@code VMG_STATE} for a new range {@code [start, end)}: prev and next are its neighbours in the store. */
        static Vmg at(final MmStruct mm, final long start, final long end) {
            final Vmg g = new Vmg();
            g.prev = mm.tree.findBefore(start);
            g.next = g.prev == null ? mm.tree.first : g.prev.next;
            g.start = start;
            g.end = end;
            return g;
        }
    }

    private static boolean hadUncowedParents(final Vma v) {
        return v != null && v.anonVma != null && v.anonVma.parent != null;
    }

    private static boolean isMergeableVma(final Vmg g, final Vma v) {
        return ((v.flags ^ g.flags) & ~VmFlags.VM_SOFTDIRTY) == 0 && v.file == g.file
            && v.specialName == null && java.util.Objects.equals(v.anonName, g.anonName);
    }

    private static boolean isMergeableAnonVma(final Vmg g, final Vma tgt) {
        final AnonVma tgtAnon = tgt.anonVma;
        final AnonVma srcAnon = g.anonVma;
        if (tgtAnon == null && srcAnon != null) {
            return !hadUncowedParents(g.middle) && !hadUncowedParents(g.copiedFrom);
        }
        if (tgtAnon != null && srcAnon == null) {
            return !hadUncowedParents(tgt);
        }
        return srcAnon == tgtAnon;
    }

    private static boolean areAnonVmasCompatible(final Vma a, final Vma b) {
        if (a.anonVma != null && b.anonVma != null && a.anonVma != b.anonVma) {
            return false;
        }
        if (a.anonVma == null && b.anonVma == null) {
            return true;
        }
        return !hadUncowedParents(a) && !hadUncowedParents(b);
    }

    private static boolean canMergeBefore(final Vmg g) {
        final long pglen = (g.end - g.start) >>> 12;
        return isMergeableVma(g, g.next) && isMergeableAnonVma(g, g.next) && g.next.pgoff == g.pgoff + pglen;
    }

    private static boolean canMergeAfter(final Vmg g) {
        return isMergeableVma(g, g.prev) && isMergeableAnonVma(g, g.prev)
            && g.prev.pgoff + g.prev.pages() == g.pgoff;
    }

    /** {@code dup_anon_vma}: {@code dst} takes {@code src}'s anon_vma and a copy of its chains. */
    private static void dupAnonVma(final Vma dst, final Vma src) {
        if (src != null && src.anonVma != null && dst.anonVma == null) {
            dst.anonVma = src.anonVma;
            Rmap.anonVmaCloneNoFail(dst, src);
        }
    }

    /**
     * {@code vma_merge_new_range}: merges the new range {@code [g.start, g.end)} (not yet in the tree) with the
     * adjacent prev and/or next. Returns the VMA that now covers it, or null when nothing merges.
     */
    static Vma mergeNewRange(final MmStruct mm, final Vmg g) {
        assert mm.mmapAssertWriteLocked();
        final Vma prev = g.prev;
        final Vma next = g.next;
        if ((g.flags & VM_SPECIAL) != 0) {
            return null;
        }
        final boolean left = prev != null && prev.end == g.start && canMergeAfter(g);
        final boolean right = !g.justExpand && next != null && next.start == g.end && canMergeBefore(g)
            && (!left || areAnonVmasCompatible(prev, next));
        if (!left && !right) {
            return null;
        }
        if (left && right) {
            final long end = next.end;
            dupAnonVma(prev, next);
            dupAnonVma(prev, g.copiedFrom);
            mm.removeVma(next);
            mm.setRange(prev, prev.start, end, prev.pgoff);
            return prev;
        }
        if (left) {
            dupAnonVma(prev, g.copiedFrom);
            mm.setRange(prev, prev.start, g.end, prev.pgoff);
            return prev;
        }
        dupAnonVma(next, g.copiedFrom);
        mm.setRange(next, g.start, next.end, g.pgoff);
        return next;
    }

    /**
     * {@code vma_merge_existing_range}: {@code [start, end)} of {@code middle} is getting new flags / name; merge
     * it with its neighbours if they then match. Returns the merged VMA or null.
     */
    private static Vma mergeExistingRange(final MmStruct mm, final Vmg g) {
        assert mm.mmapAssertWriteLocked();
        final Vma middle = g.middle;
        final boolean leftSide = g.start == middle.start;
        final boolean rightSide = g.end == middle.end;
        if ((g.flags & VM_SPECIAL) != 0 || middle.specialName != null || (!leftSide && !rightSide)) {
            return null;
        }
        final Vma prev = middle.prev;
        final Vma next = middle.next;
        g.prev = prev;
        g.next = next;
        final boolean mergeLeft = leftSide && prev != null && prev.end == g.start && canMergeAfter(g);
        final boolean mergeRight = rightSide && next != null && next.start == g.end && canMergeBefore(g)
            && (!mergeLeft || areAnonVmasCompatible(prev, next));
        if (!mergeLeft && !mergeRight) {
            return null;
        }
        if (mergeLeft && mergeRight) {
            if (prev.anonVma == null) {
                dupAnonVma(prev, next.anonVma != null ? next : middle);
            }
            final long end = next.end;
            mm.removeVma(middle);
            mm.removeVma(next);
            mm.setRange(prev, prev.start, end, prev.pgoff);
            return prev;
        }
        if (mergeLeft) {
            dupAnonVma(prev, middle);
            if (rightSide) {
                mm.removeVma(middle);
            } else {
                mm.setRange(middle, g.end, middle.end, middle.pgoff + ((g.end - middle.start) >>> 12));
            }
            mm.setRange(prev, prev.start, g.end, prev.pgoff);
            return prev;
        }
        dupAnonVma(next, middle);
        if (leftSide) {
            mm.removeVma(middle);
        } else {
            mm.setRange(middle, middle.start, g.start, middle.pgoff);
        }
        mm.setRange(next, g.start, next.end, g.pgoff);
        return next;
    }

    /**
     * {@code vma_modify}: merge {@code [start, end)} of {@code vma} (which gets {@code newFlags} and
     * {@code newName}) with its neighbours, or split it out. Returns the VMA covering exactly the range (whose
     * flags/name the caller then sets), or null with {@link MmStruct#modifyError} set.
     */
    static Vma vmaModify(final MmStruct mm, final Vma vma, final long start, final long end, final long newFlags,
                         final String newName) {
        final Vmg g = new Vmg();
        g.middle = vma;
        g.start = start;
        g.end = end;
        g.flags = newFlags;
        g.file = vma.file;
        g.anonVma = vma.anonVma;
        g.anonName = newName;
        g.pgoff = vma.pgoff + ((start - vma.start) >>> 12);
        final Vma merged = mergeExistingRange(mm, g);
        if (merged != null) {
            return merged;
        }
        if (vma.start < start) {
            final int err = splitVma(mm, vma, start, true);
            if (err != 0) {
                mm.modifyError = err;
                return null;
            }
        }
        if (vma.end > end) {
            final int err = splitVma(mm, vma, end, false);
            if (err != 0) {
                mm.modifyError = err;
                return null;
            }
        }
        return vma;
    }

    // --------------------------------------------------------------------- test hooks (tools/testing/vma)

    /** {@code merge_new}: tries to merge a new range with its neighbours (tests); null when nothing merges. */
    static Vma mergeNew(final MmStruct mm, final long start, final long end, final long pgoff, final long flags,
                        final AnonVma anonVma) {
        final Vmg g = Vmg.at(mm, start, end);
        g.pgoff = pgoff;
        g.flags = flags;
        g.anonVma = anonVma;
        return mergeNewRange(mm, g);
    }

    /** {@code vma_modify_flags} (tests): merge or split; the caller sets the flags on the result. */
    static Vma modifyFlags(final MmStruct mm, final Vma vma, final long start, final long end, final long flags) {
        final Vma r = vmaModify(mm, vma, start, end, flags, vma.anonName);
        if (r != null) {
            r.flags = flags;
        }
        return r;
    }

    // ------------------------------------------------------------------------------------------------ mmap_region

    /**
     * {@code mmap_region} ({@code __mmap_region}): the map-count check and the overcommit charge ({@code VM_ACCOUNT}
     * for a private writable mapping, less the accounted pages it replaces), then unmaps what is in the way and
     * merges or inserts the new VMA. Returns {@code addr} or -errno (nothing changed on an error).
     */
    static long mmapRegion(final MmStruct mm, final VmFile file, final long addr, final long len, long vmFlags,
                           final long pgoff) {
        assert mm.mmapAssertWriteLocked();
        final long end = addr + len;
        final Vma first = mm.findVmaLocked(addr);
        if (first != null && first.start < end) {
            if (addr > first.start && end < first.end && mm.tree.count >= mm.maxMapCount()) {
                return -ENOMEM;
            }
        }
        if ((vmFlags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE) {
            // __mmap_setup: charge the new pages less the accounted ones this mapping replaces
            long charged = len >>> 12;
            for (Vma v = first; v != null && v.start < end; v = v.next) {
                if ((v.flags & VM_ACCOUNT) != 0) {
                    charged -= (Math.min(end, v.end) - Math.max(addr, v.start)) >>> 12;
                }
            }
            if (mm.vmEnoughMemory(charged) != 0) {
                return -ENOMEM;
            }
            vmFlags |= VM_ACCOUNT;
        }
        Vma pre = null;
        if (first != null && first.start < end) {
            // the mapping replaces others: its vm_area_struct is had first, as what the unmap removes cannot be
            // put back (the kernel's abort_munmap_vmas re-attaches them instead)
            pre = VmaInit.vmAreaAlloc(mm, addr, end, vmFlags, pgoff);
            if (pre == null || unmapRange(mm, first, addr, end) != 0) {
                if (pre != null) {
                    VmaInit.vmAreaFree(pre);
                }
                return -ENOMEM;
            }
        }
        final Vmg g = Vmg.at(mm, addr, end);
        g.flags = vmFlags;
        g.file = file;
        g.pgoff = pgoff;
        Vma vma = (g.prev != null || g.next != null) ? mergeNewRange(mm, g) : null;
        if (vma != null && pre != null) {
            VmaInit.vmAreaFree(pre);
        }
        if (vma == null) {
            vma = pre != null ? pre : VmaInit.vmAreaAlloc(mm, addr, end, vmFlags, pgoff); // __mmap_new_vma
            if (vma == null) {
                return -ENOMEM;
            }
            if (file != null) {
                vma.file = file;
            } else if ((vmFlags & VM_SHARED) != 0) {
                vma.file = VmFile.shmemZero(mm.inodeNumbers, len);
            }
            mm.insertVma(vma);
        }
        if ((vmFlags & VM_LOCKED) != 0 && ((vmFlags & VM_SPECIAL) != 0)) {
            vma.flags &= ~VM_LOCKED_MASK;
        }
        return addr;
    }

    // ------------------------------------------------------------------------------------------------ munmap

    /**
     * Unmaps {@code [start, end)} beginning at {@code vma} (the first overlapping VMA): both ends are split first
     * ({@code vms_gather_munmap_vmas}), then the VMAs inside are removed. 0, or -ENOMEM when a split could not
     * have its VMA (nothing is removed then; a split made before the failure stays, as in the kernel).
     */
    private static int unmapRange(final MmStruct mm, final Vma vma, final long start, final long end) {
        if (start > vma.start && splitVmaUnchecked(mm, vma, start, true) == null) {
            return -ENOMEM;
        }
        Vma last = vma;
        while (last.next != null && last.next.start < end) {
            last = last.next;
        }
        if (last.end > end && splitVmaUnchecked(mm, last, end, false) == null) {
            return -ENOMEM;
        }
        Vma v = vma;
        while (v != null && v.start < end) {
            final Vma nextV = v.next;
            mm.removeVma(v);
            v = nextV;
        }
        return 0;
    }

    /** {@code do_vmi_align_munmap}: the map-count check, then the unmap; 0 or -ENOMEM (nothing unmapped). */
    static int alignMunmap(final MmStruct mm, final Vma vma, final long start, final long end) {
        if (start > vma.start && end < vma.end && mm.tree.count >= mm.maxMapCount()) {
            return -ENOMEM;
        }
        return unmapRange(mm, vma, start, end);
    }

    /** {@code do_vmi_munmap}: unmaps {@code [start, start + len)}, page-aligned up; 0 or -errno. */
    static int doMunmap(final MmStruct mm, final long start, final long len) {
        assert mm.mmapAssertWriteLocked();
        if ((start & ~PAGE_MASK) != 0 || Long.compareUnsigned(start, TASK_SIZE) > 0
            || Long.compareUnsigned(len, TASK_SIZE - start) > 0) {
            return -EINVAL;
        }
        final long end = start + pageAlign(len);
        if (end == start) {
            return -EINVAL;
        }
        final Vma vma = mm.findVmaLocked(start);
        if (vma == null || vma.start >= end) {
            return 0;
        }
        return alignMunmap(mm, vma, start, end);
    }

    // ------------------------------------------------------------------------------------------------ brk

    /**
     * {@code do_brk_flags}: the heap grows by {@code len} bytes at {@code addr}, expanding {@code vma} (the brk VMA
     * ending there) when it can ({@code just_expand}: never merged with the next VMA), else a new VMA; 0 or -ENOMEM.
     */
    static int doBrkFlags(final MmStruct mm, final Vma vma, final long addr, final long len) {
        assert mm.mmapAssertWriteLocked();
        final long flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | mm.defFlags;
        if (mm.tree.count > mm.maxMapCount()) {
            return -ENOMEM;
        }
        if (mm.vmEnoughMemory(len >>> 12) != 0) {
            return -ENOMEM; // do_brk_flags: security_vm_enough_memory_mm
        }
        if (vma != null && vma.end == addr) {
            final Vmg g = new Vmg();
            g.prev = vma;
            g.next = vma.next;
            g.start = addr;
            g.end = addr + len;
            g.flags = flags;
            g.pgoff = addr >>> 12;
            g.justExpand = true;
            if (mergeNewRange(mm, g) != null) {
                return 0;
            }
        }
        final Vma v = VmaInit.vmAreaAlloc(mm, addr, addr + len, flags, addr >>> 12);
        if (v == null) {
            return -ENOMEM; // vm_area_alloc failed: nothing changed
        }
        mm.insertVma(v);
        return 0;
    }

    // ------------------------------------------------------------------------------------------------ copy_vma

    /**
     * {@code copy_vma}: the destination VMA of a move, merged with its new neighbours when possible; {@code vmap[0]}
     * is updated when the source VMA itself was merged into it. Null (nothing changed) when a new VMA or its
     * anon_vma chains could not be had.
     */
    static Vma copyVma(final MmStruct mm, final Vma[] vmap, final long addr, final long len, long pgoff) {
        assert mm.mmapAssertWriteLocked();
        final Vma vma = vmap[0];
        if (vma.isAnonymous() && vma.anonVma == null) {
            pgoff = addr >>> 12;
        }
        final Vmg g = Vmg.at(mm, addr, addr + len);
        g.middle = vma;
        g.copiedFrom = vma;
        g.flags = vma.flags;
        g.file = vma.file;
        g.anonVma = vma.anonVma;
        g.anonName = vma.anonName;
        g.pgoff = pgoff;
        final long vmaStart = vma.start;
        final Vma merged = mergeNewRange(mm, g);
        if (merged != null) {
            if (vmaStart >= merged.start && vmaStart < merged.end) {
                vmap[0] = merged;
            }
            return merged;
        }
        final Vma n = VmaInit.vmAreaDupClone(vma);
        if (n == null) {
            return null;
        }
        n.start = addr;
        n.end = addr + len;
        n.pgoff = pgoff;
        mm.insertVma(n);
        return n;
    }
}
