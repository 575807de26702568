package org.mm4j.page;

import org.mm4j.base.Current;
import org.mm4j.base.DumpStack;
import org.mm4j.base.FlagNames;
import org.mm4j.base.KernelLog;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Page debugging of {@code mm/page_alloc.c} and {@code mm/debug.c}: {@code bad_page} ("BUG: Bad page state", a
 * {@code dump_page} and "page dumped because: ..."), {@code dump_page} in the kernel's layout, and
 * {@code page_bad_reason} for a page freed while someone still owns it.
 *
 * <p>A report changes nothing of the page it names: callers refuse the operation after it, so the free lists stay
 * intact. State: the number of reports (TAINT_BAD_PAGE count), of {@code VM_BUG_ON_PAGE} oopses (CONFIG_DEBUG_VM)
 * and the latest bad_page reason, all written by any thread (atomic / volatile). Locks: none needed; {@link #badPage} may take the zone lock of a deferred block (reentrant)
 * to write its struct page before dumping it.
 */
final class PageDebug {
    private final BuddyAllocator buddy;
    private final MemMap memMap;
    private final KernelLog log;
    private final AtomicLong badPages = new AtomicLong();
    private final AtomicLong vmBugs = new AtomicLong();
    private volatile String lastBadPageReason;

    PageDebug(final BuddyAllocator buddy) {
        this.buddy = buddy;
        this.memMap = buddy.memMap;
        this.log = buddy.log;
    }

    long badPageReports() {
        return badPages.get();
    }

    String lastBadPageReason() {
        return lastBadPageReason;
    }

    long vmBugReports() {
        return vmBugs.get();
    }

    /**
     * {@code page_bad_reason(page, PAGE_FLAGS_CHECK_AT_FREE)} for a page still owned by someone, or null: checked
     * before the reference is dropped, so a refused free changes nothing. As in the kernel the last matching
     * reason wins: a user mapping ({@code _mapcount}), a page-cache {@code mapping}, reserved/slab/zero-page flags.
     * Page types the model keeps alive where 6.18 silently resets {@code page_type} at free (a page table, a large
     * kmalloc) are refused too, naming the type (a departure: the kernel would hand the page out twice).
     */
    String freePageBadReason(final long pfn, final long flags) {
        String reason = null;
        if (memMap.mapcount(pfn) != 0) {
            reason = "nonzero mapcount";
        }
        if ((flags & MemMap.PG_SLAB) == 0 && memMap.lpLong(pfn, MemMap.MAPPING) != 0) {
            reason = "non-NULL mapping";
        }
        if ((flags & (MemMap.PG_RESERVED | MemMap.PG_SLAB | MemMap.PG_ZERO_PAGE)) != 0) {
            reason = "PAGE_FLAGS_CHECK_AT_FREE flag(s) set";
        }
        if ((flags & MemMap.PG_PGTABLE) != 0) {
            reason = "page_type table still set (the page is in use as a page table)";
        }
        if ((flags & MemMap.PG_HEAD) != 0 && memMap.privateWord(pfn) == MemMap.PGTY_LARGE_KMALLOC) {
            reason = "page_type large_kmalloc still set (a kmalloc allocation: free it with kfree)";
        }
        return reason;
    }

    /** "Bad page state" for a pfn outside memory (there is no struct page to dump). */
    void badPageOutside(final long pfn, final String reason) {
        badPages.incrementAndGet();
        lastBadPageReason = reason;
        log.printk("BUG: Bad page state in process %s  pfn:%05x", ShowMem.comm(buddy), pfn);
        log.printk("page dumped because: %s (valid pfns 0x0-0x%x)", reason, buddy.mem.totalPages() - 1);
    }

    /** {@code bad_page}: "BUG: Bad page state" and a {@code dump_page}; nothing of the page is changed. */
    void badPage(final long pfn, final String reason) {
        buddy.init.initDeferredAt(pfn);
        badPages.incrementAndGet();
        lastBadPageReason = reason;
        final StringBuilder sb = new StringBuilder(512);
        sb.append(String.format("BUG: Bad page state in process %s  pfn:%05x%n", ShowMem.comm(buddy), pfn));
        dumpPage(sb, pfn);
        sb.append("page dumped because: ").append(reason);
        final PageOwner owner = buddy.pageOwner;
        if (owner != null) {
            owner.dumpPageOwner(sb.append('\n'), pfn);  // dump_page: dump_page_owner
            sb.setLength(sb.length() - 1);
        }
        log.printk(sb.toString());
    }

    /**
     * {@code VM_BUG_ON_PAGE(cond, page)} of a CONFIG_DEBUG_VM kernel: {@code dump_page(page, "VM_BUG_ON_PAGE(cond)")},
     * then {@code BUG()}'s "kernel BUG at file:line!" and the oops header with the stack. The kernel kills the task
     * there; the model refuses the operation (its caller returns) and nothing of the page changes.
     */
    void vmBugOnPage(final long pfn, final String cond, final String fileLine, final List<String> frames) {
        buddy.init.initDeferredAt(pfn);
        vmBugs.incrementAndGet();
        final StringBuilder sb = new StringBuilder(1024);
        dumpPage(sb, pfn);
        sb.append("page dumped because: VM_BUG_ON_PAGE(").append(cond).append(")\n");
        final PageOwner owner = buddy.pageOwner;
        if (owner != null) {
            owner.dumpPageOwner(sb, pfn);  // dump_page: dump_page_owner
        }
        sb.append("------------[ cut here ]------------\n");
        sb.append("kernel BUG at ").append(fileLine).append("!\n");
        sb.append("Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n");
        final Current.Task t = buddy.current.get();
        DumpStack.append(sb, buddy.cpus.current(), t.pid(), t.comm(), frames);
        sb.setLength(sb.length() - 1);
        log.printk(sb.toString());
    }

    /** The model's page flags that are page flags in 6.18 (page types such as buddy, slab, table are not). */
    private static final long[] FLAG_BITS = {MemMap.PG_LOCKED, MemMap.PG_REFERENCED, MemMap.PG_UPTODATE,
        MemMap.PG_DIRTY, MemMap.PG_LRU, MemMap.PG_HEAD, MemMap.PG_RESERVED};
    /** Their bit numbers in 6.18's {@code enum pageflags} (PG_locked 0, PG_referenced 2, ... PG_reserved 13). */
    private static final int[] KERNEL_BITS = {0, 2, 3, 4, 5, 6, 13};
    /** Their {@code pageflag_names}. */
    private static final String[] FLAG_NAMES = {"locked", "referenced", "uptodate", "dirty", "lru", "head",
        "reserved"};

    /**
     * {@code %pGp} of the page at {@code pfn} ({@code format_page_flags}): the whole flags word in hex with the
     * model's flags at the kernel's bit numbers and the node, zone and lastcpupid fields, then their names.
     */
    static String pgp(final MemMap memMap, final long pfn, final Zone z) {
        final long f = memMap.flags(pfn);
        final StringBuilder names = new StringBuilder();
        long word = 0;
        for (int k = 0; k < FLAG_BITS.length; k++) {
            if ((f & FLAG_BITS[k]) != 0) {
                names.append(names.isEmpty() ? "" : "|").append(FLAG_NAMES[k]);
                word |= 1L << KERNEL_BITS[k];
            }
        }
        return FlagNames.pageFlags(word, names.toString(), z == null ? 0 : z.nid, z == null ? 0 : z.type);
    }

    /** {@code dump_page} in the kernel's layout. */
    void dumpPage(final StringBuilder sb, final long pfn) {
        final long flags = memMap.flags(pfn);
        final long head = memMap.compoundHead(pfn);
        final long mapping = (flags & MemMap.PG_SLAB) == 0 ? memMap.lpLong(pfn, MemMap.MAPPING) : 0;
        sb.append(String.format("page: refcount:%d mapcount:%d mapping:%016x index:0x0 pfn:0x%x%n",
            memMap.refcount(pfn), memMap.mapcount(pfn), mapping, pfn));
        if ((flags & (MemMap.PG_HEAD | MemMap.PG_TAIL)) != 0) {
            sb.append(String.format("head: order:%d mapcount:0 entire_mapcount:0 pincount:0 pfn:0x%x%n",
                memMap.compoundOrder(head), head));
        }
        // __dump_folio: "anon " before "flags:" for an anonymous folio, then %pGp
        sb.append((flags & MemMap.PG_ANON) != 0 ? "anon " : "").append("flags: ")
            .append(pgp(memMap, pfn, buddy.zoneOf(pfn))).append('\n');
        if ((flags & MemMap.PG_BUDDY) != 0) {
            sb.append("page_type: f0(buddy)\n");
        } else if ((flags & MemMap.PG_SLAB) != 0) {
            sb.append("page_type: f5(slab)\n");
        } else if ((flags & MemMap.PG_PGTABLE) != 0) {
            sb.append("page_type: f2(table)\n");
        } else if ((flags & MemMap.PG_HEAD) != 0 && memMap.privateWord(pfn) == MemMap.PGTY_LARGE_KMALLOC) {
            sb.append("page_type: f8(large_kmalloc)\n");
        }
        for (int line = 0; line < 2; line++) {
            sb.append("raw:");
            for (int w = 0; w < 4; w++) {
                sb.append(String.format(" %016x", memMap.lpLong(pfn, (line * 4 + w) * 8)));
            }
            sb.append('\n');
        }
    }
}
