package org.mm4j.bench;

import org.mm4j.Kernel;
import org.mm4j.page.Gfp;
import org.mm4j.slab.SlabAllocator;
import org.mm4j.slab.Slub;

/**
 * mm4j's SLUB on a booted model kernel ({@value #CMDLINE}), measured two ways:
 * <ul>
 * <li>{@code mm4j}: the JVM-facing allocator, {@link Slub#allocator()}, i.e. kmalloc/kfree through the calling
 *     thread's sheaves (the documented default: a capacity by object size) in front of the slab
 *     layer;</li>
 * <li>{@code mm4j-segment}: the same allocator through its {@link java.lang.foreign.SegmentAllocator} face,
 *     {@link SlabAllocator#allocate(long)} and {@link SlabAllocator#free(java.lang.foreign.MemorySegment)}, the
 *     segment kept in the caller's slot and written through ({@link Mm4jSegments});</li>
 * <li>{@code mm4j-cpu-slab}: the kernel-faithful path, {@link Slub#kmalloc}/{@link Slub#kfree} on the per-CPU
 *     slab with its freelist+tid CAS, no sheaves ({@code mm4j.sheaves=0}).</li>
 * </ul>
 * Each benchmark thread is pinned to its own CPU slot by {@link #bindThread} (the producer of the remote-free
 * workload on CPU 0, its consumer on CPU 1) and, for {@code mm4j}, keeps its own {@link SlabAllocator}, as a JVM
 * program would; allocators are confined to their thread, so two are cached here by thread.
 *
 * <p>Threads: any number; a thread that did not call {@link #bindThread} gets its allocator from {@link Slub}'s
 * thread-local on each call. The two cached (owner, allocator) pairs are plain fields: each is written by the one
 * thread bound to that CPU and only that thread can find itself in it.
 */
class Mm4jSlab implements Allocator {
    static final String CMDLINE = "mem=128M nr_cpus=2";
    /**
     * The sheaves of the {@code mm4j} rows on the command line: none, so each cache's thread sheaves get the
     * documented default, a capacity by object size ({@link SlabAllocator#DEFAULT_SHEAF_CAPACITY} before it).
     */
    static final String SHEAVES = "";

    private final String name;
    private final Kernel kernel;
    private final Slub slab;
    private final boolean sheaves;
    private Thread owner0;
    private SlabAllocator allocator0;
    private Thread owner1;
    private SlabAllocator allocator1;

    Mm4jSlab(final String name, final Kernel kernel, final boolean sheaves) {
        this.name = name;
        this.kernel = kernel;
        this.slab = kernel.slab();
        this.sheaves = sheaves;
    }

    static Allocator open(final String name, final boolean sheaves) {
        return new Mm4jSlab(name, boot(sheaves), sheaves);
    }

    /**
     * The {@code mm4j-thp} row (not a table row): {@code mm4j} booted with {@code mm4j.thp=always}, the model's
     * memory advised {@code MADV_HUGEPAGE}, so the host backs each aligned 2 MiB the workload touches with one
     * transparent huge page.
     *
     * @throws Allocators.Unavailable when the host refuses the advice (no transparent huge pages)
     */
    static Allocator openHugePages(final String name) {
        final Kernel k = Kernel.boot(CMDLINE + SHEAVES + " mm4j.thp=always");
        final String why = k.memory().hugePagesRefused();
        if (why != null) {
            k.close();
            throw new Allocators.Unavailable(name + ": madvise(MADV_HUGEPAGE) on the model's memory: " + why
                + " (the host kernel has no transparent huge pages?)");
        }
        return new Mm4jSlab(name, k, true);
    }

    @Override
    public final String name() {
        return name;
    }

    /** Boots the model kernel of the {@code mm4j} rows, with or without per-thread sheaves. */
    static Kernel boot(final boolean sheaves) {
        return Kernel.boot(CMDLINE + (sheaves ? SHEAVES : " mm4j.sheaves=0"));
    }

    @Override
    public final void bindThread(final int cpu) {
        kernel.cpus().pin(cpu % kernel.cpus().nrCpus());
        if (sheaves) {
            final SlabAllocator a = slab.allocator();
            if (cpu == 0) {
                allocator0 = a;
                owner0 = Thread.currentThread();
            } else {
                allocator1 = a;
                owner1 = Thread.currentThread();
            }
        }
    }

    final SlabAllocator mine() {
        final Thread t = Thread.currentThread();
        return t == owner0 ? allocator0 : t == owner1 ? allocator1 : slab.allocator();
    }

    @Override
    public long alloc(final long byteSize, final Object[] refs, final int slot) {
        final long p = sheaves ? mine().kmalloc(byteSize) : slab.kmalloc(byteSize, Gfp.KERNEL);
        if (p == 0) {
            throw new OutOfMemoryError(name + ": kmalloc(" + byteSize + ") failed on " + CMDLINE);
        }
        return p;
    }

    @Override
    public void free(final long address, final long byteSize, final Object[] refs, final int slot) {
        if (sheaves) {
            mine().kfree(address);
        } else {
            slab.kfree(address);
        }
    }

    @Override
    public long nativeAddress(final long address) {
        return slab.nativeAddress(address);
    }

    @Override
    public final void close() {
        kernel.close();
    }
}
