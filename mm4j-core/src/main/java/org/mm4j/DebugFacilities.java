package org.mm4j;

import org.mm4j.base.CpuSlots;
import org.mm4j.base.Current;
import org.mm4j.base.FaultAttr;
import org.mm4j.base.KernelLog;
import org.mm4j.base.ProcFs;
import org.mm4j.boot.BootParams;
import org.mm4j.boot.KernelConfig;
import org.mm4j.page.BuddyAllocator;
import org.mm4j.page.FailPageAlloc;
import org.mm4j.page.PageOwner;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.slab.Slub;
import org.mm4j.vma.MmStruct;
import org.mm4j.vma.Processes;
import org.mm4j.vma.Vma;

/**
 * Boot wiring of the page allocator's debugging facilities (issue 16), each compiled in by the config and off
 * until asked: {@code fail_page_alloc} ({@code CONFIG_FAIL_PAGE_ALLOC}: installed always, armed by the boot
 * parameter {@code fail_page_alloc=} or a debugfs write) and {@code page_owner} ({@code CONFIG_PAGE_OWNER}: set up
 * only with {@code page_owner=on}). {@code failslab} and kmemleak are the slab allocator's own
 * ({@link org.mm4j.slab.Slub}); kmemleak's roots that lie outside the slab layer (every process's user memory) are
 * added here, with the process table itself (every task_struct, mm_struct, VMA, anon_vma, chain and maple node a
 * process holds). Runs once, at boot, before the first allocation.
 */
final class DebugFacilities {
    private DebugFacilities() {
    }

    static void page(final BootParams params, final BuddyAllocator buddy, final KernelLog log, final CpuSlots cpus,
                     final Current current, final ProcFs procfs) {
        final KernelConfig config = params.config();
        if (config.isEnabled("FAIL_PAGE_ALLOC")) {
            final FailPageAlloc fail = new FailPageAlloc(new FaultAttr("fail_page_alloc", log, cpus, current,
                params.randomSeed()));
            if (params.all().containsKey("fail_page_alloc")) {
                fail.attr().setup(params.all().get("fail_page_alloc"));
            }
            if (config.isEnabled("FAULT_INJECTION_DEBUG_FS")) {
                fail.registerDebugfs(procfs);
            }
            buddy.failPageAlloc(fail);
        }
        if (params.pageOwner()) {
            final PageOwner owner = new PageOwner(buddy, current, log);
            owner.registerDebugfs(procfs);
            buddy.pageOwner(owner);
        }
    }

    /** The PTE bits of a present page and of its frame number (x86-64). */
    private static final long PTE_PRESENT = 1;
    private static final long PTE_PFN_MASK = 0x000ffffffffff000L;

    /**
     * kmemleak's process-memory root: the present pages of every process's address space are scanned word by
     * word (the model's stand-in for the kernel's data sections: what user space holds stays referenced).
     */
    static void slab(final Slub slab, final Processes processes) {
        if (!slab.kmemleakEnabled()) {
            return;
        }
        // the kernel reaches every task's objects from init_task and the task list: here, the process table
        slab.kmemleak().addRoot("process table", false, s -> processes.forEachObject(s::word));
        slab.kmemleak().addRoot("process memory", false, s -> {
            for (final Processes.Task t : processes.tasksRacy()) { // never starts pid 1 from inside a scan
                final MmStruct mm = t.mm();
                for (final Vma v : mm.vmas()) {
                    for (long a = v.start(); Long.compareUnsigned(a, v.end()) < 0; a += 4096) {
                        final long pte = mm.pte(a);
                        if ((pte & PTE_PRESENT) != 0) {
                            s.block(PhysicalMemory.PAGE_OFFSET + (pte & PTE_PFN_MASK), 4096);
                        }
                    }
                }
            }
        });
    }
}
