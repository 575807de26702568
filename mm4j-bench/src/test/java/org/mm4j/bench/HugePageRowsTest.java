package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The transparent-huge-page rows of the "Huge pages" measurement (not table rows): {@code mm4j-thp}'s memory is
 * advised {@code MADV_HUGEPAGE} and the plain row's is not (read back from {@code /proc/self/smaps}), and a peer
 * library loaded once without its huge-page option is never measured as the huge-page row (behaviour, no timing).
 */
class HugePageRowsTest {
    private static final Path THP = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

    @Test
    void mm4jThpAdvisesTheModelsMemoryAndMm4jDoesNot() throws IOException {
        assumeTrue(Files.isReadable(THP) && Files.isReadable(Path.of("/proc/self/smaps")),
            "no transparent huge pages on this host (" + THP + ")");
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

    /** The VmFlags of the smaps entry holding {@code address}, empty when none holds it. */
    private static List<String> vmFlags(final long address) throws IOException {
        boolean in = false;
        for (final String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            final int dash = line.indexOf('-');
            final int space = line.indexOf(' ');
            if (dash > 0 && space > dash && line.substring(0, dash).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                final long lo = Long.parseUnsignedLong(line.substring(0, dash), 16);
                final long hi = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                in = Long.compareUnsigned(address, lo) >= 0 && Long.compareUnsigned(address, hi) < 0;
            } else if (in && line.startsWith("VmFlags:")) {
                return List.of(line.substring("VmFlags:".length()).trim().split(" "));
            }
        }
        return List.of();
    }
}
