package org.mm4j.slab;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.page.Gfp;
import org.mm4j.page.PhysicalMemory;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kmemleak's scanner: grey/black colouring from the roots, min_count, checksums, the JVM allocator's hooks. */
class KmemleakTest {
    private static final String ON = "mem=64M nr_cpus=2 kmemleak=on";
    private static final Pattern REPORT = Pattern.compile("unreferenced object 0x([0-9a-f]+) \\(size (\\d+)\\):");

    private static List<Long> reported(final Kmemleak kl) {
        final Matcher m = REPORT.matcher(kl.show());
        final List<Long> out = new ArrayList<>();
        while (m.find()) {
            out.add(Long.parseUnsignedLong(m.group(1), 16));
        }
        return out;
    }

    private static void store(final Kernel k, final long kaddr, final long value) {
        k.memory().putLong(PhysicalMemory.virtToPhys(kaddr), value);
    }

    @Test
    void aChainFromARootIsNotReportedAndCuttingItReportsTheRest() {
        try (Kernel k = Kernel.boot(ON)) {
            final Slub slub = k.slab();
            final Kmemleak kl = slub.kmemleak();
            final long[] root = new long[1];
            kl.addRoot("test", false, s -> s.word(root[0]));
            final long a = slub.kzalloc(64, Gfp.KERNEL);
            final long b = slub.kzalloc(96, Gfp.KERNEL);
            final long c = slub.kzalloc(200, Gfp.KERNEL);
            store(k, a + 8, b);
            store(k, b + 16, c + 40);  // a pointer into the middle of c references c too
            root[0] = a + 3;           // and so does one into a
            k.jiffies().sleep(Kmemleak.MSECS_MIN_AGE);
            assertEquals(0, kl.scan());
            assertEquals(0, kl.scan());
            assertEquals("", kl.show());

            store(k, a + 8, 0);  // cut after a
            kl.scan();           // b's contents changed since it was last checksummed: greyed this once
            assertEquals(2, kl.scan());
            assertEquals(List.of(b, c), reported(kl));
            assertTrue(k.log().messages().stream().anyMatch(
                l -> l.equals("kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)")));
            assertEquals(0, kl.scan(), "reported once");

            slub.kfree(b);
            assertEquals(List.of(c), reported(kl), "a freed object is forgotten");
            root[0] = 0;
            assertEquals(1, kl.scan(), "a: zeros again, as when it was last checksummed (never, 0): unchanged");
            assertEquals(List.of(a, c), reported(kl));
        }
    }

    @Test
    void youngObjectsWaitForTheMinimumAgeAndNotLeakOrIgnoreSilenceAnObject() {
        try (Kernel k = Kernel.boot(ON)) {
            final Slub slub = k.slab();
            final Kmemleak kl = slub.kmemleak();
            final long a = slub.kzalloc(32, Gfp.KERNEL);
            final long b = slub.kzalloc(32, Gfp.KERNEL);
            final long c = slub.kzalloc(32, Gfp.KERNEL);
            store(k, c, b);  // c references b, but c is ignored (black): not scanned
            kl.notLeak(a);
            kl.ignore(c);
            assertEquals(0, kl.scan(), "younger than MSECS_MIN_AGE");
            k.jiffies().sleep(Kmemleak.MSECS_MIN_AGE);
            assertEquals(1, kl.scan());
            assertEquals(List.of(b), reported(kl));
            assertThrows(IllegalArgumentException.class, () -> kl.notLeak(a + 8), "not the start of an object");
        }
    }

    @Test
    void theJvmAllocatorIsTrackedWhenOnAndKmemleakCostsNothingWhenOff() {
        try (Kernel k = Kernel.boot(ON)) {
            final SlabAllocator alloc = k.slab().allocator();
            assertEquals(0, alloc.sheafCapacity(), "with kmemleak on, every allocation takes the hooked path");
            final int before = k.slab().kmemleak().objectCount();
            final long p = alloc.kmalloc(48);
            final long big = alloc.kmalloc(64 << 10);
            assertEquals(before + 2, k.slab().kmemleak().objectCount());
            alloc.kfree(p);
            alloc.kfree(big);
            assertEquals(before, k.slab().kmemleak().objectCount());
        }
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            assertFalse(k.slab().kmemleakEnabled());
            assertTrue(k.slab().allocator().sheafCapacity() > 0);
            assertThrows(IllegalStateException.class, () -> k.slab().kmemleak());
            assertFalse(k.procfs().paths().contains(Kmemleak.DEBUGFS));
        }
    }

    @Test
    void crc32IsTheKernelsSeedZeroCrc() {
        try (Kernel k = Kernel.boot(ON)) {
            final long p = k.slab().kzalloc(16, Gfp.KERNEL);
            assertEquals(0, k.slab().kmemleak().crc32(p, 16), "crc32_le(0, zeros) is 0 (no inversion)");
            k.memory().putByte(PhysicalMemory.virtToPhys(p), (byte) 1);
            // crc32_le(0, {1}) = table[1] = 0x77073096
            assertEquals(0x77073096, k.slab().kmemleak().crc32(p, 1));
        }
    }
}
