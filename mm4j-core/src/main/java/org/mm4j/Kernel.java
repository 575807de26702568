package org.mm4j;

import org.mm4j.base.CpuSlots;
import org.mm4j.base.Current;
import org.mm4j.base.Jiffies;
import org.mm4j.base.KernelLog;
import org.mm4j.base.ProcFs;
import org.mm4j.base.Uts;
import org.mm4j.boot.BootParams;
import org.mm4j.boot.CmdlineException;
import org.mm4j.management.Observability;
import org.mm4j.page.BuddyAllocator;
import org.mm4j.page.MemMap;
import org.mm4j.page.PageProc;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.page.Reservation;
import org.mm4j.page.VmStat;
import org.mm4j.slab.Slub;
import org.mm4j.vma.ProcCaches;
import org.mm4j.vma.Processes;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A booted model kernel: owns physical memory, the {@code struct page} table, the buddy allocator, the CPU
 * slots and the kernel log. {@link #close()} frees all off-heap memory; nothing may be used after it.
 *
 * <p>Threads: a Kernel may be used from any number of threads; each subsystem documents its own locking.
 * {@link #boot(String)} and {@link #close()} must not race with other calls.
 */
public final class Kernel implements AutoCloseable {
    /** The release this model prints ({@code uname -r}); see {@link Uts#RELEASE}. */
    public static final String VERSION = Uts.RELEASE;

    private final BootParams params;
    private final KernelLog log;
    private final CpuSlots cpus;
    private final PhysicalMemory mem;
    private final MemMap memMap;
    private final BuddyAllocator buddy;
    private final VmStat vmstat;
    private final ProcFs procfs = new ProcFs();
    /** {@code current}: swapper/0 during boot, then the process table's current process. */
    private final Current current = new Current();
    /** {@code jiffies}: the model's clock; the shell's {@code sleep} moves it forward. */
    private final Jiffies jiffies;
    private final Slub slab;
    private final Processes processes;
    /** The MBeans (when asked) and the periodic JFR event of this kernel. */
    private final Observability observability;
    private static final AtomicInteger IDS = new AtomicInteger();
    private final int id = IDS.incrementAndGet();
    private volatile boolean closed;

    private Kernel(final BootParams params) {
        this.params = params;
        this.log = new KernelLog(1 << 16, id);
        this.cpus = new CpuSlots(params.nrCpus());
        this.jiffies = Jiffies.realTime((int) params.config().longValue("HZ"));
        log.printk("Linux version %s (mm4j) #1 SMP PREEMPT_DYNAMIC", VERSION);
        log.printk("Command line: %s", params.cmdline());
        this.mem = reserve(params, () -> new PhysicalMemory(params.memBytes(), params.numaNodes(),
            PhysicalMemory.HugePages.of(params.thp())));
        if (mem.hugePages() != PhysicalMemory.HugePages.HOST) {
            log.printk(mem.hugePagesRefused() == null ? "mm4j: transparent huge pages for the model's memory: %s"
                : "mm4j: mm4j.thp=%s not applied: madvise: %s", params.thp(), mem.hugePagesRefused());
        }
        final PhysicalMemory m = mem;
        this.memMap = reserve(params, () -> {
            try {
                return new MemMap(m.totalPages());
            } catch (final RuntimeException e) {
                m.close();
                throw e;
            }
        });
        this.vmstat = new VmStat(cpus);
        this.buddy = new BuddyAllocator(mem, memMap, log, cpus, vmstat, BuddyAllocator.Options.of(
            params.initOnAlloc(), params.initOnFree(), params.config().isEnabled("DEBUG_VM")));
        buddy.setCurrent(current);
        DebugFacilities.page(params, buddy, log, cpus, current, procfs);
        PageProc.register(procfs, buddy);
        // CONFIG_IKCONFIG_PROC: the shell shows the decompressed text (what zcat prints)
        procfs.registerFile("/proc/config.gz", () -> params.config().text());
        log.printk("Memory: %dK/%dK available (%dK kernel struct page table)",
            buddy.freePages() * 4, mem.totalPages() * 4, mem.totalPages() * MemMap.ENTRY_SIZE / 1024);
        this.slab = new Slub(params, mem, memMap, buddy, cpus, log, procfs, current, jiffies);
        // the caches processes are built from (mm_cache_init .. proc_caches_init), then pid 1 from them
        this.processes = new Processes(params, buddy, vmstat, log, procfs, ProcCaches.create(slab));
        DebugFacilities.slab(slab, processes);
        current.install(() -> {
            final Processes.Task t = processes.currentIfStarted(); // never starts pid 1 from inside a report
            return t == null ? new Current.Task(1, 1, Processes.INIT_COMM, processes.initFaultInject())
                : new Current.Task(t.pid(), t.pid(), t.comm(), t.faultInject());
        });
        this.observability = new Observability(id, VERSION, params.cmdline(), slab, buddy, procfs);
        if (params.jmx()) {
            observability.registerMBeans();
        }
        if (!params.unknown().isEmpty()) {
            log.printk("Unknown kernel command line parameters \"%s\", will be passed to user space.",
                String.join(" ", params.unknown()));
        }
    }

    /** Runs a reservation of boot; a host that cannot reserve {@code mem=} is a boot error naming it. */
    private static <T> T reserve(final BootParams params, final java.util.function.Supplier<T> what) {
        try {
            return what.get();
        } catch (final Reservation.ReservationException e) {
            throw new CmdlineException("mem=" + params.all().getOrDefault("mem", (params.memBytes() >> 20) + "M")
                + ": " + e.getMessage() + " (expected: a mem= this host can reserve)");
        }
    }

    /** Boots a kernel from a command line ({@code null} or "" = defaults: mem=256M, one node). */
    public static Kernel boot(final String cmdline) {
        return new Kernel(BootParams.parse(cmdline));
    }

    public static Kernel boot(final BootParams params) {
        return new Kernel(params);
    }

    public BootParams params() {
        return params;
    }

    public KernelLog log() {
        return log;
    }

    public CpuSlots cpus() {
        return cpus;
    }

    public PhysicalMemory memory() {
        return mem;
    }

    public MemMap memMap() {
        return memMap;
    }

    public BuddyAllocator buddy() {
        return buddy;
    }

    /** The VM counters of /proc/vmstat and /proc/meminfo; every subsystem counts its events here. */
    public VmStat vmstat() {
        return vmstat;
    }

    /** The SLUB allocator: kmem caches and the kmalloc family. */
    public Slub slab() {
        return slab;
    }

    /** The process table: pid 1 and its forks, each with its address space. */
    public Processes processes() {
        return processes;
    }

    /** {@code jiffies}: the model's clock (HZ = CONFIG_HZ); {@code sleep} in the shell moves it forward. */
    public Jiffies jiffies() {
        return jiffies;
    }

    /** The /proc and /sys files each subsystem registers. */
    public ProcFs procfs() {
        return procfs;
    }

    /** This kernel's number in the JVM (1, 2, ... in boot order): the {@code kernel=} key of its MBean names. */
    public int id() {
        return id;
    }

    /**
     * Registers this kernel's MBeans on the platform MBean server ({@code org.mm4j:type=Kernel,kernel=ID},
     * {@code type=BuddyAllocator}, one {@code type=KmemCache,name=CACHE} per cache; see {@link Observability}),
     * as the boot parameter {@code mm4j.jmx=on} does. {@link #close()} unregisters them. A second call does
     * nothing.
     */
    public Kernel registerMBeans() {
        observability.registerMBeans();
        return this;
    }

    /** Unregisters this kernel's MBeans (nothing when none are registered). */
    public void unregisterMBeans() {
        observability.unregisterMBeans();
    }

    public boolean isClosed() {
        return closed;
    }

    /** Frees all memory. Not idempotent: a second close throws, as {@code Arena.close()} does. */
    @Override
    public synchronized void close() {
        if (closed) {
            throw new IllegalStateException("kernel already closed");
        }
        closed = true;
        observability.close();  // MBeans and the JFR hook go before the memory they read
        slab.shutdownThreads();  // no sheaf flush may run once the memory is gone
        memMap.close();
        mem.close();
    }
}
