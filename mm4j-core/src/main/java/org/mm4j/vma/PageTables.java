package org.mm4j.vma;

/**
 * The 4-level x86-64 page tables of one mm: PGD, PUD, PMD and PTE tables of 512 eight-byte entries, each table
 * a page from the buddy allocator; entries are stored in physical memory like the MMU's.
 *
 * <p>Entry layout: {@code pfn << 12 | flags}; {@link #P} present, {@link #RW} writable, {@link #USER},
 * {@link #ANON} (software bit: the page is a private anonymous page this mm may own). Faults follow
 * {@code handle_mm_fault}: an anonymous read maps the zero page read-only, a write allocates a zeroed page, a
 * write to a read-only private page copies it unless this is its only mapping ({@code do_wp_page} reuse), file
 * pages come from the {@link Pager}'s page cache. RSS counters are kept per kind (anon, file, shmem).
 *
 * <p>Invariants: a page's {@code _mapcount} equals the number of PTEs (of every mm) that map it, kept by map,
 * unmap, copy-on-write, fork and zap; every table page carries {@link org.mm4j.page.MemMap#PG_PGTABLE} and is
 * counted in {@link #tablePages}. Out of memory: allocations go through the {@link Pager}, which runs the OOM
 * killer; a fault that still gets no page returns {@link #VM_FAULT_OOM} and changes no PTE.
 *
 * <p>Threads: only under the owning mm's mmap lock, asserted in every entry point as the kernel's page-table walks
 * assert it ({@code mmap_assert_locked}; for write where the kernel needs the write lock: change_protection,
 * move_page_tables, copy_page_range, whose child mm's lock is held too, and the teardown of exit_mmap); the rss and
 * table counters may be read racily (the OOM killer's {@code get_mm_rss}).
 *
 * <p>Errors: model exhaustion is never a JVM {@link Error}: a table or page that cannot be had, even after the OOM
 * killer, is {@link #VM_FAULT_OOM} or {@code false} with nothing changed, which the callers turn into -ENOMEM or,
 * for a user access, {@link org.mm4j.base.ModelOutOfMemoryException}.
 */
final class PageTables {
    static final long P = 1;
    static final long RW = 1 << 1;
    static final long USER = 1 << 2;
    static final long DIRTY = 1L << 6;
    static final long ANON = 1L << 9;
    /**
     * A software bit (x86 leaves bits 9-11 to the OS): MADV_FREE marked this anonymous page lazyfree. It is
     * lazyfree while the PTE stays clean ({@link #DIRTY} clear): a write dirties it again and keeps it.
     */
    static final long LAZYFREE = 1L << 10;
    /**
     * A guard PTE marker (MADV_GUARD_INSTALL, 6.13+): a non-present entry whose access is VM_FAULT_SIGSEGV. Kept by
     * MADV_DONTNEED and mprotect, moved by mremap, copied at fork, dropped by munmap and MADV_GUARD_REMOVE.
     */
    static final long GUARD_MARKER = 1L << 11;
    /** An access to a guard marker: SIGSEGV ({@link SegmentationFault}, SEGV_MAPERR). */
    static final int VM_FAULT_SIGSEGV = 3;
    private static final long PFN_MASK = 0x000ffffffffff000L;
    /** {@link #fault} results: the page is mapped, or no memory could be had for it. */
    static final int VM_FAULT_OK = 0;
    static final int VM_FAULT_OOM = 1;
    /** A file page wholly past the end of its file: the access raises SIGBUS ({@link BusError}). */
    static final int VM_FAULT_SIGBUS = 2;

    private final Pager pager;
    /** The mm these tables translate for (whose process the OOM killer blames for its allocations). */
    private final MmStruct owner;
    /** The PGD's pfn; -1 until the first fault (an mm that never faults takes no memory). */
    private long pgd = -1;
    volatile long rssAnon;
    volatile long rssFile;
    volatile long rssShmem;
    volatile long tablePages;

    PageTables(final Pager pager, final MmStruct owner) {
        this.pager = pager;
        this.owner = owner;
    }

    private long entry(final long table, final int idx) {
        return pager.mem().getLong((table << 12) + idx * 8L);
    }

    private void setEntry(final long table, final int idx, final long e) {
        pager.mem().putLong((table << 12) + idx * 8L, e);
    }

    /** The physical address of addr's PTE; -1 when absent. */
    private long ptep(final long addr, final boolean alloc) {
        return ptep(addr, alloc, owner, "__pte_alloc");
    }

    /**
     * The physical address of addr's PTE, allocating missing tables when {@code alloc} (as {@code current}'s
     * allocations, for the OOM killer); -1 when absent or when no page could be had for a table.
     */
    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the mmap lock (asserted); volatile for the OOM killer's lock-free get_mm_rss reads
    private long ptep(final long addr, final boolean alloc, final MmStruct current, final String site) {
        if (pgd < 0) {
            if (!alloc) {
                return -1;
            }
            final long t = pager.allocTable(current, site);
            if (t < 0) {
                return -1;
            }
            pgd = t;
            tablePages = 1;
        }
        long table = pgd;
        for (int shift = 39; shift > 12; shift -= 9) {
            final int idx = (int) (addr >>> shift) & 511;
            long e = entry(table, idx);
            if ((e & P) == 0) {
                if (!alloc) {
                    return -1;
                }
                final long pfn = pager.allocTable(current, site);
                if (pfn < 0) {
                    return -1;
                }
                tablePages++;
                e = (pfn << 12) | P | RW | USER;
                setEntry(table, idx, e);
            }
            table = (e & PFN_MASK) >>> 12;
        }
        return (table << 12) + ((addr >>> 12) & 511) * 8L;
    }

    /** The PTE of {@code addr} (0 when none). */
    long pte(final long addr) {
        assert owner.mmapAssertLocked();
        final long p = ptep(addr, false);
        return p < 0 ? 0 : pager.mem().getLong(p);
    }

    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the mmap lock (asserted); volatile for the OOM killer's lock-free get_mm_rss reads
    private void accountAdd(final Vma vma, final long e, final int delta) {
        if ((e & ANON) != 0) {
            rssAnon += delta;
        } else if (vma != null && vma.file != null && vma.file.isShmem()) {
            rssShmem += delta;
        } else if (!pager.isZeroPage((e & PFN_MASK) >>> 12)) {
            rssFile += delta;
        }
    }

    /**
     * {@code handle_mm_fault} after the VMA and access checks: {@link #VM_FAULT_OK}, or {@link #VM_FAULT_OOM} when
     * no page could be had even after the OOM killer (nothing changed then). Throws {@link ProcessKilledException}
     * when the OOM killer chose this very process.
     */
    int fault(final Vma vma, final long addr, final boolean write) {
        assert owner.mmapAssertLocked();
        final long p = ptep(addr, true);
        if (p < 0) {
            return VM_FAULT_OOM;
        }
        final long e = pager.mem().getLong(p);
        if ((e & P) != 0 && (!write || (e & RW) != 0)) {
            return VM_FAULT_OK; // the MMU would not have faulted
        }
        pager.countFault();
        if (e == GUARD_MARKER) {
            return VM_FAULT_SIGSEGV; // handle_pte_marker: a guard region
        }
        final boolean writable = (vma.flags & VmFlags.VM_WRITE) != 0;
        final boolean shared = (vma.flags & VmFlags.VM_SHARED) != 0;
        if ((e & P) == 0) {
            long pfn;
            long flags = P | USER;
            if (vma.file == null) {
                if (!write) {
                    pfn = pager.zeroPage();
                } else {
                    pfn = pager.allocUser(owner, "do_anonymous_page");
                    flags |= ANON | RW | DIRTY;
                }
            } else {
                final long pgoff = vma.pgoff + ((addr - vma.start) >>> 12);
                if (vma.file.inode.beyondEof(pgoff)) {
                    return VM_FAULT_SIGBUS; // filemap_fault / shmem_fault: index beyond i_size
                }
                final long cache = pager.pageCachePage(vma.file.inode, pgoff, owner);
                if (cache < 0) {
                    return VM_FAULT_OOM;
                }
                if (write && !shared) {
                    pfn = copyPage(cache, "do_cow_fault");
                    flags |= ANON | RW | DIRTY;
                } else {
                    pfn = cache;
                    if (shared && writable) {
                        flags |= RW | (write ? DIRTY : 0);
                    }
                }
            }
            if (pfn < 0) {
                return VM_FAULT_OOM;
            }
            pager.mapPage(pfn, (flags & ANON) != 0);
            final long ne = (pfn << 12) | flags;
            pager.mem().putLong(p, ne);
            accountAdd(vma, ne, 1);
            return VM_FAULT_OK;
        }
        if (write && (e & RW) == 0) {
            final long pfn = (e & PFN_MASK) >>> 12;
            if (shared) {
                pager.mem().putLong(p, e | RW | DIRTY);
                return VM_FAULT_OK;
            }
            if ((e & ANON) != 0 && pager.mapcount(pfn) == 1) {
                pager.mem().putLong(p, e | RW | DIRTY); // do_wp_page: the only mapping reuses the page
                return VM_FAULT_OK;
            }
            final long copy = copyPage(pfn, "wp_page_copy");
            if (copy < 0) {
                return VM_FAULT_OOM;
            }
            dropPage(vma, e);
            pager.mapPage(copy, true);
            final long ne = (copy << 12) | P | USER | RW | ANON | DIRTY;
            pager.mem().putLong(p, ne);
            accountAdd(vma, ne, 1);
        }
        return VM_FAULT_OK;
    }

    private long copyPage(final long from, final String site) {
        final long to = pager.allocUser(owner, site);
        if (to >= 0) {
            pager.mem().segmentOf(to << 12).asSlice(pager.mem().nodeOffset(to << 12), 4096)
                .copyFrom(pager.mem().segmentOf(from << 12).asSlice(pager.mem().nodeOffset(from << 12), 4096));
        }
        return to;
    }

    /** Unmaps one PTE's page: drops the mapcount, frees an anonymous page nobody maps any more. */
    private void dropPage(final Vma vma, final long e) {
        final long pfn = (e & PFN_MASK) >>> 12;
        accountAdd(vma, e, -1);
        if (pager.unmapPage(pfn, (e & ANON) != 0) == 0 && (e & ANON) != 0) {
            pager.freeAnon(pfn);
        }
    }

    /** What {@link #forEachPte} calls for each present PTE. */
    private interface PteVisitor {
        void visit(long addr, long ptep);
    }

    /** Calls {@code f} with the physical address of every present PTE in {@code [start, end)}. */
    private void forEachPte(final long start, final long end, final PteVisitor f) {
        long a = start;
        while (a < end) {
            final long p = ptep(a, false);
            if (p < 0) {
                a = (a + (1L << 21)) & ~((1L << 21) - 1); // no PTE table: skip to the next PMD
                continue;
            }
            if ((pager.mem().getLong(p) & P) != 0) {
                f.visit(a, p);
            }
            a += 4096;
        }
    }

    /** {@code zap_page_range}: unmaps every page of {@code [start, end)}. */
    void zapRange(final Vma vma, final long start, final long end) {
        assert owner.mmapAssertLocked();
        forEachPte(start, end, (a, p) -> {
            dropPage(vma, pager.mem().getLong(p));
            pager.mem().putLong(p, 0);
        });
    }

    /** {@code change_protection}: write access is granted again only through a fault. */
    void changeProtection(final Vma vma, final long start, final long end) {
        assert owner.mmapAssertWriteLocked();
        final boolean sharedWritable = (vma.flags & (VmFlags.VM_SHARED | VmFlags.VM_WRITE))
            == (VmFlags.VM_SHARED | VmFlags.VM_WRITE);
        forEachPte(start, end, (a, p) -> {
            final long e = pager.mem().getLong(p);
            pager.mem().putLong(p, sharedWritable ? e | RW : e & ~RW);
        });
    }

    /**
     * Allocates every table {@link #moveRange} will need at {@code to}, so that the move itself cannot fail;
     * false when a table page could not be had (nothing moved; tables already made stay, empty, as the
     * kernel's do until {@code free_pgtables}).
     */
    boolean prepareMove(final long from, final long to, final long len) {
        assert owner.mmapAssertWriteLocked();
        for (long off = 0; off < len; off += 4096) {
            final long src = ptep(from + off, false);
            if (src < 0) {
                off = ((from + off + (1L << 21)) & ~((1L << 21) - 1)) - from - 4096;
                continue;
            }
            if ((pager.mem().getLong(src) & P) != 0 && ptepForMove(to + off) < 0) {
                return false;
            }
        }
        return true;
    }

    private long ptepForMove(final long addr) {
        return ptep(addr, true, owner, "move_page_tables");
    }

    /** {@code move_page_tables}: the PTEs of {@code [from, from+len)} move to {@code to} (prepareMove first). */
    void moveRange(final long from, final long to, final long len) {
        assert owner.mmapAssertWriteLocked();
        final boolean up = to > from;
        for (long off = up ? len - 4096 : 0; up ? off >= 0 : off < len; off += up ? -4096 : 4096) {
            final long src = ptep(from + off, false);
            if (src < 0) {
                continue;
            }
            final long e = pager.mem().getLong(src);
            if ((e & P) == 0 && e != GUARD_MARKER) {
                continue;
            }
            final long dst = ptep(to + off, false);
            if (dst < 0) {
                throw new IllegalStateException(String.format("move_page_tables: no table for 0x%x (expected: "
                    + "prepareMove made it)", to + off));
            }
            pager.mem().putLong(dst, e);
            pager.mem().putLong(src, 0);
        }
    }

    /**
     * {@code copy_page_range} at fork: the child maps the same pages; private pages become read-only in both
     * (copy-on-write). False when a table page for the child could not be had (the caller tears the child down).
     */
    boolean copyTo(final PageTables child, final Vma vma) {
        assert owner.mmapAssertWriteLocked();
        assert child.owner.mmapAssertWriteLocked();
        final boolean cow = (vma.flags & VmFlags.VM_SHARED) == 0;
        final boolean[] ok = {true};
        // copy_nonpresent_pte: guard markers are copied to the child
        for (long a = vma.start; a < vma.end; a += 4096) {
            final long p = ptep(a, false);
            if (p < 0) {
                a = ((a + (1L << 21)) & ~((1L << 21) - 1)) - 4096;
                continue;
            }
            if (pager.mem().getLong(p) == GUARD_MARKER) {
                final long dst = child.ptep(a, true, owner, "copy_pte_range");
                if (dst < 0) {
                    return false;
                }
                pager.mem().putLong(dst, GUARD_MARKER);
            }
        }
        forEachPte(vma.start, vma.end, (addr, p) -> {
            if (!ok[0]) {
                return;
            }
            long e = pager.mem().getLong(p);
            final long dst = child.ptep(addr, true, owner, "copy_pte_range");
            if (dst < 0) {
                ok[0] = false;
                return;
            }
            if (cow) {
                e &= ~RW;
                pager.mem().putLong(p, e);
            }
            pager.mem().putLong(dst, e);
            pager.mapPage((e & PFN_MASK) >>> 12, (e & ANON) != 0);
            child.accountAdd(vma, e, 1);
        });
        return ok[0];
    }

    /** Reads a user byte (after a successful fault the page is present). */
    byte readByte(final long addr) {
        assert owner.mmapAssertLocked();
        final long e = pte(addr);
        return pager.mem().getByte((e & PFN_MASK) + (addr & 4095));
    }

    void writeByte(final long addr, final byte b) {
        assert owner.mmapAssertLocked();
        final long e = pte(addr);
        if ((e & (LAZYFREE | DIRTY)) == LAZYFREE) {
            pager.mem().putLong(ptep(addr, false), e | DIRTY); // the MMU dirties the PTE: no longer lazyfree
        }
        pager.mem().putByte((e & PFN_MASK) + (addr & 4095), b);
    }

    /**
     * {@code madvise_guard_install}: unmaps the pages of {@code [start, end)} and puts a guard marker in each PTE.
     * False when a page-table page could not be had (-ENOMEM; the markers placed so far stay, as on Linux).
     */
    boolean installGuards(final Vma vma, final long start, final long end) {
        assert owner.mmapAssertLocked();
        for (long a = start; a < end; a += 4096) {
            final long p = ptep(a, true);
            if (p < 0) {
                return false;
            }
            final long e = pager.mem().getLong(p);
            if ((e & P) != 0) {
                dropPage(vma, e);
            }
            pager.mem().putLong(p, GUARD_MARKER);
        }
        return true;
    }

    /** {@code madvise_guard_remove} (and munmap): clears the guard markers of {@code [start, end)}. */
    void removeGuards(final long start, final long end) {
        assert owner.mmapAssertLocked();
        long a = start;
        while (a < end) {
            final long p = ptep(a, false);
            if (p < 0) {
                a = (a + (1L << 21)) & ~((1L << 21) - 1);
                continue;
            }
            if (pager.mem().getLong(p) == GUARD_MARKER) {
                pager.mem().putLong(p, 0);
            }
            a += 4096;
        }
    }

    /** Whether the PTE of {@code addr} is a guard marker. */
    boolean isGuard(final long addr) {
        assert owner.mmapAssertLocked();
        final long p = ptep(addr, false);
        return p >= 0 && pager.mem().getLong(p) == GUARD_MARKER;
    }

    /**
     * {@code madvise_free_pte_range}: each present anonymous page of {@code [start, end)} that only this PTE maps
     * becomes lazyfree (PTE cleaned, {@code folio_mark_lazyfree}); shared (copy-on-write) pages and the zero page
     * are left as they are. The contents stay readable until reclaim drops the page.
     */
    void markLazyfree(final long start, final long end) {
        assert owner.mmapAssertLocked();
        forEachPte(start, end, (a, p) -> {
            final long e = pager.mem().getLong(p);
            final long pfn = (e & PFN_MASK) >>> 12;
            if ((e & ANON) == 0 || pager.isZeroPage(pfn) || pager.mapcount(pfn) != 1) {
                return;
            }
            if ((e & (LAZYFREE | DIRTY)) != LAZYFREE) {
                pager.countLazyfree(1, 0);
            }
            pager.mem().putLong(p, (e & ~DIRTY) | LAZYFREE);
        });
    }

    /**
     * Reclaim of lazyfree pages ({@code shrink_folio_list}: a clean lazyfree anonymous folio is discarded, not
     * swapped): unmaps and frees every still-clean lazyfree page of {@code vma} that only it maps; returns how
     * many. A later access faults in a zeroed page, as on Linux.
     */
    long reclaimLazyfree(final Vma vma) {
        assert owner.mmapAssertLocked();
        final long[] n = {0};
        forEachPte(vma.start, vma.end, (a, p) -> {
            final long e = pager.mem().getLong(p);
            if ((e & (LAZYFREE | DIRTY)) == LAZYFREE && pager.mapcount((e & PFN_MASK) >>> 12) == 1) {
                dropPage(vma, e);
                pager.mem().putLong(p, 0);
                n[0]++;
            }
        });
        pager.countLazyfree(0, n[0]);
        return n[0];
    }

    /** Frees every page and every table (exit_mmap). */
    void destroy(final Iterable<Vma> vmas) {
        assert owner.mmapAssertWriteLocked();
        for (final Vma v : vmas) {
            zapRange(v, v.start, v.end);
        }
        if (pgd >= 0) {
            freeTables(pgd, 4);
            pgd = -1;
        }
    }

    @SuppressWarnings("NonAtomicVolatileUpdate") // written only under the mmap lock (asserted); volatile for the OOM killer's lock-free get_mm_rss reads
    private void freeTables(final long table, final int level) {
        if (level > 1) {
            for (int i = 0; i < 512; i++) {
                final long e = entry(table, i);
                if ((e & P) != 0) {
                    freeTables((e & PFN_MASK) >>> 12, level - 1);
                }
            }
        }
        pager.freeTable(table);
        tablePages--;
    }

    /**
     * The smaps counters of {@code [start, end)} in bytes: rss, pss, shared_clean, shared_dirty, private_clean,
     * private_dirty, anonymous, pss_dirty (a page is shared when more than one PTE maps it; the zero page does
     * not count, as {@code vm_normal_page} skips it).
     */
    long[] smapsCounts(final long start, final long end) {
        assert owner.mmapAssertLocked();
        final long[] n = new long[9];
        forEachPte(start, end, (a, p) -> {
            final long e = pager.mem().getLong(p);
            final long pfn = (e & PFN_MASK) >>> 12;
            if (pager.isZeroPage(pfn)) {
                return;
            }
            final int mc = Math.max(1, pager.mapcount(pfn));
            final boolean lazyfree = (e & (ANON | LAZYFREE | DIRTY)) == (ANON | LAZYFREE);
            final boolean dirty = (e & DIRTY) != 0 || (e & ANON) != 0 && !lazyfree;
            if (lazyfree) {
                n[8] += 4096; // smaps_account: anon, !swapbacked, clean
            }
            n[0] += 4096;
            n[1] += 4096 / mc;
            n[mc > 1 ? (dirty ? 3 : 2) : (dirty ? 5 : 4)] += 4096;
            if ((e & ANON) != 0) {
                n[6] += 4096;
            }
            if (dirty) {
                n[7] += 4096 / mc;
            }
        });
        return n;
    }
}
