package org.mm4j.vma;

import org.mm4j.base.FaultAttr;
import org.mm4j.base.InternalApi;
import org.mm4j.base.KernelLog;
import org.mm4j.base.ModelOutOfMemoryException;
import org.mm4j.base.ProcFs;
import org.mm4j.base.TaskFaultInject;
import org.mm4j.boot.BootParams;
import org.mm4j.page.BuddyAllocator;
import org.mm4j.page.VmStat;
import org.mm4j.slab.KmemCache;
import org.mm4j.vma.maple.MapleNodeCache;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.LongConsumer;

/**
 * The model's process table: each process is a pid with an {@link MmStruct}. Boot creates pid 1 ("mm4j", a
 * static PIE with [heap], [vvar], [vvar_vclock], [vdso] and [stack] laid out as x86-64 exec does); {@link #fork}
 * copies the current process copy-on-write; {@link #switchTo} picks the process the shell's syscalls run in.
 *
 * <p>Layout randomization ({@code randomize_va_space}): on by default from a fixed seed so runs repeat;
 * the boot parameter {@code norandmaps} turns it off (as {@code setarch -R}), {@code mm4j.aslr_seed=N} picks
 * the seed. Files: {@code /proc/<pid>/{maps,smaps,status}}, {@code /proc/self/...},
 * {@code /proc/sys/vm/max_map_count} (writable), {@code /proc/sys/vm/mmap_min_addr},
 * {@code /proc/sys/kernel/randomize_va_space}; {@code vmacache_find_calls/hits} in /proc/vmstat;
 * {@code /proc/<pid>/oom_score} and {@code /proc/<pid>/oom_score_adj} (writable, -1000..1000),
 * {@code /proc/sys/vm/oom_dump_tasks} and {@code /proc/sys/vm/oom_kill_allocating_task} (writable).
 *
 * <p>Out of memory: faults that get no page run the {@link OomKiller}, which kills the process with the highest
 * badness (never pid 1, the global init, nor one with {@code oom_score_adj} -1000): its memory is freed and it
 * leaves the table; when it was the current process, pid 1 becomes current.
 *
 * <p>Threads: changes of the table and of {@code current} are made under this object's monitor; the table is a
 * concurrent map read without it (the OOM killer runs under an mm's lock and must not wait for this monitor while
 * a fork holds it). An mm's lock is never taken while this monitor is held, except for the victim of an OOM kill.
 */
public final class Processes {
    /** A process ({@code task_struct} reduced to what the address space needs). */
    public static final class Task {
        private final int pid;
        private final int ppid;
        private final String comm;
        private final MmStruct mm;
        /** {@code signal->oom_score_adj}, inherited at fork. */
        private volatile int oomScoreAdj;
        /** {@code tsk_is_oom_victim}: chosen and killed by the OOM killer. */
        private volatile boolean oomVictim;
        /** Its memory was freed (exit_mmap ran); guarded by the mm's lock. */
        private boolean reaped;
        /**
         * The slab objects {@code copy_process} gives a task besides its mm ({@link #TASK_OBJECTS}: task_struct,
         * cred, files, fs, sighand, signal, pid), or null without caches; freed once, when it leaves the table.
         */
        private final long[] objects;
        /** {@code make_it_fail} and {@code fail_nth} ({@code /proc/PID/make-it-fail}, {@code fail-nth}). */
        private final TaskFaultInject faultInject;

        Task(final int pid, final int ppid, final String comm, final MmStruct mm, final TaskFaultInject faultInject,
             final long[] objects) {
            this.pid = pid;
            this.ppid = ppid;
            this.comm = comm;
            this.mm = mm;
            this.faultInject = faultInject;
            this.objects = objects;
        }

        /** The task's fault-injection fields ({@code make_it_fail}, {@code fail_nth}). */
        public TaskFaultInject faultInject() {
            return faultInject;
        }

        /** {@code /proc/PID/oom_score_adj}: -1000 (never OOM-killed) to 1000. */
        public int oomScoreAdj() {
            return oomScoreAdj;
        }

        /** Sets {@code oom_score_adj}; IllegalArgumentException outside -1000..1000. */
        public void setOomScoreAdj(final int adj) {
            if (adj < OomKiller.OOM_SCORE_ADJ_MIN || adj > OomKiller.OOM_SCORE_ADJ_MAX) {
                throw new IllegalArgumentException("oom_score_adj=" + adj + " (expected: -1000 to 1000)");
            }
            this.oomScoreAdj = adj;
        }

        /** Whether the OOM killer killed this process. */
        public boolean isOomVictim() {
            return oomVictim;
        }

        void markOomVictim() {
            oomVictim = true;
        }

        public int pid() {
            return pid;
        }

        public int ppid() {
            return ppid;
        }

        public String comm() {
            return comm;
        }

        public MmStruct mm() {
            return mm;
        }
    }

    private final Pager pager;
    private final OomKiller oomKiller;
    private final Map<Integer, Task> tasks = new ConcurrentSkipListMap<>();
    private volatile int maxMapCount = MmStruct.DEFAULT_MAX_MAP_COUNT;
    private volatile int randomizeVaSpace;
    private volatile long mmapMinAddr = 4096;
    private final SplittableRandom random;
    private final Overcommit overcommit;
    private int nextPid = 1;
    private volatile Task current;
    private long retiredCalls;
    private long retiredHits;
    /** {@code mm4j.vma_store=}: where every mm of this kernel keeps its VMAs. */
    private final VmaStore.Kind vmaStore;
    /** The {@code maple_node} cache all the maple trees of this kernel allocate from. */
    private final MapleNodeCache mapleNodes;
    /** The inode numbers of this kernel's files and shmem objects (every mm of it shares them). */
    private final VmFile.InodeNumbers inodeNumbers = new VmFile.InodeNumbers();
    /** The slab caches processes are built from ({@link ProcCaches}), or null (objects only counted). */
    private final ProcCaches caches;
    /** {@code CONFIG_FAULT_INJECTION}: {@code /proc/PID/fail-nth} and {@code make-it-fail} exist. */
    private final boolean faultInjection;
    /** pid 1's fault-injection fields: they exist (for reports naming {@code current}) before pid 1 is made. */
    private final TaskFaultInject initFaultInject = new TaskFaultInject();

    /**
     * The process table of one booted kernel, built by the composition root ({@code org.mm4j.Kernel}) from the
     * subsystems it needs: the buddy allocator for pages and page tables, the VM counters, the log and the
     * {@code /proc} registry.
     */
    @InternalApi("org.mm4j")
    public Processes(final BootParams params, final BuddyAllocator buddy, final VmStat vmstat, final KernelLog log,
                     final ProcFs procfs) {
        this(params, buddy, vmstat, log, procfs, null);
    }

    /**
     * As above, with every task, mm, VMA, anon_vma, chain and maple node an object of the slab caches
     * {@code caches} (a booted kernel's, made by {@link ProcCaches#create}); null keeps them plain Java objects.
     */
    @InternalApi("org.mm4j")
    public Processes(final BootParams params, final BuddyAllocator buddy, final VmStat vmstat, final KernelLog log,
                     final ProcFs procfs, final ProcCaches caches) {
        this.caches = caches;
        this.mapleNodes = caches != null ? new MapleNodeCache(caches.mapleNode) : new MapleNodeCache();
        this.faultInjection = params.config().isEnabled("FAULT_INJECTION");
        this.pager = new Pager(buddy, vmstat);
        this.oomKiller = new OomKiller(this, buddy, log);
        pager.setOomKiller(oomKiller);
        this.overcommit = new Overcommit(buddy, this, log);
        pager.attachKernel(this, log, overcommit);
        buddy.setOomHandler(oomKiller::outOfMemoryKernel);
        final boolean aslr = !params.all().containsKey("norandmaps");
        this.randomizeVaSpace = aslr ? 2 : 0;
        this.random = new SplittableRandom(params.aslrSeed());
        this.vmaStore = params.vmaStore() != null ? VmaStore.Kind.parse(params.vmaStore())
            : VmaStore.Kind.defaultKind();
        vmstat.setVmacacheCounters(vmaStore == VmaStore.Kind.RBTREE); // 6.1 removed the vmacache and its counters
        register(procfs); // pid 1 comes on first use: init()
        vmstat.addFolder(v -> {
            v[VmStat.COMMITTED_AS] += overcommit.committedPages();
            v[VmStat.COMMIT_LIMIT] += overcommit.commitLimitPages();
            final long[] ch = cacheCounts();
            v[VmStat.VMACACHE_FIND_CALLS] += ch[0];
            v[VmStat.VMACACHE_FIND_HITS] += ch[1];
        });
    }

    /**
     * mm4j's debugfs file of a process's maple tree, {@code mt_dump} style: {@code cat
     * /sys/kernel/debug/maple_tree/<pid>} (or {@code self}); absent with {@code mm4j.vma_store=rbtree}.
     */
    public static final String MAPLE_DEBUGFS = "/sys/kernel/debug/maple_tree";

    /**
     * A write of {@code /proc/PID/fail-nth} ({@code proc_fail_nth_write}: {@code kstrtouint} base 0, else
     * {@code -EINVAL}, {@code -ERANGE} past 32 bits) or {@code /proc/PID/make-it-fail} ({@code
     * proc_fault_inject_write}: {@code kstrtoint} base 0, only 0 or 1, else {@code -EINVAL}).
     */
    private static void writeFaultInject(final Task t, final String file, final String value) {
        final long n;
        try {
            n = FaultAttr.unsigned("/proc/" + t.pid + "/" + file, value);
        } catch (final ProcFs.ProcFsException e) {
            throw new ProcFs.ProcFsException("Invalid argument (" + file + " '" + value + "' is not a number)");
        }
        if (file.equals("fail-nth")) {
            if (n > 0xffff_ffffL) {
                throw new ProcFs.ProcFsException("Numerical result out of range (fail-nth " + value
                    + " is above 4294967295)");
            }
            t.faultInject.setFailNth(n);
        } else {
            if (n > 1) {
                throw new ProcFs.ProcFsException("Invalid argument (make-it-fail " + value + ": expected 0 or 1)");
            }
            t.faultInject.setMakeItFail(n == 1);
        }
    }

    /** The task a debugfs/procfs name ({@code <pid>} or {@code self}) stands for, or null. */
    private Task task(final String who) {
        final Task self = init();
        if (who.equals("self")) {
            return self;
        }
        try {
            return tasks.get(Integer.parseInt(who));
        } catch (final NumberFormatException e) {
            return null;
        }
    }

    /** The inode numbers of this kernel ({@code get_next_ino}): new model files take theirs from it. */
    public VmFile.InodeNumbers inodeNumbers() {
        return inodeNumbers;
    }

    /** The VMA store of this kernel's processes. */
    public VmaStore.Kind vmaStore() {
        return vmaStore;
    }

    /** {@code maple_node} objects in use by every process (256 bytes each). */
    public long mapleNodesInUse() {
        return mapleNodes.active();
    }

    private synchronized long[] cacheCounts() {
        long calls = retiredCalls;
        long hits = retiredHits;
        for (final Task t : tasks.values()) {
            calls += t.mm.vmacacheFindCalls();
            hits += t.mm.vmacacheFindHits();
        }
        return new long[] {calls, hits};
    }

    /** The layout exec gives a new program: the binary, brk, vdso and stack; randomized when ASLR is on. */
    private synchronized Task spawn(final String comm, final int ppid) {
        final MmStruct mm = new MmStruct(() -> maxMapCount, vmaStore, mapleNodes, caches, inodeNumbers);
        long[] objects = null;
        if (caches != null) { // the init task: nothing of it may fail
            mm.kaddr = ProcCaches.allocNoFail(caches.mmStruct);
            objects = new long[TASK_OBJECTS];
            final KmemCache[] cs = taskCaches();
            for (int i = 0; i < TASK_OBJECTS; i++) {
                objects[i] = ProcCaches.allocNoFail(cs[i]);
            }
        }
        mm.setMmapMinAddr(mmapMinAddr);
        final boolean aslr = randomizeVaSpace != 0;
        final long mmapRnd = aslr ? (random.nextLong() & ((1L << 28) - 1)) << 12 : 0;
        final long stackRndPad = aslr ? 0x3fffffL << 12 : 0;
        mm.setMmapBase(MmStruct.mmapBaseFor(8L << 20, mmapRnd, stackRndPad));
        mm.attachPager(pager);
        final long loadBias = 0x555555554000L + (aslr ? (random.nextLong() & ((1L << 28) - 1)) << 12 : 0);
        final VmFile exe = VmFile.open(VmFile.Inode.onRootDevice("/usr/bin/" + comm, 0x5000,
            VmFile.Inode.INIT_PROGRAM_INO, null), "O_RDONLY");
        final long rx = VmFlags.VM_READ | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC;
        mm.addInitialVma(loadBias, loadBias + 0x1000, rx, 0, exe, null, false);
        mm.addInitialVma(loadBias + 0x1000, loadBias + 0x2000, rx | VmFlags.VM_EXEC, 1, exe, null, false);
        mm.addInitialVma(loadBias + 0x2000, loadBias + 0x3000, rx, 2, exe, null, false);
        mm.addInitialVma(loadBias + 0x3000, loadBias + 0x4000, rx | VmFlags.VM_WRITE | VmFlags.VM_ACCOUNT, 3, exe,
            null, false);
        final long bssEnd = loadBias + 0x5000;
        final long brk = bssEnd + (aslr ? (random.nextLong() & 0x1fffL) << 12 : 0);
        mm.setBrk(brk, brk);
        final long stackTop = MmStruct.TASK_SIZE - (aslr ? (random.nextLong() & 0x3fffffL) << 12 : 0);
        final long stackFlags = rx | VmFlags.VM_WRITE | VmFlags.VM_GROWSDOWN | VmFlags.VM_ACCOUNT;
        mm.addInitialVma(stackTop - 0x21000, stackTop, stackFlags, (stackTop - 0x21000) >>> 12, null, null, true);
        mm.setStartStack(stackTop - 0x1000);
        final long vdsoLen = 8 * MmStruct.PAGE_SIZE;
        final long vdso = mm.getUnmappedArea(null, 0, vdsoLen, 0, 0);
        final long ro = VmFlags.VM_READ | VmFlags.VM_MAYREAD;
        mm.addInitialVma(vdso, vdso + 0x4000, ro | VmFlags.VM_IO | VmFlags.VM_PFNMAP, 0, null, "[vvar]", false);
        mm.addInitialVma(vdso + 0x4000, vdso + 0x6000, ro | VmFlags.VM_IO | VmFlags.VM_PFNMAP, 0, null,
            "[vvar_vclock]", false);
        mm.addInitialVma(vdso + 0x6000, vdso + 0x8000, ro | VmFlags.VM_EXEC | VmFlags.VM_MAYEXEC, 0, null,
            "[vdso]", false);
        final Task t = new Task(nextPid++, ppid, comm, mm, ppid == 0 ? initFaultInject : new TaskFaultInject(),
            objects);
        tasks.put(t.pid, t);
        return t;
    }

    /** The objects of a task besides its mm, in {@code copy_process}'s order (alloc_pid comes last). */
    static final int TASK_OBJECTS = 7;
    private static final int PID_OBJECT = 6;

    /** task_struct, cred_jar, files_cache, fs_cache, sighand_cache, signal_cache, pid. */
    private KmemCache[] taskCaches() {
        return new KmemCache[] {caches.taskStruct, caches.credJar, caches.files, caches.fs, caches.sighand,
            caches.signal, caches.pid};
    }

    /** Frees what {@code copy_process} allocated (its bad_fork_* unwinding, and release_task at exit). */
    private void freeTaskObjects(final long[] objects) {
        if (objects == null) {
            return;
        }
        final KmemCache[] cs = taskCaches();
        for (int i = TASK_OBJECTS - 1; i >= 0; i--) {
            ProcCaches.free(cs[i], objects[i]);
            objects[i] = 0;
        }
    }

    /**
     * Calls {@code action} with every slab object the process table holds: each task's task_struct, cred, files,
     * fs, sighand, signal and pid, and everything of its address space ({@link MmStruct#forEachObject}). This is
     * kmemleak's root for them (the kernel's task list, reached from {@code init_task}).
     */
    public void forEachObject(final LongConsumer action) {
        for (final Task t : tasks.values()) {
            if (t.objects != null) {
                for (final long p : t.objects) {
                    if (p != 0) {
                        action.accept(p);
                    }
                }
            }
            t.mm.forEachObject(action);
        }
    }

    /** The comm of pid 1, the process exec leaves at boot ({@code /usr/bin/mm4j}). */
    public static final String INIT_COMM = "mm4j";

    /**
     * pid 1, made on the first use of the process table rather than inside boot, so that a kernel only booted
     * holds no slab page yet: its task, mm, VMAs and maple nodes come from the {@link ProcCaches} when first
     * needed. The layout and its random draws are those boot made before.
     */
    private Task init() {
        final Task c = current;
        return c != null ? c : spawnInit();
    }

    private synchronized Task spawnInit() {
        if (current == null) {
            current = spawn(INIT_COMM, 0);
        }
        return current;
    }

    public Task current() {
        return init();
    }

    /** pid 1's {@code make_it_fail}/{@code fail_nth}, which reports use before pid 1 is made. */
    public TaskFaultInject initFaultInject() {
        return initFaultInject;
    }

    /** The current process, or null while pid 1 was not yet needed (for reports naming {@code current}). */
    public Task currentIfStarted() {
        return current;
    }

    /** The current process's address space. */
    public MmStruct currentMm() {
        return init().mm;
    }

    public Task get(final int pid) {
        init();
        return tasks.get(pid);
    }

    /** The overcommit policy and its sysctls. */
    Overcommit overcommit() {
        return overcommit;
    }

    /**
     * The live processes, read without this table's lock (the map is concurrent) and without starting pid 1 (the
     * OOM killer's and kmemleak's view).
     */
    public Iterable<Task> tasksRacy() {
        return tasks.values();
    }

    /** The process whose address space is {@code mm}, or null. */
    Task taskOf(final MmStruct mm) {
        for (final Task t : tasks.values()) {
            if (t.mm == mm) {
                return t;
            }
        }
        return null;
    }

    /**
     * Forks the current process (copy-on-write); the current process stays current. Returns the child pid, or
     * {@code -ENOMEM} when the child's page tables could not be had even after the OOM killer ran (nothing of the
     * child remains). Throws {@link ProcessKilledException} when the OOM killer chose the forking process itself.
     */
    public int fork() {
        final Task parent = init();
        long[] objects = null;
        if (caches != null) { // dup_task_struct, copy_creds, copy_files, copy_fs, copy_sighand, copy_signal
            objects = new long[TASK_OBJECTS];
            final KmemCache[] cs = taskCaches();
            for (int i = 0; i < PID_OBJECT; i++) {
                objects[i] = ProcCaches.alloc(cs[i]);
                if (objects[i] == 0) {
                    freeTaskObjects(objects);
                    return -Errno.ENOMEM;
                }
            }
        }
        final MmStruct childMm;
        try {
            childMm = parent.mm.dupMmap(); // copy_mm; not under this monitor: it may run the OOM killer
        } catch (final ModelOutOfMemoryException e) {
            freeTaskObjects(objects);
            return -Errno.ENOMEM;
        } catch (final ProcessKilledException e) {
            freeTaskObjects(objects);
            throw e;
        }
        if (objects != null) {
            objects[PID_OBJECT] = ProcCaches.alloc(caches.pid); // alloc_pid
            if (objects[PID_OBJECT] == 0) {
                childMm.exitMmap();
                childMm.freeMm();
                freeTaskObjects(objects);
                return -Errno.ENOMEM;
            }
        }
        synchronized (this) {
            if (!tasks.containsKey(parent.pid)) {
                childMm.exitMmap(); // the parent was killed meanwhile
                childMm.freeMm();
                freeTaskObjects(objects);
                throw new ProcessKilledException(parent.pid, parent.comm);
            }
            final Task child = new Task(nextPid++, parent.pid, parent.comm, childMm, parent.faultInject.forkChild(),
                objects);
            child.oomScoreAdj = parent.oomScoreAdj;
            tasks.put(child.pid, child);
            return child.pid;
        }
    }

    /**
     * The OOM killer's end of a victim: frees its memory ({@code exit_mmap}, under its mm's lock) and removes it from
     * the table; when it was current, pid 1 becomes current. Idempotent.
     */
    void reapOomVictim(final Task t) {
        t.mm.markKilled(t.pid, t.comm);
        synchronized (t.mm) {
            if (!t.reaped) {
                t.reaped = true;
                t.mm.exitMmap();
            }
        }
        t.mm.freeMm();
        synchronized (this) {
            if (tasks.remove(t.pid) != null) {
                retiredCalls += t.mm.vmacacheFindCalls();
                retiredHits += t.mm.vmacacheFindHits();
                freeTaskObjects(t.objects);
            }
            if (current == t) {
                current = tasks.get(1);
            }
        }
    }

    /** Makes {@code pid} the current process; IllegalArgumentException when there is no such process. */
    public synchronized void switchTo(final int pid) {
        init();
        final Task t = tasks.get(pid);
        if (t == null) {
            throw new IllegalArgumentException("no process with pid " + pid);
        }
        current = t;
    }

    /** Ends process {@code pid} (not pid 1): its memory is freed. */
    public void exit(final int pid) {
        init();
        final Task t;
        synchronized (this) {
            t = tasks.get(pid);
            if (t == null || pid == 1) {
                throw new IllegalArgumentException(pid == 1 ? "pid 1 cannot exit" : "no process with pid " + pid);
            }
            retiredCalls += t.mm.vmacacheFindCalls();
            retiredHits += t.mm.vmacacheFindHits();
            tasks.remove(pid);
            if (current == t) {
                current = tasks.get(1);
            }
        }
        synchronized (t.mm) { // not under this monitor (see the class comment)
            if (!t.reaped) {
                t.reaped = true;
                t.mm.exitMmap();
            }
        }
        t.mm.freeMm(); // mmput's mmdrop
        synchronized (this) {
            freeTaskObjects(t.objects); // release_task .. put_task_struct (no zombie stage in the model)
        }
    }

    /** The processes in pid order (a snapshot). */
    public List<Task> tasks() {
        init();
        return new ArrayList<>(tasks.values());
    }

    /** {@code /proc/PID/oom_score} of {@code t}: its badness scaled to 0..2000 (0 when it cannot be killed). */
    public long oomScore(final Task t) {
        return oomKiller.oomScore(t);
    }

    /** {@code ps}: PID, PPID, VSZ and RSS in KiB, the current process marked with '*'. */
    public String ps() {
        final StringBuilder sb = new StringBuilder("    PID    PPID      VSZ     RSS COMMAND\n");
        final Task current = init();
        for (final Task t : tasks.values()) {
            final long[] rss = t.mm.rss();
            sb.append(String.format("%c%6d %7d %8d %7d %s%n", t == current ? '*' : ' ', t.pid, t.ppid,
                t.mm.vmCounters()[0] * 4, (rss[0] + rss[1] + rss[2]) * 4, t.comm));
        }
        return sb.toString();
    }

    public int maxMapCount() {
        return maxMapCount;
    }

    public void setMaxMapCount(final int n) {
        if (n < 0) {
            throw new IllegalArgumentException("max_map_count must be >= 0");
        }
        this.maxMapCount = n;
    }

    private static long parseSysctl(final String value, final long min, final long max) {
        try {
            final long v = Long.parseLong(value.strip());
            if (v < min || v > max) {
                throw new ProcFs.ProcFsException("write error: Invalid argument");
            }
            return v;
        } catch (final NumberFormatException e) {
            throw new ProcFs.ProcFsException("write error: Invalid argument");
        }
    }

    private String status(final Task t) {
        return "Name:\t" + t.comm + "\nUmask:\t0022\nState:\tR (running)\nTgid:\t" + t.pid + "\nNgid:\t0\nPid:\t"
            + t.pid + "\nPPid:\t" + t.ppid + "\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\n"
            + "Groups:\t\nNStgid:\t" + t.pid + "\nNSpid:\t" + t.pid + "\nNSpgid:\t" + t.pid + "\nNSsid:\t" + t.pid
            + "\nKthread:\t0\n" + t.mm.statusVm() + "Threads:\t1\n";
    }

    private void register(final ProcFs procfs) {
        procfs.registerFile("/proc/sys/vm/max_map_count", () -> maxMapCount + "\n");
        procfs.registerWriter("/proc/sys/vm/max_map_count",
            v -> maxMapCount = (int) parseSysctl(v, 0, Integer.MAX_VALUE));
        procfs.registerFile("/proc/sys/vm/mmap_min_addr", () -> mmapMinAddr + "\n");
        procfs.registerWriter("/proc/sys/vm/mmap_min_addr", v -> mmapMinAddr = parseSysctl(v, 0, 1L << 32));
        procfs.registerFile("/proc/sys/vm/oom_dump_tasks", () -> oomKiller.oomDumpTasks + "\n");
        procfs.registerWriter("/proc/sys/vm/oom_dump_tasks",
            v -> oomKiller.oomDumpTasks = (int) parseSysctl(v, Integer.MIN_VALUE, Integer.MAX_VALUE));
        procfs.registerFile("/proc/sys/vm/oom_kill_allocating_task", () -> oomKiller.oomKillAllocatingTask + "\n");
        procfs.registerWriter("/proc/sys/vm/oom_kill_allocating_task",
            v -> oomKiller.oomKillAllocatingTask = (int) parseSysctl(v, Integer.MIN_VALUE, Integer.MAX_VALUE));
        procfs.registerFile("/proc/sys/vm/overcommit_memory", () -> overcommit.mode + "\n");
        procfs.registerWriter("/proc/sys/vm/overcommit_memory", v -> overcommit.mode = (int) parseSysctl(v, 0, 2));
        procfs.registerFile("/proc/sys/vm/overcommit_ratio", () -> overcommit.ratio + "\n");
        procfs.registerWriter("/proc/sys/vm/overcommit_ratio", v -> {
            overcommit.ratio = parseSysctl(v, 0, Integer.MAX_VALUE);
            overcommit.kbytes = 0; // overcommit_ratio_handler
        });
        procfs.registerFile("/proc/sys/vm/overcommit_kbytes", () -> overcommit.kbytes + "\n");
        procfs.registerWriter("/proc/sys/vm/overcommit_kbytes", v -> {
            overcommit.kbytes = parseSysctl(v, 0, Long.MAX_VALUE);
            overcommit.ratio = 0; // overcommit_kbytes_handler
        });
        procfs.registerFile("/proc/sys/vm/admin_reserve_kbytes", () -> overcommit.adminReserveKbytes + "\n");
        procfs.registerWriter("/proc/sys/vm/admin_reserve_kbytes",
            v -> overcommit.adminReserveKbytes = parseSysctl(v, 0, Long.MAX_VALUE));
        procfs.registerFile("/proc/sys/vm/user_reserve_kbytes", () -> overcommit.userReserveKbytes + "\n");
        procfs.registerWriter("/proc/sys/vm/user_reserve_kbytes",
            v -> overcommit.userReserveKbytes = parseSysctl(v, 0, Long.MAX_VALUE));
        procfs.registerFile("/proc/sys/kernel/randomize_va_space", () -> randomizeVaSpace + "\n");
        procfs.registerWriter("/proc/sys/kernel/randomize_va_space",
            v -> randomizeVaSpace = (int) parseSysctl(v, 0, 2));
        procfs.registerDir(MAPLE_DEBUGFS, new ProcFs.Dir() {
            @Override
            public String read(final String rest) {
                final Task t = task(rest);
                return t == null ? null : t.mm.mapleDump(String.format("pid %d mm_mt", t.pid));
            }

            @Override
            public List<String> list(final String rest) {
                final List<String> out = new ArrayList<>();
                if (rest.isEmpty() && vmaStore == VmaStore.Kind.MAPLE) {
                    init();
                    tasks.keySet().forEach(p -> out.add(Integer.toString(p)));
                    out.add("self");
                }
                return out;
            }
        });
        procfs.registerDir("/proc", new ProcFs.Dir() {
            @Override
            public String read(final String rest) {
                final int slash = rest.indexOf('/');
                if (slash < 0) {
                    return null;
                }
                final Task t;
                init();
                synchronized (Processes.this) {
                    final String who = rest.substring(0, slash);
                    if (who.equals("self")) {
                        t = current;
                    } else {
                        try {
                            t = tasks.get(Integer.parseInt(who));
                        } catch (final NumberFormatException e) {
                            return null;
                        }
                    }
                }
                if (t == null) {
                    return null;
                }
                return switch (rest.substring(slash + 1)) {
                    case "maps" -> t.mm.maps();
                    case "smaps" -> t.mm.smaps();
                    case "status" -> status(t);
                    case "oom_score" -> oomKiller.oomScore(t) + "\n";
                    case "oom_score_adj" -> t.oomScoreAdj + "\n";
                    case "fail-nth" -> faultInjection ? t.faultInject.failNth() + "\n" : null;
                    case "make-it-fail" -> faultInjection ? (t.faultInject.makeItFail() ? 1 : 0) + "\n" : null;
                    default -> null;
                };
            }

            @Override
            public boolean write(final String rest, final String value) {
                final int slash = rest.indexOf('/');
                if (slash < 0) {
                    return false;
                }
                final String file = rest.substring(slash + 1);
                if (faultInjection && (file.equals("fail-nth") || file.equals("make-it-fail"))) {
                    final Task t = task(rest.substring(0, slash));
                    if (t == null) {
                        return false;
                    }
                    writeFaultInject(t, file, value.strip());
                    return true;
                }
                if (!file.equals("oom_score_adj")) {
                    return false;
                }
                final String who = rest.substring(0, slash);
                final Task t;
                final Task self = init();
                try {
                    t = who.equals("self") ? self : tasks.get(Integer.parseInt(who));
                } catch (final NumberFormatException e) {
                    return false;
                }
                if (t == null) {
                    return false;
                }
                // oom_score_adj_write: kstrtoint of the stripped text, then the range check; -EINVAL otherwise
                final int adj;
                try {
                    adj = Integer.parseInt(value.strip());
                } catch (final NumberFormatException e) {
                    throw new ProcFs.ProcFsException("Invalid argument (oom_score_adj '" + value.strip()
                        + "' is not a number)");
                }
                if (adj < OomKiller.OOM_SCORE_ADJ_MIN || adj > OomKiller.OOM_SCORE_ADJ_MAX) {
                    throw new ProcFs.ProcFsException("Invalid argument (oom_score_adj " + adj
                        + " is outside -1000..1000)");
                }
                t.oomScoreAdj = adj;
                return true;
            }

            @Override
            public List<String> list(final String rest) {
                init();
                if (rest.isEmpty()) {
                    final List<String> out = new ArrayList<>();
                    synchronized (Processes.this) {
                        tasks.keySet().forEach(p -> out.add(Integer.toString(p)));
                    }
                    out.add("self");
                    return out;
                }
                // only /proc/PID and /proc/self are per-task directories (not /proc/sys/vm and the like)
                if (!rest.equals("self")) {
                    try {
                        synchronized (Processes.this) {
                            if (!tasks.containsKey(Integer.parseInt(rest))) {
                                return List.of();
                            }
                        }
                    } catch (final NumberFormatException e) {
                        return List.of();
                    }
                }
                return faultInjection
                    ? List.of("fail-nth", "make-it-fail", "maps", "oom_score", "oom_score_adj", "smaps", "status")
                    : List.of("maps", "oom_score", "oom_score_adj", "smaps", "status");
            }
        });
    }
}
