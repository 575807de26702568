package org.mm4j.bench;

import org.mm4j.Kernel;
import org.mm4j.vma.MmStruct;
import org.mm4j.vma.Mman;
import org.mm4j.vma.Vma;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The VMA stores side by side (issue 15): {@code find_vma} of a random mapped address and an {@code mmap} +
 * {@code munmap} pair of one anonymous page (placed top-down) with 16, 256, 4 096 and 65 536 VMAs, for
 * {@code store} = {@code maple} (6.18's maple tree, the default), {@code rbtree} (the 5.x augmented rbtree, whose
 * {@code find_vma} goes through the per-thread vmacache first: random addresses mostly miss it) and
 * {@code sorted-array} (a baseline: the VMA starts and ends in two sorted {@code long[]}, {@code find_vma} by
 * {@code Arrays.binarySearch}, and for {@code mmapMunmap} only the index upkeep, inserting the same range at its
 * place and removing it again with {@code System.arraycopy}: a lower bound that does none of a syscall's other
 * work). The VMAs are one page each with a one-page hole between them, so none merges. ns per operation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 3, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Xmn256m", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class VmaStoreBench {
    static final int NR_ADDRS = 4096;

    @Param({"16", "256", "4096", "65536"})
    public int vmas;

    @Param({"maple", "rbtree", "sorted-array"})
    public String store;

    Kernel kernel;
    MmStruct mm;
    final long[] addrs = new long[NR_ADDRS];
    int next;
    /** The sorted-array baseline: starts, ends and how many are used. */
    long[] starts;
    long[] ends;
    int used;
    /** Where the top-down mmap of one page lands (the baseline inserts the same range). */
    long topDown;

    @Setup(Level.Trial)
    public void setup() {
        final String kind = "sorted-array".equals(store) ? "maple" : store;
        kernel = Kernel.boot("mem=256M norandmaps mm4j.vma_store=" + kind);
        kernel.procfs().write("/proc/sys/vm/max_map_count", Integer.toString(2 * vmas + 64));
        mm = kernel.processes().currentMm();
        for (int i = 0; mm.mapCount() < vmas; i++) {
            SpacedVmas.map(mm, i);
        }
        final List<Vma> all = mm.vmas();
        SpacedVmas.randomAddresses(all, addrs);
        starts = new long[all.size() + 1];
        ends = new long[all.size() + 1];
        for (final Vma v : all) {
            starts[used] = v.start();
            ends[used++] = v.end();
        }
        topDown = mm.mmap(0, 4096, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        mm.munmap(topDown, 4096);
        if (mm.mapCount() != all.size()) {
            throw new IllegalStateException("setup: " + mm.mapCount() + " VMAs, expected " + all.size());
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        kernel.close();
    }

    private long nextAddr() {
        final int i = next;
        next = (i + 1) & (NR_ADDRS - 1);
        return addrs[i];
    }

    /** {@code find_vma} of a random address inside a VMA: the VMA's start (0 for none). */
    @Benchmark
    public long findVma() {
        final long a = nextAddr();
        if (starts != null && "sorted-array".equals(store)) {
            final int at = SpacedVmas.floorIndex(starts, ends, used, a);
            return at >= 0 ? starts[at] : 0;
        }
        final Vma v = mm.findVma(a);
        return v == null ? 0 : v.start();
    }

    /** One anonymous page placed top-down and unmapped again (the baseline: its index upkeep alone). */
    @Benchmark
    public long mmapMunmap() {
        if ("sorted-array".equals(store)) {
            final int i = -Arrays.binarySearch(starts, 0, used, topDown) - 1;
            System.arraycopy(starts, i, starts, i + 1, used - i);
            System.arraycopy(ends, i, ends, i + 1, used - i);
            starts[i] = topDown;
            ends[i] = topDown + 4096;
            System.arraycopy(starts, i + 1, starts, i, used - i);
            System.arraycopy(ends, i + 1, ends, i, used - i);
            return i;
        }
        final long a = mm.mmap(0, 4096, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        mm.munmap(a, 4096);
        return a;
    }
}
