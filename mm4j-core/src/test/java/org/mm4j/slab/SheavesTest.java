package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.Gfp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SheavesTest {
    @Test
    void segmentAllocatorHonoursAlignmentAndFreesBySegment() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final SlabAllocator a = k.slab().allocator();
            assertEquals(SlabAllocator.DEFAULT_SHEAF_CAPACITY, a.sheafCapacity());
            for (final long[] sa : new long[][] {{256, 64}, {100, 128}, {96, 64}, {8, 8}, {1, 1}, {20000, 4096},
                {5000, 8192}, {0, 1}}) {
                final MemorySegment s = a.allocate(sa[0], sa[1]);
                assertEquals(sa[0], s.byteSize());
                assertEquals(0, s.address() % sa[1], "alignment " + sa[1] + " of size " + sa[0]);
                s.fill((byte) 1);
                a.free(s);
            }
            final MemorySegment ints = a.allocateFrom(ValueLayout.JAVA_INT, 1, 2, 3);
            assertEquals(3, ints.getAtIndex(ValueLayout.JAVA_INT, 2));
            a.free(ints);
            assertThrows(IllegalArgumentException.class, () -> a.allocate(8, 3));
            final long p = a.kmalloc(64);
            assertThrows(IllegalArgumentException.class, () -> a.kfree(p + 8), "inside an object");
            a.kfree(p);
            assertThrows(IllegalArgumentException.class, () -> a.free(MemorySegment.ofArray(new byte[8])));
            final AtomicReference<Throwable> t = new AtomicReference<>();
            final Thread other = new Thread(() -> {
                try {
                    a.kmalloc(8);
                } catch (final Throwable e) {
                    t.set(e);
                }
            });
            other.start();
            try {
                other.join();
            } catch (final InterruptedException e) {
                throw new AssertionError(e);
            }
            assertTrue(t.get() instanceof WrongThreadException);
        }
    }

    @Test
    void sheavesServeTheFastPathAndBarnCarriesRemoteFrees() throws Exception {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final Slub slub = k.slab();
            final KmemCache c = slub.findCache("kmalloc-64");
            final SlabAllocator a = slub.allocator();
            final long[] objs = new long[1000];
            for (int i = 0; i < objs.length; i++) {
                objs[i] = a.kmalloc(64);
            }
            assertEquals(1000, c.stat(StatItem.ALLOC_PCS));
            assertTrue(c.stat(StatItem.SHEAF_REFILL) >= 1000);
            final Thread freer = new Thread(() -> {
                final SlabAllocator b = slub.allocator();
                for (final long o : objs) {
                    b.kfree(o);
                }
            });
            freer.start();
            freer.join();
            assertEquals(1000, c.stat(StatItem.FREE_PCS));
            assertTrue(c.stat(StatItem.BARN_PUT) > 0, "full sheaves parked in the barn");
            for (int i = 0; i < objs.length; i++) {
                objs[i] = a.kmalloc(64);
            }
            assertTrue(c.stat(StatItem.BARN_GET) > 0, "the allocating thread took full sheaves from the barn");
            for (final long o : objs) {
                a.kfree(o);
            }
            a.flush();
            assertEquals(0, c.validate());
            assertEquals(0, c.activeObjects());
        }
    }

    @Test
    void kernelFaithfulPerCpuSheaves() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final KmemCache s = k.slab().kmemCacheCreate("maple_node_like", 256,
                KmemCacheArgs.DEFAULT.withSheafCapacity(32));
            assertEquals("32\n", k.procfs().read("/sys/kernel/slab/maple_node_like/sheaf_capacity"));
            final long[] o = new long[100];
            for (int i = 0; i < o.length; i++) {
                o[i] = s.alloc();
            }
            assertEquals(100, s.stat(StatItem.ALLOC_PCS));
            for (final long x : o) {
                s.free(x);
            }
            assertEquals(100, s.stat(StatItem.FREE_PCS));
            assertEquals(0, s.validate());
            assertEquals(0, s.activeObjects());
            s.destroy();
        }
    }

    @Test
    void sheavesOffAndInitOnAlloc() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2 mm4j.sheaves=0 init_on_alloc=1")) {
            final SlabAllocator a = k.slab().allocator();
            assertEquals(0, a.sheafCapacity());
            final long p = a.kmalloc(64);
            assertEquals(1, k.slab().findCache("kmalloc-64").stat(StatItem.ALLOC_SLOWPATH));
            a.kfree(p);
        }
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2 init_on_alloc=1")) {
            final SlabAllocator a = k.slab().allocator();
            final long p = a.kmalloc(64);
            k.slab().segment(p, 64).fill((byte) 0x77);
            a.kfree(p);
            final long q = a.kmalloc(64);
            assertEquals(p, q);
            assertEquals(0, k.slab().segment(q, 64).get(ValueLayout.JAVA_LONG, 0));
            a.kfree(q);
            assertEquals(Slub.ZERO_SIZE_PTR, k.slab().kmalloc(0, Gfp.KERNEL));
        }
    }

    @Test
    void threadSheavesRejectObjectsOfADestroyedCache() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final Slub slub = k.slab();
            final KmemCache s = slub.kmemCacheCreate("victim", 64, 0, 0, null);
            final SlabAllocator a = slub.allocator();
            final long kept = a.alloc(s);
            final long kept2 = a.alloc(s);
            a.free(s, a.alloc(s));  // the thread now has sheaves of "victim" (a fast-path id lookup hits)
            s.destroy();
            assertTrue(k.log().messages().stream().anyMatch(l -> l.contains("Objects remaining") && l.contains("victim")));
            final IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.kfree(kept));
            assertTrue(e.getMessage().contains("destroyed cache victim"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> a.free(s, kept2));
            assertThrows(IllegalStateException.class, () -> a.alloc(s));
            assertThrows(IllegalStateException.class, () -> slub.kfree(kept));
            assertEquals(0, a.objects(s), "no object of the destroyed cache went into a sheaf");
        }
    }
}
