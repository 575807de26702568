package org.mm4j.cli;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

import org.mm4j.cli.shell.Shell;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tab completion of /proc and /sys paths (the terminal part itself is checked by hand under tmux). */
class InteractiveTest {
    @Test
    void completesProcAndSysPaths() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=2")) {
            assertEquals(List.of("/proc/buddyinfo"), Interactive.completePath(k.procfs(), "/proc/bu"));
            final List<String> top = Interactive.completePath(k.procfs(), "/");
            assertTrue(top.contains("/proc/") && top.contains("/sys/"), top.toString());
            final List<String> caches = Interactive.completePath(k.procfs(), "/sys/kernel/slab/kmalloc-6");
            assertTrue(caches.contains("/sys/kernel/slab/kmalloc-64/"), caches.toString());
            final List<String> attrs = Interactive.completePath(k.procfs(), "/sys/kernel/slab/kmalloc-64/obj");
            assertTrue(attrs.contains("/sys/kernel/slab/kmalloc-64/object_size"), attrs.toString());
            assertTrue(Interactive.completePath(k.procfs(), "/nosuch/x").isEmpty());
        }
    }

    /** Without a terminal the shell reads stdin as a script does: a line past 1 MiB ends the run, not the heap. */
    @Test
    void thePlainFallbackPromptsAndKeepsTheScriptLineLimit() {
        final byte[] tooLong = new byte[(1 << 20) + 10];
        java.util.Arrays.fill(tooLong, (byte) 'x');
        final ByteArrayOutputStream input = new ByteArrayOutputStream();
        input.writeBytes("print 1\n".getBytes(StandardCharsets.US_ASCII));
        input.writeBytes(tooLong);
        input.writeBytes("\nprint 2\n".getBytes(StandardCharsets.US_ASCII));
        final ByteArrayOutputStream o = new ByteArrayOutputStream();
        final ByteArrayOutputStream e = new ByteArrayOutputStream();
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=2")) {
            final PrintStream out = new PrintStream(o, true, StandardCharsets.UTF_8);
            final Shell sh = new Shell(k, out, new PrintStream(e, true, StandardCharsets.UTF_8));
            assertEquals(2, Interactive.plain(sh, new ByteArrayInputStream(input.toByteArray()), out));
        }
        assertEquals("mm4j> 1\nmm4j> ", o.toString(StandardCharsets.UTF_8));
        assertEquals("mm4j: stdin:2: line longer than 1048576 bytes\n", e.toString(StandardCharsets.UTF_8));
    }
}
