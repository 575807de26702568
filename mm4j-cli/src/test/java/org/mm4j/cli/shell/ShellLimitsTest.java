package org.mm4j.cli.shell;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, reproductions 5 to 7 in the shell: host files are never read, expression and $(...) nesting limits
 * hold, slab flags and cache names are checked as kmem_cache_create does, aliases are destroyed by their own name
 * once. Every error names its line and the shell goes on.
 */
class ShellLimitsTest {
    /** Like /dev/zero: zero bytes without end; fails the test past 4 MiB (the reader must give up by itself). */
    static final class EndlessZeros extends java.io.InputStream {
        private long read;

        @Override
        public int read() {
            return read(new byte[1], 0, 1) < 0 ? -1 : 0;
        }

        @Override
        public int read(final byte[] b, final int off, final int len) {
            if (read > 4L << 20) {
                throw new AssertionError("read past 4 MiB of one line");
            }
            java.util.Arrays.fill(b, off, off + len, (byte) 0);
            read += len;
            return len;
        }
    }

    private static String nest(final int depth) {
        return "$(print ".repeat(depth) + "1" + ")".repeat(depth);
    }

    @Test
    void deepExpressionsAreAnErrorNotAStackOverflow() {
        final ShellRun r = ShellRun.run("print " + "(".repeat(100_000) + "\nprint " + "-".repeat(1_000_000)
            + "1\nprint " + "~".repeat(300) + "0\nprint " + "(".repeat(200) + "7" + ")".repeat(200) + "\n");
        assertEquals("7\n", r.out());
        final String[] err = r.err().split("\n");
        assertEquals(3, err.length, r.err());
        for (int i = 0; i < 3; i++) {
            assertEquals("mm4j: " + (i + 1) + ": bad expression: expression nesting too deep (more than 256 levels"
                + " of parentheses and unary operators)", err[i]);
        }
        assertFalse(r.err().contains("StackOverflowError"));
    }

    @Test
    void theSubstitutionDepthLimitDoesNotDecayAfterFailures() {
        final StringBuilder script = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            script.append("print ").append(nest(17)).append('\n');
        }
        script.append("print ").append(nest(3000)).append('\n');
        script.append("print ").append(nest(16)).append('\n');
        final ShellRun r = ShellRun.run(script.toString());
        assertEquals("1\n", r.out(), "depth 16 still works after 201 failures");
        final String[] err = r.err().split("\n");
        assertEquals(201, err.length);
        assertEquals("mm4j: 201: $(...) nested too deeply (at most 16 levels)", err[200]);
    }

    @Test
    void theHostsFilesAreNeverRead() {
        final ShellRun r = ShellRun.run("""
            openat(AT_FDCWD, "/etc/passwd", O_RDONLY)
            mkfile /etc/passwd 4096 6d6f64656c
            openat(AT_FDCWD, "/etc/passwd", O_RDONLY)
            p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0)
            touch $p
            close(3)
            close(3)
            mkfile
            mkfile etc/relative 1
            """);
        assertTrue(r.out().startsWith("= -1 ENOENT (No such file or directory)\n= 3\n= 0x"), r.out());
        assertTrue(r.out().contains("= 0\n= -1 EBADF (Bad file descriptor)\n/etc/passwd"), r.out());
        assertTrue(r.out().contains("4096 bytes"), r.out());
        assertTrue(r.err().startsWith("mm4j: 9: mkfile: PATH 'etc/relative'"), r.err());
    }

    @Test
    void slabFlagsOutsideThePermittedSetAreEinval() {
        final ShellRun r = ShellRun.run("""
            kmem_cache_create f 64 flags=0xffffffffffffffff
            kmem_cache_create g 64 flags=SLAB_KASAN
            kmem_cache_create h 64 flags=SLAB_HWCACHE_ALIGN|SLAB_ACCOUNT
            kmem_cache_alloc f
            kmem_cache_destroy h
            """);
        final String[] err = r.err().split("\n");
        assertTrue(err[0].startsWith("mm4j: 1: kmem_cache_create(f): flags 0xffffffffffffffff outside"
            + " SLAB_FLAGS_PERMITTED"), err[0]);
        assertTrue(err[0].endsWith("-EINVAL"), err[0]);
        assertTrue(err[1].startsWith("mm4j: 2: kmem_cache_create(g): flags 0x8000 outside"), err[1]);
        assertTrue(err[2].startsWith("mm4j: 4: no cache named 'f'"), err[2]);
        assertEquals(3, err.length, r.err());
    }

    @Test
    void cacheNamesFollowTheKernelAndSysfs() {
        final ShellRun r = ShellRun.run("""
            kmem_cache_create . 64
            kmem_cache_create .. 64
            kmem_cache_create a/b 64
            kmem_cache_create %s 64
            kmem_cache_create ok.name-1 64
            """.formatted("n".repeat(256)));
        final String[] err = r.err().split("\n");
        assertEquals(4, err.length, r.err());
        assertTrue(err[0].contains("cache name '.' cannot be a /sys/kernel/slab directory: -EINVAL"), err[0]);
        assertTrue(err[1].contains("cache name '..' cannot be"), err[1]);
        assertTrue(err[2].contains("bad cache name 'a/b'"), err[2]);
        assertTrue(err[3].contains("cache name of 256 bytes is longer than 255"), err[3]);
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> k.slab().kmemCacheCreate("x".repeat(10 << 20), 64, null));
            assertTrue(e.getMessage().contains("-ENAMETOOLONG") && e.getMessage().length() < 200, e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> k.slab().kmemCacheCreate("", 64, null));
        }
    }

    @Test
    void eachAliasIsDestroyedByItsOwnNameExactlyOnce() {
        final ShellRun r = ShellRun.run("""
            kmem_cache_create a1 200
            kmem_cache_create a2 200
            kmem_cache_create a3 200
            kmem_cache_destroy a2
            p = kmem_cache_alloc a3
            kmem_cache_free a3 $p
            kmem_cache_destroy a2
            kmem_cache_destroy a3
            kmem_cache_destroy a1
            kmem_cache_destroy a1
            kmem_cache_alloc a1
            """);
        assertEquals("""
            mm4j: 7: kmem_cache_destroy: no cache or alias named 'a2'
            mm4j: 10: kmem_cache_destroy: no cache or alias named 'a1'
            mm4j: 11: no cache named 'a1' (cat /proc/slabinfo lists them)
            """, r.err());
    }

    @Test
    void aScriptLineThatIsNotUtf8FailsAndAnEndlessLineEndsTheRun() {
        final byte[] script = {'p', 'r', 'i', 'n', 't', ' ', '1', (byte) 0xff, '\n', 'p', 'r', 'i', 'n', 't', ' ',
            '2', '\n'};
        final ByteArrayOutputStream o = new ByteArrayOutputStream();
        final ByteArrayOutputStream e = new ByteArrayOutputStream();
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final Shell sh = new Shell(k, new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8));
            assertEquals(1, sh.runScript(new ByteArrayInputStream(script), "s.mm4j"));
            final Shell sh2 = new Shell(k, new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8));
            assertEquals(2, sh2.runScript(new EndlessZeros(), "/dev/zero"));
        }
        assertEquals("2\n", o.toString(StandardCharsets.UTF_8));
        assertEquals("mm4j: s.mm4j:1: not UTF-8 text (byte 0xff at column 8)\n"
            + "mm4j: /dev/zero:1: line longer than 1048576 bytes\n", e.toString(StandardCharsets.UTF_8));
    }
}
