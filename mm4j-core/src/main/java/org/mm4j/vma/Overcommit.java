package org.mm4j.vma;

import org.mm4j.base.KernelLog;
import org.mm4j.base.RateLimit;
import org.mm4j.page.BuddyAllocator;

/**
 * The overcommit policy of mm/util.c ({@code __vm_enough_memory}, {@code vm_commit_limit}) with its sysctls
 * {@code vm.overcommit_memory} (0 guess, 1 always, 2 never), {@code vm.overcommit_ratio},
 * {@code vm.overcommit_kbytes}, {@code vm.admin_reserve_kbytes} and {@code vm.user_reserve_kbytes}.
 *
 * <p>Committed memory ({@code vm_committed_as}, /proc/meminfo {@code Committed_AS}) is the sum of the pages of
 * every VM_ACCOUNT VMA of every process: the model derives it from the VMAs when asked instead of keeping a counter
 * beside them, so it can never drift from the flags. A charge ({@link #vmEnoughMemory}) is the kernel's check before
 * a VMA gains VM_ACCOUNT pages: mmap of a private writable mapping, brk, mprotect making a private mapping
 * writable, mremap growing an accounted mapping, fork copying accounted VMAs.
 *
 * <p>Invariants: {@code 0 <= mode <= 2}; {@code ratio >= 0}; {@code kbytes >= 0}; writing the ratio zeroes the
 * kbytes and the other way round, as the sysctl handlers do. Threads: the sysctls are volatile; the sum reads other
 * processes' VMAs without their locks (a best effort while they change, exact when they are idle), so a charge
 * never takes a second mm's lock.
 */
final class Overcommit {
    /** {@code OVERCOMMIT_GUESS}: refuse only a single request larger than all RAM and swap. */
    public static final int OVERCOMMIT_GUESS = 0;
    /** {@code OVERCOMMIT_ALWAYS}: never refuse. */
    public static final int OVERCOMMIT_ALWAYS = 1;
    /** {@code OVERCOMMIT_NEVER}: refuse when Committed_AS would pass CommitLimit (less the reserves). */
    public static final int OVERCOMMIT_NEVER = 2;

    private final BuddyAllocator buddy;
    private final Processes procs;
    private final KernelLog log;
    volatile int mode = OVERCOMMIT_GUESS;
    volatile long ratio = 50;
    volatile long kbytes;
    volatile long adminReserveKbytes;
    volatile long userReserveKbytes;
    /** pr_warn_ratelimited's state (DEFAULT_RATELIMIT_INTERVAL 5 s, burst 10). */
    private final RateLimit warnRs = new RateLimit("__vm_enough_memory");

    Overcommit(final BuddyAllocator buddy, final Processes procs, final KernelLog log) {
        this.buddy = buddy;
        this.procs = procs;
        this.log = log;
        // init_user_reserve / init_admin_reserve: 1/32 of the free memory at boot, at most 128 MiB and 8 MiB
        final long freeKbytes = buddy.freePages() * 4;
        this.userReserveKbytes = Math.min(freeKbytes / 32, 128L << 10);
        this.adminReserveKbytes = Math.min(freeKbytes / 32, 8L << 10);
    }

    public int mode() {
        return mode;
    }

    /** {@code vm_commit_limit()} in pages: overcommit_kbytes if set, else overcommit_ratio percent of RAM (no swap). */
    public long commitLimitPages() {
        final long kb = kbytes;
        return kb != 0 ? kb >>> 2 : buddy.totalramPages() * ratio / 100;
    }

    /** {@code vm_committed_as} in pages: the VM_ACCOUNT pages of every process. */
    public long committedPages() {
        long n = 0;
        for (final Processes.Task t : procs.tasksRacy()) {
            n += t.mm().accountedPagesRacy();
        }
        return n;
    }

    /**
     * {@code __vm_enough_memory(mm, pages, cap_sys_admin)} for the model's processes, which run as root: 0, or
     * -ENOMEM with the kernel's rate-limited warning. {@code pages} are not yet in {@link #committedPages()}.
     */
    int vmEnoughMemory(final MmStruct mm, final long pages) {
        final int m = mode;
        if (m == OVERCOMMIT_ALWAYS) {
            return 0;
        }
        if (m == OVERCOMMIT_GUESS) {
            if (pages <= buddy.totalramPages()) {
                return 0;
            }
        } else {
            long allowed = commitLimitPages();
            allowed -= Math.min(mm.totalVmRacy() / 32, userReserveKbytes >>> 2);
            if (committedPages() + pages < allowed) {
                return 0;
            }
        }
        if (warnRs.ok(log)) {
            final Processes.Task t = procs.taskOf(mm);
            log.printk("__vm_enough_memory: pid: %d, comm: %s, bytes: %d not enough memory for the allocation",
                t == null ? 0 : t.pid(), t == null ? "mm4j" : t.comm(), pages << 12);
        }
        return -Errno.ENOMEM;
    }
}
