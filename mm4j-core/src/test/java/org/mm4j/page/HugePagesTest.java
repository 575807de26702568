package org.mm4j.page;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.mm4j.testing.Smaps.vmFlags;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.PhysicalMemory.HugePages;
import org.mm4j.testing.Smaps;

/**
 * {@code mm4j.thp=}: the model's memory is advised as the parameter says, read back from the host's
 * {@code /proc/self/smaps} ({@code hg} = {@code MADV_HUGEPAGE}, {@code nh} = {@code MADV_NOHUGEPAGE}); skipped where
 * the host has no transparent huge pages or the memory is not an mmap. Behaviour only, no timing.
 */
class HugePagesTest {
    private static void requireThp() {
        assumeTrue(Reservation.isLazy(), "no lazy mmap reservation here (Linux only)");
        assumeTrue(Smaps.hostHasThp(), "no transparent huge pages on this host (" + Smaps.THP_ENABLED + ")");
    }

    @Test
    void alwaysAdvisesTheModelsMemoryOnA2MiBBoundary() throws IOException {
        requireThp();
        try (Kernel k = Kernel.boot("mem=16M nr_cpus=1 mm4j.thp=always")) {
            final long base = k.memory().nativeAddress(0);
            assertEquals(HugePages.ALWAYS, k.memory().hugePages());
            assertNull(k.memory().hugePagesRefused());
            assertEquals(0, base % Reservation.HPAGE_PMD_SIZE, "0x" + Long.toHexString(base) + " on a 2 MiB boundary");
            final List<String> flags = vmFlags(base);
            assertTrue(flags.contains("hg") && !flags.contains("nh"), "VmFlags " + flags);
            assertEquals(flags, vmFlags(base + k.memory().totalBytes() - 1), "the advice covers all of it");
            assertTrue(k.log().messages().toString().contains(
                "mm4j: transparent huge pages for the model's memory: always"), k.log().messages().toString());
        }
    }

    @Test
    void neverAdvisesAgainstAndHostGivesNoAdvice() throws IOException {
        requireThp();
        try (Kernel never = Kernel.boot("mem=16M nr_cpus=1 mm4j.thp=never");
             Kernel host = Kernel.boot("mem=16M nr_cpus=1")) {
            final List<String> n = vmFlags(never.memory().nativeAddress(0));
            assertTrue(n.contains("nh") && !n.contains("hg"), "mm4j.thp=never: VmFlags " + n);
            final List<String> h = vmFlags(host.memory().nativeAddress(0));
            assertFalse(h.contains("nh") || h.contains("hg"), "no mm4j.thp=: VmFlags " + h);
            assertEquals(HugePages.HOST, host.memory().hugePages());
            assertFalse(host.log().messages().toString().contains("transparent huge pages"));
        }
    }

    @Test
    void theParameterValuesAreTheModes() {
        assertEquals(HugePages.ALWAYS, HugePages.of("always"));
        assertEquals(HugePages.NEVER, HugePages.of("never"));
        assertEquals(HugePages.HOST, HugePages.of("host"));
    }
}
