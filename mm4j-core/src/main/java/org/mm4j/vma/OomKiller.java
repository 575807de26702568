package org.mm4j.vma;

import org.mm4j.base.Current;
import org.mm4j.base.DumpStack;
import org.mm4j.base.KernelLog;
import org.mm4j.base.RateLimit;
import org.mm4j.base.jfr.MmEvents;
import org.mm4j.page.BuddyAllocator;
import org.mm4j.page.Gfp;
import org.mm4j.page.PageProc;
import org.mm4j.page.VmStat;

import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The OOM killer ({@code mm/oom_kill.c} of Linux 6.18): when a page for user memory or a page table cannot be had,
 * {@link #outOfMemory} picks the process with the highest {@code oom_badness}, prints the kernel's report to the
 * kernel log and kills the process, whose memory goes back to the buddy allocator; the allocation is then retried.
 *
 * <p>Rules carried over:
 * <ol>
 *   <li>badness = rss (anon + file + shmem pages) + swap entries (0: the model has no swap) + page-table pages, plus
 *       {@code oom_score_adj * (totalpages / 1000)}; {@code totalpages} = totalram pages (+ swap, 0);</li>
 *   <li>{@code oom_score_adj == -1000} and the global init (pid 1) are never chosen nor listed in the task dump;</li>
 *   <li>the last process with the highest badness wins ({@code points < chosen_points} skips, ties replace), in
 *       pid order as {@code for_each_process} walks them;</li>
 *   <li>the report: "invoked oom-killer" line, a {@code dump_stack} stand-in, {@code show_mem}'s Mem-Info, the task
 *       dump, the {@code oom-kill:constraint=CONSTRAINT_NONE,...} summary ({@code dump_header}, rate-limited as
 *       {@code oom_rs}: 10 reports per 5 s), then always "Out of memory: Killed process ...".</li>
 * </ol>
 *
 * <p>Departures: the victim's memory is freed at once ({@code exit_mmap} in the killer's thread: the victim does not
 * run again, so no {@code oom_reaper} pass is needed); the call trace names the kernel functions of the path without
 * offsets; when nothing is killable the kernel panics ("System is deadlocked on memory"), the model instead fails
 * the allocation (the fault then reports out of memory to its caller).
 *
 * <p>Threads: one kill at a time ({@code oom_lock}, taken with tryLock as {@code __alloc_pages_may_oom} does: a
 * thread that finds it taken waits a tick and retries its allocation). Candidates' counters are read without their
 * mm's lock (the kernel's {@code get_mm_rss} is racy too); the victim's mm lock is taken to free it. A victim busy
 * in its own allocation retry notices the kill and frees itself, so the two never wait on each other.
 */
final class OomKiller {
    static final int OOM_SCORE_ADJ_MIN = -1000;
    static final int OOM_SCORE_ADJ_MAX = 1000;

    private final Processes procs;
    private final BuddyAllocator buddy;
    private final KernelLog log;
    private final ReentrantLock oomLock = new ReentrantLock();
    /** {@code vm.oom_dump_tasks}: the task table in the report (default 1). */
    volatile int oomDumpTasks = 1;
    /** {@code vm.oom_kill_allocating_task}: kill the allocating task instead of scanning (default 0). */
    volatile int oomKillAllocatingTask;
    /** {@code oom_rs}: the report's rate limit (the kernel's defaults). */
    private final RateLimit oomRs = new RateLimit("out_of_memory");

    OomKiller(final Processes procs, final BuddyAllocator buddy, final KernelLog log) {
        this.procs = procs;
        this.buddy = buddy;
        this.log = log;
    }

    /** {@code totalpages} of an unconstrained OOM: totalram pages + swap pages (none). */
    long totalPages() {
        return buddy.totalramPages();
    }

    /** {@code oom_badness}: {@link Long#MIN_VALUE} for a task that must not be killed. */
    static long badness(final Processes.Task t, final long totalPages) {
        if (t.pid() == 1 || t.isOomVictim()) {
            return Long.MIN_VALUE;
        }
        final long adj = t.oomScoreAdj();
        if (adj == OOM_SCORE_ADJ_MIN) {
            return Long.MIN_VALUE;
        }
        final long[] c = t.mm().oomCounters();
        long points = c[0] + c[1] + c[2] + c[3] / 4096;
        points += adj * (totalPages / 1000);
        return points;
    }

    /** {@code /proc/PID/oom_score}: the badness scaled to 0..2000 (0 for an unkillable task). */
    long oomScore(final Processes.Task t) {
        final long total = Math.max(1, totalPages());
        final long b = badness(t, total);
        if (b == Long.MIN_VALUE) {
            return 0;
        }
        return Math.max(0, (1000 + b * 1000 / total) * 2 / 3);
    }

    /**
     * {@code __alloc_pages_may_oom} + {@code out_of_memory}: called after an allocation of {@code gfp}/{@code order}
     * for {@code current}'s memory failed. Returns true when memory may have been freed (a victim was killed, or
     * another thread is killing one) so the caller should retry, false when nothing is killable. Throws
     * {@link ProcessKilledException} when {@code current} itself is (or already was) the victim.
     */
    boolean outOfMemory(final MmStruct current, final int gfp, final int order, final String site) {
        final Processes.Task cur = current == null ? null : procs.taskOf(current);
        if (!oomLock.tryLock()) {
            dieIfVictim(cur);
            try {
                Thread.sleep(1); // schedule_timeout_uninterruptible(1)
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            dieIfVictim(cur);
            return true;
        }
        try {
            dieIfVictim(cur);
            final long totalPages = totalPages();
            final List<Processes.Task> tasks = new java.util.ArrayList<>(); // never starts pid 1 (see Processes)
            procs.tasksRacy().forEach(tasks::add);
            if (killAllocating(cur)) {
                if (oomRs.ok(log)) {
                    log.printk(header(cur, gfp, order, site, tasks, cur));
                }
                kill(cur, "Out of memory (oom_kill_allocating_task)");
                throw new ProcessKilledException(cur.pid(), cur.comm());
            }
            final Processes.Task chosen = select(tasks, totalPages);
            if (chosen == null) {
                if (oomRs.ok(log)) {
                    log.printk(header(cur, gfp, order, site, tasks, null));
                    log.printk("Out of memory and no killable processes...");
                }
                return false;
            }
            if (oomRs.ok(log)) {
                log.printk(header(cur, gfp, order, site, tasks, chosen));
            }
            kill(chosen, "Out of memory");
            if (chosen == cur) {
                throw new ProcessKilledException(chosen.pid(), chosen.comm());
            }
            return true;
        } finally {
            oomLock.unlock();
        }
    }

    /**
     * The page allocator's {@code __alloc_pages_may_oom} for a kernel allocation (kmalloc's new slab,
     * alloc_pages) made on behalf of the current process: a victim is killed as for a fault, but the caller is
     * never unwound (it may hold slab locks): when the current process is the victim it is killed and the shell
     * goes on in pid 1. With nothing killable it returns false without a report (the allocator's warn_alloc
     * follows; Linux would panic).
     */
    boolean outOfMemoryKernel(final int gfp, final int order) {
        if (!oomLock.tryLock()) {
            try {
                Thread.sleep(1);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            return true;
        }
        try {
            final Processes.Task cur = procs.currentIfStarted();
            final long totalPages = totalPages();
            final List<Processes.Task> tasks = new java.util.ArrayList<>(); // never starts pid 1 (see Processes)
            procs.tasksRacy().forEach(tasks::add);
            final Processes.Task chosen = killAllocating(cur) ? cur : select(tasks, totalPages);
            if (chosen == null) {
                return false;
            }
            if (oomRs.ok(log)) {
                log.printk(header(cur, gfp, order, "kernel", tasks, chosen));
            }
            kill(chosen, chosen == cur && killAllocating(cur) ? "Out of memory (oom_kill_allocating_task)"
                : "Out of memory");
            return true;
        } finally {
            oomLock.unlock();
        }
    }

    /** {@code sysctl_oom_kill_allocating_task} and the allocating task may be killed (not init, not -1000). */
    private boolean killAllocating(final Processes.Task cur) {
        return oomKillAllocatingTask != 0 && cur != null && cur.pid() != 1 && !cur.isOomVictim()
            && cur.oomScoreAdj() != OOM_SCORE_ADJ_MIN;
    }

    /** {@code select_bad_process}: the task with the highest badness (the later one on ties), or null. */
    private static Processes.Task select(final List<Processes.Task> tasks, final long totalPages) {
        Processes.Task chosen = null;
        long chosenPoints = Long.MIN_VALUE;
        for (final Processes.Task t : tasks) {
            final long points = badness(t, totalPages);
            if (points == Long.MIN_VALUE || points < chosenPoints) {
                continue;
            }
            chosen = t;
            chosenPoints = points;
        }
        return chosen;
    }

    /** A victim that is still running a fault frees its own memory and leaves with SIGKILL. */
    private void dieIfVictim(final Processes.Task cur) {
        if (cur != null && cur.isOomVictim()) {
            procs.reapOomVictim(cur);
            throw new ProcessKilledException(cur.pid(), cur.comm());
        }
    }

    /** {@code __oom_kill_process}: the "Killed process" line, SIGKILL, and the memory back ({@code exit_mmap}). */
    private void kill(final Processes.Task victim, final String message) {
        final long[] c = victim.mm().oomCounters();
        final long totalVm = victim.mm().totalVmRacy();
        victim.markOomVictim();
        if (buddy.vmstat() != null) {
            buddy.vmstat().inc(VmStat.OOM_KILL);
        }
        log.printk(String.format("%s: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, file-rss:%dkB,"
                + " shmem-rss:%dkB, UID:0 pgtables:%dkB oom_score_adj:%d", message, victim.pid(), victim.comm(),
            totalVm * 4,
            c[0] * 4, c[1] * 4, c[2] * 4, c[3] >> 10, victim.oomScoreAdj()));
        MmEvents.oomKill(log.kernelId(), victim.pid(), victim.comm(), message, totalVm << 12, c[0] << 12, c[1] << 12, c[2] << 12,
            victim.oomScoreAdj());  // JFR
        procs.reapOomVictim(victim);
    }

    /** {@code dump_header}: everything the kernel prints before the kill itself, as one printk. */
    private String header(final Processes.Task cur, final int gfp, final int order, final String site,
                          final List<Processes.Task> tasks, final Processes.Task victim) {
        final String comm = cur != null ? cur.comm() : Current.SWAPPER.comm(); // pid 0: the idle task
        final int pid = cur != null ? cur.pid() : 0;
        final StringBuilder sb = new StringBuilder(4096);
        sb.append(String.format("%s invoked oom-killer: gfp_mask=%#x(%s), order=%d, oom_score_adj=%d%n", comm, gfp,
            Gfp.toString(gfp), order, cur != null ? cur.oomScoreAdj() : 0));
        // dump_stack(): the CPU line and the path that allocated, by function name (no offsets: a stand-in)
        DumpStack.append(sb, buddy.cpus().current(), pid, comm, callTrace(site));
        sb.append(PageProc.showMem(buddy, Gfp.zone(gfp))); // __show_mem(..., gfp_zone(oc->gfp_mask))
        if (sb.charAt(sb.length() - 1) != '\n') {
            sb.append('\n');
        }
        if (oomDumpTasks != 0) {
            sb.append("Tasks state (memory values in pages):\n");
            sb.append("[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents"
                + " oom_score_adj name\n");
        }
        for (final Processes.Task t : oomDumpTasks != 0 ? tasks : List.<Processes.Task>of()) {
            if (t.pid() == 1 || t.isOomVictim()) {
                continue; // oom_unkillable_task, or already gone
            }
            final long[] c = t.mm().oomCounters();
            sb.append(String.format("[%7d] %5d %5d %8d %8d %8d %8d %9d %8d %8d         %5d %s%n", t.pid(), 0,
                t.pid(), t.mm().totalVmRacy(), c[0] + c[1] + c[2], c[0], c[1], c[2], c[3], 0L, t.oomScoreAdj(),
                t.comm()));
        }
        if (victim != null) {
            final int nodes = buddy.memory().nrNodes();
            sb.append(String.format("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=%s,"
                    + "global_oom,task_memcg=/,task=%s,pid=%d,uid=0", nodes == 1 ? "0" : "0-" + (nodes - 1),
                victim.comm(), victim.pid()));
        } else {
            sb.setLength(sb.length() - 1);
        }
        return sb.toString();
    }

    /** The functions of the allocating path, innermost first, for the {@code dump_stack} stand-in. */
    private static List<String> callTrace(final String site) {
        final List<String> alloc = List.of("dump_stack_lvl", "dump_header", "oom_kill_process", "out_of_memory",
            "__alloc_pages_may_oom", "__alloc_pages_slowpath", "__alloc_frozen_pages_noprof", "alloc_pages_mpol");
        final List<String> rest = switch (site) {
            case "copy_pte_range" -> List.of("__pte_alloc", "copy_pte_range", "copy_page_range", "dup_mmap",
                "copy_process", "kernel_clone", "__do_sys_clone", "do_syscall_64", "entry_SYSCALL_64_after_hwframe");
            case "move_page_tables" -> List.of("__pte_alloc", "move_page_tables", "move_vma", "__do_sys_mremap",
                "do_syscall_64", "entry_SYSCALL_64_after_hwframe");
            case "__pte_alloc" -> List.of("__pte_alloc", "__handle_mm_fault", "handle_mm_fault", "do_user_addr_fault",
                "exc_page_fault", "asm_exc_page_fault");
            case "kernel" -> List.of("alloc_pages_noprof", "(a kernel allocation: kmalloc's new slab or alloc_pages)");
            default -> List.of("vma_alloc_folio_noprof", site, "__handle_mm_fault", "handle_mm_fault",
                "do_user_addr_fault", "exc_page_fault", "asm_exc_page_fault");
        };
        final java.util.ArrayList<String> all = new java.util.ArrayList<>(alloc);
        all.addAll(rest);
        return all;
    }
}
