package org.mm4j.trace.kmem;

import org.junit.jupiter.api.Test;
import org.mm4j.page.Gfp;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

class KmemTraceReaderTest {
    static final Path SAMPLE = Path.of("../../shared/samples/slab/kmem-sample.trace.gz");

    private final List<String> errors = new ArrayList<>();

    private KmemTraceReader reader(final String text) {
        return reader(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    private KmemTraceReader reader(final byte[] bytes) {
        return new KmemTraceReader(new ByteArrayInputStream(bytes), (line, msg) -> errors.add(line + ": " + msg));
    }

    private List<KmemEvent> readAll(final KmemTraceReader r) throws IOException {
        final List<KmemEvent> out = new ArrayList<>();
        KmemEvent ev = new KmemEvent();
        while (r.next(ev)) {
            out.add(ev);
            ev = new KmemEvent();
        }
        return out;
    }

    @Test
    void readsTheSixReadmeExamples() throws IOException {
        final String text = """
            bash-6060    [000] .....  3741.299930: kmalloc: call_site=alloc_pipe_info+0x5d/0x230 ptr=0000000052566df2 bytes_req=176 bytes_alloc=192 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO node=-1 accounted=true
            bash-6060    [000] .N...  3741.300221: kfree: call_site=ida_alloc_range+0x39b/0x400 ptr=0000000000000000
            bash-6060    [000] .....  3741.299926: kmem_cache_alloc: call_site=alloc_inode+0xa3/0xd0 ptr=000000001fabf133 name=inode_cache bytes_req=616 bytes_alloc=624 gfp_flags=GFP_KERNEL node=-1 accounted=true
            bash-6060    [000] .....  3741.299773: kmem_cache_free: call_site=__fput+0x141/0x2a0 ptr=00000000dcab866d name=lsm_file_cache
            bash-6060    [000] .....  3741.299784: mm_page_alloc: page=00000000fc4077b6 pfn=0x10eb66 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP
            mktemp-6064    [001] .....  3741.305092: mm_page_free: page=000000001eae6757 pfn=0x203132 order=0
            """;
        final KmemTraceReader r = reader(text);
        final List<KmemEvent> evs = readAll(r);
        assertEquals(List.of(), errors);
        assertEquals(6, evs.size());
        final KmemEvent km = evs.get(0);
        assertEquals(KmemEvent.KMALLOC, km.type());
        assertEquals(0x52566df2L, km.ptr());
        assertEquals(176, km.bytesReq());
        assertEquals(192, km.bytesAlloc());
        assertEquals(Gfp.KERNEL_ACCOUNT | Gfp.ZERO, km.gfp());
        assertEquals(6060, km.pid());
        assertEquals(3741_299930L, km.timestampMicros());
        assertEquals(0, evs.get(1).ptr());
        assertEquals(KmemEvent.KFREE, evs.get(1).type());
        final KmemEvent kca = evs.get(2);
        assertEquals("inode_cache", kca.cacheName());
        assertEquals(616, kca.bytesReq());
        assertEquals("lsm_file_cache", evs.get(3).cacheName());
        assertNull(evs.get(4).cacheName());
        assertEquals(0x10eb66, evs.get(4).pfn());
        assertEquals(1, evs.get(4).migratetype());
        assertEquals(Gfp.HIGHUSER_MOVABLE | Gfp.COMP, evs.get(4).gfp());
        assertEquals(0x203132, evs.get(5).pfn());
        assertEquals(1, evs.get(5).cpu());
        assertEquals(6, evs.get(5).lineNo());
    }

    @Test
    void oddButValidLines() throws IOException {
        final String text = """
            # tracer: nop
            #
            Web Content-12345 [003] d..1. 10.5: kmem_cache_free: name=dentry ptr=00000000deadbeef call_site=x+0x1/0x2
            kworker/u8:2-99 [001] 10.000001: kfree: ptr=0x1234
            CPU:1 [LOST 17 EVENTS]
            <idle>-0       [000] d.s2.  11.000000: mm_page_alloc_zone_locked: page=0000 pfn=0x1 order=0 migratetype=0 percpu_refill=1

            sh-1 [000] ..... 12.0: mm_page_alloc: page=0000000000000000 pfn=0xffffffffffffffff order=3 migratetype=0 gfp_flags=GFP_KERNEL|__GFP_SKIP_KASAN
            """;
        final KmemTraceReader r = reader(text);
        final List<KmemEvent> evs = readAll(r);
        assertEquals(List.of(), errors);
        assertEquals(3, evs.size());
        assertEquals("dentry", evs.get(0).cacheName());
        assertEquals(0xdeadbeefL, evs.get(0).ptr());
        assertEquals(3, evs.get(0).cpu());
        assertEquals(12345, evs.get(0).pid());
        assertEquals(0x1234, evs.get(1).ptr());
        assertEquals(10_000001L, evs.get(1).timestampMicros());
        assertEquals(-1L, evs.get(2).pfn());
        assertEquals(Gfp.KERNEL, evs.get(2).gfp(), "unknown flag names are dropped");
        assertEquals(17, r.lostEvents());
        assertEquals(1, r.otherEvents());
        assertEquals(0, r.malformed());
    }

    @Test
    void hostileLinesAreClearErrorsAndReadingGoesOn() throws IOException {
        final String text = """
            bash-1 [000] ..... 1.0: kmalloc: call_site=a+0x1/0x2 ptr=0000000052566df2 bytes_req=176
            bash-1 [000] ..... 1.0: kmalloc: ptr=1 bytes_req=99999999999999999999 bytes_alloc=8 gfp_flags=GFP_KERNEL
            bash-1 [000] ..... 1.0: kmalloc: ptr=1 bytes_req=8 bytes_alloc=1099511627777 gfp_flags=GFP_KERNEL
            bash-1 [000] ..... 1.0: kfree: ptr=123456789abcdef01
            bash-1 [000] ..... 1.0: mm_page_free: pfn=0x10 order=11
            bash-1 [000] ..... 1.0: mm_page_free: pfn=zz order=1
            bash-1 [99999] ..... 1.0: kfree: ptr=1
            bash-1 ..... 1.0: kfree: ptr=1
            bash-1 [000] ..... : kfree: ptr=1
            bash-1 [000] ..... 1.0: kfree: ptr
            bash-1 [000] ..... 1.0: kmem_cache_free: ptr=1 name=
            bash-1 [000] ..... 1.0: kfree: ptr=0000000000000001
            """;
        final KmemTraceReader r = reader(text);
        final List<KmemEvent> evs = readAll(r);
        assertEquals(1, evs.size());
        assertEquals(12, evs.get(0).lineNo());
        assertEquals(List.of(
            "1: kmalloc: missing field bytes_alloc= (line truncated?)",
            "2: kmalloc: bytes_req=99999999999999999999 out of range (expected: 0 to 2^40)",
            "3: kmalloc: bytes_alloc=1099511627777 out of range (expected: 0 to 2^40)",
            "4: kfree: bad ptr=123456789abcdef01 (expected: up to 16 hex digits)",
            "5: mm_page_free: order=11 out of range (expected: 0 to 10)",
            "6: mm_page_free: bad pfn=zz (expected: a hex number, 0x...)",
            "7: CPU [99999] out of range",
            "8: not a trace line (no [CPU] column)",
            "9: missing time stamp after the [CPU] column",
            "10: kfree: 'ptr' is no key=value field",
            "11: kmem_cache_free: empty name="), errors);
        assertEquals(11, r.malformed());
    }

    @Test
    void binaryGarbageAndOverlongLinesAreBounded() throws IOException {
        final byte[] junk = new byte[300_000];
        new Random(42).nextBytes(junk);
        final KmemTraceReader r = reader(junk);
        assertTrue(readAll(r).isEmpty());
        assertTrue(r.malformed() > 0);
        assertEquals(r.malformed(), errors.size());
        assertTrue(errors.stream().allMatch(e -> e.contains("binary data") || e.contains("no [CPU] column")
            || e.contains("not UTF-8 text")),
            errors.toString());

        errors.clear();
        final String longLine = "x".repeat(100_000) + "\nbash-1 [000] ..... 1.0: kfree: ptr=1\n";
        final KmemTraceReader r2 = reader(longLine);
        assertEquals(1, readAll(r2).size());
        assertEquals(List.of("1: line longer than 4096 bytes (binary data?)"), errors);
    }

    @Test
    void emptyInputHasNoEvents() throws IOException {
        final KmemTraceReader r = reader("");
        assertFalse(r.next(new KmemEvent()));
        assertEquals(0, r.lineNo());
        final KmemTraceReader r2 = reader("bash-1 [000] ..... 1.0: kfree: ptr=1");
        assertEquals(1, readAll(r2).size(), "a last line without newline still counts");
    }

    @Test
    void internsCacheNames() throws IOException {
        final KmemTraceReader r = reader("""
            a-1 [000] . 1.0: kmem_cache_free: ptr=1 name=dentry
            a-1 [000] . 1.0: kmem_cache_free: ptr=2 name=dentry
            """);
        final List<KmemEvent> evs = readAll(r);
        assertSame(evs.get(0).cacheName(), evs.get(1).cacheName());
    }

    /**
     * Past the interner's first growth (hundreds of names and gfp strings) every name is still one String and every
     * gfp string still parses to its own flags (a value set after a growth once landed in another key's slot).
     */
    @Test
    void internedValuesSurviveTheTablesGrowth() throws IOException {
        final StringBuilder sb = new StringBuilder();
        for (int round = 0; round < 2; round++) {
            for (int i = 1; i <= 600; i++) {
                sb.append("a-1 [000] . 1.0: kmem_cache_alloc: call_site=f").append(i).append("+0x1/0x2 ptr=").append(i)
                    .append(" name=c").append(i).append(" bytes_req=8 bytes_alloc=8 gfp_flags=GFP_NOWAIT|0x")
                    .append(Integer.toHexString(i << 20)).append('\n');
            }
        }
        final List<KmemEvent> evs = readAll(reader(sb.toString()));
        assertEquals(1200, evs.size());
        for (int i = 0; i < 600; i++) {
            final KmemEvent a = evs.get(i);
            final KmemEvent b = evs.get(600 + i);
            assertEquals("c" + (i + 1), a.cacheName());
            assertSame(a.cacheName(), b.cacheName());
            assertSame(a.callSite(), b.callSite());
            assertEquals(org.mm4j.page.Gfp.parse("GFP_NOWAIT") | (i + 1) << 20, a.gfp(), "gfp of line " + (i + 1));
            assertEquals(a.gfp(), b.gfp(), "gfp of line " + (601 + i));
            assertEquals(i, a.cacheNameId);
            assertEquals(i, b.callSiteId);
        }
    }

    /** After warm-up, reading lines allocates nothing per line (names and gfp strings are interned). */
    @Test
    void readingAllocatesNothingPerLine() throws IOException, ReflectiveOperationException {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            sb.append("cat-6063 [001] ..... 3743.525636: kmem_cache_alloc: call_site=alloc_buffer_head+0x1d/0x90 ptr=")
                .append(String.format("%016x", 0x1000L + i)).append(" name=buffer_head bytes_req=104 bytes_alloc=104 ")
                .append("gfp_flags=GFP_NOFS|__GFP_ZERO|__GFP_NOFAIL|__GFP_ACCOUNT node=-1 accounted=true\n")
                .append("cat-6063 [000] ..... 3743.525637: mm_page_alloc: page=00000000ed0de2e3 pfn=0x12c880 order=0 ")
                .append("migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_WRITE|__GFP_COMP\n");
        }
        final byte[] bytes = sb.toString().getBytes(StandardCharsets.US_ASCII);
        // through reflection: the test module does not read java.management at compile time
        final Object mx = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean")
            .invoke(null);
        final java.lang.reflect.Method allocatedBytes = Class.forName("com.sun.management.ThreadMXBean")
            .getMethod("getCurrentThreadAllocatedBytes");
        long allocated = 0;
        for (int round = 0; round < 3; round++) {
            final KmemTraceReader r = reader(bytes);
            final KmemEvent ev = new KmemEvent();
            final long before = (Long) allocatedBytes.invoke(mx);
            while (r.next(ev)) {
                // read only
            }
            allocated = (Long) allocatedBytes.invoke(mx) - before;
            assertEquals(40_000, r.events());
        }
        // the reader's own buffers and interned strings come to a few KiB; 40,000 lines must not add per line
        assertTrue(allocated < 40_000, "allocated " + allocated + " bytes for 40,000 lines");
    }

    @Test
    void readsTheWholeRealSample() throws IOException {
        requireOrSkip(Files.exists(SAMPLE), SAMPLE + " absent");
        try (InputStream in = TraceInput.open(SAMPLE); KmemTraceReader r = new KmemTraceReader(in,
            (line, msg) -> errors.add(line + ": " + msg))) {
            final KmemEvent ev = new KmemEvent();
            long caches = 0;
            while (r.next(ev)) {
                if (ev.type() == KmemEvent.KMEM_CACHE_ALLOC) {
                    caches += ev.cacheName() != null ? 1 : 0;
                }
            }
            assertEquals(List.of(), errors);
            assertEquals(150_000, r.events());
            assertEquals(150_000, r.lineNo());
            // the counts grep finds in the sample
            assertEquals(4_943, r.events(KmemEvent.KMALLOC));
            assertEquals(16_707, r.events(KmemEvent.KFREE));
            assertEquals(45_027, r.events(KmemEvent.KMEM_CACHE_ALLOC));
            assertEquals(48_670, r.events(KmemEvent.KMEM_CACHE_FREE));
            assertEquals(21_695, r.events(KmemEvent.MM_PAGE_ALLOC));
            assertEquals(12_958, r.events(KmemEvent.MM_PAGE_FREE));
            assertEquals(45_027, caches);
        }
    }

    /** The real sample and a generated trace read the same, field by field, with and without the fast path. */
    @Test
    void theFastPathReadsTheRealSampleAndAGeneratedTraceAsTheGeneralParserDoes() throws IOException {
        final byte[] generated = KmemTraceGenerator.generate(7, 4, 2_000, 100_000);
        final List<String> fast = KmemTraceReaderProperties.readAll(generated, true);
        assertEquals(100_001, fast.size());
        assertEquals(KmemTraceReaderProperties.readAll(generated, false), fast);
        assertEquals(0, generalLines(generated), "canonical lines all take the fast path");
        requireOrSkip(Files.exists(SAMPLE), SAMPLE + " absent");
        final byte[] real;
        try (InputStream in = TraceInput.open(SAMPLE)) {
            real = in.readAllBytes();
        }
        final List<String> fastReal = KmemTraceReaderProperties.readAll(real, true);
        assertEquals(150_001, fastReal.size());
        assertEquals(KmemTraceReaderProperties.readAll(real, false), fastReal);
        assertEquals(0, generalLines(real), "the real sample's lines all take the fast path");
    }

    private static long generalLines(final byte[] text) throws IOException {
        final KmemTraceReader r = new KmemTraceReader(new ByteArrayInputStream(text), (line, msg) -> { });
        final KmemEvent ev = new KmemEvent();
        while (r.next(ev)) {
            assertTrue(ev.type() >= 0);
        }
        assertTrue(r.events() > 0);
        return r.generalLines();
    }

    /**
     * Each of the six events in the kernel's form, the fast path's every field (a generated trace holds no
     * unusual value: these are the limits), and the forms the fast path leaves to the general parser.
     */
    @Test
    void theFastPathReadsEveryFieldAndLeavesOtherFormsToTheGeneralParser() throws IOException {
        final String text = """
            sh-4242  [017] d.h1. 1099511627776.999999: kmem_cache_alloc: call_site=f+0x1/0x2 ptr=FFFFFFFFFFFFFFFF name=n bytes_req=1099511627776 bytes_alloc=12345678 gfp_flags=GFP_ATOMIC node=1023 accounted=false
            sh-4242  [017] d.h1. 12.5: mm_page_alloc: page=0 pfn=0x0123456789abcdef order=10 migratetype=15 gfp_flags=0x40
            sh-4242 [1] ..... 12.5: mm_page_free: page=0 pfn=0 order=0
            sh-4242 [1] ..... 12.5:	mm_page_free: page=0 pfn=0 order=0
            """;
        final KmemTraceReader r = reader(text);
        final List<KmemEvent> evs = readAll(r);
        assertEquals(List.of(), errors);
        assertEquals(4, evs.size());
        final KmemEvent a = evs.get(0);
        assertEquals(17, a.cpu());
        assertEquals(4242, a.pid());
        assertEquals((1L << 40) * 1_000_000 + 999_999, a.timestampMicros());
        assertEquals(-1L, a.ptr());
        assertEquals(1L << 40, a.bytesReq());
        assertEquals(12_345_678, a.bytesAlloc());
        assertEquals(Gfp.ATOMIC, a.gfp());
        assertEquals(1023, a.node());
        final KmemEvent p = evs.get(1);
        assertEquals(0x0123456789abcdefL, p.pfn());
        assertEquals(10, p.order());
        assertEquals(15, p.migratetype());
        assertEquals(0x40, p.gfp());
        assertEquals(12_500_000L, p.timestampMicros());
        assertEquals(0, evs.get(2).pfn());
        assertEquals(1, r.generalLines(), "only the line with a tab is the general parser's");
    }

    /**
     * The fast path's memo of the line header (the bytes up to the timestamp): lines repeating the last header
     * exactly, nearly (one blank more or less, another pid or CPU, a non-digit after it, a bad timestamp after it),
     * and headers too long to remember, read as the general parser reads them, event by event, error by error.
     */
    @Test
    void theHeaderMemoReadsRepeatedAndNearlyRepeatedHeadersAsTheGeneralParserDoes() throws IOException {
        final String free = " kfree: call_site=f+0x1/0x2 ptr=00000000000000a1\n";
        final String h = "        tar-6072    [001] ..s..  ";
        final String longTask = "        a-task-name-far-longer-than-the-memo-keeps-in-its-words-6072    [001] ..s..  ";
        final String text = h + "3743.525636: kmalloc: call_site=f+0x1/0x2 ptr=0000000080ba8a35 bytes_req=8"
            + " bytes_alloc=8 gfp_flags=GFP_KERNEL node=-1 accounted=false\n"
            + h + "3743.525637:" + free
            + h + "3743.5x:" + free
            + h + "3743:" + free
            + h + "99999999.000001:" + free
            + h + "3743.525637:" + free
            + h + " 3743.525638:" + free
            + h.substring(1) + "3743.525639:" + free
            + h.replace("[001]", "[002]") + "3743.525640:" + free
            + h.replace("6072", "6073") + "3743.525641:" + free
            + h.replace("6072", "60721") + "3743.525642:" + free
            + h + "x3743.525643:" + free
            + h + "3743.525644:" + free
            + h + "3743.52564:" + free
            + h + "3743.5256441: mm_page_free: page=0 pfn=0x10 order=0\n"
            + h + "3743.525645\n"
            + longTask + "3743.525646:" + free
            + longTask + "3743.525647:" + free
            // two tasks alternating, a third between them
            + h + "3743.525648:" + free
            + h.replace("[001]", "[003]") + "3743.525649:" + free
            + h + "3743.525650:" + free
            + h.replace("[001]", "[003]") + "3743.525651:" + free
            + h.replace("tar", "cat") + "3743.525652:" + free
            + h.replace("[001]", "[003]") + "3743.525653:" + free
            + h + "3743.525654:" + free
            + h.replace("tar", "cat") + "3743.525655:" + free;
        final byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        final List<String> fast = KmemTraceReaderProperties.readAll(bytes, true);
        assertEquals(KmemTraceReaderProperties.readAll(bytes, false), fast);
        assertEquals("lines=26 events=23 malformed=3 other=0 lost=0", fast.get(fast.size() - 1));
        final int[] cpus = {1, 3, 1, 3, 1, 3, 1, 1};
        for (int i = 0; i < cpus.length; i++) {
            assertTrue(fast.get(18 + i).contains(" cpu=" + cpus[i] + " pid=6072 t=" + (3743525648L + i) + " "),
                i + ": " + fast.get(18 + i));
        }
        assertTrue(fast.get(1).contains(" cpu=1 pid=6072 t=3743525637 "), fast.get(1));
        assertTrue(fast.get(8).contains(" cpu=2 pid=6072 "), fast.get(8));
        assertTrue(fast.get(10).contains(" cpu=1 pid=60721 "), fast.get(10));
    }

    /** /dev/zero (no newline, ever): the reader stops after 1 MiB of one line with FILE:LINE, no hang. */
    @Test
    void anEndlessLineEndsTheReadingWithFileAndLine() throws IOException {
        final org.mm4j.io.EndlessZeros zeros = new org.mm4j.io.EndlessZeros(4L << 20);
        final KmemTraceReader r = new KmemTraceReader(new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(
            "bash-1 [000] ..... 1.0: kfree: ptr=1\n".getBytes(StandardCharsets.US_ASCII)), zeros), "/dev/zero",
            (line, msg) -> errors.add(line + ": " + msg));
        final KmemEvent ev = new KmemEvent();
        assertTrue(r.next(ev));
        final org.mm4j.io.InputLineException e = assertThrows(org.mm4j.io.InputLineException.class,
            () -> r.next(ev));
        assertEquals("/dev/zero:2: line longer than 1048576 bytes", e.getMessage());
    }

    @Test
    void aLineThatIsNotUtf8IsAnErrorOfThatLine() throws IOException {
        final byte[] b = "bash-1 [000] ..... 1.0: kmem_cache_free: ptr=1 name=caf\u00e9\nbash-1 [000] ..... 1.0: kmem_cache_free: ptr=1 name=X\n"
            .getBytes(StandardCharsets.ISO_8859_1);
        final KmemTraceReader r = reader(b);
        assertEquals(1, readAll(r).size());
        assertEquals(List.of("1: not UTF-8 text (byte 0xe9 at column 56)"), errors);
    }

    @Test
    void callSitesAreReadAndInterned() throws IOException {
        final String text = """
            a-1 [000] ..... 1.0: kmalloc: call_site=alloc_pipe_info+0x5d/0x230 ptr=0000000000000011 bytes_req=176 bytes_alloc=192 gfp_flags=GFP_KERNEL
            a-1 [000] ..... 1.1: kmalloc: call_site=alloc_pipe_info+0x5d/0x230 ptr=0000000000000012 bytes_req=176 bytes_alloc=192 gfp_flags=GFP_KERNEL
            a-1 [000] ..... 1.2: kfree: call_site=free_pipe_info+0xa/0x20 ptr=0000000000000011
            a-1 [000] ..... 1.3: mm_page_free: page=0 pfn=0x10 order=0
            """;
        final List<KmemEvent> evs = readAll(reader(text));
        assertEquals(List.of(), errors);
        assertEquals("alloc_pipe_info+0x5d/0x230", evs.get(0).callSite());
        assertSame(evs.get(0).callSite(), evs.get(1).callSite());
        assertEquals("free_pipe_info+0xa/0x20", evs.get(2).callSite());
        assertNull(evs.get(3).callSite());
    }
}
