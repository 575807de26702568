package org.mm4j.page;

import org.mm4j.base.Current;
import org.mm4j.base.InternalApi;
import org.mm4j.base.KernelLog;
import org.mm4j.base.ProcFs;
import org.mm4j.base.StackDepot;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * {@code page_owner} (mm/page_owner.c, {@code CONFIG_PAGE_OWNER}, on with the boot parameter
 * {@code page_owner=on}): who allocated each page. {@code set_page_owner} (from {@code post_alloc_hook}) records
 * the order, gfp mask, {@code current}'s pid, tgid and comm, the time ({@code local_clock()}, ns since boot) and
 * the allocation stack; {@code reset_page_owner} (from {@code free_pages_prepare}) records the free time, pid and
 * stack and marks the pages free; {@code split_page_owner} sets order 0 on each page of a split block.
 *
 * <p>Files: {@code /sys/kernel/debug/page_owner} (one block per allocated block, in the kernel's format, see
 * {@link #read()}), {@code /sys/kernel/debug/page_owner_stacks/show_stacks} (each allocation stack with its
 * number of pages still allocated) and {@code .../count_threshold}. Without {@code page_owner=on} this class is
 * not instantiated: no memory, no hook (one null test per allocation and free), no files.
 *
 * <p>Stacks are the Java frames of the model's call path, innermost first, from the allocator's
 * {@code prep_new_page} on (up to {@value #PAGE_OWNER_STACK_DEPTH} frames, as the kernel's
 * {@code PAGE_OWNER_STACK_DEPTH}): the shell command or the user's method that asked for the memory is among
 * them. They are saved in a {@link StackDepot}.
 *
 * <p>Layout: the kernel's {@code struct page_owner} lives in {@code page_ext}, allocated per memory section;
 * here each 128 MiB section ({@code SECTION_SIZE_BITS} 27) gets its columns on first use, so the cost follows
 * the memory actually allocated. Departures, named: no "early allocated" pages exist (the model allocates nothing
 * before page_owner is set up, so each zone reports 0); "page_owner is disabled" is not printed at a boot
 * without {@code page_owner=on} (the reference kernel has no PAGE_OWNER and prints nothing, and mm4j's default
 * boot stays the reference's); memcg lines ("Charged ... to memcg") are not printed (no memcg in the model).
 *
 * <p>Threads: a block's record is written by the thread that owns the block (allocating it, or freeing it), as in
 * the kernel; readers walk without locks and may see a record mid-update (the kernel's read_page_owner has the
 * same race). Sections are published with a CAS.
 */
public final class PageOwner {
    /** {@code PAGE_OWNER_STACK_DEPTH}. */
    public static final int PAGE_OWNER_STACK_DEPTH = 16;
    /** {@code SECTION_SIZE_BITS - PAGE_SHIFT}: pages per page_ext section. */
    private static final int SECTION_SHIFT = 15;
    private static final int SECTION_PAGES = 1 << SECTION_SHIFT;
    /** {@code PAGE_EXT_OWNER}: a record was ever set. */
    private static final byte EXT_OWNER = 1;
    /** {@code PAGE_EXT_OWNER_ALLOCATED}: the page is allocated now. */
    private static final byte EXT_OWNER_ALLOCATED = 2;
    /** {@code struct page_owner} of one section's pages, as columns. */
    private static final class Section {
        final byte[] ext = new byte[SECTION_PAGES];
        final short[] order = new short[SECTION_PAGES];
        final int[] gfp = new int[SECTION_PAGES];
        final int[] handle = new int[SECTION_PAGES];
        final int[] freeHandle = new int[SECTION_PAGES];
        final long[] ts = new long[SECTION_PAGES];
        final long[] freeTs = new long[SECTION_PAGES];
        final int[] pid = new int[SECTION_PAGES];
        final int[] tgid = new int[SECTION_PAGES];
        final int[] freePid = new int[SECTION_PAGES];
        final int[] freeTgid = new int[SECTION_PAGES];
        final String[] comm = new String[SECTION_PAGES];
    }

    private final BuddyAllocator buddy;
    private final MemMap memMap;
    private final Current current;
    private final long bootNanos = System.nanoTime();
    private final StackDepot depot = new StackDepot();
    private final AtomicReferenceArray<Section> sections;
    private final long totalPages;
    /** Pages still allocated per allocation stack (the stack_record refcount - 1), and the stacks, newest first. */
    private final Map<Integer, AtomicLong> stackPages = new ConcurrentHashMap<>();
    private final List<Integer> stackList = new CopyOnWriteArrayList<>();
    private volatile long countThreshold;

    /** {@code init_page_owner}: sets up the records and logs each zone's early allocated pages (none). */
    @InternalApi("org.mm4j")
    public PageOwner(final BuddyAllocator buddy, final Current current, final KernelLog log) {
        this.buddy = buddy;
        this.memMap = buddy.memMap();
        this.current = current;
        this.totalPages = buddy.memory().totalPages();
        this.sections = new AtomicReferenceArray<>((int) ((totalPages + SECTION_PAGES - 1) >>> SECTION_SHIFT));
        for (final Zone z : buddy.zones()) {
            log.printk(String.format("Node %d, zone %8s: page owner found early allocated %d pages", z.nid,
                Zone.ZONE_NAMES[z.type], 0));
        }
    }

    private Section section(final long pfn) {
        final int i = (int) (pfn >>> SECTION_SHIFT);
        final Section s = sections.get(i);
        if (s != null) {
            return s;
        }
        sections.compareAndSet(i, null, new Section());
        return sections.get(i);
    }

    private long localClock() {
        return System.nanoTime() - bootNanos;
    }

    /** Leaves out PageOwner's own frames and the JDK's: the first frame saved is the allocator's. */
    private static boolean own(final Class<?> c) {
        return c == PageOwner.class || c.getName().startsWith("java.");
    }

    /** {@code __set_page_owner(page, order, gfp_mask)}: the block {@code [pfn, pfn + 2^order)} was allocated. */
    void setPageOwner(final long pfn, final int order, final int gfp) {
        final int handle = depot.save(PageOwner::own, PAGE_OWNER_STACK_DEPTH);
        final long ts = localClock();
        final Current.Task t = current.get();
        for (long p = pfn; p < pfn + (1L << order); p++) {
            final Section s = section(p);
            final int i = (int) (p & (SECTION_PAGES - 1));
            s.handle[i] = handle;
            s.order[i] = (short) order;
            s.gfp[i] = gfp;
            s.pid[i] = t.pid();
            s.tgid[i] = t.tgid();
            s.comm[i] = t.comm();
            s.ts[i] = ts;
            s.ext[i] = EXT_OWNER | EXT_OWNER_ALLOCATED;
        }
        stackPages.computeIfAbsent(handle, h -> {
            stackList.addFirst(h);
            return new AtomicLong();
        }).addAndGet(1L << order);
    }

    /** {@code __reset_page_owner(page, order)}: the block is being freed. */
    void resetPageOwner(final long pfn, final int order) {
        final long ts = localClock();
        final int handle = depot.save(PageOwner::own, PAGE_OWNER_STACK_DEPTH);
        final Current.Task t = current.get();
        final Section first = section(pfn);
        final int allocHandle = first.handle[(int) (pfn & (SECTION_PAGES - 1))];
        for (long p = pfn; p < pfn + (1L << order); p++) {
            final Section s = section(p);
            final int i = (int) (p & (SECTION_PAGES - 1));
            s.ext[i] &= ~EXT_OWNER_ALLOCATED;
            s.freeHandle[i] = handle;
            s.freeTs[i] = ts;
            s.freePid[i] = t.pid();
            s.freeTgid[i] = t.tgid();
        }
        final AtomicLong n = stackPages.get(allocHandle);
        if (n != null) {
            n.addAndGet(-(1L << order));
        }
    }

    /** {@code __split_page_owner(page, old_order, 0)}: each page of the block is now an order-0 allocation. */
    void splitPageOwner(final long pfn, final int order) {
        for (long p = pfn; p < pfn + (1L << order); p++) {
            section(p).order[(int) (p & (SECTION_PAGES - 1))] = 0;
        }
    }

    // ------------------------------------------------------------------ readers

    /** The record of one page: what {@code print_page_owner} and {@code __dump_page_owner} print. */
    @SuppressWarnings("AvoidCommonTypeNames") // PageOwner.Record: the page_owner record, always named with its class
    public record Record(long pfn, int order, int gfp, int pid, int tgid, String comm, long tsNanos,
                         long freeTsNanos, boolean allocated, List<StackDepot.Frame> stack) {
    }

    /** The record of {@code pfn}, or null when page_owner never saw that page allocated. */
    public Record record(final long pfn) {
        if (pfn < 0 || pfn >= totalPages) {
            throw new IllegalArgumentException("pfn=0x" + Long.toHexString(pfn) + " (expected: below 0x"
                + Long.toHexString(totalPages) + ")");
        }
        final Section s = sections.get((int) (pfn >>> SECTION_SHIFT));
        final int i = (int) (pfn & (SECTION_PAGES - 1));
        if (s == null || (s.ext[i] & EXT_OWNER) == 0) {
            return null;
        }
        return new Record(pfn, s.order[i], s.gfp[i], s.pid[i], s.tgid[i], s.comm[i], s.ts[i], s.freeTs[i],
            (s.ext[i] & EXT_OWNER_ALLOCATED) != 0, depot.frames(s.handle[i]));
    }

    /**
     * {@code read_page_owner}: every allocated block (tail pages of a higher-order block are skipped), as
     * <pre>
     * Page allocated via order N, mask 0x..(GFP_...), pid N, tgid N (comm), ts N ns
     * PFN 0x.. type Unmovable Block N type Unmovable Flags 0x..(...|node=0|zone=1)
     *  stack frame
     *  ...
     * (an empty line)
     * </pre>
     */
    public String read() {
        final StringBuilder sb = new StringBuilder();
        for (int si = 0; si < sections.length(); si++) {
            final Section s = sections.get(si);
            if (s == null) {
                continue;
            }
            final long base = (long) si << SECTION_SHIFT;
            for (int i = 0; i < SECTION_PAGES && base + i < totalPages; i++) {
                if ((s.ext[i] & (EXT_OWNER | EXT_OWNER_ALLOCATED)) != (EXT_OWNER | EXT_OWNER_ALLOCATED)) {
                    continue;
                }
                final long pfn = base + i;
                final int order = s.order[i];
                final int handle = s.handle[i];
                if ((pfn & ((1L << order) - 1)) != 0 || handle == 0) {
                    continue;
                }
                printPageOwner(sb, pfn, order, s.gfp[i], s.pid[i], s.tgid[i], s.comm[i], s.ts[i], handle);
            }
        }
        return sb.toString();
    }

    private void printPageOwner(final StringBuilder sb, final long pfn, final int order, final int gfp,
                                final int pid, final int tgid, final String comm, final long ts, final int handle) {
        sb.append(String.format("Page allocated via order %d, mask %s(%s), pid %d, tgid %d (%s), ts %d ns%n",
            order, gfp == 0 ? "0" : "0x" + Integer.toHexString(gfp), Gfp.toString(gfp), pid, tgid, comm, ts));
        final Zone z = buddy.zoneOf(pfn);
        sb.append(String.format("PFN 0x%x type %s Block %d type %s Flags %s%n", pfn,
            MigrateType.name(Gfp.migratetype(gfp)), pfn >>> Zone.PAGEBLOCK_ORDER,
            MigrateType.name(z.pageblockMigratetype(pfn)), pageFlags(pfn, z)));
        depot.print(sb, handle);
        sb.append('\n');
    }

    /** {@code %pGp} ({@link PageDebug#pgp}). */
    private String pageFlags(final long pfn, final Zone z) {
        return PageDebug.pgp(memMap, pfn, z);
    }

    /**
     * {@code __dump_page_owner}, what {@code dump_page} adds (a "BUG: Bad page state" report, say): whether the
     * page is allocated or freed, its last allocation (order, migratetype, gfp, pid, tgid, comm, ts, free_ts) with
     * the allocation stack, then the free's pid, tgid and stack. Each line ends with a newline.
     */
    void dumpPageOwner(final StringBuilder sb, final long pfn) {
        final Section s = sections.get((int) (pfn >>> SECTION_SHIFT));
        final int i = (int) (pfn & (SECTION_PAGES - 1));
        if (s == null || (s.ext[i] & EXT_OWNER) == 0) {
            sb.append("page_owner info is not present (never set?)\n");
            return;
        }
        sb.append((s.ext[i] & EXT_OWNER_ALLOCATED) != 0 ? "page_owner tracks the page as allocated\n"
            : "page_owner tracks the page as freed\n");
        final int gfp = s.gfp[i];
        sb.append(String.format("page last allocated via order %d, migratetype %s, gfp_mask %s(%s), pid %d, tgid %d"
            + " (%s), ts %d, free_ts %d%n", s.order[i], MigrateType.name(Gfp.migratetype(gfp)),
            gfp == 0 ? "0" : "0x" + Integer.toHexString(gfp), Gfp.toString(gfp), s.pid[i], s.tgid[i], s.comm[i],
            s.ts[i], s.freeTs[i]));
        if (s.handle[i] == 0) {
            sb.append("page_owner allocation stack trace missing\n");
        } else {
            depot.print(sb, s.handle[i]);
        }
        if (s.freeHandle[i] == 0) {
            sb.append("page_owner free stack trace missing\n");
        } else {
            sb.append(String.format("page last free pid %d tgid %d stack trace:%n", s.freePid[i], s.freeTgid[i]));
            depot.print(sb, s.freeHandle[i]);
        }
    }

    /** {@code page_owner_stacks/show_stacks}: each stack with pages still allocated (at least the threshold). */
    public String showStacks() {
        final StringBuilder sb = new StringBuilder();
        final long threshold = countThreshold;
        for (final int handle : stackList) {
            final long pages = stackPages.get(handle).get();
            if (pages < 1 || pages < threshold) {
                continue;
            }
            depot.print(sb, handle);
            sb.append("nr_base_pages: ").append(pages).append("\n\n");
        }
        return sb.toString();
    }

    /** {@code pageowner_init}: the debugfs files. */
    @InternalApi("org.mm4j")
    public void registerDebugfs(final ProcFs procfs) {
        procfs.registerFile("/sys/kernel/debug/page_owner", this::read);
        final String dir = "/sys/kernel/debug/page_owner_stacks";
        procfs.registerDir(dir, new ProcFs.Dir() {
            @Override
            public String read(final String rest) {
                return switch (rest) {
                    case "show_stacks" -> showStacks();
                    case "count_threshold" -> Long.toString(countThreshold);
                    default -> null;
                };
            }

            @Override
            public boolean write(final String rest, final String value) {
                if (!rest.equals("count_threshold")) {
                    return false;
                }
                try {
                    final long v = Long.decode(value.strip());
                    if (v < 0) {
                        throw new NumberFormatException(value);
                    }
                    countThreshold = v;
                } catch (final NumberFormatException e) {
                    throw new ProcFs.ProcFsException(dir + "/count_threshold: Invalid argument");
                }
                return true;
            }

            @Override
            public List<String> list(final String rest) {
                return rest.isEmpty() ? new ArrayList<>(List.of("count_threshold", "show_stacks")) : List.of();
            }
        });
    }
}
