package org.mm4j.vma;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.base.ModelOutOfMemoryException;
import org.mm4j.page.Gfp;
import org.mm4j.page.VmStat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The checked assumptions of the vma package: where the kernel asserts the mmap lock ({@code mmap_assert_locked},
 * {@code mmap_assert_write_locked}) the model asserts its lock (the mm's monitor) under {@code -ea}, and the page
 * tables report exhaustion the kernel's way (VM_FAULT_OOM, -ENOMEM), never with a JVM {@link Error}.
 */
class MmapLockTest {
    static final int RW = FaultForkTest.RW;
    static final int ANON = FaultForkTest.ANON;

    /** Runs {@code call} without the mm's lock and returns the assertion it must fail with. */
    private static AssertionError unlocked(final MmStruct mm, final Runnable call) {
        assumeTrue(MmStruct.class.desiredAssertionStatus(), "the lock assertions need -ea");
        assertFalse(Thread.holdsLock(mm));
        return assertThrows(AssertionError.class, call::run);
    }

    @Test
    void findVmaAndTheVmaOperationsAssertTheMmapLock() {
        final MmStruct mm = new MmStruct();
        final long a = mm.mmap(0, 3 * 4096, RW, ANON, null, 0);
        assertTrue(a > 0);
        final AssertionError find = unlocked(mm, () -> mm.findVmaLocked(a));
        assertTrue(find.getMessage().startsWith("mmap_assert_locked: thread "), find.getMessage());
        assertTrue(unlocked(mm, () -> mm.vmaLookupLocked(a)).getMessage().contains("mmap_assert_locked"));
        final Vma vma = mm.findVma(a); // the public lookup takes the lock itself
        assertNotNull(vma);
        final AssertionError split = unlocked(mm, () -> VmaOps.splitVmaUnchecked(mm, vma, a + 4096, true));
        assertTrue(split.getMessage().startsWith("mmap_assert_write_locked: "), split.getMessage());
        unlocked(mm, () -> VmaOps.vmaModify(mm, vma, a, a + 4096, vma.flags, "x"));
        unlocked(mm, () -> VmaOps.doMunmap(mm, a, 4096));
        unlocked(mm, () -> mm.insertVma(new Vma(mm, 0x10000, 0x11000, VmFlags.VM_READ, 0x10)));
        unlocked(mm, () -> Mmap.expandDownwards(mm, vma, a - 4096));
        unlocked(mm, () -> Fault.populateLocked(mm, a, a + 4096));
        unlocked(mm, () -> Fault.anonVmaPrepareUnchecked(mm, vma));
        unlocked(mm, () -> TaskMmu.maps(mm));
        unlocked(mm, () -> Mprotect.mprotect(mm, a, 4096, Mman.PROT_READ));
        // none of the refused calls changed anything; under the lock the same calls work
        assertEquals(1, mm.mapCount());
        assertEquals(0, mm.munmap(a + 4096, 4096));
        assertEquals(2, mm.mapCount());
        final Vma low = mm.findVma(a);
        assertEquals(a + 4096, low.end());
        synchronized (mm) {
            assertSame(low, mm.findVmaLocked(a));
            assertEquals(0, Mprotect.mprotect(mm, a, 4096, Mman.PROT_READ));
        }
        mm.validate();
    }

    @Test
    void theProcReadersAndForkTakeTheLocksTheyNeed() {
        try (Kernel k = Kernel.boot("mem=64M norandmaps")) {
            final Processes ps = k.processes();
            final MmStruct mm = ps.currentMm();
            final long a = mm.mmap(0, 4 * 4096, RW, ANON, null, 0);
            mm.writeUser(a, (byte) 5);
            // /proc readers from another thread: the lock is taken inside, as m_start's mmap_read_lock
            final AtomicReference<String> maps = new AtomicReference<>();
            final Thread reader = new Thread(() -> maps.set(k.procfs().read("/proc/1/smaps")));
            reader.start();
            assertDoesNotHang(reader);
            assertTrue(maps.get().contains("Rss:                   4 kB"), maps.get());
            // fork copies page tables under both mms' locks (copy_page_range asserts them)
            final int child = ps.fork();
            assertTrue(child > 1, "fork: " + child);
            assertEquals(5, ps.get(child).mm().readUser(a));
            final PageTables pt = mm.pageTables;
            unlocked(mm, () -> pt.zapRange(mm.findVma(a), a, a + 4096));
            unlocked(mm, () -> pt.pte(a));
            assertEquals(5, mm.readUser(a), "the refused zap changed nothing");
        }
    }

    private static void assertDoesNotHang(final Thread t) {
        try {
            t.join(30_000);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        assertFalse(t.isAlive(), "the reader did not finish");
    }

    /** Takes every free page the allocator will give (as {@code gfp} would see them); returns their pfns. */
    private static List<Long> exhaust(final Kernel k) {
        final List<Long> pfns = new ArrayList<>();
        for (long pfn; (pfn = k.buddy().allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, 0)) >= 0; ) {
            pfns.add(pfn);
        }
        return pfns;
    }

    @Test
    void pageTableExhaustionIsVmFaultOomAndEnomemNeverAJvmError() {
        try (Kernel k = Kernel.boot("mem=64M norandmaps")) {
            final MmStruct mm = k.processes().currentMm();
            // a mapping far from every other one: its first fault needs new PUD, PMD and PTE tables
            final long far = 0x300000000000L;
            assertEquals(far, mm.mmap(far, 2 * 4096, RW, ANON | Mman.MAP_FIXED, null, 0));
            final long tables0 = k.vmstat().get(VmStat.NR_PAGETABLE);
            final List<Long> taken = exhaust(k);
            assertTrue(taken.size() > 1000, "took " + taken.size());
            final Supplier<String> state = () -> mm.maps() + mm.pte(far) + "/" + mm.rss()[0];
            final String before = state.get();
            synchronized (mm) {
                assertEquals(PageTables.VM_FAULT_OOM, mm.pageTables.fault(mm.findVmaLocked(far), far, true));
                assertFalse(mm.pageTables.installGuards(mm.findVmaLocked(far), far, far + 4096));
            }
            final ModelOutOfMemoryException e = assertThrows(ModelOutOfMemoryException.class,
                () -> mm.writeUser(far, (byte) 1));
            assertTrue(e.getMessage().contains("no page for the write fault at 0x300000000000"), e.getMessage());
            assertEquals(-Errno.ENOMEM, mm.madvise(far, 4096, Mman.MADV_GUARD_INSTALL));
            assertEquals(-Errno.ENOMEM, mm.madvise(far, 4096, Mman.MADV_POPULATE_WRITE));
            assertEquals(before, state.get(), "nothing changed");
            assertEquals(tables0, k.vmstat().get(VmStat.NR_PAGETABLE), "no table page kept");
            for (final long pfn : taken) {
                k.buddy().freePages(pfn, 0);
            }
            mm.writeUser(far, (byte) 9);
            assertEquals(9, mm.readUser(far));
            assertTrue(k.buddy().validate().isEmpty(), k.buddy().validate().toString());
        }
    }
}
