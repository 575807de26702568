package org.mm4j.bench;

import org.mm4j.vma.MmStruct;
import org.mm4j.vma.Mman;
import org.mm4j.vma.Vma;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What {@link VmaBench} and {@link VmaStoreBench} share: VMAs of one page each with a one-page hole between them (so
 * none merges), the random addresses inside them that {@code find_vma} is asked for, and the sorted-array baseline's
 * lookup. Setup only, but {@link #floorIndex}, which the baselines call per operation.
 */
final class SpacedVmas {
    /** Where the first spaced VMA starts. */
    static final long BASE = 0x100000000L;

    private SpacedVmas() {
    }

    /** Maps the {@code i}-th spaced page ({@code MAP_FIXED}, read-write, private anonymous). */
    static void map(final MmStruct mm, final int i) {
        final long a = BASE + i * 0x2000L; // one page mapped, one page hole: nothing merges
        final int rw = Mman.PROT_READ | Mman.PROT_WRITE;
        if (mm.mmap(a, 4096, rw, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED, null, 0) != a) {
            throw new IllegalStateException("setup mmap failed at " + i);
        }
    }

    /** Fills {@code addrs} with addresses inside VMAs of {@code all} picked at random (seed 7: the same every run). */
    static void randomAddresses(final List<Vma> all, final long[] addrs) {
        final SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < addrs.length; i++) {
            final Vma v = all.get(r.nextInt(all.size()));
            addrs[i] = v.start() + r.nextLong(v.end() - v.start());
        }
    }

    /** The index of the range holding {@code a} among the first {@code used} sorted starts and their ends, or -1. */
    static int floorIndex(final long[] starts, final long[] ends, final int used, final long a) {
        final int i = Arrays.binarySearch(starts, 0, used, a);
        final int at = i >= 0 ? i : -i - 2; // the last start <= a
        return at >= 0 && ends[at] > a ? at : -1;
    }
}
