package org.mm4j.page;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.mm4j.Kernel;
import org.mm4j.base.CpuSlots;
import org.mm4j.base.KernelLog;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Split/merge invariants after random sequences of allocations and frees: every step leaves
 * {@link BuddyAllocator#validate()} empty (free + allocated = total, no page on two lists, free blocks aligned to
 * their order with no free buddy of the same order, counters consistent), and freeing everything restores the
 * boot-time free areas exactly.
 */
class BuddyPropertyTest {
    /** One step: kind 0 = alloc, 1 = free the {@code arg}-th live block, 2 = drain, 3 = switch CPU slot. */
    record Op(int kind, int order, int gfp, int arg) {
    }

    private static final int[] GFPS = {Gfp.KERNEL, Gfp.KERNEL | Gfp.COMP, Gfp.HIGHUSER_MOVABLE,
        Gfp.KERNEL | Gfp.RECLAIMABLE, Gfp.ATOMIC, Gfp.KERNEL | Gfp.ZERO, Gfp.NOWAIT | Gfp.COMP};

    @Provide
    Arbitrary<List<Op>> opLists() {
        return ops().list().ofMaxSize(80);
    }

    private static Arbitrary<Op> ops() {
        final Arbitrary<Integer> order = Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(6, Arbitraries.integers().between(0, 3)),
            net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(4, 8)),
            net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(9, Zone.MAX_PAGE_ORDER)));
        return Combinators.combine(
            Arbitraries.frequency(net.jqwik.api.Tuple.of(10, 0), net.jqwik.api.Tuple.of(8, 1),
                net.jqwik.api.Tuple.of(1, 2), net.jqwik.api.Tuple.of(1, 3)),
            order, Arbitraries.of(0, 1, 2, 3, 4, 5, 6), Arbitraries.integers().between(0, 1000))
            .as((kind, o, g, arg) -> new Op(kind, o, GFPS[g], arg));
    }

    @Property(tries = 150)
    void randomAllocFreeKeepsInvariants(@ForAll("opLists") final List<Op> ops) {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=2")) {
            final BuddyAllocator b = k.buddy();
            final String initial = PageProc.buddyinfo(b);
            runThenFreeAll(b, k.cpus(), ops, Op::gfp, (gfp, pfn, order) ->
                assertEquals(0, pfn & ((1L << order) - 1), "aligned block"));
            assertEquals(0, b.badPageReports());
            assertEquals(b.totalramPages(), b.freePages());
            assertEquals(initial, PageProc.buddyinfo(b), "everything merged back");
        }
    }

    /**
     * Three zones (DMA below pfn 1024, DMA32 below 2048, Normal above) and two CPU slots: no merge crosses a zone
     * boundary, and GFP_DMA / GFP_DMA32 stay below their limits.
     */
    @Property(tries = 100)
    void randomAllocFreeWithThreeZones(@ForAll("opLists") final List<Op> ops) {
        try (PhysicalMemory m = new PhysicalMemory(16L << 20, 1); MemMap mm = new MemMap(m.totalPages())) {
            final CpuSlots cpus = new CpuSlots(2);
            final BuddyAllocator b = new BuddyAllocator(m, mm, new KernelLog(), cpus,
                new VmStat(cpus), new BuddyAllocator.Options(false, false, 1024, 2048, false));
            final String initial = PageProc.buddyinfo(b);
            final ToIntFunction<Op> gfpOf = op -> op.arg() % 3 == 0 ? op.gfp() | Gfp.DMA32
                : op.arg() % 5 == 0 ? op.gfp() | Gfp.DMA : op.gfp();
            runThenFreeAll(b, cpus, ops, gfpOf, (gfp, pfn, order) -> {
                // gfp_zone: GFP_DMA32 may use DMA32 and DMA, GFP_DMA only DMA
                if ((gfp & Gfp.DMA32) != 0) {
                    assertTrue(pfn + (1L << order) <= 2048, "GFP_DMA32 below the limit");
                }
                if ((gfp & Gfp.DMA) != 0) {
                    assertTrue(pfn + (1L << order) <= 1024, "GFP_DMA below MAX_DMA_PFN");
                }
            });
            assertEquals(initial, PageProc.buddyinfo(b), "everything merged back, zone by zone");
        }
    }

    /** What a test asserts of each block it allocated ({@code gfp} without the NOWARN the run adds). */
    @FunctionalInterface
    interface BlockCheck {
        void allocated(int gfp, long pfn, int order);
    }

    /**
     * Runs {@code ops} on {@code b} (allocations with {@code gfpOf(op)}, each block given to {@code check}), with
     * {@link BuddyAllocator#validate()} empty after every step; then frees every block still live, drains the
     * per-CPU lists and checks the invariants.
     */
    private static void runThenFreeAll(final BuddyAllocator b, final CpuSlots cpus, final List<Op> ops,
                                       final ToIntFunction<Op> gfpOf, final BlockCheck check) {
        final List<long[]> live = new ArrayList<>();
        for (final Op op : ops) {
            switch (op.kind()) {
                case 0 -> {
                    final int gfp = gfpOf.applyAsInt(op);
                    final long pfn = b.allocPages(gfp | Gfp.NOWARN, op.order());
                    if (pfn >= 0) {
                        check.allocated(gfp, pfn, op.order());
                        live.add(new long[] {pfn, op.order()});
                    }
                }
                case 1 -> {
                    if (!live.isEmpty()) {
                        final long[] blk = live.remove(op.arg() % live.size());
                        assertTrue(b.freePages(blk[0], (int) blk[1]));
                    }
                }
                case 2 -> b.drainAllPages();
                default -> cpus.pin(op.arg() % 2);
            }
            final List<String> errors = b.validate();
            assertTrue(errors.isEmpty(), op + ": " + errors);
        }
        for (final long[] blk : live) {
            assertTrue(b.freePages(blk[0], (int) blk[1]));
        }
        b.drainAllPages();
        b.checkInvariants();
    }
}
