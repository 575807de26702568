package org.mm4j.cli;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

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
}
