package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.base.ModelOutOfMemoryException;
import org.mm4j.page.Gfp;
import org.mm4j.vma.Mman;
import org.mm4j.vma.Processes;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing stranded in threads (issue 9): ended threads' sheaves go back exactly once and promptly, an allocation
 * reclaims stranded sheaves before it fails, virtual threads get no sheaves of their own, and what sheaves hold
 * stays within {@link SheafUsage#bound()}. No timing assertion: the reaper is awaited with a bounded poll.
 */
class ThreadSheavesTest {
    /** Waits (bounded) until {@code condition} holds; the bound is generous, the poll ends as soon as it holds. */
    static void await(final BooleanSupplier condition, final String what) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("still not true after 30 s: " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** Runs {@code body} on {@code n} platform threads, {@code wave} at a time, each started and joined. */
    static void platformThreads(final int n, final int wave, final Runnable body) throws InterruptedException {
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int done = 0; done < n; done += wave) {
            final List<Thread> ts = new ArrayList<>();
            for (int i = 0; i < Math.min(wave, n - done); i++) {
                ts.add(Thread.ofPlatform().start(() -> {
                    try {
                        body.run();
                    } catch (final Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (final Thread t : ts) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("a thread failed", failure.get());
            }
        }
    }

    static void virtualThreads(final int n, final Runnable body) {
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                ex.submit(() -> {
                    try {
                        body.run();
                    } catch (final Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
            }
        }
        assertNull(failure.get(), () -> "a virtual thread failed: " + failure.get());
    }

    /** Issue 9 item 3, first half: ended threads' sheaves must not make a later kmalloc(1024) fail. */
    @Test
    void endedThreadsStrandNothingOn16M() throws Exception {
        for (final boolean reaper : new boolean[] {false, true}) {
            try (Kernel k = Kernel.boot("mem=16M nr_cpus=2")) {
                final Slub slub = k.slab();
                slub.threadSheaves.pauseDaemon(!reaper);  // without the reaper, only reclaim-before-failure helps
                final KmemCache c = slub.findCache("kmalloc-1k");
                final AtomicInteger failed = new AtomicInteger();
                platformThreads(2_000, reaper ? 4 : 1, () -> {
                    final SlabAllocator a = slub.allocator();
                    final long p = a.kmalloc(1024);
                    if (p == 0) {
                        failed.incrementAndGet();
                        return;
                    }
                    a.kfree(p);
                });
                assertEquals(0, failed.get(), "reaper=" + reaper + ": kmallocs that failed in the threads");
                final long p = slub.allocator().kmalloc(1024);
                assertNotEquals(0, p, "reaper=" + reaper + ": kmalloc(1024) after 2,000 ended threads");
                slub.allocator().kfree(p);
                if (reaper) {
                    await(() -> slub.endedThreadSheafOwners() == 0, "the reaper returned every ended thread's sheaves");
                } else {
                    assertTrue(slub.reapedThreads() > 0, "allocations about to fail reaped ended threads");
                }
                assertTrue(k.log().messages().stream().noneMatch(l -> l.contains("page allocation failure")
                    || l.contains("Unable to allocate")), "no failure was reported");
                slub.allocator().flush();
                c.shrink();
                assertEquals(0, c.validate());
                assertEquals(0, c.activeObjects());
            }
        }
    }

    /** Issue 9 item 4: two shrinks at once flush an ended thread's sheaves once, never twice. */
    @Test
    void concurrentShrinksFlushAnEndedThreadExactlyOnce() throws Exception {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final Slub slub = k.slab();
            slub.threadSheaves.pauseDaemon(true);  // leave the ended thread to the two shrinks
            final KmemCache c = slub.findCache("kmalloc-64");
            for (int round = 0; round < 60; round++) {
                platformThreads(1, 1, () -> {
                    final SlabAllocator a = slub.allocator();
                    final long[] o = new long[100];
                    for (int i = 0; i < o.length; i++) {
                        o[i] = a.kmalloc(64);
                    }
                    for (final long x : o) {
                        a.kfree(x);
                    }
                });
                assertEquals(1, slub.endedThreadSheafOwners());
                final long reapedBefore = slub.reapedThreads();
                final CyclicBarrier start = new CyclicBarrier(2);
                final AtomicReference<Throwable> failure = new AtomicReference<>();
                final List<Thread> shrinkers = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    shrinkers.add(Thread.ofPlatform().start(() -> {
                        try {
                            start.await();
                            c.shrink();
                        } catch (final Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    }));
                }
                for (final Thread t : shrinkers) {
                    t.join();
                }
                assertNull(failure.get(), () -> "round: " + failure.get());
                assertEquals(reapedBefore + 1, slub.reapedThreads(), "reaped exactly once");
                assertEquals(0, slub.endedThreadSheafOwners());
                assertEquals(0, c.validate());
                assertEquals(0, c.activeObjects());
            }
            assertTrue(k.log().messages().stream().noneMatch(l -> l.contains("BUG")), "no slab error reported");
        }
    }

    /** Issue 9 item 3, second half: 20,000 virtual threads on mem=32M. */
    @Test
    void virtualThreadsGetNoSheavesOfTheirOwn() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
            final Slub slub = k.slab();
            final KmemCache c = slub.findCache("kmalloc-64");
            virtualThreads(20_000, () -> {
                final SlabAllocator a = slub.allocator();
                assertEquals(0, a.sheafCapacity(), "a virtual thread's allocator has no sheaves");
                final MemorySegment s = a.allocate(64);
                s.fill((byte) 1);
                a.free(s);
            });
            assertEquals(0, slub.threadSheafOwners(), "no virtual thread registered sheaves");
            assertEquals(0, c.sheafUsage().objects());
            assertTrue(totalObjects(c) <= cpuCachedBound(c), "kmalloc-64 holds " + totalObjects(c)
                + " objects, more than its CPU slabs and partial lists may keep (" + cpuCachedBound(c) + ")");
            assertEquals(0, c.validate());
            assertEquals(0, c.activeObjects());
        }
    }

    /** A virtual thread that asks for its own sheaves gets them, and they go back when it ends. */
    @Test
    void aVirtualThreadMayAskForItsOwnSheaves() throws Exception {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2")) {
            final Slub slub = k.slab();
            final KmemCache c = slub.findCache("kmalloc-64");
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final Thread v = Thread.ofVirtual().start(() -> {
                try {
                    final SlabAllocator a = slub.confinedAllocator();
                    assertEquals(SlabAllocator.DEFAULT_SHEAF_CAPACITY, a.sheafCapacity());
                    a.kfree(a.kmalloc(64));
                    assertEquals(1, c.sheafUsage().threads());
                    assertTrue(c.sheafUsage().threadObjects() > 0);
                } catch (final Throwable e) {
                    failure.set(e);
                }
            });
            v.join();
            assertNull(failure.get());
            await(() -> slub.endedThreadSheafOwners() == 0, "the virtual thread's sheaves went back");
            assertEquals(1, slub.reapedThreads());
            assertEquals(0, c.sheafUsage().threadObjects());
            assertEquals(0, c.validate());
            assertEquals(0, c.activeObjects());
        }
    }

    /**
     * What the per-CPU slab layer may keep with nothing allocated: per CPU slot its slab and CPU partial slabs
     * (plus one in flight), and min_partial empty slabs per node.
     */
    private static long cpuCachedBound(final KmemCache c) {
        final long slabs = (long) c.nrCpus() * (2 + c.cpuPartialSlabs) + (long) c.minPartial() * c.nodes.length;
        return slabs * c.objsPerSlab();
    }

    static long totalObjects(final KmemCache c) {
        long n = 0;
        for (final KmemCacheNode node : c.nodes) {
            n += node.totalObjects.get();
        }
        return n;
    }

    /** The stated bound, with 10,000 ended platform threads and 100,000 virtual threads. */
    @Test
    void manyEndedThreadsLeaveAtMostTheBound() throws Exception {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final Slub slub = k.slab();
            final int[] sizes = {64, 256, 1024};
            platformThreads(10_000, 50, () -> {
                final SlabAllocator a = slub.allocator();
                for (final int size : sizes) {
                    final long p = a.kmalloc(size);
                    final long q = a.kmalloc(size);
                    assertNotEquals(0, p);
                    assertNotEquals(0, q);
                    a.kfree(q);
                    a.kfree(p);
                }
            });
            await(() -> slub.endedThreadSheafOwners() == 0, "the reaper caught up with 10,000 ended threads");
            assertEquals(10_000, slub.reapedThreads());
            virtualThreads(100_000, () -> {
                final SlabAllocator a = slub.allocator();
                a.free(a.allocate(64));
            });
            assertEquals(0, slub.threadSheafOwners(), "no thread holds sheaves any more");
            for (final int size : sizes) {
                final KmemCache c = slub.kmallocCache(size, Gfp.KERNEL);
                final SheafUsage u = c.sheafUsage();
                assertEquals(0, u.threadObjects(), c.name());
                assertEquals(0, u.threads(), c.name());
                assertTrue(u.objects() <= u.bound(), c.name() + ": " + u);
                assertTrue(u.bound() == u.barnLimit(), c.name() + ": only the barn may hold sheaves: " + u);
                assertEquals(0, c.validate());
                assertEquals(0, c.activeObjects());
            }
        }
    }

    /** slabinfo, activeObjects, validate, sysfs and the Java stats tell one story at a quiet point. */
    @Test
    void slabinfoActiveObjectsAndSheafUsageAgree() throws Exception {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final Slub slub = k.slab();
            final KmemCache c = slub.findCache("kmalloc-128");
            final CountDownLatch holding = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            final Thread holder = Thread.ofPlatform().start(() -> {
                final SlabAllocator a = slub.allocator();
                final long[] o = new long[50];
                for (int i = 0; i < o.length; i++) {
                    o[i] = a.kmalloc(128);
                }
                for (int i = 10; i < o.length; i++) {
                    a.kfree(o[i]);  // 10 stay allocated, the rest sit in this live thread's sheaves
                }
                holding.countDown();
                try {
                    release.await();
                } catch (final InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            holding.await();
            final long[] mine = new long[7];
            for (int i = 0; i < mine.length; i++) {
                mine[i] = slub.allocator().kmalloc(128);
            }
            assertEquals(0, c.validate());  // flushes this thread's sheaves, the CPU slabs, never the holder's
            final SheafUsage u = c.sheafUsage();
            assertEquals(2, u.threads(), "the holder and this thread (its sheaves flushed, empty)");
            assertTrue(u.threadObjects() > 0 && u.threadObjects() <= u.perThreadLimit(), "the holder's: " + u);
            assertTrue(u.objects() <= u.bound(), u.toString());
            assertEquals(17, c.activeObjects());
            assertEquals(activeObjs(k, c), c.activeObjects() + u.objects(), "slabinfo counts sheaves as active");
            final String[] sys = k.procfs().read("/sys/kernel/slab/kmalloc-128/mm4j_sheaves").split(" ");
            assertEquals(u.objects(), Long.parseLong(sys[0]));
            assertEquals(u.bound(), Long.parseLong(sys[1]));
            release.countDown();
            holder.join();
            await(() -> slub.endedThreadSheafOwners() == 0, "the holder's sheaves went back");
            assertEquals(0, c.sheafUsage().threadObjects());
            assertEquals(0, c.validate());
            assertEquals(17, c.activeObjects());
            assertEquals(activeObjs(k, c), c.activeObjects() + c.sheafUsage().objects());
        }
    }

    private static long activeObjs(final Kernel k, final KmemCache c) {
        for (final String line : k.procfs().read("/proc/slabinfo").split("\n")) {
            final String[] f = line.trim().split("\\s+");
            if (f[0].equals(c.name())) {
                return Long.parseLong(f[1]);
            }
        }
        throw new AssertionError(c.name() + " not in /proc/slabinfo");
    }

    /** Stranded sheaves go back before the OOM killer picks a victim (a large kmalloc may call it). */
    @Test
    void strandedSheavesGoBeforeTheOomKiller() throws Exception {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 norandmaps")) {
            final Slub slub = k.slab();
            slub.threadSheaves.pauseDaemon(true);
            final Processes ps = k.processes();
            ps.switchTo(1);
            final int pid = ps.fork();
            ps.switchTo(pid);
            final long a = ps.currentMm().mmap(0, 8L << 20, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_POPULATE, null, 0);
            assertTrue(a > 0);
            ps.switchTo(1);
            // threads strand sheaves until little is left; stop before any of them needs a reclaim
            final AtomicInteger threads = new AtomicInteger();
            while (k.buddy().freePages() > 1024) {
                platformThreads(1, 1, () -> {
                    final SlabAllocator al = slub.allocator();
                    al.kfree(al.kmalloc(4096));
                });
                threads.incrementAndGet();
            }
            assertEquals(0, slub.reapedThreads(), "nothing reaped yet");
            final List<Long> large = new ArrayList<>();
            long p;
            while ((p = slub.kmalloc(16 * 1024, Gfp.KERNEL)) != 0 && slub.reapedThreads() == 0) {
                large.add(p);
            }
            assertTrue(slub.reapedThreads() > 0, "a large kmalloc reclaimed the " + threads + " threads' sheaves");
            assertTrue(k.log().messages().stream().noneMatch(l -> l.contains("Killed process")),
                "no process was killed while sheaves could be reclaimed");
            for (final long x : large) {
                slub.kfree(x);
            }
            if (p != 0) {
                slub.kfree(p);
            }
        }
    }

    /** Real exhaustion: the SegmentAllocator throws ModelOutOfMemoryException, kmalloc returns 0. */
    @Test
    void exhaustionIsModelOutOfMemoryNeverOutOfMemoryError() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=2")) {
            final SlabAllocator a = k.slab().allocator();
            final List<Long> held = new ArrayList<>();
            long p;
            while ((p = a.kmalloc(4096)) != 0) {
                held.add(p);
            }
            final ModelOutOfMemoryException e = assertThrows(ModelOutOfMemoryException.class,
                () -> a.allocate(4096));
            assertTrue(e.getMessage().contains("kmalloc(4096, GFP_KERNEL)"), e.getMessage());
            assertThrows(ModelOutOfMemoryException.class, () -> a.allocate(1 << 20, 1 << 13));
            assertEquals(0, a.kmalloc(1 << 20), "a large kmalloc returns 0");
            for (final long x : held) {
                a.kfree(x);
            }
            a.free(a.allocate(4096));
        }
    }
}
