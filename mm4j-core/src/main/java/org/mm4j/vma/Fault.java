package org.mm4j.vma;

import static org.mm4j.vma.Errno.EFAULT;
import static org.mm4j.vma.Errno.ENOMEM;
import static org.mm4j.vma.MmStruct.PAGE_MASK;
import static org.mm4j.vma.MmStruct.PAGE_SIZE;
import static org.mm4j.vma.MmStruct.TASK_SIZE;
import static org.mm4j.vma.VmFlags.VM_ACCESS_FLAGS;
import static org.mm4j.vma.VmFlags.VM_EXEC;
import static org.mm4j.vma.VmFlags.VM_GROWSDOWN;
import static org.mm4j.vma.VmFlags.VM_IO;
import static org.mm4j.vma.VmFlags.VM_PFNMAP;
import static org.mm4j.vma.VmFlags.VM_SHARED;
import static org.mm4j.vma.VmFlags.VM_WRITE;

import org.mm4j.base.ModelOutOfMemoryException;

/**
 * Page faults and population: {@code handle_mm_fault} as a user access reaches it ({@code mm/memory.c} of Linux
 * 6.18 with x86's {@code do_user_addr_fault} checks: the VMA, stack growth, the access rights), the anon_vma a
 * private write needs ({@code anon_vma_prepare}, {@code mm/rmap.c}) and the fault-in of a range
 * ({@code __mm_populate}/{@code populate_vma_page_range}, {@code mm/gup.c}). The PTE work is {@link PageTables}'.
 *
 * <p>Errors: a fault throws what the kernel would signal ({@link SegmentationFault} SEGV_MAPERR/SEGV_ACCERR,
 * {@link BusError} BUS_ADRERR, {@link ProcessKilledException} for the OOM killer's victim) and
 * {@link ModelOutOfMemoryException} where the kernel would panic; population returns -errno.
 *
 * <p>Threads: the caller holds the mm's mmap lock (asserted; the kernel's fault path holds it for read);
 * {@link MmStruct}'s public {@code handleMmFault}, {@code touch}, {@code readUser} and {@code writeUser} take it.
 */
final class Fault {
    private Fault() {
    }

    // ------------------------------------------------------------------------------------------------ fault

    /**
     * {@code handle_mm_fault} for a user access at {@code addr}: 'r', 'w' or 'x'. Finds (or grows) the VMA,
     * checks the access, and maps the page. Throws {@link SegmentationFault} as the kernel would send SIGSEGV.
     * When no page is free the OOM killer runs (with a kernel from {@code Kernel.boot}) and the fault goes on;
     * {@code VM_FAULT_OOM} with nothing killable ends in {@link ModelOutOfMemoryException} (the kernel panics).
     *
     * @throws ProcessKilledException when the OOM killer chose this process (now or earlier): SIGKILL
     * @throws ModelOutOfMemoryException when no page could be had and nothing was killable
     */
    static void handleMmFault(final MmStruct mm, final long addr, final char access) {
        assert mm.mmapAssertLocked();
        if (mm.killedPid != 0) {
            throw new ProcessKilledException(mm.killedPid, mm.killedComm); // its access after the OOM kill
        }
        Vma vma = mm.findVmaLocked(addr);
        if (vma == null || Long.compareUnsigned(addr, TASK_SIZE) >= 0) {
            throw new SegmentationFault(addr, SegmentationFault.SEGV_MAPERR);
        }
        if (vma.start > addr) {
            if ((vma.flags & VM_GROWSDOWN) == 0 || Mmap.expandDownwards(mm, vma, addr) != 0) {
                throw new SegmentationFault(addr, SegmentationFault.SEGV_MAPERR);
            }
        }
        final boolean write = access == 'w';
        switch (access) {
            case 'w' -> {
                if ((vma.flags & VM_WRITE) == 0) {
                    throw new SegmentationFault(addr, SegmentationFault.SEGV_ACCERR);
                }
            }
            case 'x' -> {
                if ((vma.flags & VM_EXEC) == 0) {
                    throw new SegmentationFault(addr, SegmentationFault.SEGV_ACCERR);
                }
            }
            case 'r' -> {
                if ((vma.flags & VM_ACCESS_FLAGS) == 0) {
                    throw new SegmentationFault(addr, SegmentationFault.SEGV_ACCERR);
                }
            }
            default -> throw new IllegalArgumentException("access '" + access + "' (expected: r, w or x)");
        }
        if (write && (vma.flags & VM_SHARED) == 0) {
            // do_anonymous_page / do_cow_fault: no anon_vma or chain (failslab, no memory) is VM_FAULT_OOM, which
            // pagefault_out_of_memory warns of; the CPU retries the access (here a bounded number of times)
            for (int tries = 1; anonVmaPrepare(mm, vma) != 0; tries++) {
                if (mm.pager != null) {
                    mm.pager.pagefaultOutOfMemory();
                }
                if (tries == PF_RETRIES) {
                    throw new ModelOutOfMemoryException(String.format("Out of memory: anon_vma_prepare failed %d "
                        + "times for the write fault at 0x%x (kmem_cache_alloc of anon_vma/anon_vma_chain: -ENOMEM, "
                        + "VM_FAULT_OOM)", tries, addr));
                }
            }
        }
        if (mm.pageTables != null) {
            final int fault = mm.pageTables.fault(vma, addr & PAGE_MASK, write);
            if (fault == PageTables.VM_FAULT_SIGSEGV) {
                throw new SegmentationFault(addr, SegmentationFault.SEGV_MAPERR); // a guard region
            }
            if (fault == PageTables.VM_FAULT_SIGBUS) {
                throw new BusError(addr, BusError.BUS_ADRERR);
            }
            if (fault == PageTables.VM_FAULT_OOM) {
                // VM_FAULT_OOM after the OOM killer found nothing to kill (the kernel panics here)
                throw new ModelOutOfMemoryException(String.format("Out of memory: no page for the %s fault at 0x%x, "
                    + "and no killable process (pid 1 and oom_score_adj -1000 are exempt; see dmesg)",
                    write ? "write" : "read", addr));
            }
        }
    }

    /** How often a user access is retried after {@code VM_FAULT_OOM} before the model gives up (the CPU never does). */
    static final int PF_RETRIES = 16;

    // ------------------------------------------------------------------------------------------------ anon_vma

    /** {@code anon_vma_prepare}: gives {@code vma} an anon_vma unless it has one; 0 or -ENOMEM. */
    static int anonVmaPrepare(final MmStruct mm, final Vma vma) {
        return vma.anonVma == null ? anonVmaPrepareUnchecked(mm, vma) : 0;
    }

    /**
     * {@code __anon_vma_prepare}: reuses a compatible neighbour's anon_vma (next first, {@code
     * find_mergeable_anon_vma}), else a new one, linked by a new {@code anon_vma_chain} ({@link Rmap}).
     * Unchecked: the caller knows {@code vma} has none yet. 0, or -ENOMEM when an object could not be had.
     */
    static int anonVmaPrepareUnchecked(final MmStruct mm, final Vma vma) {
        assert mm.mmapAssertLocked();
        AnonVma av = null;
        final Vma next = vma.next;
        if (next != null && next.start == vma.end && anonVmaCompatible(vma, next) && next.anonVma != null
            && next.anonVma.parent == null) {
            av = next.anonVma;
        }
        final Vma prev = vma.prev;
        if (av == null && prev != null && prev.end == vma.start && anonVmaCompatible(prev, vma)
            && prev.anonVma != null && prev.anonVma.parent == null) {
            av = prev.anonVma;
        }
        return Rmap.anonVmaPrepare(vma, av);
    }

    /** {@code anon_vma_compatible}: {@code a} and {@code b} could merge but for their access flags. */
    private static boolean anonVmaCompatible(final Vma a, final Vma b) {
        return a.end == b.start && a.file == b.file
            && ((a.flags ^ b.flags) & ~(VM_ACCESS_FLAGS | VmFlags.VM_SOFTDIRTY)) == 0
            && b.pgoff == a.pgoff + ((b.start - a.start) >>> 12);
    }

    // ------------------------------------------------------------------------------------------------ populate

    /**
     * {@code __mm_populate} with the mmap lock already held (the kernel's takes it itself): faults every page of the
     * mapped part of {@code [start, end)} in ({@code populate_vma_page_range}); 0, -ENOMEM when out of memory or
     * -EFAULT for a SIGBUS/SIGSEGV page (it stops there; callers that ignore errors, like MAP_POPULATE and
     * mlockall, keep what was faulted).
     */
    static long populateLocked(final MmStruct mm, final long start, final long end) {
        assert mm.mmapAssertLocked();
        for (Vma v = mm.findVmaLocked(start); v != null && v.start < end; v = v.next) {
            if ((v.flags & (VM_IO | VM_PFNMAP)) != 0 || (v.flags & VM_ACCESS_FLAGS) == 0) {
                continue;
            }
            final boolean write = (v.flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
            if (write && anonVmaPrepare(mm, v) != 0) {
                return -ENOMEM;
            }
            if (mm.pageTables != null) {
                for (long a = Math.max(start, v.start); a < Math.min(end, v.end); a += PAGE_SIZE) {
                    final int fault = mm.pageTables.fault(v, a, write);
                    if (fault == PageTables.VM_FAULT_OOM) {
                        return -ENOMEM;
                    }
                    if (fault == PageTables.VM_FAULT_SIGBUS || fault == PageTables.VM_FAULT_SIGSEGV) {
                        return -EFAULT; // get_user_pages: VM_FAULT_SIGBUS/SIGSEGV are -EFAULT; the walk stops
                    }
                }
            }
        }
        return 0;
    }
}
