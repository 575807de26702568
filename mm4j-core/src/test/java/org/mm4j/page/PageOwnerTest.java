package org.mm4j.page;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.base.ProcFs;
import org.mm4j.base.StackDepot;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** page_owner (mm/page_owner.c): off costs nothing; on, every allocated block is in the kernel's format. */
class PageOwnerTest {
    private static final Pattern HEAD = Pattern.compile("Page allocated via order (\\d+), mask (0x[0-9a-f]+)\\(([^)]*)\\),"
        + " pid (\\d+), tgid (\\d+) \\(([^)]*)\\), ts (\\d+) ns");
    private static final Pattern PFN = Pattern.compile("PFN 0x([0-9a-f]+) type (\\w+) Block (\\d+) type (\\w+) Flags"
        + " 0x[0-9a-f]+\\(([a-z|]*)node=(\\d+)\\|zone=(\\d+)\\|lastcpupid=0x[0-9a-f]+\\)");

    /** One parsed block of /sys/kernel/debug/page_owner. */
    private record Block(int order, int gfp, String gfpNames, int pid, String comm, long ts, long pfn, String type,
                         List<String> stack) {
    }

    private static List<Block> parse(final String text) {
        final List<Block> out = new ArrayList<>();
        assertTrue(text.isEmpty() || text.endsWith("\n\n"), "each block ends with an empty line");
        for (final String raw : text.split("\n\n")) {
            if (raw.isEmpty()) {
                continue;
            }
            final String[] lines = raw.split("\n");
            final Matcher h = HEAD.matcher(lines[0]);
            assertTrue(h.matches(), lines[0]);
            final Matcher p = PFN.matcher(lines[1]);
            assertTrue(p.matches(), lines[1]);
            final List<String> stack = new ArrayList<>();
            for (int i = 2; i < lines.length; i++) {
                assertTrue(lines[i].startsWith(" ") && lines[i].contains("+0x"), lines[i]);
                stack.add(lines[i].substring(1));
            }
            assertTrue(stack.size() <= PageOwner.PAGE_OWNER_STACK_DEPTH);
            out.add(new Block(Integer.parseInt(h.group(1)), Integer.parseUnsignedInt(h.group(2).substring(2), 16),
                h.group(3), Integer.parseInt(h.group(4)), h.group(6), Long.parseLong(h.group(7)),
                Long.parseLong(p.group(1), 16), p.group(2), stack));
        }
        return out;
    }

    @Test
    void offByDefaultNothingPrintedNothingAllocated() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1")) {
            assertNull(k.buddy().pageOwner(), "no records, no hook");
            assertThrows(ProcFs.ProcFsException.class, () -> k.procfs().read("/sys/kernel/debug/page_owner"));
            assertTrue(k.procfs().list("/sys/kernel/debug/page_owner_stacks").isEmpty());
            for (final String l : k.log().messages()) {
                assertFalse(l.contains("page owner") || l.contains("page_owner") || l.contains("FAULT_INJECTION"),
                    "the default boot prints what the reference kernel prints: " + l);
            }
            final long p = k.buddy().allocPages(Gfp.KERNEL, 0);
            k.buddy().freePages(p, 0);
            assertNull(k.buddy().pageOwner());
        }
    }

    @Test
    void recordsEveryAllocatedBlockInTheKernelsFormat() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 page_owner=on")) {
            // init_early_allocated_pages walks every populated zone: DMA and DMA32 at mem=32M
            assertTrue(k.log().messages().contains("Node 0, zone      DMA: page owner found early allocated 0 pages"),
                k.log().messages().toString());
            assertTrue(k.log().messages().contains("Node 0, zone    DMA32: page owner found early allocated 0 pages"),
                k.log().messages().toString());
            final BuddyAllocator b = k.buddy();
            final long p = b.allocPages(Gfp.KERNEL | Gfp.COMP, 2);
            final long q = b.allocPages(Gfp.HIGHUSER_MOVABLE, 0);
            final List<Block> blocks = parse(k.procfs().read("/sys/kernel/debug/page_owner"));
            final Block bp = blocks.stream().filter(x -> x.pfn() == p).findFirst().orElseThrow();
            assertEquals(2, bp.order());
            assertEquals(Gfp.KERNEL | Gfp.COMP, bp.gfp());
            assertEquals("GFP_KERNEL|__GFP_COMP", bp.gfpNames());
            assertEquals("Unmovable", bp.type());
            assertEquals(1, bp.pid(), "current: pid 1 of the process table");
            assertEquals("mm4j", bp.comm());
            assertTrue(bp.stack().getFirst().matches("org\\.mm4j\\.page\\.\\w+\\.prepNewPage\\+.*"),
                "the first frame is prep_new_page's: " + bp.stack());
            assertTrue(bp.stack().stream().anyMatch(f -> f.startsWith(
                "org.mm4j.page.PageOwnerTest.recordsEveryAllocatedBlockInTheKernelsFormat+")), bp.stack().toString());
            final Block bq = blocks.stream().filter(x -> x.pfn() == q).findFirst().orElseThrow();
            assertEquals("Movable", bq.type());
            assertTrue(bq.ts() >= bp.ts());
            assertFalse(blocks.stream().anyMatch(x -> x.pfn() > p && x.pfn() < p + 4), "tail pages are not printed");
            b.freePages(p, 2);
            assertFalse(parse(k.procfs().read("/sys/kernel/debug/page_owner")).stream().anyMatch(x -> x.pfn() == p),
                "freed blocks are not shown");
            final PageOwner.Record r = b.pageOwner().record(p);
            assertFalse(r.allocated());
            assertTrue(r.freeTsNanos() >= r.tsNanos());
            b.freePages(q, 0);
        }
    }

    @Test
    void splitPagesAndShowStacks() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 page_owner=on")) {
            final BuddyAllocator b = k.buddy();
            final long p = b.allocPages(Gfp.KERNEL, 2);
            b.splitPage(p, 2);
            final List<Block> blocks = parse(k.procfs().read("/sys/kernel/debug/page_owner"));
            for (long i = 0; i < 4; i++) {
                final long pfn = p + i;
                assertEquals(0, blocks.stream().filter(x -> x.pfn() == pfn).findFirst().orElseThrow().order(),
                    "split_page_owner: each page is order 0 now");
            }
            final String stacks = k.procfs().read("/sys/kernel/debug/page_owner_stacks/show_stacks");
            final List<StackDepot.Frame> mine = b.pageOwner().record(p).stack();
            final String myStack = mine.stream().map(f -> " " + f.symbol() + "\n").reduce("", String::concat);
            assertTrue(stacks.contains(myStack + "nr_base_pages: 4\n\n"), stacks);
            b.freePages(p + 1, 0);
            assertTrue(k.procfs().read("/sys/kernel/debug/page_owner_stacks/show_stacks")
                .contains(myStack + "nr_base_pages: 3\n\n"));
            k.procfs().write("/sys/kernel/debug/page_owner_stacks/count_threshold", "4");
            assertEquals("4", k.procfs().read("/sys/kernel/debug/page_owner_stacks/count_threshold"));
            assertFalse(k.procfs().read("/sys/kernel/debug/page_owner_stacks/show_stacks").contains(myStack));
        }
    }

    @Test
    void slabPagesAreRecordedWithTheirCaller() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 page_owner=on")) {
            final long obj = k.slab().kmalloc(512, Gfp.KERNEL);
            final long pfn = (obj - PhysicalMemory.PAGE_OFFSET) >>> PhysicalMemory.PAGE_SHIFT;
            final PageOwner.Record r = k.buddy().pageOwner().record(k.memMap().compoundHead(pfn));
            assertTrue(r.allocated());
            assertTrue(r.stack().stream().anyMatch(f -> f.className().equals("org.mm4j.slab.Slub")
                && f.methodName().equals("kmalloc")), r.stack().toString());
            k.slab().kfree(obj);
        }
    }

    @Test
    void aBadPageReportSaysWhoAllocatedAndFreedIt() {
        // a double free is reported only with CONFIG_DEBUG_VM (put_page_testzero's VM_BUG_ON_PAGE), whose
        // dump_page prints the page_owner record after "page dumped because"
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 page_owner=on mm4j.config.DEBUG_VM=y")) {
            final BuddyAllocator b = k.buddy();
            final long p = b.allocPages(Gfp.KERNEL, 1);
            assertTrue(b.freePages(p, 1));
            assertFalse(b.freePages(p, 1), "a double free is refused");
            final List<String> log = k.log().messages();
            final int at = log.indexOf("page_owner tracks the page as freed");
            assertTrue(at > 0 && log.get(at - 1).startsWith("page dumped because: "), log.toString());
            assertTrue(log.get(at + 1).matches("page last allocated via order 1, migratetype Unmovable, gfp_mask"
                + " 0xcc0\\(GFP_KERNEL\\), pid 1, tgid 1 \\(mm4j\\), ts \\d+, free_ts \\d+"), log.get(at + 1));
            final int free = log.indexOf("page last free pid 1 tgid 1 stack trace:");
            assertTrue(free > at, log.toString());
            assertTrue(log.subList(at, free).stream().anyMatch(l -> l.startsWith(" org.mm4j.page.PageOwnerTest."
                + "aBadPageReportSaysWhoAllocatedAndFreedIt+")), "the allocation stack");
            assertTrue(log.subList(free, log.size()).stream().anyMatch(l -> l.contains("FreePages.")
                || l.contains("freePages")), "the free stack");
        }
    }

    @Test
    void pageOwnerNeedsTheConfig() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1 mm4j.config.PAGE_OWNER=n page_owner=on")) {
            assertNull(k.buddy().pageOwner());
            assertTrue(k.params().unknown().contains("page_owner=on"));
        }
    }
}
