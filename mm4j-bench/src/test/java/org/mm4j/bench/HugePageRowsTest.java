package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.mm4j.testing.Smaps.vmFlags;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mm4j.testing.Smaps;

/**
 * The transparent-huge-page rows of the "Huge pages" measurement (not table rows): {@code mm4j-thp}'s memory is
 * advised {@code MADV_HUGEPAGE} and the plain row's is not (read back from {@code /proc/self/smaps}), and a peer
 * library loaded once without its huge-page option is never measured as the huge-page row (behaviour, no timing).
 */
class HugePageRowsTest {
    @Test
    void mm4jThpAdvisesTheModelsMemoryAndMm4jDoesNot() throws IOException {
        assumeTrue(Smaps.hostHasThp(), "no transparent huge pages on this host (" + Smaps.THP_ENABLED + ")");
        try (Allocator thp = Allocators.open("mm4j-thp"); Allocator plain = Allocators.open("mm4j")) {
            thp.bindThread(0);
            plain.bindThread(0);
            final long a = thp.alloc(64, null, 0);
            final long b = plain.alloc(64, null, 0);
            final long na = thp.nativeAddress(a);
            final long nb = plain.nativeAddress(b);
            MemorySegment.ofAddress(na).reinterpret(64).set(ValueLayout.JAVA_LONG, 0, 42);
            MemorySegment.ofAddress(nb).reinterpret(64).set(ValueLayout.JAVA_LONG, 0, 42);
            assertTrue(vmFlags(na).contains("hg"), "mm4j-thp's memory at 0x" + Long.toHexString(na)
                + " has VmFlags " + vmFlags(na) + " (expected: hg, madvise(MADV_HUGEPAGE))");
            assertFalse(vmFlags(nb).contains("hg"), "mm4j's memory at 0x" + Long.toHexString(nb)
                + " has VmFlags " + vmFlags(nb) + " (expected: no hg)");
            thp.free(a, 64, null, 0);
            plain.free(b, 64, null, 0);
        }
    }

    @Test
    void aPeerLoadedWithoutHugePagesIsNeverMeasuredAsItsHugePageRow() {
        for (final String peer : List.of("jemalloc", "mimalloc")) {
            final String why = Allocators.unavailableReason(peer);
            requireOrSkip(why == null, peer + " unavailable: " + why);
            // the plain row loaded the library in this process with its defaults; the option is read once
            final Allocators.Unavailable e = assertThrows(Allocators.Unavailable.class,
                () -> Allocators.open(peer + "-thp"));
            assertTrue(e.getMessage().startsWith(peer + "-thp: the " + peer + " loaded in this process has")
                && e.getMessage().contains("a process of its own"), e.getMessage());
            assertEquals(null, Allocators.unavailableReason(peer), peer + " stays usable");
        }
    }
}
