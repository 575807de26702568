package org.mm4j.cli.shell;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The slab commands, script in, output out. */
class SlabShellTest {
    private static final String ADDR = "0xffff888[0-9a-f]{9}";

    @Test
    void cacheLifecycle() {
        final ShellRun r = ShellRun.run("mem=64M nr_cpus=2 slab_nomerge", """
            kmem_cache_create foo 100 align=64 flags=SLAB_HWCACHE_ALIGN
            cat /sys/kernel/slab/foo/object_size
            cat /sys/kernel/slab/foo/align
            p = kmem_cache_alloc foo
            print $p % 64
            cat /sys/kernel/slab/foo/objects
            kmem_cache_free foo $p
            kmem_cache_shrink foo
            kmem_cache_destroy foo
            kmem_cache_alloc foo
            """);
        final String[] out = r.out().split("\n");
        assertEquals("100", out[0]);
        assertEquals("64", out[1]);
        assertTrue(out[2].matches(ADDR), out[2]);
        assertEquals("0", out[3]);
        assertEquals("mm4j: 10: no cache named 'foo' (cat /proc/slabinfo lists them)\n", r.err());
        assertEquals(1, r.status());
    }

    @Test
    void kmallocFamily() {
        final ShellRun r = ShellRun.run("""
            p = kmalloc 100
            ksize $p
            q = krealloc $p 300
            ksize $q
            kfree $q
            z = kzalloc 64
            read $z 16
            c = kcalloc 4 16
            ksize $c
            kmalloc 0
            kcalloc 0xffffffffffff 0xffffffffffff
            big = kmalloc 20000
            ksize $big
            kfree $big
            kfree 0
            """);
        final String[] out = r.out().split("\n");
        assertTrue(out[0].matches(ADDR), out[0]);
        assertEquals("128", out[1]);
        assertTrue(out[2].matches(ADDR), out[2]);
        assertEquals("512", out[3]);
        assertTrue(out[4].matches(ADDR), out[4]);
        assertTrue(out[5].endsWith(": 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................"), out[5]);
        assertTrue(out[6].matches(ADDR), out[6]);
        assertEquals("64", out[7]);
        assertEquals("0x0000000000000010", out[8], "kmalloc(0) is ZERO_SIZE_PTR");
        assertEquals("0x0000000000000000", out[9], "kcalloc overflow is NULL");
        assertTrue(out[10].matches(ADDR), out[10]);
        assertEquals("32768", out[11], "a large kmalloc is a compound page of order 3");
        assertEquals("", r.err());
    }

    @Test
    void createOptionsAreChecked() {
        final ShellRun r = ShellRun.run("""
            kmem_cache_create a 0
            kmem_cache_create b 64 flags=SLAB_BOGUS
            kmem_cache_create c 64 colour=3
            kmem_cache_create d 64 align=3
            kmem_cache_create e 64 ctor=init:0x5a
            x = kmem_cache_alloc e
            read $x 8
            kmem_cache_create f
            """);
        assertTrue(r.err().startsWith("""
            mm4j: 1: kmem_cache_create: SIZE 0 out of range (expected: 1 to 4194304)
            mm4j: 2: kmem_cache_create: unknown slab flag 'SLAB_BOGUS' in SLAB_BOGUS"""), r.err());
        assertTrue(r.err().contains("mm4j: 3: unknown option 'colour=3' (expected: align=, flags=, ctor=, "
            + "freeptr_offset=, sheaf_capacity=); usage: kmem_cache_create"), r.err());
        assertTrue(r.err().contains("mm4j: 4: "), r.err());
        assertTrue(r.out().contains(": 5a 5a 5a 5a 5a 5a 5a 5a"), "the ctor ran: " + r.out());
        assertTrue(r.err().contains("mm4j: 8: missing SIZE; usage: kmem_cache_create NAME SIZE"), r.err());
    }

    @Test
    void aRawWriteIntoARedZoneIsReportedByValidate() {
        final ShellRun r = ShellRun.run("""
            kmem_cache_create foo 64 flags=SLAB_RED_ZONE|SLAB_POISON
            p = kmem_cache_alloc foo
            dmesg -C
            echo 1 > /sys/kernel/slab/foo/validate
            dmesg
            write $p+64 12
            echo 1 > /sys/kernel/slab/foo/validate
            dmesg -c
            kmem_cache_free foo $p
            echo 1 > /sys/kernel/slab/foo/validate
            dmesg
            """);
        final String[] parts = r.out().split("BUG foo", -1);
        assertTrue(r.out().startsWith("0xffff888"), r.out());
        assertEquals("", r.err());
        // nothing before the write, a red-zone report after it, the cache clean again after the FIX
        assertTrue(parts.length >= 2, r.out());
        assertTrue(r.out().contains("Right Redzone overwritten"), r.out());
        assertTrue(r.out().contains("FIX foo: Restoring Right Redzone"), r.out());
        final int afterFix = r.out().lastIndexOf("FIX foo");
        assertTrue(r.out().indexOf("BUG foo", afterFix) < 0, "validate is clean after the fix: " + r.out());
    }
}
