package org.mm4j.cli.shell;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 16's kmemleak through the shell, in the kernel's words (mm/kmemleak.c, Linux 6.18). */
class KmemleakShellTest {
    private static final String ON = "mem=64M nr_cpus=2 kmemleak=on";
    private static final String FILE = "/sys/kernel/debug/kmemleak";
    private static final Pattern REPORT = Pattern.compile("unreferenced object (0x[0-9a-f]+) \\(size (\\d+)\\):");

    /** The addresses the file reports, in its order. */
    private static List<String> reported(final String text) {
        final Matcher m = REPORT.matcher(text);
        final java.util.ArrayList<String> out = new java.util.ArrayList<>();
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** dmesg without the time stamps. */
    private static List<String> dmesg(final String out) {
        return Arrays.stream(out.split("\n")).filter(l -> l.startsWith("["))
            .map(l -> l.replaceFirst("^\\[ *[0-9.]+\\] ", "")).toList();
    }

    @Test
    void aDroppedObjectIsReportedOnceOlderThanTheMinimumAgeInTheKernelsFormat() {
        final ShellRun r = ShellRun.run(ON, """
            p = kmalloc 64
            fill $p 5 0x41
            print $p
            unset p
            echo scan > /sys/kernel/debug/kmemleak
            cat /sys/kernel/debug/kmemleak
            sleep 5
            echo scan > /sys/kernel/debug/kmemleak
            echo ---
            cat /sys/kernel/debug/kmemleak
            echo ---
            dmesg
            """);
        assertEquals("", r.err());
        final String[] parts = r.out().split("---\n");
        final String p = parts[0].split("\n")[1];
        assertEquals(1, parts[0].split("\n").length - 1, "young (and changed) at the first scan: nothing reported");
        final String[] rep = parts[1].split("\n");
        assertEquals("unreferenced object " + p + " (size 64):", rep[0]);
        assertTrue(rep[1].matches("  comm \"mm4j\", pid 1, jiffies \\d+"), rep[1]);
        assertEquals("  hex dump (first 32 bytes):", rep[2]);
        assertEquals("    41 41 41 41 41 00 00 00 00 00 00 00 00 00 00 00  AAAAA...........", rep[3]);
        assertEquals("    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................", rep[4]);
        assertTrue(rep[5].matches("  backtrace \\(crc [0-9a-f]+\\):"), rep[5]);
        assertTrue(rep[6].matches("    \\[<[0-9a-f]{16}>] \\S+\\+0x[0-9a-f]+/0x0 \\[\\w+\\.java:\\d+]"), rep[6]);
        assertEquals("] mm4j shell line 1: p = kmalloc 64", rep[rep.length - 1].replaceFirst("^.*\\[<[0-9a-f]+>", ""));
        assertTrue(Arrays.stream(rep).anyMatch(l -> l.contains("Slub.kmalloc")), parts[1]);
        final List<String> log = dmesg(parts[2]);
        assertTrue(log.contains("kmemleak: Kernel memory leak detector initialized (mem pool available: 16000)"));
        assertEquals(List.of("kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)"),
            log.stream().filter(l -> l.contains("suspected")).toList());
    }

    @Test
    void objectsReferencedFromAVariableAnotherObjectOrProcessMemoryAreNotReported() {
        final ShellRun r = ShellRun.run(ON, """
            a = kmalloc 64
            b = kmalloc 64
            store64 $a+8 $b
            m = mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
            c = kmalloc 32
            store64 $m+16 $c
            d = kmalloc 32
            print $d
            unset b c d
            sleep 10
            echo scan > /sys/kernel/debug/kmemleak
            echo scan > /sys/kernel/debug/kmemleak
            cat /sys/kernel/debug/kmemleak
            """);
        assertEquals("", r.err());
        final String d = r.out().split("\n")[5];
        assertEquals(List.of(d), reported(r.out()), "only d: a is in $a, b in a, c in the process's memory");
    }

    @Test
    void cuttingTheChainReportsTheRestAndClearHidesIt() {
        final ShellRun r = ShellRun.run(ON, """
            a = kmalloc 64
            b = kmalloc 64
            c = kmalloc 64
            store64 $a $b
            store64 $b $c
            print $b
            print $c
            unset b c
            sleep 6
            echo scan > /sys/kernel/debug/kmemleak
            cat /sys/kernel/debug/kmemleak
            echo ---
            store64 $a 0
            echo scan > /sys/kernel/debug/kmemleak
            echo scan > /sys/kernel/debug/kmemleak
            cat /sys/kernel/debug/kmemleak
            echo ---
            echo clear > /sys/kernel/debug/kmemleak
            cat /sys/kernel/debug/kmemleak
            echo scan > /sys/kernel/debug/kmemleak
            cat /sys/kernel/debug/kmemleak
            echo end
            """);
        assertEquals("", r.err());
        final String[] parts = r.out().split("---\n");
        final String[] lines = parts[0].split("\n");
        final String b = lines[3];
        final String c = lines[4];
        assertEquals(List.of(), reported(parts[0]), "a -> b -> c from $a");
        assertEquals(List.of(b, c), reported(parts[1]), "the chain cut after a: b and c, in allocation order");
        assertEquals("end\n", parts[2], "clear paints the reported objects grey: not listed, not reported again");
    }

    @Test
    void dumpPrintsTheObjectInDmesgAndAnUnknownAddressIsInvalid() {
        final ShellRun r = ShellRun.run(ON, """
            p = kmalloc 100
            echo dump=$p > /sys/kernel/debug/kmemleak
            echo dump=0x1234 > /sys/kernel/debug/kmemleak
            echo bogus > /sys/kernel/debug/kmemleak
            dmesg
            """);
        final String p = r.out().split("\n")[0];
        final List<String> log = dmesg(r.out());
        final int at = log.indexOf("kmemleak: Object " + p + " (size 128):");
        assertTrue(at > 0, r.out());
        assertTrue(log.get(at + 1).matches("kmemleak:   comm \"mm4j\", pid 1, jiffies \\d+"), log.get(at + 1));
        assertEquals(List.of("kmemleak:   min_count = 1", "kmemleak:   count = -1", "kmemleak:   flags = 0x1",
            "kmemleak:   checksum = 0", "kmemleak:   backtrace:"), log.subList(at + 2, at + 7));
        assertTrue(log.get(at + 7).startsWith(" org.mm4j."), log.get(at + 7));
        assertTrue(log.contains(" mm4j shell line 1: p = kmalloc 100"));
        assertTrue(log.contains("kmemleak: Unknown object at 0x00001234"));
        assertEquals("mm4j: 3: echo: write error: " + FILE + ": Invalid argument\n"
            + "mm4j: 4: echo: write error: " + FILE + ": Invalid argument\n", r.err());
    }

    @Test
    void stackOffLeavesTheVariablesOutAndOffStopsKmemleak() {
        final ShellRun r = ShellRun.run(ON, """
            p = kzalloc 16
            print $p
            sleep 6
            echo stack=off > /sys/kernel/debug/kmemleak
            echo scan > /sys/kernel/debug/kmemleak
            cat /sys/kernel/debug/kmemleak
            echo off > /sys/kernel/debug/kmemleak
            echo scan > /sys/kernel/debug/kmemleak
            dmesg
            """);
        final String p = r.out().split("\n")[1];
        assertEquals(List.of(p), reported(r.out()), "only $p pointed to it, and variables are a stack root");
        final List<String> log = dmesg(r.out());
        assertTrue(log.contains("kmemleak: Kernel memory leak detector disabled"), r.out());
        assertTrue(log.contains("kmemleak: Kmemleak disabled without freeing internal data. Reclaim the memory with"
            + " \"echo clear > /sys/kernel/debug/kmemleak\"."), r.out());
        assertEquals("mm4j: 8: echo: write error: " + FILE + ": Operation not permitted\n", r.err());
    }

    @Test
    void theAutomaticScanRunsWhenTheClockPassesItsDueTime() {
        final ShellRun r = ShellRun.run(ON, """
            kzalloc 256
            sleep 30
            dmesg
            echo ---
            sleep 31
            dmesg
            """);
        final String[] parts = r.out().split("---\n");
        assertFalse(parts[0].contains("suspected"), "the first automatic scan comes 60 s after boot");
        assertTrue(parts[1].contains("] kmemleak: 1 new suspected memory leaks (see " + FILE + ")\n"), parts[1]);
        assertEquals("", r.err());
    }

    @Test
    void offByDefaultThereIsNoFileAndFreedObjectsAreForgotten() {
        final ShellRun off = ShellRun.run("""
            cat /sys/kernel/debug/kmemleak
            sleep 1
            """);
        assertEquals("mm4j: 1: cat: " + FILE + ": No such file or directory\n", off.err());
        final ShellRun freed = ShellRun.run(ON, """
            p = kmalloc 64
            kfree $p
            q = kmalloc 10000
            kfree $q
            sleep 6
            echo scan > /sys/kernel/debug/kmemleak
            cat /sys/kernel/debug/kmemleak
            """);
        assertEquals(List.of(), reported(freed.out()));
        assertEquals("", freed.err());
    }

    @Test
    void verbosePrintsNewLeaksToDmesg() {
        final ShellRun r = ShellRun.run(ON, """
            cat /sys/module/kmemleak/parameters/verbose
            echo Y > /sys/module/kmemleak/parameters/verbose
            kzalloc 24
            sleep 5
            echo scan > /sys/kernel/debug/kmemleak
            dmesg
            """);
        final String[] out = r.out().split("\n");
        assertEquals("N", out[0]);
        final List<String> log = dmesg(r.out());
        final int at = log.indexOf("kmemleak: unreferenced object " + out[1] + " (size 32):");
        assertTrue(at > 0, r.out());
        assertEquals("kmemleak:   hex dump (first 32 bytes):", log.get(at + 2));
        final String frame = "kmemleak:     \\[<[0-9a-f]{16}>] mm4j shell line 3: kzalloc 24";
        assertTrue(log.stream().anyMatch(l -> l.matches(frame)), r.out());
        assertEquals("", r.err());
    }
}
