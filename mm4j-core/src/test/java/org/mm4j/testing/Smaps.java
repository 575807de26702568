package org.mm4j.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The host's {@code /proc/self/smaps}, for tests that check how the model's memory is mapped (transparent huge
 * pages: {@code hg} = {@code MADV_HUGEPAGE}, {@code nh} = {@code MADV_NOHUGEPAGE} in {@code VmFlags}). One class
 * for every module: mm4j-core's test-jar carries it to the others.
 */
public final class Smaps {
    /** Where the host's THP mode is shown; absent when the host kernel has no transparent huge pages. */
    public static final Path THP_ENABLED = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

    private Smaps() {
    }

    /** Whether this host has transparent huge pages and a readable smaps. */
    public static boolean hostHasThp() {
        return Files.isReadable(THP_ENABLED) && Files.isReadable(Path.of("/proc/self/smaps"));
    }

    /** The VmFlags of the mapping holding {@code address}, empty when none holds it. */
    public static List<String> vmFlags(final long address) throws IOException {
        boolean in = false;
        for (final String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            final int dash = line.indexOf('-');
            final int space = line.indexOf(' ');
            if (dash > 0 && space > dash
                && line.substring(0, dash).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
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
