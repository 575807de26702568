package org.mm4j.boot;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

class KernelConfigTest {
    @Test
    void defaultsAreTheReferenceKernelsMmOptions() {
        final KernelConfig c = BootParams.parse("").config();
        for (final String on : new String[] {"SLAB_FREELIST_HARDENED", "SLAB_FREELIST_RANDOM", "SLUB_CPU_PARTIAL",
            "SLUB_DEBUG", "ZONE_DMA", "ZONE_DMA32", "PER_VMA_LOCK", "MEMCG", "TRANSPARENT_HUGEPAGE",
            // compiled in by mm4j beyond the reference (issue 9's config item), off until asked
            "FAULT_INJECTION", "FAILSLAB", "FAIL_PAGE_ALLOC", "FAULT_INJECTION_DEBUG_FS", "PAGE_OWNER",
            "PAGE_EXTENSION", "DEBUG_KMEMLEAK", "DEBUG_KMEMLEAK_DEFAULT_OFF", "DEBUG_KMEMLEAK_AUTO_SCAN"}) {
            assertTrue(c.isEnabled(on), on);
        }
        for (final String off : new String[] {"SLUB_STATS", "RANDOM_KMALLOC_CACHES", "KFENCE",
            "INIT_ON_ALLOC_DEFAULT_ON", "INIT_ON_FREE_DEFAULT_ON", "DEBUG_KMEMLEAK_VERBOSE", "SLUB_DEBUG_ON",
            "FAULT_INJECTION_USERCOPY", "FAULT_INJECTION_STACKTRACE_FILTER", "FAIL_FUTEX"}) {
            assertFalse(c.isEnabled(off), off);
            assertNull(c.value(off), off);
        }
        assertEquals(256, c.longValue("NR_CPUS"));
        assertEquals("\"gcc (GCC) 15.3.0\"", c.value("CC_VERSION_TEXT"));
    }

    @Test
    void textIsTheReferenceFilePlusWhatMm4jCompilesIn() throws IOException {
        final Path ref = Path.of("..", "..", "shared", "samples", "kernel", "config-6.18.44.gz");
        final Path alt = Path.of("..", "shared", "samples", "kernel", "config-6.18.44.gz");
        final Path p = Files.exists(ref) ? ref : alt;
        requireOrSkip(Files.exists(p), p + " absent");
        final String reference = new String(new GZIPInputStream(Files.newInputStream(p)).readAllBytes(),
            StandardCharsets.UTF_8);
        final String expected = reference
            .replace("\n# CONFIG_PAGE_EXTENSION is not set\n", "\nCONFIG_PAGE_EXTENSION=y\n")
            .replace("\n# CONFIG_PAGE_OWNER is not set\n", "\nCONFIG_PAGE_OWNER=y\n")
            .replace("\n# CONFIG_FAULT_INJECTION is not set\n", """

                CONFIG_FAULT_INJECTION=y
                CONFIG_FAILSLAB=y
                CONFIG_FAIL_PAGE_ALLOC=y
                # CONFIG_FAULT_INJECTION_USERCOPY is not set
                # CONFIG_FAIL_MAKE_REQUEST is not set
                # CONFIG_FAIL_IO_TIMEOUT is not set
                # CONFIG_FAIL_FUTEX is not set
                CONFIG_FAULT_INJECTION_DEBUG_FS=y
                # CONFIG_FAULT_INJECTION_CONFIGFS is not set
                # CONFIG_FAULT_INJECTION_STACKTRACE_FILTER is not set
                """)
            .replace("\n# CONFIG_DEBUG_KMEMLEAK is not set\n", """

                CONFIG_DEBUG_KMEMLEAK=y
                CONFIG_DEBUG_KMEMLEAK_MEM_POOL_SIZE=16000
                CONFIG_DEBUG_KMEMLEAK_DEFAULT_OFF=y
                CONFIG_DEBUG_KMEMLEAK_AUTO_SCAN=y
                # CONFIG_DEBUG_KMEMLEAK_VERBOSE is not set
                """);
        assertEquals(reference.lines().count() + 13, expected.lines().count(), "the four lines were in the file");
        assertEquals(expected, KernelConfig.defaults().text());
        final String unzipped = new String(new GZIPInputStream(new ByteArrayInputStream(
            KernelConfig.defaults().gzip())).readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(expected, unzipped);
    }

    @Test
    void bootOverridesChangeValueAndText() {
        final BootParams p = BootParams.parse("mem=16M mm4j.config.SLAB_FREELIST_RANDOM=n mm4j.config.SLUB_STATS=y"
            + " mm4j.config.NR_CPUS=8 mm4j.config.CONFIG_INIT_ON_FREE_DEFAULT_ON=y"
            + " mm4j.config.DEFAULT_HOSTNAME=mm4j mm4j.config.PHYSICAL_START=0x2000000");
        final KernelConfig c = p.config();
        assertFalse(c.isEnabled("SLAB_FREELIST_RANDOM"));
        assertTrue(c.isEnabled("SLUB_STATS"));
        assertTrue(c.isEnabled("SLAB_FREELIST_HARDENED"), "others keep their default");
        assertEquals(8, c.longValue("NR_CPUS"));
        assertEquals(0x2000000, c.longValue("PHYSICAL_START"));
        assertTrue(p.initOnFree(), "init_on_free follows CONFIG_INIT_ON_FREE_DEFAULT_ON");
        assertFalse(BootParams.parse("mm4j.config.INIT_ON_FREE_DEFAULT_ON=y init_on_free=0").initOnFree(),
            "init_on_free= wins over the config default, as in Linux");
        assertTrue(p.unknown().isEmpty());
        final String text = c.text();
        assertTrue(text.contains("\n# CONFIG_SLAB_FREELIST_RANDOM is not set\n"), "n is written as not set");
        assertFalse(text.contains("CONFIG_SLAB_FREELIST_RANDOM=y"));
        assertTrue(text.contains("\nCONFIG_SLUB_STATS=y\n"));
        assertFalse(text.contains("# CONFIG_SLUB_STATS is not set"));
        assertTrue(text.contains("\nCONFIG_NR_CPUS=8\n"));
        assertTrue(text.contains("\nCONFIG_DEFAULT_HOSTNAME=\"mm4j\"\n"), "strings are quoted");
        assertEquals(KernelConfig.defaults().text().lines().count(), text.lines().count(), "lines replaced in place");
        try (Kernel k = Kernel.boot(p)) {
            assertEquals(text, k.procfs().read("/proc/config.gz"));
        }
    }

    @Test
    void slubStatFilesExistOnlyWithConfigSlubStats() {
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1")) {
            k.slab().kfree(k.slab().kmalloc(64, org.mm4j.page.Gfp.KERNEL));
            assertThrows(org.mm4j.base.ProcFs.ProcFsException.class,
                () -> k.procfs().read("/sys/kernel/slab/kmalloc-64/alloc_fastpath"), "not set in the reference");
            assertFalse(k.procfs().list("/sys/kernel/slab/kmalloc-64").contains("alloc_fastpath"));
            assertTrue(k.procfs().list("/sys/kernel/slab/kmalloc-64").contains("objects"));
        }
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1 mm4j.config.SLUB_STATS=y")) {
            assertTrue(k.procfs().read("/sys/kernel/slab/kmalloc-64/alloc_fastpath").matches("\\d+( C\\d+=\\d+)*\n"));
            assertTrue(k.procfs().list("/sys/kernel/slab/kmalloc-64").contains("alloc_fastpath"));
        }
    }

    @Test
    void badOverridesNameTheParameter() {
        expect("mm4j.config.NO_SUCH_THING=y", "mm4j.config.NO_SUCH_THING=y: no CONFIG_NO_SUCH_THING");
        expect("mm4j.config.SLUB_STATS=maybe", "mm4j.config.SLUB_STATS=maybe is not a bool");
        expect("mm4j.config.SLUB_STATS", "mm4j.config.SLUB_STATS needs a value");
        expect("mm4j.config.NR_CPUS=lots", "mm4j.config.NR_CPUS=lots is not a number");
        expect("mm4j.config.PHYSICAL_START=16", "mm4j.config.PHYSICAL_START=16 is not a hex number");
        expect("mm4j.config.KFENCE=y", "is not built into mm4j");
        expect("mm4j.config.FAULT_INJECTION_USERCOPY=y", "is not built into mm4j");
        assertThrows(IllegalArgumentException.class, () -> KernelConfig.defaults().isEnabled("NO_SUCH_THING"));
    }

    @Test
    void turningFaultInjectionOffDropsWhatDependsOnIt() {
        final KernelConfig c = BootParams.parse("mm4j.config.FAULT_INJECTION=n mm4j.config.PAGE_OWNER=n").config();
        assertFalse(c.isEnabled("FAULT_INJECTION"));
        assertFalse(c.isEnabled("FAILSLAB"), "depends on FAULT_INJECTION");
        assertFalse(c.isEnabled("FAULT_INJECTION_DEBUG_FS"));
        assertFalse(c.isEnabled("PAGE_OWNER"));
        final String text = c.text();
        assertTrue(text.contains("\n# CONFIG_FAULT_INJECTION is not set\n"), "n is written as not set");
        assertFalse(text.contains("FAILSLAB"), "Kconfig writes no line for a symbol whose dependency is off");
        assertFalse(text.contains("CONFIG_FAULT_INJECTION_STACKTRACE_FILTER"));
        assertTrue(text.contains("\n# CONFIG_PAGE_OWNER is not set\n"));
        assertEquals(KernelConfig.defaults().text().lines().count() - 9, text.lines().count());
    }

    private static void expect(final String cmdline, final String message) {
        final CmdlineException e = assertThrows(CmdlineException.class, () -> BootParams.parse(cmdline), cmdline);
        assertTrue(e.getMessage().contains(message), cmdline + " -> " + e.getMessage());
    }
}
