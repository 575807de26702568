package org.mm4j.cli;

import org.junit.jupiter.api.Test;
import org.mm4j.trace.kmem.KmemTraceReader;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

class ReplayKmemCommandTest {
    record Run(int status, String out, String err) {
    }

    static Run replay(final String file, final String cmdline, final Path report) {
        final ByteArrayOutputStream o = new ByteArrayOutputStream();
        final ByteArrayOutputStream e = new ByteArrayOutputStream();
        final int status = ReplayKmemCommand.replay(file, cmdline, report, 20,
            new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Run(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    @Test
    void bundledTraceReplaysCleanlyWithAReport(@TempDir final Path dir) throws IOException {
        final Path report = dir.resolve("r.html");
        final Run r = replay(null, "mem=512M", report);
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().contains("events replayed   100,000 in "), r.out());
        assertTrue(r.out().contains("100,000 read, 0 malformed"), r.out());
        // x86-64 zones at mem=512M: DMA (below 16 MiB) and DMA32 (the rest); buddyinfo lists populated zones
        assertTrue(r.out().contains("== /proc/buddyinfo (final) ==\nNode 0, zone      DMA "), r.out());
        assertTrue(r.out().contains("\nNode 0, zone    DMA32 "), r.out());
        assertTrue(r.out().contains("Report: " + report.toAbsolutePath()), r.out());
        final String html = Files.readString(report);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertFalse(html.contains("<script"), "no script");
        assertFalse(html.contains("http://") && html.replace("http://www.w3.org/2000/svg", "").contains("http://"),
            "no network reference");
        // slab memory over time, fragmentation, fast/slow shares, buddy free blocks over time
        assertEquals(4, html.split("<svg", -1).length - 1, "charts");
        assertTrue(r.out().contains("== /proc/slabinfo (final) ==\nslabinfo - version: 2.1\n"), r.out());
        assertTrue(r.out().contains("\nbuffer_head "), "a cache named by the trace exists in the model");
        // 19: the trace's other 10 caches (vm_area_struct, maple_node, mm_struct, task_struct, anon_vma,
        // anon_vma_chain, pid, files_cache, signal_cache, sighand_cache) are the boot's own (issue 15)
        assertTrue(r.out().contains("caches created for the trace  19 (19 with the kernel's object_size and size)"),
            r.out());
        assertTrue(r.out().matches("(?s).*peak slab memory  [0-9,]+ KiB.*"), r.out());
        assertTrue(r.out().contains("== SLUB fast vs slow path per cache"), r.out());
        assertTrue(r.out().contains("== internal fragmentation per cache"), r.out());
        // per call site, as perf kmem stat --caller --alloc; the slab and page summaries
        assertTrue(r.out().contains("== top call sites by bytes allocated"), r.out());
        assertTrue(r.out().matches("(?s).*\nalloc_buffer_head\\+0x1d/0x90 +[0-9,]+/104 +[0-9,]+/104 .*"), r.out());
        assertTrue(r.out().contains("== slab summary"), r.out());
        assertTrue(r.out().contains("== page summary"), r.out());
        assertTrue(html.contains("Top call sites by bytes allocated"), "call sites in the report");
    }

    static Run replay(final String file, final Path report, final boolean pipelined) {
        final ByteArrayOutputStream o = new ByteArrayOutputStream();
        final ByteArrayOutputStream e = new ByteArrayOutputStream();
        final int status = ReplayKmemCommand.replay(file, "", report, 20,
            org.mm4j.trace.kmem.TraceInput.DEFAULT_ZSTD_MAX_WINDOW, pipelined,
            new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Run(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    /** The output with its timings (which vary from run to run) blanked. */
    static String untimed(final String s) {
        return s.replaceAll("in [0-9.]+ s \\(?=? ?[0-9,]+ events/s\\)?", "in T s = R events/s")
            .replaceAll("Report: .*", "Report: R");
    }

    /**
     * The reference path (general parser, one thread, event by event) and the fast one (byte-scanning parser on the
     * reader thread, batches replayed in place) print the same text and write the same report.
     */
    private static void assertSameReplay(final String file, final Path dir) throws IOException {
        final Run one = replay(file, dir.resolve("one.html"), false);
        final Run two = replay(file, dir.resolve("two.html"), true);
        assertEquals(one.status(), two.status());
        assertEquals(one.err(), two.err());
        assertTrue(one.out().contains("== totals =="), one.out());
        assertEquals(untimed(one.out()), untimed(two.out()));
        assertEquals(untimed(Files.readString(dir.resolve("one.html"))),
            untimed(Files.readString(dir.resolve("two.html"))));
    }

    @Test
    void theFastPipelinedReplayPrintsWhatTheReferencePathDoesOnTheBundledSlice(@TempDir final Path dir)
        throws IOException {
        assertSameReplay(null, dir);
    }

    @Test
    void theFastPipelinedReplayPrintsWhatTheReferencePathDoesOnAGeneratedTrace(@TempDir final Path dir)
        throws IOException {
        final Path f = dir.resolve("gen.trace.gz");
        try (OutputStream os = new GZIPOutputStream(Files.newOutputStream(f))) {
            // past several batches, with a malformed line in the middle to check error order and line numbers
            new org.mm4j.trace.kmem.KmemTraceGenerator(11, 4, 4096).write(os, 30_000);
            os.write("bash-1 [000] ..... 1.0: kmalloc: ptr=1 bytes_req=1\n".getBytes(StandardCharsets.US_ASCII));
            new org.mm4j.trace.kmem.KmemTraceGenerator(12, 4, 4096).write(os, 20_000);
        }
        assertSameReplay(f.toString(), dir);
    }

    @Test
    void malformedLinesNameFileAndLineAndTheReplayGoesOn(@TempDir final Path dir) throws IOException {
        final Path f = dir.resolve("bad.trace");
        Files.writeString(f, """
            bash-1 [000] ..... 1.0: mm_page_alloc: page=0 pfn=0x10 order=0 migratetype=0 gfp_flags=GFP_KERNEL
            bash-1 [000] ..... 1.0: kmalloc: ptr=1 bytes_req=1
            \u0000\u0001garbage
            bash-1 [000] ..... 1.0: mm_page_free: page=0 pfn=0x10 order=0
            """);
        final Run r = replay(f.toString(), "mem=16M", null);
        assertEquals(1, r.status());
        assertEquals("mm4j: " + f + ":2: kmalloc: missing field bytes_alloc= (line truncated?)\n"
            + "mm4j: " + f + ":3: not a trace line (binary data)\n", r.err());
        assertTrue(r.out().contains("events replayed   2 in "), r.out());
        assertTrue(r.out().contains("4 read, 2 malformed"), r.out());
    }

    @Test
    void eventsOnCpusBeyondNrCpusAreFoldedAndCounted(@TempDir final Path dir) throws IOException {
        final Path f = dir.resolve("cpus.trace");
        Files.writeString(f, """
            a-1 [000] ..... 1.0: kmalloc: ptr=0000000000000011 bytes_req=100 bytes_alloc=128 gfp_flags=GFP_KERNEL
            a-1 [003] ..... 1.1: kfree: ptr=0000000000000011
            a-1 [002] ..... 1.2: kmem_cache_alloc: ptr=0000000000000022 name=dentry bytes_req=192 bytes_alloc=192 gfp_flags=GFP_KERNEL
            a-1 [001] ..... 1.3: kmem_cache_free: ptr=0000000000000022 name=dentry
            a-1 [001] ..... 1.4: kmem_cache_free: ptr=0000000000000033 name=dentry
            a-1 [001] ..... 1.5: kmalloc: ptr=0000000000000044 bytes_req=1099511627776 bytes_alloc=1099511627776 gfp_flags=GFP_KERNEL
            a-1 [001] ..... 1.6: kfree: ptr=0000000000000044
            """);
        final Run r = replay(f.toString(), "mem=16M nr_cpus=2", null);
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("events on CPUs >= nr_cpus=2, replayed on CPU % nr_cpus  2"), r.out());
        assertTrue(r.out().contains("frees of objects allocated before the capture  2 (skipped)"), r.out());
        assertTrue(r.out().contains("allocation failures  model: 0 page, 1 object"), r.out());
        assertTrue(r.out().contains("still live at the end  0 objects"), r.out());
        assertTrue(r.out().matches("(?s).*kmalloc-128 +1 +100 +128 +21\\.9%.*"), r.out());
    }

    @Test
    void unreadableInputIsAClearError(@TempDir final Path dir) throws IOException {
        Run r = replay(dir.resolve("nosuch.trace").toString(), "", null);
        assertEquals(2, r.status());
        assertEquals("mm4j: " + dir.resolve("nosuch.trace") + ": No such file or directory\n", r.err());
        r = replay(dir.toString(), "", null);
        assertEquals(2, r.status());
        assertEquals("mm4j: " + dir + ": Is a directory\n", r.err());
        final Path empty = Files.createFile(dir.resolve("empty.trace"));
        r = replay(empty.toString(), "mem=16M", null);
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("events replayed   0 in"), r.out());
        r = replay(empty.toString(), "mem=banana", null);
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("mm4j: --cmdline: "), r.err());
    }

    @Test
    void gzipAndTruncatedGzip(@TempDir final Path dir) throws IOException {
        final Path gz = dir.resolve("t.trace.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            for (int i = 1; i <= 1000; i++) {
                o.write(("x-1 [001] ..... 1.0: mm_page_alloc: page=0 pfn=0x" + Integer.toHexString(i)
                    + " order=0 migratetype=0 gfp_flags=GFP_KERNEL\n").getBytes(StandardCharsets.US_ASCII));
            }
        }
        Run r = replay(gz.toString(), "mem=16M", null);
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("events replayed   1,000 in"), r.out());
        final byte[] all = Files.readAllBytes(gz);
        final Path cut = dir.resolve("cut.trace.gz");
        Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
        r = replay(cut.toString(), "mem=16M", null);
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("mm4j: " + cut + ": "), r.err());
        assertTrue(r.err().contains("Unexpected end of ZLIB input stream"), r.err());
    }

    @Test
    void zstdTracesAreDecodedInJava(@TempDir final Path dir) throws Exception {
        requireOrSkip(new java.io.File("/usr/bin/zstd").canExecute(),
            "no /usr/bin/zstd to make the input (the decoder itself is tested in core)");
        final Path plain = dir.resolve("t.trace");
        Files.writeString(plain, "x-1 [000] ..... 1.0: kfree: ptr=0000000000000000\n".repeat(1000));
        final Process p = new ProcessBuilder("/usr/bin/zstd", "-q", plain.toString()).start();
        assertEquals(0, p.waitFor());
        Run r = replay(dir.resolve("t.trace.zst").toString(), "mem=16M", null);
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("kfree(NULL) 1,000"), r.out());
        final byte[] z = Files.readAllBytes(dir.resolve("t.trace.zst"));
        Files.write(dir.resolve("cut.zst"), java.util.Arrays.copyOf(z, z.length - 5));
        r = replay(dir.resolve("cut.zst").toString(), "mem=16M", null);
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("mm4j: " + dir.resolve("cut.zst") + ": zstd: "), r.err());
    }
}
