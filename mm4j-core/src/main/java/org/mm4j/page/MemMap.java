package org.mm4j.page;

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
 * <p>Concurrency: the buddy fields (flags of free pages, lru links, private) are changed only under the zone lock
 * of the page's zone; {@link #SLAB_WORD} is changed only by CAS (or by the owner of a slab that no other thread
 * can reach); other slab fields follow the slab package's list_lock rules. {@code flags} bits are set with CAS
 * ({@link #setFlag}/{@link #clearFlag}) so that disjoint writers never lose each other's bits.
 */
public final class MemMap implements AutoCloseable {
    public static final int ENTRY_SIZE = 64;
    public static final int FLAGS = 0;
    public static final int LRU_NEXT = 8;
    public static final int LRU_PREV = 16;
    public static final int PRIVATE = 24;
    public static final int REFCOUNT = 32;
    public static final int MAPCOUNT = 36;
    public static final int SLAB_WORD = 40;
    /** {@code page->mapping} of a page-cache page (a union with {@link #SLAB_WORD}: never both). */
    public static final int MAPPING = SLAB_WORD;
    public static final int SLAB_CACHE = 48;
    public static final int COMPOUND_ORDER = 52;
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
    public static final int MT_SHIFT = 56;
    public static final long MT_MASK = 0xfL << MT_SHIFT;

    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final Arena arena;
    private final MemorySegment table;
    private final long nrPages;

    /**
     * Reserves the table as a {@link Reservation} (lazily committed on Linux: 64 bytes per page of {@code mem=} are
     * address space until an entry is first written). A zero entry is a valid, empty {@code struct page}: the
     * list links are stored plus one, so "no link" (-1) is the zero the fresh reservation already holds, and
     * nothing walks the table at boot.
     *
     * @throws Reservation.ReservationException when the host cannot reserve the table
     */
    public MemMap(final long nrPages) {
        this.arena = Arena.ofShared();
        this.nrPages = nrPages;
        try {
            this.table = Reservation.reserve(arena, nrPages * ENTRY_SIZE, 64);
        } catch (final RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public long nrPages() {
        return nrPages;
    }

    /**
     * Native address of the table (the entry of pfn 0; entry {@code pfn} is {@link #ENTRY_SIZE} bytes per pfn
     * further), for a hot path that reads entries of valid pfns through an unchecked view. Valid until
     * {@link #close()}; such a reader must stop using it before (the checked accessors throw after it).
     */
    public long nativeAddress() {
        return table.address();
    }

    /** Bytes of metadata per page. */
    public static int overheadPerPage() {
        return ENTRY_SIZE;
    }

    private static long at(final long pfn, final int field) {
        return pfn * ENTRY_SIZE + field;
    }

    // ---- raw access (plain "lp/sp", volatile "lv/sv", CAS) ----

    public long lpLong(final long pfn, final int field) {
        return (long) LONG.get(table, at(pfn, field));
    }

    public void spLong(final long pfn, final int field, final long value) {
        LONG.set(table, at(pfn, field), value);
    }

    public long lvLong(final long pfn, final int field) {
        return (long) LONG.getVolatile(table, at(pfn, field));
    }

    public void svLong(final long pfn, final int field, final long value) {
        LONG.setVolatile(table, at(pfn, field), value);
    }

    public boolean casLong(final long pfn, final int field, final long expect, final long update) {
        return LONG.compareAndSet(table, at(pfn, field), expect, update);
    }

    public int lpInt(final long pfn, final int field) {
        return (int) INT.get(table, at(pfn, field));
    }

    public void spInt(final long pfn, final int field, final int value) {
        INT.set(table, at(pfn, field), value);
    }

    public int lvInt(final long pfn, final int field) {
        return (int) INT.getVolatile(table, at(pfn, field));
    }

    public void svInt(final long pfn, final int field, final int value) {
        INT.setVolatile(table, at(pfn, field), value);
    }

    public boolean casInt(final long pfn, final int field, final int expect, final int update) {
        return INT.compareAndSet(table, at(pfn, field), expect, update);
    }

    public int xaddInt(final long pfn, final int field, final int delta) {
        return (int) INT.getAndAdd(table, at(pfn, field), delta);
    }

    // ---- flags ----

    public long flags(final long pfn) {
        return (long) LONG.getVolatile(table, at(pfn, FLAGS));
    }

    public boolean test(final long pfn, final long flag) {
        return (flags(pfn) & flag) != 0;
    }

    public void setFlag(final long pfn, final long flag) {
        LONG.getAndBitwiseOr(table, at(pfn, FLAGS), flag);
    }

    public void clearFlag(final long pfn, final long flag) {
        LONG.getAndBitwiseAnd(table, at(pfn, FLAGS), ~flag);
    }

    /** Replaces the whole flags word (caller owns the page exclusively). */
    public void setFlags(final long pfn, final long flags) {
        LONG.setVolatile(table, at(pfn, FLAGS), flags);
    }

    /**
     * Replaces the whole flags word with a release store ("so", no StoreLoad fence): for the page allocator's
     * hot paths, where the page is owned exclusively or the zone/pcp lock orders the store.
     */
    public void soFlags(final long pfn, final long flags) {
        LONG.setRelease(table, at(pfn, FLAGS), flags);
    }

    public int migratetype(final long pfn) {
        return (int) ((flags(pfn) & MT_MASK) >>> MT_SHIFT);
    }

    public void setMigratetype(final long pfn, final int mt) {
        long f;
        do {
            f = flags(pfn);
        } while (!LONG.compareAndSet(table, at(pfn, FLAGS), f, (f & ~MT_MASK) | ((long) mt << MT_SHIFT)));
    }

    // ---- named fields ----

    /** The next pfn on the page's list, -1 = none (stored plus one, so a zero entry has no links). */
    public long lruNext(final long pfn) {
        return lpLong(pfn, LRU_NEXT) - 1;
    }

    public void lruNext(final long pfn, final long next) {
        spLong(pfn, LRU_NEXT, next + 1);
    }

    /** The previous pfn on the page's list, -1 = none (stored plus one). */
    public long lruPrev(final long pfn) {
        return lpLong(pfn, LRU_PREV) - 1;
    }

    public void lruPrev(final long pfn, final long prev) {
        spLong(pfn, LRU_PREV, prev + 1);
    }

    public long privateWord(final long pfn) {
        return lpLong(pfn, PRIVATE);
    }

    public void privateWord(final long pfn, final long value) {
        spLong(pfn, PRIVATE, value);
    }

    public int refcount(final long pfn) {
        return lvInt(pfn, REFCOUNT);
    }

    /** CAS of the refcount ({@code page_ref_inc}/{@code put_page_testzero} loops). */
    boolean casRefcount(final long pfn, final int expect, final int update) {
        return INT.compareAndSet(table, at(pfn, REFCOUNT), expect, update);
    }

    /** {@code page_mapcount}: the PTEs mapping the page ({@code _mapcount}, plain read). */
    public int mapcount(final long pfn) {
        return lpInt(pfn, MAPCOUNT);
    }

    public void setRefcount(final long pfn, final int count) {
        svInt(pfn, REFCOUNT, count);
    }

    /** Release store of the refcount (the page is owned exclusively, as at allocation). */
    public void soRefcount(final long pfn, final int count) {
        INT.setRelease(table, at(pfn, REFCOUNT), count);
    }

    public int compoundOrder(final long pfn) {
        return lpInt(pfn, COMPOUND_ORDER);
    }

    /** {@code compound_head()}: the head pfn of a tail page, else {@code pfn} itself. */
    public long compoundHead(final long pfn) {
        return test(pfn, PG_TAIL) ? lpLong(pfn, PRIVATE) : pfn;
    }

    /** Clears every field of an entry (the page must be owned exclusively). */
    public void reset(final long pfn) {
        table.asSlice(pfn * ENTRY_SIZE, ENTRY_SIZE).fill((byte) 0);  // links read as -1
    }

    @Override
    public void close() {
        arena.close();
    }
}
