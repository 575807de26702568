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

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The address-space side: {@code find_vma} over 16, 1 024 and 65 530 VMAs (the default {@code max_map_count}),
 * for a repeated address (a vmacache hit), random addresses through the vmacache (mostly misses, then the tree
 * walk) and the bare tree walk, beside two plain-Java baselines over the same ranges: {@code java.util.TreeMap}'s
 * {@code floorEntry} (its keys pre-boxed, so the call itself boxes no {@code Long}: the map's own comparisons
 * still unbox each key it passes) and a sorted {@code long[]} of starts with {@code Arrays.binarySearch} (the
 * cheapest structure there is for a map that never changes; a VMA tree must also insert, split and merge);
 * an {@code mmap}+{@code munmap} pair, an {@code mprotect} split and re-merge, and an anonymous write fault
 * ({@code handle_mm_fault} + {@code MADV_DONTNEED}). ns per operation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 3, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-Xmn256m", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class VmaBench {
    static final int NR_ADDRS = 4096;

    @Param({"16", "1024", "65530"})
    public int vmas;

    Kernel kernel;
    MmStruct mm;
    final TreeMap<Long, long[]> ranges = new TreeMap<>();
    final long[] addrs = new long[NR_ADDRS];
    /** {@link #addrs}, boxed once at setup so the TreeMap baseline boxes nothing per call. */
    final Long[] boxedAddrs = new Long[NR_ADDRS];
    /** Starts and ends of the VMAs, sorted by start: the binary-search baseline. */
    long[] starts;
    long[] ends;
    int next;
    long repeated;
    Long boxedRepeated;
    long splitVma;
    long faultPage;

    @Setup(Level.Trial)
    public void setup() {
        kernel = Kernel.boot("mem=256M norandmaps");
        mm = kernel.processes().currentMm();
        for (int i = 0; i < vmas - 16; i++) {
            SpacedVmas.map(mm, i);
        }
        for (final Vma v : mm.vmas()) {
            ranges.put(v.start(), new long[] {v.start(), v.end()});
        }
        SpacedVmas.randomAddresses(mm.vmas(), addrs);
        repeated = addrs[0];
        boxedRepeated = repeated;
        for (int i = 0; i < NR_ADDRS; i++) {
            boxedAddrs[i] = addrs[i];
        }
        starts = new long[ranges.size()];
        ends = new long[ranges.size()];
        int n = 0;
        for (final long[] range : ranges.values()) {
            starts[n] = range[0];
            ends[n++] = range[1];
        }
        final int rw = Mman.PROT_READ | Mman.PROT_WRITE;
        splitVma = mm.mmap(0, 3 * 4096, rw, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        faultPage = mm.mmap(0, 4096, rw | Mman.PROT_EXEC, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
    }

    @TearDown(Level.Trial)
    public void close() {
        kernel.close();
    }

    private long nextAddr() {
        return addrs[nextIndex()];
    }

    @Benchmark
    public Vma findVmaRepeated() {
        return mm.findVma(repeated);
    }

    @Benchmark
    public Vma findVmaRandom() {
        return mm.findVma(nextAddr());
    }

    @Benchmark
    public Vma treeWalkRandom() {
        return mm.findVmaNoCache(nextAddr());
    }

    private int nextIndex() {
        final int i = next;
        next = (i + 1) & (NR_ADDRS - 1);
        return i;
    }

    @Benchmark
    public long[] treeMapRepeated() {
        final Long a = boxedRepeated;
        final Map.Entry<Long, long[]> e = ranges.floorEntry(a);
        return e != null && e.getValue()[1] > a ? e.getValue() : null;
    }

    @Benchmark
    public long[] treeMapRandom() {
        final Long a = boxedAddrs[nextIndex()];
        final Map.Entry<Long, long[]> e = ranges.floorEntry(a);
        return e != null && e.getValue()[1] > a ? e.getValue() : null;
    }

    /** The index of the VMA holding {@code a} in the sorted arrays, or -1. */
    private int binarySearch(final long a) {
        return SpacedVmas.floorIndex(starts, ends, starts.length, a);
    }

    @Benchmark
    public int binarySearchRepeated() {
        return binarySearch(repeated);
    }

    @Benchmark
    public int binarySearchRandom() {
        return binarySearch(nextAddr());
    }

    /** One anonymous page: placed top-down through the subtree gaps, then unmapped. */
    @Benchmark
    public long mmapMunmap() {
        final long a = mm.mmap(0, 4096, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        mm.munmap(a, 4096);
        return a;
    }

    /** The middle page of a 3-page VMA goes read-only (a split into three) and back (a three-way merge). */
    @Benchmark
    public long mprotectSplitMerge() {
        mm.mprotect(splitVma + 4096, 4096, Mman.PROT_READ);
        return mm.mprotect(splitVma + 4096, 4096, Mman.PROT_READ | Mman.PROT_WRITE);
    }

    /** An anonymous write fault (a zeroed page from the buddy allocator) and its MADV_DONTNEED. */
    @Benchmark
    public long anonFault() {
        mm.writeUser(faultPage, (byte) 1);
        return mm.madvise(faultPage, 4096, Mman.MADV_DONTNEED);
    }
}
