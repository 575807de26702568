package org.mm4j.page;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * The allocator's invariants, checked (the model's stand-in for {@code CONFIG_DEBUG_VM} checks and for the
 * userspace harness's validators): {@link #validate()} walks every free list, every per-CPU list and all of
 * {@code mem_map} and lists the violations; {@link #checkInvariants()} throws with them.
 *
 * <p>Locks: takes every pcp lock of a zone and then its zone lock (the allocator's lock order), one zone at a time.
 * A thread allocating or freeing meanwhile may tear the picture (the mem_map walk holds no lock): call it while
 * the allocator is quiet. Test-only cost: it allocates a bitmap of all pages.
 */
final class BuddyValidate {
    private final BuddyAllocator buddy;
    private final PhysicalMemory mem;
    private final MemMap memMap;
    private final FreeArea area;

    BuddyValidate(final BuddyAllocator buddy, final FreeArea area) {
        this.buddy = buddy;
        this.mem = buddy.mem;
        this.memMap = buddy.memMap;
        this.area = area;
    }

    /**
     * Checks every invariant of the allocator and returns the violations (empty when consistent). Takes every pcp
     * and zone lock in turn; call it while no other thread allocates or frees, or the picture may be torn.
     *
     * <ol>
     *   <li>every free block is aligned to its order, lies in its zone, is PG_buddy with {@code private == order},
     *       is on the list of its recorded migratetype, which is its pageblock's migratetype;</li>
     *   <li>no page is on two lists (free lists, pcp lists) nor both listed and allocated;</li>
     *   <li>no free block's buddy is free at the same order (merging is complete), except across pageblocks of
     *       types that may not merge;</li>
     *   <li>counters: nr_free per order and type, NR_FREE_PAGES, NR_FREE_PAGES_BLOCKS, pcp counts agree with the
     *       lists;</li>
     *   <li>free + pcp + allocated + reserved = total pages; no PG_buddy page off the lists.</li>
     * </ol>
     */
    List<String> validate() {
        buddy.init.initDeferred();
        final List<String> errors = new ArrayList<>();
        final long total = mem.totalPages();
        final BitSet seen = new BitSet((int) total);
        long freeTotal = 0;
        long pcpTotal = 0;
        for (final Zone z : buddy.zones) {
            for (final Pcp p : z.pcp) {
                p.lock();
            }
            z.lock.lock();
            try {
                long zoneFree = 0;
                long zoneBlocks = 0;
                long highatomic = 0;
                for (int o = 0; o < Zone.NR_PAGE_ORDERS; o++) {
                    long nr = 0;
                    for (int mt = 0; mt < MigrateType.TYPES; mt++) {
                        long n = 0;
                        long prev = -1;
                        for (long pfn = z.freeHead[o][mt]; pfn >= 0; pfn = memMap.lruNext(pfn)) {
                            n++;
                            if (n > total) {
                                errors.add(z + ": free list order " + o + " " + MigrateType.name(mt) + " has a cycle");
                                break;
                            }
                            if (memMap.lruPrev(pfn) != prev) {
                                errors.add(String.format("%s: pfn 0x%x prev link 0x%x, expected 0x%x", z, pfn,
                                    memMap.lruPrev(pfn), prev));
                            }
                            prev = pfn;
                            checkFreeBlock(z, pfn, o, mt, seen, errors);
                        }
                        if (z.freeTail[o][mt] != prev) {
                            errors.add(String.format("%s: tail of order %d %s is 0x%x, expected 0x%x", z, o,
                                MigrateType.name(mt), z.freeTail[o][mt], prev));
                        }
                        if (n != z.freeCount[o][mt]) {
                            errors.add(z + ": order " + o + " " + MigrateType.name(mt) + " counts " + z.freeCount[o][mt]
                                + " blocks, list has " + n);
                        }
                        nr += n;
                        if (mt != MigrateType.ISOLATE) {
                            zoneFree += n << o;
                            if (o >= Zone.PAGEBLOCK_ORDER) {
                                zoneBlocks += n << o;
                            }
                        }
                        if (mt == MigrateType.HIGHATOMIC) {
                            highatomic += n << o;
                        }
                    }
                    if (nr != z.nrFree[o]) {
                        errors.add(z + ": nr_free[" + o + "]=" + z.nrFree[o] + ", lists hold " + nr);
                    }
                }
                if (zoneFree != z.freePages) {
                    errors.add(z + ": NR_FREE_PAGES=" + z.freePages + ", lists hold " + zoneFree);
                }
                if (zoneBlocks != z.freeBlocksPages) {
                    errors.add(z + ": NR_FREE_PAGES_BLOCKS=" + z.freeBlocksPages + ", lists hold " + zoneBlocks);
                }
                if (highatomic != z.nrFreeHighatomic) {
                    errors.add(z + ": nr_free_highatomic=" + z.nrFreeHighatomic + ", lists hold " + highatomic);
                }
                freeTotal += zoneFree;
                for (int cpu = 0; cpu < buddy.nrCpus; cpu++) {
                    pcpTotal += checkPcp(z, cpu, seen, errors);
                }
            } finally {
                z.lock.unlock();
                for (final Pcp p : z.pcp) {
                    p.unlock();
                }
            }
        }
        long allocated = 0;
        long reserved = 0;
        for (long pfn = 0; pfn < total;) {
            if (seen.get((int) pfn)) {
                if ((memMap.flags(pfn) & MemMap.PG_BUDDY) != 0) {
                    pfn += 1L << memMap.privateWord(pfn);
                } else {
                    pfn++;
                }
                continue;
            }
            final long flags = memMap.flags(pfn);
            if ((flags & MemMap.PG_BUDDY) != 0) {
                errors.add(String.format("pfn 0x%x is PG_buddy but on no free list", pfn));
                pfn++;
                continue;
            }
            if ((flags & MemMap.PG_RESERVED) != 0) {
                reserved++;
                pfn++;
                continue;
            }
            if (memMap.refcount(pfn) <= 0) {
                errors.add(String.format("pfn 0x%x is neither free nor allocated (refcount %d, flags 0x%x)", pfn,
                    memMap.refcount(pfn), flags));
                pfn++;
                continue;
            }
            final int order = memMap.compoundOrder(pfn);
            final long n = 1L << order;
            if ((pfn & (n - 1)) != 0 || pfn + n > total) {
                errors.add(String.format("allocated pfn 0x%x has bad order %d", pfn, order));
                pfn++;
                continue;
            }
            for (long i = 0; i < n; i++) {
                if (seen.get((int) (pfn + i))) {
                    errors.add(String.format("pfn 0x%x is both allocated (block 0x%x order %d) and free", pfn + i,
                        pfn, order));
                }
                if (i > 0 && (flags & MemMap.PG_HEAD) != 0 && (!memMap.test(pfn + i, MemMap.PG_TAIL)
                    || memMap.compoundHead(pfn + i) != pfn)) {
                    errors.add(String.format("tail pfn 0x%x of compound 0x%x lacks PG_tail or its head", pfn + i,
                        pfn));
                }
            }
            allocated += n;
            pfn += n;
        }
        if (freeTotal + pcpTotal + allocated + reserved != total) {
            errors.add("free " + freeTotal + " + pcp " + pcpTotal + " + allocated " + allocated + " + reserved "
                + reserved + " != total " + total);
        }
        return errors;
    }

    /** {@link #validate()} that throws {@link IllegalStateException} listing the violations. */
    void checkInvariants() {
        final List<String> errors = validate();
        if (!errors.isEmpty()) {
            throw new IllegalStateException("buddy allocator invariants broken:\n  " + String.join("\n  ",
                errors.subList(0, Math.min(errors.size(), 20))));
        }
    }

    private void checkFreeBlock(final Zone z, final long pfn, final int o, final int mt, final BitSet seen,
                                final List<String> errors) {
        final long n = 1L << o;
        if ((pfn & (n - 1)) != 0) {
            errors.add(String.format("free block 0x%x of order %d is not aligned", pfn, o));
        }
        if (!z.contains(pfn) || !z.contains(pfn + n - 1)) {
            errors.add(String.format("free block 0x%x of order %d is outside %s", pfn, o, z));
            return;
        }
        if (!memMap.test(pfn, MemMap.PG_BUDDY) || memMap.privateWord(pfn) != o || area.listMt(pfn) != mt) {
            errors.add(String.format("free block 0x%x on order %d %s list has flags 0x%x private %d", pfn, o,
                MigrateType.name(mt), memMap.flags(pfn), memMap.privateWord(pfn)));
        }
        if (z.pageblockMigratetype(pfn) != mt) {
            errors.add(String.format("free block 0x%x on %s list, its pageblock is %s", pfn, MigrateType.name(mt),
                MigrateType.name(z.pageblockMigratetype(pfn))));
        }
        final int from = (int) pfn;
        if (seen.nextSetBit(from) >= 0 && seen.nextSetBit(from) < from + n) {
            errors.add(String.format("free block 0x%x of order %d overlaps another listed page", pfn, o));
        }
        seen.set(from, (int) (from + n));
        if (o < Zone.MAX_PAGE_ORDER) {
            final long buddyPfn = pfn ^ n;
            if (area.isBuddy(z, buddyPfn, o)) {
                final int bmt = area.listMt(buddyPfn);
                final boolean mayStayApart = o >= Zone.PAGEBLOCK_ORDER && bmt != mt
                    && (!MigrateType.isMergeable(mt) || !MigrateType.isMergeable(bmt));
                if (!mayStayApart) {
                    errors.add(String.format("free block 0x%x and its buddy 0x%x are both free at order %d", pfn,
                        buddyPfn, o));
                }
            }
        }
    }

    private long checkPcp(final Zone z, final int cpu, final BitSet seen, final List<String> errors) {
        final Pcp p = z.pcp[cpu];
        long pages = 0;
        for (int pindex = 0; pindex < Pcp.NR_PCP_LISTS; pindex++) {
            final int order = Pcp.pindexToOrder(pindex);
            int n = 0;
            for (long pfn = p.head(pindex); pfn >= 0; pfn = memMap.lruNext(pfn)) {
                if (++n > mem.totalPages()) {
                    errors.add(z + " cpu " + cpu + ": pcp list " + pindex + " has a cycle");
                    break;
                }
                final long size = 1L << order;
                if ((pfn & (size - 1)) != 0 || !z.contains(pfn)) {
                    errors.add(String.format("%s cpu %d: pcp page 0x%x misplaced for order %d", z, cpu, pfn, order));
                    continue;
                }
                // a free page's count is 0, or below after a second __free_pages (put_page_testzero without
                // CONFIG_DEBUG_VM takes it under zero and frees nothing); a positive count is a page handed out
                if (memMap.refcount(pfn) > 0 || memMap.test(pfn, MemMap.PG_BUDDY)) {
                    errors.add(String.format("%s cpu %d: pcp page 0x%x has refcount %d flags 0x%x", z, cpu, pfn,
                        memMap.refcount(pfn), memMap.flags(pfn)));
                }
                final int from = (int) pfn;
                if (seen.nextSetBit(from) >= 0 && seen.nextSetBit(from) < from + size) {
                    errors.add(String.format("pcp page 0x%x (cpu %d) is also on another list", pfn, cpu));
                }
                seen.set(from, (int) (from + size));
                pages += size;
            }
            if (n != p.listCount(pindex)) {
                errors.add(z + " cpu " + cpu + ": pcp list " + pindex + " counts " + p.listCount(pindex) + ", has "
                    + n);
            }
        }
        if (pages != p.count) {
            errors.add(z + " cpu " + cpu + ": pcp count " + p.count + ", lists hold " + pages);
        }
        return pages;
    }
}
