package org.mm4j.quickstart;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.base.ModelOutOfMemoryException;
import org.mm4j.page.Gfp;
import org.mm4j.slab.KmemCache;
import org.mm4j.slab.LeakDetector;
import org.mm4j.slab.SlabAllocator;
import org.mm4j.slab.debug.SlubDebug;
import org.mm4j.slab.debug.SlubDebugException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's "Library quick start", compiled and run: a package of its own, so only the exported API is used.
 * The snippet between the QUICKSTART markers is what the README shows, character for character
 * ({@link #readmeShowsThisQuickStart()}).
 */
class LibraryQuickStartTest {

    @Test
    void quickStart() {
        // QUICKSTART-BEGIN
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2 slub_debug=FZPU,kmalloc-96")) { // close() frees it all
            SlabAllocator a = k.slab().allocator();       // this thread's allocator: sheaves, then SLUB's slab path
            long p = a.kmalloc(64);                       // an object of kmalloc-64; 0 when the model is out of memory
            a.kfree(p);
            MemorySegment seg = a.allocate(200, 8);       // a SegmentAllocator: FFM code uses it like an Arena,
            seg.set(ValueLayout.JAVA_LONG, 0, 42);        // but each segment is freed on its own
            a.free(seg);
            assertThrows(IllegalStateException.class, () -> a.free(seg));   // a double free is refused, reported

            KmemCache c = k.slab().kmallocCache(64, Gfp.KERNEL);            // statistics, as /sys/kernel/slab shows
            long active = c.activeObjects();
            String slabinfo = k.procfs().read("/proc/slabinfo");            // or /proc/meminfo, buddyinfo, vmstat
            String dmesg = String.join("\n", k.log().lines());              // dmesg: the report is there

            SlubDebug debug = k.slab().debug();           // slub_debug caches: red zones, poisoning, tracking
            debug.strict(true);                           // the first report becomes a SlubDebugException
            long q = a.kmalloc(96);
            MemorySegment obj = k.slab().segment(q, 97);  // one byte past the object: its red zone
            obj.set(ValueLayout.JAVA_BYTE, 96, (byte) 0x12);
            assertThrows(SlubDebugException.class, () -> a.kfree(q));

            k.slab().failslab().failNext(c, 1).attr().verbose(0);           // fault injection: the next one fails
            assertThrows(ModelOutOfMemoryException.class, () -> a.allocate(64));
            a.free(a.allocate(64));                                         // and then succeeds again

            k.slab().leakDetector().level(LeakDetector.Level.PARANOID)      // off by default; sampled: SIMPLE
                .addListener(leak -> System.err.println(leak));             // a segment collected without free()

            assertTrue(active >= 0 && slabinfo.startsWith("slabinfo - version: 2.1") && dmesg.contains("BUG"));
        }
        // QUICKSTART-END
    }

    @Test
    void readmeShowsThisQuickStart() throws Exception {
        final Path src = Path.of("src/test/java/org/mm4j/quickstart/LibraryQuickStartTest.java");
        final Path readme = Path.of("../README.md");
        final String code = Files.readString(src, StandardCharsets.UTF_8);
        final String snippet = code.substring(code.indexOf("// QUICKSTART-BEGIN\n") + 20,
            code.indexOf("        // QUICKSTART-END"));
        final String shown = snippet.lines().map(l -> l.startsWith("        ") ? l.substring(8) : l)
            .reduce("", (x, y) -> x + y + "\n");
        assertTrue(Files.readString(readme, StandardCharsets.UTF_8).contains("```java\n" + shown + "```\n"),
            "README.md's Library quick start must show the body of quickStart() as it is here:\n" + shown);
    }
}
