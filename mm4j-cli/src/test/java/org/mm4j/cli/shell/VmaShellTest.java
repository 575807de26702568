package org.mm4j.cli.shell;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Syscall lines, touch, ps/pid and /proc/self/maps through the shell. */
class VmaShellTest {
    @Test
    void syscallLinesPrintStraceResultsAndStoreThem() {
        final ShellRun r = ShellRun.run("""
            p = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
            munmap($p + 4096, 4096) = 0
            touch $p w
            touch $p+4096 r
            mprotect($p, 4096, PROT_READ)
            touch $p w
            munmap($p + 1, 4096)
            print $p & 0xfff
            cat /proc/self/maps
            """);
        final String[] out = r.out().split("\n");
        assertTrue(out[0].matches("= 0x7f[0-9a-f]{10}"), out[0]);
        assertEquals("= 0", out[1]);
        assertEquals("= 0", out[2]);
        assertEquals("= -1 EINVAL (Invalid argument)", out[3]);
        assertEquals("0", out[4]);
        final String start = out[0].substring(4);
        final String end = Long.toHexString(Long.parseLong(start, 16) + 4096);
        assertTrue(r.out().contains("\n" + start + "-" + end + " r--p 00000000 00:00 0"), r.out());
        final String[] err = r.err().split("\n");
        assertEquals(2, err.length, r.err());
        assertEquals("mm4j: 4: Segmentation fault at 0x" + end + " (SEGV_MAPERR)", err[0]);
        assertEquals("mm4j: 6: Segmentation fault at 0x" + start + " (SEGV_ACCERR)", err[1]);
    }

    @Test
    void straceDashFLinesWithPidPrefixesRun() {
        final ShellRun r = ShellRun.run("""
            1234 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000
            [pid  1234] brk(NULL) = 0x555555559000
            """);
        assertEquals("", r.err());
        final String[] out = r.out().split("\n");
        assertTrue(out[0].matches("= 0x7f[0-9a-f]+"), out[0]);
        assertTrue(out[1].matches("= 0x[0-9a-f]+"), out[1]);
    }

    @Test
    void argumentExpressionsAreEvaluatedFlagsAreNot() {
        assertEquals("munmap( 0x1100, 4096)", VmaCommands.evaluateArgs("munmap(0x1000 + 256, 4096)"));
        assertEquals("mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE, -1, 0)",
            VmaCommands.evaluateArgs("mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE, -1, 0)"));
        assertEquals("munmap( 0x7f0000001000, 4096) = 0",
            VmaCommands.evaluateArgs("munmap(0x7f0000000000+4096, 4096) = 0"));
        assertEquals("prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, 0x1000, 4096, \"a+b\")",
            VmaCommands.evaluateArgs("prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, 0x1000, 4096, \"a+b\")"));
    }

    @Test
    void processesForkAndBadLines() {
        final ShellRun r = ShellRun.run("""
            pid
            p = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
            write_ok = print 1
            touch $p w
            c = fork
            pid $c
            pid
            touch $p w
            ps
            pid 7
            touch 0x1000 z
            mmap(
            frob(1, 2)
            """);
        final String[] out = r.out().split("\n");
        assertEquals("1", out[0]);
        assertEquals("2", out[3], "fork prints the child's pid");
        assertEquals("2", out[4]);
        assertTrue(out[5].matches(" +PID +PPID +VSZ +RSS COMMAND"), out[5]);
        assertTrue(out[6].matches(" +1 +0 .*"), out[6]);
        assertTrue(out[7].matches("\\* +2 +1 .*"), out[7]);
        final String[] err = r.err().split("\n");
        assertEquals("mm4j: 10: pid: no process 7 (ps lists them)", err[0]);
        assertEquals("mm4j: 11: touch: access 'z' (expected: r, w or x)", err[1]);
        assertTrue(err[2].startsWith("mm4j: 12: "), r.err());
        assertTrue(err[3].startsWith("mm4j: 13: "), r.err());
        assertEquals(4, err.length, r.err());
    }

    @Test
    void reportWritesTheStateAsOnePage(@org.junit.jupiter.api.io.TempDir final java.nio.file.Path dir)
        throws java.io.IOException {
        final java.nio.file.Path f = dir.resolve("state.html");
        final ShellRun r = ShellRun.run("""
            mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
            fork
            q = kmalloc 100
            report %s
            """.formatted(f));
        assertEquals("", r.err());
        assertTrue(r.out().endsWith(f.toAbsolutePath() + "\n"), r.out());
        final String html = java.nio.file.Files.readString(f);
        assertEquals(2, html.split("<svg ", -1).length - 1, "one strip per process");
        assertTrue(html.contains("<td>kmalloc-128</td>"), "the cache in use is listed");
        assertTrue(html.contains("[stack]"));
    }
}
