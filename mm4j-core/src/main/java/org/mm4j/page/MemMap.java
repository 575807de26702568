package org.mm4j.page;

import org.mm4j.base.InternalApi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The {@code struct page} table ({@code mem_map}): one 64-byte entry per pfn, off heap, no Java object per page.
 *
 * <p>Layout of an entry (byte offsets; fields after {@link #FLAGS} are a union, as in the kernel, whose meaning
 * depends on the page's type flag):
 * <pre>
 *  0  flags      long  PG_* bits (see the constants), and the migratetype of a free block in bits 56..59
 *  8  lruNext    long  buddy: next pfn on the free list (-1 = none; stored + 1); slab: next slab on a list
 * 16  lruPrev    long  buddy: previous pfn (stored + 1); slab: previous slab on a list
 * 24  private    long  buddy: order of a free block; tail page: pfn of its head (compound_head)
 * 32  refcount   int   _refcount
 * 36  mapcount   int   _mapcount (user mappings)
 * 40  slabWord   long  slab: freelist + counters, updated with one 64-bit CAS (layout owned by the slab package);
 *                       page-cache page: its mapping (the file's address_space, as a nonzero id; 0 = NULL)
 * 48  slabCache  int   slab: id of the kmem_cache that owns the slab
 * 52  compound   int   head page: compound order
 * 56  slabNext   long  slab: per-CPU partial chain (next slab pfn, and a count) — owned by the slab package
 * </pre>
 * 64 bytes per 4 KiB page (1.56 %), the kernel's own {@code sizeof(struct page)}.
 *
 * <p>Access path: every accessor reads or writes through one view of all memory ({@code MemorySegment.NULL}
 * reinterpreted to {@code Long.MAX_VALUE} bytes, a constant to the JIT) at the table's address, after its own check of
 * the pfn against {@link #nrPages()} (and of a field's offset against the entry, which folds away where the offset is
 * a constant). The table's own segment would check its bounds, its session and its alignment on every access
 * through fields the JIT cannot treat as constants: in the kmem replay, C2 compiled the same model for ~10 % less
 * CPU with this view (docs/replay-history.md, "Eighth pass (issue 14): the model thread and its compiles").
 * {@link #close()} sets the bound to 0 before it unmaps the table, so every later access throws instead of touching
 * unmapped memory; an access racing with {@code close()} is outside the contract, as for any {@code Kernel} call (the
 * JVM allocator's fast paths use the same rule).
 *
 * <p>Concurrency: the buddy fields (flags of free pages, lru links, private) are changed only under the zone lock
 * of the page's zone; {@link #SLAB_WORD} is changed only by CAS (or by the owner of a slab that no other thread
 * can reach); other slab fields follow the slab package's list_lock rules. {@code flags} bits are set with CAS
 * ({@link #setFlag}/{@link #clearFlag}) so that disjoint writers never lose each other's bits.
 *
 * <p>Surface: users read a page through {@link #flags}, {@link #test}, {@link #refcount}, {@link #mapcount},
 * {@link #compoundOrder} and {@link #compoundHead}. Writes belong to the page allocator (package-private
 * here) and to the packages that own fields of {@code struct page}: slab ({@link #SLAB_WORD}, {@link #SLAB_CACHE},
 * {@link #SLAB_NEXT}, the lru links of a slab, {@code PG_slab}) and vma ({@link #MAPCOUNT}, {@link #MAPPING},
 * {@code PG_pgtable}, {@code PG_zero_page}); the members they need are public and say "internal: for
 * org.mm4j.slab" (or vma). Accessor prefixes (JCTools): {@code lp/sp} plain, {@code lv/sv} volatile, {@code so}
 * release store, {@code cas}; {@link #flags} is the flags word's {@code lv} read.
 */
public final class MemMap implements AutoCloseable {
    /** Bytes per entry ({@code sizeof(struct page)}). Internal: for org.mm4j (the memmap vmstat counter). */
    @InternalApi("org.mm4j")
    public static final int ENTRY_SIZE = 64;
    /** Internal: for org.mm4j.slab (raw reads of the flags word in its dumps). */
    @InternalApi("org.mm4j.slab")
    public static final int FLAGS = 0;
    static final int LRU_NEXT = 8;
    static final int LRU_PREV = 16;
    /** Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public static final int PRIVATE = 24;
    static final int REFCOUNT = 32;
    /** {@code _mapcount}. Internal: for org.mm4j.vma (which counts the PTEs mapping a page). */
    @InternalApi("org.mm4j.vma")
    public static final int MAPCOUNT = 36;
    /** Internal: for org.mm4j.slab (the {freelist, counters} word). */
    @InternalApi("org.mm4j.slab")
    public static final int SLAB_WORD = 40;
    /**
     * {@code page->mapping} of a page-cache page (a union with {@link #SLAB_WORD}: never both). Internal: for
     * org.mm4j.vma.
     */
    public static final int MAPPING = SLAB_WORD;
    /** Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public static final int SLAB_CACHE = 48;
    static final int COMPOUND_ORDER = 52;
    /** Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public static final int SLAB_NEXT = 56;

    /** Page flags (bit numbers are mm4j's; names are the kernel's). */
    public static final long PG_LOCKED = 1L;
    public static final long PG_REFERENCED = 1L << 1;
    public static final long PG_UPTODATE = 1L << 2;
    public static final long PG_DIRTY = 1L << 3;
    public static final long PG_LRU = 1L << 4;
    public static final long PG_HEAD = 1L << 6;
    public static final long PG_TAIL = 1L << 7;
    public static final long PG_RESERVED = 1L << 10;
    public static final long PG_BUDDY = 1L << 16;
    public static final long PG_SLAB = 1L << 17;
    public static final long PG_PGTABLE = 1L << 18;
    public static final long PG_ANON = 1L << 19;
    public static final long PG_ZERO_PAGE = 1L << 20;
    /**
     * Head-page {@link #PRIVATE} word of a large kmalloc: the kernel's {@code PGTY_large_kmalloc} page type (the
     * slab package sets and clears it; the buddy allocator refuses to free such a page with __free_pages).
     */
    public static final long PGTY_LARGE_KMALLOC = 0x6c61726765L;
    static final int MT_SHIFT = 56;
    /** The migratetype bits of a free block's flags. Internal: for org.mm4j.slab (masked out of its dumps). */
    @InternalApi("org.mm4j.slab")
    public static final long MT_MASK = 0xfL << MT_SHIFT;

    /** Atomic and volatile accesses (aligned: the table is 64-byte aligned and its fields are aligned in it). */
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    /** Plain accesses: no alignment test, which can never fail on the table (see {@link #LONG}). */
    private static final VarHandle LONG_PLAIN = ValueLayout.JAVA_LONG_UNALIGNED.varHandle();
    private static final VarHandle INT_PLAIN = ValueLayout.JAVA_INT_UNALIGNED.varHandle();
    private static final VarHandle BYTE = ValueLayout.JAVA_BYTE.varHandle();
    /** The view of all memory every accessor goes through, at the addresses below (see the class comment). */
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /** Bytes per entry of the slab index ({@link #slabIndexAddress()}). Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public static final int SLAB_INDEX_ENTRY = 8;
    /**
     * Bytes of memory per byte of the slab package's free marks ({@link #freeMarksAddress()}): one mark per 16
     * bytes. Internal: for org.mm4j.slab.
     */
    @InternalApi("org.mm4j.slab")
    public static final int FREE_MARK_SHIFT = 4;

    private final Arena arena;
    private final MemorySegment table;
    /**
     * mm4j's slab index, beside the table: one long per pfn whose meaning belongs to org.mm4j.slab (its
     * {@code SlabIndex}); 0 = nothing. Reserved as the table is (committed on first write); not part of
     * {@code struct page}, so nothing the kernel shows reads it.
     */
    private final MemorySegment slabIndex;
    /**
     * mm4j's free marks, beside the table: one byte per 16 bytes of memory whose meaning belongs to org.mm4j.slab
     * (its {@code FreeMarks}); 0 = nothing. Reserved as the table is (committed on first write: 256 bytes per page
     * at most, 64 for a page of 64-byte objects); nothing the kernel shows reads it.
     */
    private final MemorySegment freeMarks;
    private final long nrPages;
    /** Native addresses of the three reservations. */
    private final long tableAddress;
    private final long slabIndexBase;
    private final long freeMarksBase;
    /** The pfns the accessors accept: {@link #nrPages} while open, 0 once {@link #close()} has begun. */
    private long limit;

    /**
     * Reserves the table as a {@link Reservation} (lazily committed on Linux: 64 bytes per page of {@code mem=} are
     * address space until an entry is first written). A zero entry is a valid, empty {@code struct page}: the
     * list links are stored plus one, so "no link" (-1) is the zero the fresh reservation already holds, and
     * nothing walks the table at boot. Internal: for org.mm4j (the composition root boots it).
     *
     * @throws Reservation.ReservationException when the host cannot reserve the table
     */
    @SuppressWarnings("MustBeClosedChecker") // the arena lives as long as this object: close() closes it
    @InternalApi("org.mm4j")
    public MemMap(final long nrPages) {
        this.arena = Arena.ofShared();
        this.nrPages = nrPages;
        try {
            this.table = Reservation.reserve(arena, nrPages * ENTRY_SIZE, 64);
            this.slabIndex = Reservation.reserve(arena, nrPages * SLAB_INDEX_ENTRY, 64);
            this.freeMarks = Reservation.reserve(arena, nrPages << PhysicalMemory.PAGE_SHIFT >>> FREE_MARK_SHIFT, 64);
        } catch (final RuntimeException e) {
            arena.close();
            throw e;
        }
        this.tableAddress = table.address();
        this.slabIndexBase = slabIndex.address();
        this.freeMarksBase = freeMarks.address();
        this.limit = nrPages;
    }

    /** Number of entries (pfns 0 to {@code nrPages - 1}). */
    public long nrPages() {
        return nrPages;
    }

    /**
     * Native address of the slab index's entry of pfn 0 (entry {@code pfn} is {@link #SLAB_INDEX_ENTRY} bytes per
     * pfn further), for the JVM allocator's free fast path, which reads entries of valid pfns through an unchecked
     * view. Valid until {@link #close()}; such a reader must stop using it before (the checked accessors throw
     * after it). Internal: for org.mm4j.slab (SlabAllocator's free fast path).
     */
    @InternalApi("org.mm4j.slab")
    public long slabIndexAddress() {
        return slabIndex.address();
    }

    /** Plain load of the slab index entry of {@code pfn}. Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public long slabIndex(final long pfn) {
        return (long) LONG_PLAIN.get(ALL, slabIndexBase + checkPfn(pfn) * SLAB_INDEX_ENTRY);
    }

    /** Plain store of the slab index entry of {@code pfn}. Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public void slabIndex(final long pfn, final long value) {
        LONG_PLAIN.set(ALL, slabIndexBase + checkPfn(pfn) * SLAB_INDEX_ENTRY, value);
    }

    /**
     * Native address of the free mark of physical address 0 (the mark of {@code phys} is at
     * {@code phys >>> FREE_MARK_SHIFT} bytes further), for the JVM allocator's fast paths, which read and write the
     * marks of valid addresses through an unchecked view. Valid until {@link #close()}, as
     * {@link #slabIndexAddress()}. Internal: for org.mm4j.slab.
     */
    @InternalApi("org.mm4j.slab")
    public long freeMarksAddress() {
        return freeMarks.address();
    }

    /** Plain load of the free mark of physical address {@code phys}. Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public byte freeMark(final long phys) {
        return (byte) BYTE.get(ALL, freeMarksBase + checkMark(phys));
    }

    /** Plain store of the free mark of physical address {@code phys}. Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public void freeMark(final long phys, final byte value) {
        BYTE.set(ALL, freeMarksBase + checkMark(phys), value);
    }

    /** The address of a long field of pfn's entry; throws when either is outside the table. */
    private long at(final long pfn, final int field) {
        if ((field & ~(ENTRY_SIZE - Long.BYTES)) != 0 || (field & (Long.BYTES - 1)) != 0) {
            throw badField(field, Long.BYTES);
        }
        return tableAddress + checkPfn(pfn) * ENTRY_SIZE + field;
    }

    /** The address of an int field of pfn's entry; throws when either is outside the table. */
    private long atInt(final long pfn, final int field) {
        if ((field & ~(ENTRY_SIZE - Integer.BYTES)) != 0 || (field & (Integer.BYTES - 1)) != 0) {
            throw badField(field, Integer.BYTES);
        }
        return tableAddress + checkPfn(pfn) * ENTRY_SIZE + field;
    }

    /**
     * {@code pfn} when it has an entry; else throws {@link IndexOutOfBoundsException}, or
     * {@link IllegalStateException} for every pfn once {@link #close()} has begun (as a closed segment does).
     */
    private long checkPfn(final long pfn) {
        if (Long.compareUnsigned(pfn, limit) >= 0) {
            throw outside(pfn);
        }
        return pfn;
    }

    /** The offset of the free mark of {@code phys} in its reservation; throws as {@link #checkPfn} does. */
    private long checkMark(final long phys) {
        checkPfn(phys >>> PhysicalMemory.PAGE_SHIFT);
        return phys >>> FREE_MARK_SHIFT;
    }

    /** What an access to {@code pfn} throws: the table is closed, or it has no such entry. */
    private RuntimeException outside(final long pfn) {
        return limit == 0
            ? new IllegalStateException("pfn " + pfn + ": mem_map is closed (the kernel was closed)")
            : new IndexOutOfBoundsException("pfn " + pfn + " is outside mem_map (expected: 0 to " + (nrPages - 1)
                + ")");
    }

    private static IllegalArgumentException badField(final int field, final int bytes) {
        return new IllegalArgumentException("struct page field offset " + field + " (expected: a multiple of "
            + bytes + " from 0 to " + (ENTRY_SIZE - bytes) + ")");
    }

    // ---- the read side: what users of the allocator look at ----

    /** {@code page->flags}: PG_* bits (volatile read, {@code lvFlags}). */
    public long flags(final long pfn) {
        return (long) LONG.getVolatile(ALL, at(pfn, FLAGS));
    }

    /** {@code PageFoo(page)}: whether {@code flag} is set. */
    public boolean test(final long pfn, final long flag) {
        return (flags(pfn) & flag) != 0;
    }

    /** {@code page_ref_count}: {@code _refcount} (volatile read). */
    public int refcount(final long pfn) {
        return lvInt(pfn, REFCOUNT);
    }

    /** {@code page_mapcount}: the PTEs mapping the page ({@code _mapcount}, plain read). */
    public int mapcount(final long pfn) {
        return lpInt(pfn, MAPCOUNT);
    }

    /** {@code compound_order} of a head page (0 for a single page). */
    public int compoundOrder(final long pfn) {
        return lpInt(pfn, COMPOUND_ORDER);
    }

    /** {@code compound_head()}: the head pfn of a tail page, else {@code pfn} itself. */
    public long compoundHead(final long pfn) {
        return test(pfn, PG_TAIL) ? lpLong(pfn, PRIVATE) : pfn;
    }

    // ---- the page allocator's writes (package-private) ----

    /**
     * Replaces the whole flags word with a release store ("so", no StoreLoad fence): for the page allocator's
     * hot paths, where the page is owned exclusively or the zone/pcp lock orders the store.
     */
    void soFlags(final long pfn, final long flags) {
        LONG.setRelease(ALL, at(pfn, FLAGS), flags);
    }

    /** The migratetype recorded in a free block's flags (the list it is on). */
    int migratetype(final long pfn) {
        return (int) ((flags(pfn) & MT_MASK) >>> MT_SHIFT);
    }

    /** {@code set_page_count} (volatile store). */
    void setRefcount(final long pfn, final int count) {
        INT.setVolatile(ALL, atInt(pfn, REFCOUNT), count);
    }

    /** Release store of the refcount (the page is owned exclusively, as at allocation). */
    void soRefcount(final long pfn, final int count) {
        INT.setRelease(ALL, atInt(pfn, REFCOUNT), count);
    }

    /** CAS of the refcount ({@code page_ref_inc}/{@code put_page_testzero} loops). */
    boolean casRefcount(final long pfn, final int expect, final int update) {
        return INT.compareAndSet(ALL, atInt(pfn, REFCOUNT), expect, update);
    }

    int lvInt(final long pfn, final int field) {
        return (int) INT.getVolatile(ALL, atInt(pfn, field));
    }

    // ---- internal: the fields other packages own in struct page ----

    /** {@code SetPageFoo}: atomic {@code set_bit} on the flags word. Internal: for org.mm4j.slab and org.mm4j.vma. */
    @InternalApi("org.mm4j.slab, org.mm4j.vma")
    public void setFlag(final long pfn, final long flag) {
        LONG.getAndBitwiseOr(ALL, at(pfn, FLAGS), flag);
    }

    /** {@code ClearPageFoo}: atomic {@code clear_bit}. Internal: for org.mm4j.slab and org.mm4j.vma. */
    @InternalApi("org.mm4j.slab, org.mm4j.vma")
    public void clearFlag(final long pfn, final long flag) {
        LONG.getAndBitwiseAnd(ALL, at(pfn, FLAGS), ~flag);
    }

    /** Plain load of a long field. Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public long lpLong(final long pfn, final int field) {
        return (long) LONG_PLAIN.get(ALL, at(pfn, field));
    }

    /** Plain store of a long field. Internal: for org.mm4j.slab and org.mm4j.vma ({@link #MAPPING}). */
    @InternalApi("org.mm4j.slab, org.mm4j.vma")
    public void spLong(final long pfn, final int field, final long value) {
        LONG_PLAIN.set(ALL, at(pfn, field), value);
    }

    /** Volatile load of a long field. Internal: for org.mm4j.slab (and its jcstress tests). */
    @InternalApi("org.mm4j.slab")
    public long lvLong(final long pfn, final int field) {
        return (long) LONG.getVolatile(ALL, at(pfn, field));
    }

    /** Volatile store of a long field. Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public void svLong(final long pfn, final int field, final long value) {
        LONG.setVolatile(ALL, at(pfn, field), value);
    }

    /** CAS of a long field ({@link #SLAB_WORD}). Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public boolean casLong(final long pfn, final int field, final long expect, final long update) {
        return LONG.compareAndSet(ALL, at(pfn, field), expect, update);
    }

    /** Plain load of an int field. Internal: for org.mm4j.slab and org.mm4j.vma ({@link #MAPCOUNT}). */
    @InternalApi("org.mm4j.slab, org.mm4j.vma")
    public int lpInt(final long pfn, final int field) {
        return (int) INT_PLAIN.get(ALL, atInt(pfn, field));
    }

    /** Plain store of an int field. Internal: for org.mm4j.slab and org.mm4j.vma ({@link #MAPCOUNT}). */
    @InternalApi("org.mm4j.slab, org.mm4j.vma")
    public void spInt(final long pfn, final int field, final int value) {
        INT_PLAIN.set(ALL, atInt(pfn, field), value);
    }

    /**
     * The next pfn on the page's list, -1 = none (stored plus one, so a zero entry has no links). Internal: for
     * org.mm4j.slab (slab lists).
     */
    public long lruNext(final long pfn) {
        return lpLong(pfn, LRU_NEXT) - 1;
    }

    /** Sets the next link (plain store). Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public void lruNext(final long pfn, final long next) {
        spLong(pfn, LRU_NEXT, next + 1);
    }

    /** The previous pfn on the page's list, -1 = none (stored plus one). Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public long lruPrev(final long pfn) {
        return lpLong(pfn, LRU_PREV) - 1;
    }

    /** Sets the previous link (plain store). Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public void lruPrev(final long pfn, final long prev) {
        spLong(pfn, LRU_PREV, prev + 1);
    }

    /** {@code page->private} (plain load). Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public long privateWord(final long pfn) {
        return lpLong(pfn, PRIVATE);
    }

    /** Sets {@code page->private} (plain store). Internal: for org.mm4j.slab. */
    @InternalApi("org.mm4j.slab")
    public void privateWord(final long pfn, final long value) {
        spLong(pfn, PRIVATE, value);
    }

    /**
     * Unmaps the table and its side tables; every accessor throws from here on. Not idempotent, like
     * {@link Arena#close()}.
     */
    @Override
    public void close() {
        limit = 0;
        arena.close();
    }
}
