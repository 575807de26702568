package org.mm4j.vma;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.base.ModelOutOfMemoryException;
import org.mm4j.base.ProcFs;
import org.mm4j.page.Gfp;
import org.mm4j.page.VmStat;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OOM killer as {@code mm/oom_kill.c} of 6.18 decides and reports, and the errnos of the calls that fault
 * memory in (issue 11, reproduction 1): victim by {@code oom_badness} with {@code oom_score_adj}, the report in
 * dmesg, the victim's memory back in the buddy allocator, SIGKILL for a faulting victim, never a JVM Error.
 */
class OomKillerTest {
    static final int RW = FaultForkTest.RW;
    static final int ANON = FaultForkTest.ANON;
    static final long MB = 1L << 20;
    private Kernel k;
    private Processes ps;

    @BeforeEach
    void boot() {
        k = Kernel.boot("mem=64M norandmaps");
        // these tests map more than the RAM to drive the OOM killer: "always overcommit", as OOM tests on Linux do
        // (under the default heuristic mmap refuses a single mapping larger than RAM: LinuxRulesTest)
        k.procfs().write("/proc/sys/vm/overcommit_memory", "1");
        ps = k.processes();
    }

    @AfterEach
    void close() {
        k.close();
    }

    /** Forks a child of pid 1 that writes {@code bytes} of anonymous memory; returns its pid. */
    private int childWith(final long bytes) {
        ps.switchTo(1);
        final int pid = ps.fork();
        assertTrue(pid > 1, "fork gave " + pid);
        ps.switchTo(pid);
        final MmStruct mm = ps.currentMm();
        final long a = mm.mmap(0, bytes, RW, ANON | Mman.MAP_POPULATE, null, 0);
        assertTrue(a > 0);
        ps.switchTo(1);
        return pid;
    }

    private long freeAll() {
        return k.buddy().freePages() + k.buddy().pcpPages();
    }

    private String dmesg() {
        return String.join("\n", k.log().lines());
    }

    private static long badness(final Processes.Task t, final long totalPages) {
        final long[] rss = t.mm().rss();
        final long tables = t.mm().oomCounters()[3] / 4096;
        return rss[0] + rss[1] + rss[2] + tables + (long) t.oomScoreAdj() * (totalPages / 1000);
    }

    @Test
    void victimsGoByBadnessAndTheReportIsTheKernels() {
        final int big = childWith(20 * MB);
        final int small = childWith(8 * MB);
        final Processes.Task bigTask = ps.get(big);
        final long[] bigRss = bigTask.mm().rss();
        final long bigTablesKb = bigTask.mm().oomCounters()[3] >> 10;
        final long bigVmKb = bigTask.mm().vmCounters()[0] * 4;
        assertTrue(bigRss[0] >= 5000, "the child faulted its 20 MB in: " + bigRss[0]);
        k.log().clear();
        // pid 1 (init: never a victim) maps more than memory holds; MAP_POPULATE is best effort
        final long a = ps.currentMm().mmap(0, 128 * MB, RW, ANON | Mman.MAP_POPULATE, null, 0);
        assertTrue(a > 0, "mmap with MAP_POPULATE succeeds even when population runs out: " + a);
        assertNull(ps.get(big), "the largest process was killed");
        assertNull(ps.get(small), "then the next one, until nothing killable was left");
        assertNotNull(ps.get(1), "pid 1 (the global init) is never killed");
        final String log = dmesg();
        final int firstKill = log.indexOf("Out of memory: Killed process " + big + " ");
        final int secondKill = log.indexOf("Out of memory: Killed process " + small + " ");
        assertTrue(firstKill >= 0 && secondKill > firstKill, log);
        assertTrue(log.contains("mm4j invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), "
            + "order=0, oom_score_adj=0"), log);
        assertTrue(log.contains("Out of memory: Killed process " + big + " (mm4j) total-vm:" + bigVmKb + "kB, anon-rss:"
            + bigRss[0] * 4 + "kB, file-rss:" + bigRss[1] * 4 + "kB, shmem-rss:" + bigRss[2] * 4 + "kB, UID:0 pgtables:"
            + bigTablesKb + "kB oom_score_adj:0"), log);
        assertTrue(log.contains("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
            + "global_oom,task_memcg=/,task=mm4j,pid=" + big + ",uid=0"), log);
        final String header = "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes"
            + " swapents oom_score_adj name";
        final String firstReport = log.substring(0, firstKill);
        assertTrue(firstReport.contains("Mem-Info:"), firstReport);
        assertTrue(firstReport.contains("Call Trace:"), firstReport);
        assertTrue(firstReport.contains(header), firstReport);
        // the task dump lists both children (not init), in the kernel's columns
        final Matcher row = Pattern.compile("\\[ +" + big + "] +0 +" + big + " +(\\d+) +(\\d+) +(\\d+) +0 +0 +(\\d+)"
            + " +0 +0 mm4j").matcher(firstReport);
        assertTrue(row.find(), firstReport);
        assertEquals(bigRss[0], Long.parseLong(row.group(3)));
        assertFalse(Pattern.compile("\\[ +1] ").matcher(firstReport).find(), "init is not listed");
        assertTrue(log.contains("Out of memory and no killable processes..."), log);
        assertEquals(2, k.vmstat().get(VmStat.OOM_KILL));
        assertTrue(k.buddy().validate().isEmpty(), k.buddy().validate().toString());
    }

    @Test
    void theKilledProcessMemoryReturnsAndTheFaultGoesOn() {
        final int victim = childWith(16 * MB);
        final Processes.Task vt = ps.get(victim);
        final long victimPages = vt.mm().rss()[0] + vt.mm().oomCounters()[3] / 4096;
        final MmStruct init = ps.currentMm();
        final long a = init.mmap(0, 128 * MB, RW, ANON, null, 0);
        long addr = a;
        long before = -1;
        while (ps.get(victim) != null) {
            before = freeAll();
            init.touch(addr, 'w'); // never throws: the kill frees enough for this page
            addr += 4096;
            assertTrue(addr < a + 128 * MB, "no OOM kill happened");
        }
        final long after = freeAll();
        // the faulting touch took its page (and up to 3 table pages) from what the victim gave back
        assertTrue(after <= before + victimPages - 1 && after >= before + victimPages - 4,
            "free before the kill " + before + ", after " + after + ", victim held " + victimPages);
        assertEquals(0, init.readUser(addr - 4096 + 1));
        assertSame(ps.get(1), ps.current());
        assertTrue(k.buddy().validate().isEmpty(), k.buddy().validate().toString());
    }

    @Test
    void oomScoreAdjIsRespected() {
        final int big = childWith(20 * MB);
        final int small = childWith(4 * MB);
        k.procfs().write("/proc/" + big + "/oom_score_adj", "-1000");
        assertEquals("-1000\n", k.procfs().read("/proc/" + big + "/oom_score_adj"));
        assertEquals("0\n", k.procfs().read("/proc/" + big + "/oom_score"), "unkillable: score 0");
        final long total = k.buddy().totalramPages();
        final long b = badness(ps.get(small), total);
        assertEquals((1000 + b * 1000 / total) * 2 / 3 + "\n", k.procfs().read("/proc/" + small + "/oom_score"));
        assertTrue(ps.currentMm().mmap(0, 128 * MB, RW, ANON | Mman.MAP_POPULATE, null, 0) > 0);
        assertNull(ps.get(small), "the only killable process went");
        assertNotNull(ps.get(big), "oom_score_adj -1000 is never killed");
        assertTrue(dmesg().contains("Out of memory: Killed process " + small + " "), dmesg());
    }

    @Test
    void aPositiveAdjMakesTheSmallerProcessTheVictim() {
        final int big = childWith(12 * MB);
        final int small = childWith(4 * MB);
        k.procfs().write("/proc/" + small + "/oom_score_adj", "1000"); // + totalpages: above any rss
        final long total = k.buddy().totalramPages();
        assertTrue(badness(ps.get(small), total) > badness(ps.get(big), total));
        final MmStruct init = ps.currentMm();
        final long a = init.mmap(0, 128 * MB, RW, ANON, null, 0);
        for (long p = a; ps.get(small) != null; p += 4096) {
            assertNotNull(ps.get(big), "the larger process must not go first");
            init.touch(p, 'w');
        }
        assertNotNull(ps.get(big));
        assertTrue(dmesg().contains("Out of memory: Killed process " + small + " "), dmesg());
        assertTrue(dmesg().contains("oom_score_adj:1000"), dmesg());
    }

    @Test
    void oomScoreAdjRangeIsChecked() {
        for (final String bad : List.of("1001", "-1001", "abc", "")) {
            assertThrows(ProcFs.ProcFsException.class, () -> k.procfs().write("/proc/1/oom_score_adj", bad), bad);
        }
        assertEquals("0\n", k.procfs().read("/proc/self/oom_score_adj"));
        k.procfs().write("/proc/self/oom_score_adj", " 500\n");
        assertEquals("500\n", k.procfs().read("/proc/1/oom_score_adj"));
        final int child = ps.fork();
        assertEquals("500\n", k.procfs().read("/proc/" + child + "/oom_score_adj"), "inherited at fork");
        assertEquals("0\n", k.procfs().read("/proc/1/oom_score"), "init is unkillable");
    }

    @Test
    void aFaultingVictimGetsSigkillAndPid1BecomesCurrent() {
        final int hog = childWith(4 * MB);
        ps.switchTo(hog);
        final MmStruct mm = ps.currentMm();
        final long a = mm.mmap(0, 128 * MB, RW, ANON, null, 0);
        final ProcessKilledException e = assertThrows(ProcessKilledException.class, () -> {
            for (long p = a; ; p += 4096) {
                mm.touch(p, 'w');
            }
        });
        assertEquals(hog, e.pid());
        assertEquals(ProcessKilledException.SIGKILL, e.signal());
        assertNull(ps.get(hog));
        assertEquals(1, ps.current().pid());
        assertEquals(0, mm.rss()[0], "its memory went back");
        assertTrue(dmesg().contains("Out of memory: Killed process " + hog + " (mm4j)"), dmesg());
        assertTrue(k.buddy().validate().isEmpty(), k.buddy().validate().toString());
    }

    /** Fills memory from pid 1 (nothing is killable then) and returns the address of the mapping. */
    private long exhaustFromInit() {
        final long a = ps.currentMm().mmap(0, 128 * MB, RW, ANON | Mman.MAP_POPULATE, null, 0);
        assertTrue(a > 0);
        assertTrue(dmesg().contains("Out of memory and no killable processes..."), dmesg());
        return a;
    }

    @Test
    void withNothingKillableCallsFailWithTheKernelsErrnos() {
        final MmStruct mm = ps.currentMm();
        final long small = mm.mmap(0, 64 * 4096, RW, ANON, null, 0);
        mm.writeUser(small, (byte) 7);
        final long full = exhaustFromInit();
        final long rss = mm.rss()[0];
        assertTrue(rss > 15000, "populated as far as memory went: " + rss);
        final ModelOutOfMemoryException touch = assertThrows(ModelOutOfMemoryException.class,
            () -> mm.touch(full + 127 * MB, 'w'));
        assertTrue(touch.getMessage().contains("no killable process"), touch.getMessage());
        // mremap to a place without page tables: ENOMEM and nothing moved
        final String maps = mm.maps();
        final long target = 0x200000000000L;
        assertEquals(-Errno.ENOMEM, mm.mremap(small, 64 * 4096, 64 * 4096,
            Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, target));
        assertEquals(maps, mm.maps());
        assertEquals(7, mm.readUser(small));
        final long other = mm.mmap(0, 16 * 4096, RW, ANON, null, 0);
        assertEquals(-Errno.EAGAIN, mm.mlock(other, 16 * 4096), "mlock: a failed fault-in is EAGAIN");
        assertEquals(-Errno.ENOMEM, mm.madvise(other, 16 * 4096, Mman.MADV_POPULATE_WRITE));
        assertEquals(0, mm.mlockall(MmStruct.MCL_CURRENT), "mlockall ignores population errors");
        final long free = freeAll();
        assertEquals(-Errno.ENOMEM, ps.fork(), "fork: no page for the child's page tables");
        assertEquals(free, freeAll(), "the half-made child is freed again");
        assertEquals(1, ps.tasks().size());
        assertTrue(k.buddy().validate().isEmpty(), k.buddy().validate().toString());
    }

    @Test
    void twoProcessesFaultingAtOnceEndWithoutDeadlock() throws InterruptedException {
        final int a = childWith(MB);
        final int b = childWith(MB);
        final Throwable[] ends = new Throwable[2];
        final Thread[] threads = new Thread[2];
        for (int i = 0; i < 2; i++) {
            final int slot = i;
            final MmStruct mm = ps.get(i == 0 ? a : b).mm();
            threads[i] = new Thread(() -> {
                try {
                    final long m = mm.mmap(0, 128 * MB, RW, ANON, null, 0);
                    for (long p = m; ; p += 4096) {
                        mm.touch(p, 'w');
                    }
                } catch (final ProcessKilledException | ModelOutOfMemoryException e) {
                    ends[slot] = e;
                }
            });
            threads[i].start();
        }
        for (final Thread t : threads) {
            t.join(120_000); // a deadlock guard, not a timing assertion
            assertFalse(t.isAlive(), "a faulting thread never ended: deadlock");
        }
        // both ran out; at least one was killed; a survivor ends when nothing killable is left
        assertTrue(ends[0] instanceof ProcessKilledException || ends[1] instanceof ProcessKilledException,
            ends[0] + " / " + ends[1]);
        assertTrue(ps.get(a) == null || ps.get(b) == null, "at most one child remains");
        assertNotNull(ps.get(1));
        assertTrue(k.buddy().validate().isEmpty(), k.buddy().validate().toString());
    }

    @Test
    void kernelAllocationsInvokeTheKillerWhereLinuxDoes() {
        final int hog = childWith(24 * MB);
        long held = 0;
        while (k.buddy().allocPages(Gfp.KERNEL | Gfp.NORETRY | Gfp.NOWARN, 0) >= 0) {
            held++; // __GFP_NORETRY never invokes the OOM killer
        }
        assertNotNull(ps.get(hog));
        assertEquals(-1, k.buddy().allocPages(Gfp.KERNEL | Gfp.NOWARN, 4), "a costly order does not either");
        assertEquals(-1, k.buddy().allocPages(Gfp.KERNEL | Gfp.RETRY_MAYFAIL | Gfp.NOWARN, 0));
        assertNotNull(ps.get(hog));
        assertTrue(k.buddy().allocPages(Gfp.KERNEL, 0) >= 0, "GFP_KERNEL order 0: the killer frees a process");
        assertNull(ps.get(hog));
        assertTrue(dmesg().contains("mm4j invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"),
            dmesg());
        assertTrue(dmesg().contains("Out of memory: Killed process " + hog + " (mm4j)"), dmesg());
        assertTrue(held > 1000, "memory was filled: " + held);
    }

    @Test
    void oomKillAllocatingTaskKillsTheFaultingProcessAndDumpTasksCanBeOff() {
        final int big = childWith(24 * MB);
        final int small = childWith(MB);
        k.procfs().write("/proc/sys/vm/oom_kill_allocating_task", "1");
        k.procfs().write("/proc/sys/vm/oom_dump_tasks", "0");
        assertEquals("1\n", k.procfs().read("/proc/sys/vm/oom_kill_allocating_task"));
        ps.switchTo(small);
        final MmStruct mm = ps.currentMm();
        final long a = mm.mmap(0, 128 * MB, RW, ANON, null, 0);
        assertThrows(ProcessKilledException.class, () -> {
            for (long p = a; ; p += 4096) {
                mm.touch(p, 'w');
            }
        });
        assertNull(ps.get(small), "the allocating task went");
        assertNotNull(ps.get(big), "although another process was larger");
        assertTrue(dmesg().contains("Out of memory (oom_kill_allocating_task): Killed process " + small + " (mm4j)"),
            dmesg());
        assertFalse(dmesg().contains("Tasks state"), "vm.oom_dump_tasks=0");
    }

    @Test
    void brkAfterMlockallFutureIsPopulatedBestEffort() {
        final MmStruct mm = ps.currentMm();
        assertEquals(0, mm.mlockall(MmStruct.MCL_CURRENT | MmStruct.MCL_FUTURE));
        final long b = mm.brk(0);
        final long rss0 = mm.rss()[0];
        assertEquals(b + 8 * 4096, mm.brk(b + 8 * 4096));
        assertEquals(rss0 + 8, mm.rss()[0], "mm_populate of the new break");
        exhaustFromInit();
        final long b2 = mm.brk(0);
        assertEquals(b2 + 16 * 4096, mm.brk(b2 + 16 * 4096), "brk succeeds; its population is best effort");
    }

    @Test
    void noOutOfMemoryErrorEscapesTheApi() {
        final int child = childWith(4 * MB);
        final MmStruct mm = ps.currentMm();
        final long a = mm.mmap(0, 256 * MB, RW, ANON, null, 0);
        // touch, fork and populate, until nothing is left: only the model's own exceptions may come out
        for (int round = 0; round < 3; round++) {
            try {
                for (long p = a; p < a + 256 * MB; p += 4096) {
                    mm.writeUser(p, (byte) 1);
                }
            } catch (final ModelOutOfMemoryException expected) {
                // the API's signal of exhaustion
            }
            final int pid = ps.fork();
            assertTrue(pid > 0 || pid == -Errno.ENOMEM, "fork: " + pid);
        }
        assertNull(ps.get(child));
        assertTrue(mm.mmap(0, 4096, RW, ANON | Mman.MAP_POPULATE, null, 0) > 0);
    }
}
