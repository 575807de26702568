package org.mm4j.cli.shell;

import org.mm4j.page.BuddyAllocator;
import org.mm4j.page.Gfp;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.page.Zone;

/** The buddy allocator's commands: {@code alloc_pages}, {@code __free_pages}. */
final class PageCommands {
    private PageCommands() {
    }

    static void register(final Shell sh) {
        sh.register(new Cmd("alloc_pages", "alloc_pages ORDER [GFP]", "allocate 2^ORDER pages from the buddy allocator",
            """
            Prints the kernel virtual address of the first page (page_address(), as %px prints it:
            0xffff888000123000), or 0x0000000000000000 when the allocation fails (with a 'page allocation
            failure' warning in dmesg unless __GFP_NOWARN). ORDER is 0 to 10 (MAX_PAGE_ORDER). GFP is a flag
            list as ftrace prints one (default GFP_KERNEL), e.g. GFP_KERNEL|__GFP_ZERO|__GFP_COMP.
            Example:  p = alloc_pages 3
                      __free_pages $p 3""",
            PageCommands::allocPages));
        sh.register(new Cmd("__free_pages", "__free_pages ADDR ORDER", "free 2^ORDER pages to the buddy allocator",
            """
            ADDR is the address alloc_pages printed and ORDER the order it was allocated with. A bad free (double
            free, wrong order, a tail page, an address that is no page) or a free of a page someone else owns (mapped
            by a process: nonzero mapcount; in a page cache: non-NULL mapping; the zero page, a reserved or slab
            page: PAGE_FLAGS_CHECK_AT_FREE flag(s) set; a page table; a kmalloc allocation) is refused with
            'BUG: Bad page state' in dmesg and an error naming the reason; nothing changes.""",
            PageCommands::freePages));
    }

    private static void allocPages(final Shell sh, final ArgReader a, final StringBuilder out) {
        final int order = a.intArg("ORDER", 0, Zone.MAX_PAGE_ORDER);
        final int gfp = a.atEnd() ? Gfp.KERNEL : gfp(a.word("GFP"));
        a.end();
        final long pfn = sh.kernel().buddy().allocPages(gfp, order);
        if (pfn < 0) {
            // the allocator itself reports the failure in dmesg (warn_alloc, rate-limited, unless __GFP_NOWARN)
            out.append(String.format("0x%016x%n", 0L));
            return;
        }
        out.append(String.format("0x%016x%n", PhysicalMemory.pageAddress(pfn)));
    }

    static int gfp(final String text) {
        try {
            return Gfp.parse(text);
        } catch (final IllegalArgumentException e) {
            throw new ShellException(e.getMessage());
        }
    }

    private static void freePages(final Shell sh, final ArgReader a, final StringBuilder out) {
        final long addr = a.expr("ADDR");
        final int order = a.intArg("ORDER", 0, Zone.MAX_PAGE_ORDER);
        a.end();
        final PhysicalMemory mem = sh.kernel().memory();
        if (!mem.validVirt(addr)) {
            throw new ShellException(String.format("__free_pages: 0x%016x is outside the model's memory "
                + "(0x%016x-0x%016x)", addr, PhysicalMemory.PAGE_OFFSET,
                PhysicalMemory.PAGE_OFFSET + mem.totalBytes() - 1));
        }
        if ((addr & ~PhysicalMemory.PAGE_MASK) != 0) {
            throw new ShellException(String.format("__free_pages: 0x%016x is not page-aligned", addr));
        }
        final long pfn = PhysicalMemory.virtToPfn(addr);
        final BuddyAllocator b = sh.kernel().buddy();
        final long bad = b.badPageReports();
        final long bugs = b.vmBugReports();
        if (!b.freePages(pfn, order)) {
            if (b.badPageReports() != bad) {
                throw new ShellException(String.format("__free_pages: refused, BUG: Bad page state at pfn 0x%x, "
                    + "order %d: %s (see dmesg; the page stays with its owner)", pfn, order, b.lastBadPageReason()));
            }
            if (b.vmBugReports() != bugs) {
                throw new ShellException(String.format("__free_pages: kernel BUG at pfn 0x%x, order %d: "
                    + "VM_BUG_ON_PAGE(page_ref_count(page) == 0) (CONFIG_DEBUG_VM; see dmesg; nothing was freed)",
                    pfn, order));
            }
            // a page already free: put_page_testzero took its count below zero and freed nothing, silently (6.18
            // without CONFIG_DEBUG_VM)
        }
    }
}
