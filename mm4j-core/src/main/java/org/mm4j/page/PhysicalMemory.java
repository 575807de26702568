package org.mm4j.page;

import org.mm4j.base.InternalApi;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The model's physical memory: one off-heap segment per NUMA node, contiguous in physical address space
 * (node {@code n} holds {@code [n * nodeBytes, (n + 1) * nodeBytes)}), and the address conversions of
 * {@code arch/x86/include/asm/page.h}.
 *
 * <p>Notation: {@code phys} is a physical address ({@code 0 <= phys < totalBytes}); {@code pfn = phys >>> 12};
 * a kernel virtual address ({@code kaddr}) is {@code PAGE_OFFSET + phys}, printed like the kernel's direct map
 * ({@code 0xffff888000123440}); a native address is where the byte really lives in this process, for FFM users
 * and native code.
 *
 * <p>Invariants: the segments live from construction to {@link #close()}; the nodes are consecutive slices of one
 * page-aligned reservation ({@link Reservation}), which reads as zero until written. Threads: all methods are safe from any thread; the bytes themselves are owned by
 * whoever allocated them from the buddy allocator.
 */
public final class PhysicalMemory implements AutoCloseable {
    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    public static final long PAGE_MASK = ~(PAGE_SIZE - 1L);
    /** x86-64 direct map base, 4-level paging, no KASLR. */
    public static final long PAGE_OFFSET = 0xffff888000000000L;

    private final Arena arena;
    private final MemorySegment[] nodes;
    private final long[] nodeBase;
    private final long nodeBytes;
    private final long totalBytes;
    private final MemorySegment all;
    /**
     * What {@link #word} reads through: all memory, a constant to the JIT, at {@link #wordBase} plus a physical
     * address it checks itself against {@link #wordLimit} (as {@code MemMap} does, and for the same reason:
     * docs/replay-history.md, "Eighth pass (issue 14): the model thread and its compiles").
     */
    private static final MemorySegment ALL_MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();
    /** {@code totalBytes - 7}: the first physical address a word cannot start at; 0 once {@link #close()} began. */
    private long wordLimit;
    /** The native address of physical address 0. */
    private final long wordBase;
    private final HugePages hugePages;
    private final String hugePagesRefused;

    /**
     * Transparent huge pages for the model's memory ({@code mm4j.thp=}): {@link #ALWAYS} advises the reservation
     * {@code MADV_HUGEPAGE} (aligned to 2 MiB; the host commits each 2 MiB whole at its first touch),
     * {@link #NEVER} {@code MADV_NOHUGEPAGE} (4 KiB pages even where the host's THP mode is {@code always}),
     * {@link #HOST} no advice: the host's {@code /sys/kernel/mm/transparent_hugepage/enabled} decides.
     */
    public enum HugePages {
        ALWAYS, NEVER, HOST;

        /** The value of {@code mm4j.thp=} ({@code always}, {@code never} or {@code host}). */
        public static HugePages of(final String value) {
            return valueOf(value.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /**
     * Reserves {@code totalBytes} split evenly over {@code nrNodes} nodes, as one {@link Reservation}: on Linux an
     * anonymous {@code mmap} with {@code MAP_NORESERVE}, so boot costs neither time nor resident memory in
     * proportion to {@code mem=}; each host page is committed (already zero) on its first use. Elsewhere the
     * fallback commits and zeroes everything here.
     *
     * @throws Reservation.ReservationException when the host cannot reserve that much address space
     */
    @InternalApi("org.mm4j")
    public PhysicalMemory(final long totalBytes, final int nrNodes) {
        this(totalBytes, nrNodes, HugePages.HOST);
    }

    /**
     * As {@link #PhysicalMemory(long, int)}, with the reservation advised as {@code hugePages} says; a host that
     * refuses the advice leaves the memory as it is ({@link #hugePagesRefused()} says why).
     */
    @SuppressWarnings("MustBeClosedChecker") // the arena lives as long as this object: close() closes it
    @InternalApi("org.mm4j")
    public PhysicalMemory(final long totalBytes, final int nrNodes, final HugePages hugePages) {
        if (nrNodes < 1 || totalBytes <= 0 || totalBytes % ((long) nrNodes << 22) != 0) {
            throw new IllegalArgumentException("totalBytes=" + totalBytes + " nrNodes=" + nrNodes
                + " (expected: a multiple of 4 MiB per node)");
        }
        this.arena = Arena.ofShared();
        this.nodes = new MemorySegment[nrNodes];
        this.nodeBase = new long[nrNodes];
        this.nodeBytes = totalBytes / nrNodes;
        this.totalBytes = totalBytes;
        final MemorySegment whole;
        try {
            whole = Reservation.reserve(arena, totalBytes, PAGE_SIZE, hugePages == HugePages.ALWAYS);
        } catch (final RuntimeException e) {
            arena.close();
            throw e;
        }
        this.hugePages = hugePages;
        this.hugePagesRefused = hugePages == HugePages.HOST ? null
            : Reservation.adviseHugePages(whole, hugePages == HugePages.ALWAYS);
        for (int n = 0; n < nrNodes; n++) {
            nodes[n] = whole.asSlice(n * nodeBytes, nodeBytes);
            nodeBase[n] = nodes[n].address();
        }
        // the nodes are one contiguous reservation: one view serves every physical address
        this.all = whole;
        this.wordLimit = totalBytes - (Long.BYTES - 1);
        this.wordBase = nodeBase[0];
    }

    /** The {@code mm4j.thp=} advice asked for at construction. */
    public HugePages hugePages() {
        return hugePages;
    }

    /** Null when the host took the {@link #hugePages()} advice (or none was asked), else why not ({@code EINVAL}...). */
    public String hugePagesRefused() {
        return hugePagesRefused;
    }

    public long totalBytes() {
        return totalBytes;
    }

    public long totalPages() {
        return totalBytes >>> PAGE_SHIFT;
    }

    public int nrNodes() {
        return nodes.length;
    }

    public long nodeBytes() {
        return nodeBytes;
    }

    /** First pfn of node {@code nid}. */
    long nodeStartPfn(final int nid) {
        return nid * (nodeBytes >>> PAGE_SHIFT);
    }

    long nodePages() {
        return nodeBytes >>> PAGE_SHIFT;
    }

    public int pfnToNid(final long pfn) {
        return (int) ((pfn << PAGE_SHIFT) / nodeBytes);
    }

    public boolean validPhys(final long phys) {
        return phys >= 0 && phys < totalBytes;
    }

    boolean validPfn(final long pfn) {
        return pfn >= 0 && pfn < (totalBytes >>> PAGE_SHIFT);
    }

    /** The segment of node {@code nid} (its byte 0 is physical address {@code nid * nodeBytes()}). */
    public MemorySegment node(final int nid) {
        return nodes[nid];
    }

    /** The node segment holding {@code phys}; index into it with {@link #nodeOffset(long)}. */
    public MemorySegment segmentOf(final long phys) {
        return all;
    }

    public long nodeOffset(final long phys) {
        return phys;
    }

    /** A bounded view of {@code [phys, phys + byteSize)}, which must not cross a node boundary. */
    public MemorySegment slice(final long phys, final long byteSize) {
        return segmentOf(phys).asSlice(nodeOffset(phys), byteSize);
    }

    /**
     * The real native address of physical address {@code phys}.
     *
     * @throws IllegalArgumentException when {@code phys} is not inside the model's memory (the one way from the
     *                                  public API toward foreign memory stays closed)
     */
    public long nativeAddress(final long phys) {
        if (phys < 0 || phys >= totalBytes) {
            throw new IllegalArgumentException("physical address 0x" + Long.toHexString(phys)
                + " (kernel address 0x" + Long.toHexString(PAGE_OFFSET + phys) + ") is not inside the model's memory"
                + " (expected: below 0x" + Long.toHexString(totalBytes) + ", mem=" + (totalBytes >> 20) + "M)");
        }
        return nodeBase[0] + phys;
    }

    /** Physical address of a native address inside the model's memory, or -1 when it is not ours. */
    public long nativeToPhys(final long nativeAddress) {
        for (int n = 0; n < nodes.length; n++) {
            final long off = nativeAddress - nodeBase[n];
            if (off >= 0 && off < nodeBytes) {
                return n * nodeBytes + off;
            }
        }
        return -1;
    }

    public static long physToVirt(final long phys) {
        return PAGE_OFFSET + phys;
    }

    public static long virtToPhys(final long kaddr) {
        return kaddr - PAGE_OFFSET;
    }

    /** Whether {@code kaddr} is a direct-map address of this memory. */
    public boolean validVirt(final long kaddr) {
        final long phys = kaddr - PAGE_OFFSET;
        return phys >= 0 && phys < totalBytes;
    }

    public static long pfnToPhys(final long pfn) {
        return pfn << PAGE_SHIFT;
    }

    /** {@code page_address()}: the kernel virtual address of a pfn. */
    public static long pageAddress(final long pfn) {
        return PAGE_OFFSET + (pfn << PAGE_SHIFT);
    }

    /** {@code virt_to_pfn()}. */
    public static long virtToPfn(final long kaddr) {
        return (kaddr - PAGE_OFFSET) >>> PAGE_SHIFT;
    }

    public byte getByte(final long phys) {
        return segmentOf(phys).get(ValueLayout.JAVA_BYTE, nodeOffset(phys));
    }

    public void putByte(final long phys, final byte value) {
        segmentOf(phys).set(ValueLayout.JAVA_BYTE, nodeOffset(phys), value);
    }

    public long getLong(final long phys) {
        return segmentOf(phys).get(ValueLayout.JAVA_LONG_UNALIGNED, nodeOffset(phys));
    }

    public void putLong(final long phys, final long value) {
        segmentOf(phys).set(ValueLayout.JAVA_LONG_UNALIGNED, nodeOffset(phys), value);
    }

    /**
     * The aligned word at {@code phys} (a plain load): for SLUB's own words in objects (free pointers, keys).
     *
     * @throws IndexOutOfBoundsException when the word is not inside the memory
     * @throws IllegalStateException     when the memory is closed ({@link #close()})
     * @throws IllegalArgumentException  when {@code phys} is not a multiple of 8
     */
    public long word(final long phys) {
        return (long) WORD.get(ALL_MEMORY, wordBase + checkWord(phys));
    }

    /** Stores the aligned word at {@code phys} (a plain store); throws as {@link #word(long)} does. */
    public void word(final long phys, final long value) {
        WORD.set(ALL_MEMORY, wordBase + checkWord(phys), value);
    }

    private long checkWord(final long phys) {
        if (Long.compareUnsigned(phys, wordLimit) >= 0) {
            if (wordLimit == 0) {
                throw new IllegalStateException("physical address 0x" + Long.toHexString(phys)
                    + ": the model's memory is closed (the kernel was closed)");
            }
            throw new IndexOutOfBoundsException("word at physical address 0x" + Long.toHexString(phys)
                + " is not inside the model's memory (expected: below 0x" + Long.toHexString(totalBytes - 7) + ")");
        }
        return phys;
    }

    public void fill(final long phys, final long byteSize, final byte value) {
        segmentOf(phys).asSlice(nodeOffset(phys), byteSize).fill(value);
    }

    /** Frees all node memory. Not idempotent, like {@link Arena#close()}. */
    @Override
    public void close() {
        wordLimit = 0;
        arena.close();
    }
}
