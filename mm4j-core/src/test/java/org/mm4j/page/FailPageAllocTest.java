package org.mm4j.page;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.base.ProcFs;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** fail_page_alloc (mm/fail_page_alloc.c): min-order, the gfp rules, the report, no damage to the free lists. */
class FailPageAllocTest {
    private static final String DIR = "/sys/kernel/debug/fail_page_alloc/";

    @Test
    void debugfsShowsTheKernelsDefaults() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1")) {
            final ProcFs fs = k.procfs();
            assertEquals(List.of("ignore-gfp-highmem", "ignore-gfp-wait", "interval", "min-order", "probability",
                "space", "task-filter", "times", "verbose", "verbose_ratelimit_burst",
                "verbose_ratelimit_interval_ms"), fs.list("/sys/kernel/debug/fail_page_alloc").stream().sorted()
                .toList());
            assertEquals("1\n", fs.read(DIR + "min-order"));
            assertEquals("Y\n", fs.read(DIR + "ignore-gfp-highmem"));
            assertEquals("Y\n", fs.read(DIR + "ignore-gfp-wait"));
            assertEquals("0\n", fs.read(DIR + "probability"));
        }
    }

    @Test
    void minOrderAndGfpRulesThenNoDamage() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1")) {
            final BuddyAllocator b = k.buddy();
            final long free = b.freePages();
            final ProcFs fs = k.procfs();
            fs.write(DIR + "probability", "100");
            fs.write(DIR + "times", "-1");
            final long p0 = b.allocPages(Gfp.ATOMIC, 0);
            assertTrue(p0 >= 0, "order 0 is below min-order 1");
            assertEquals(-1, b.allocPages(Gfp.ATOMIC, 1));
            final long k1 = b.allocPages(Gfp.KERNEL, 1);
            assertTrue(k1 >= 0, "ignore-gfp-wait: may sleep, exempt");
            fs.write(DIR + "ignore-gfp-wait", "N");
            final long user = b.allocPages(Gfp.HIGHUSER_MOVABLE, 2);
            assertTrue(user >= 0, "ignore-gfp-highmem: user pages exempt");
            assertEquals(-1, b.allocPages(Gfp.KERNEL, 3));
            final long nofail = b.allocPages(Gfp.KERNEL | Gfp.NOFAIL, 3);
            assertTrue(nofail >= 0);
            fs.write(DIR + "min-order", "0");
            assertEquals(-1, b.allocPages(Gfp.KERNEL, 0));
            final List<String> log = k.log().messages();
            assertTrue(log.contains("name fail_page_alloc, interval 1, probability 100, space 0, times -1"), log
                .toString());
            assertTrue(log.contains(" should_fail_alloc_page"));
            assertFalse(log.stream().anyMatch(l -> l.contains("page allocation failure")),
                "an injected failure skips warn_alloc");
            fs.write(DIR + "probability", "0");
            for (final long[] pa : new long[][] {{p0, 0}, {k1, 1}, {user, 2}, {nofail, 3}}) {
                assertTrue(b.freePages(pa[0], (int) pa[1]));
            }
            b.drainAllPages();
            assertEquals(free, b.freePages());
            assertEquals(List.of(), b.validate());
        }
    }

    @Test
    void spaceCountsPagesAndTheJavaApi() {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=1 fail_page_alloc=1,100,6,-1")) {
            final BuddyAllocator b = k.buddy();
            b.failPageAlloc().attr().verbose(0);
            b.failPageAlloc().ignoreGfpWait(false);
            // space 6 pages: order 1 (2 pages) twice leaves 2, then 2 > 2 is false: the third fails
            final long a1 = b.allocPages(Gfp.KERNEL, 1);
            final long a2 = b.allocPages(Gfp.KERNEL, 1);
            assertTrue(a1 >= 0 && a2 >= 0);
            assertEquals(-1, b.allocPages(Gfp.KERNEL, 1));
            b.failPageAlloc().failNext(2, 0);
            assertEquals(-1, b.allocPages(Gfp.HIGHUSER_MOVABLE, 0));
            assertEquals(-1, b.allocPages(Gfp.KERNEL, 0));
            final long ok = b.allocPages(Gfp.KERNEL, 0);
            assertTrue(ok >= 0, "times reached 0");
            b.freePages(ok, 0);
            b.freePages(a1, 1);
            b.freePages(a2, 1);
            assertEquals(List.of(), b.validate());
        }
    }
}
