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

/**
 * Boot wiring of the page allocator's debugging facilities (issue 16), each compiled in by the config and off
 * until asked: {@code fail_page_alloc} ({@code CONFIG_FAIL_PAGE_ALLOC}: installed always, armed by the boot
 * parameter {@code fail_page_alloc=} or a debugfs write) and {@code page_owner} ({@code CONFIG_PAGE_OWNER}: set up
 * only with {@code page_owner=on}). {@code failslab} is the slab allocator's own ({@link org.mm4j.slab.Slub}).
 * Runs once, at boot, before the first allocation.
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
}
