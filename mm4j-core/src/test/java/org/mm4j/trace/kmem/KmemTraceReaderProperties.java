package org.mm4j.trace.kmem;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mangled real lines never make the reader throw: each line is an event, a skipped line, or one clear error. */
class KmemTraceReaderProperties {
    private static final String[] LINES = {
        "bash-6060    [000] .....  3741.299930: kmalloc: call_site=alloc_pipe_info+0x5d/0x230 ptr=0000000052566df2 "
            + "bytes_req=176 bytes_alloc=192 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO node=-1 accounted=true",
        "bash-6060    [000] .N...  3741.300221: kfree: call_site=ida_alloc_range+0x39b/0x400 ptr=0000000000000000",
        "bash-6060    [000] .....  3741.299926: kmem_cache_alloc: call_site=alloc_inode+0xa3/0xd0 ptr=000000001fabf133 "
            + "name=inode_cache bytes_req=616 bytes_alloc=624 gfp_flags=GFP_KERNEL node=-1 accounted=true",
        "bash-6060    [000] .....  3741.299773: kmem_cache_free: call_site=__fput+0x141/0x2a0 ptr=00000000dcab866d "
            + "name=lsm_file_cache",
        "bash-6060    [000] .....  3741.299784: mm_page_alloc: page=00000000fc4077b6 pfn=0x10eb66 order=0 "
            + "migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP",
        "mktemp-6064    [000] .....  3741.305092: mm_page_free: page=000000001eae6757 pfn=0x203132 order=0"};

    static String mangle(final String line, final Random rnd) {
        final StringBuilder sb = new StringBuilder(line);
        final int ops = 1 + rnd.nextInt(3);
        for (int i = 0; i < ops && !sb.isEmpty(); i++) {
            final int at = rnd.nextInt(sb.length());
            switch (rnd.nextInt(6)) {
                case 0 -> sb.setLength(at);                                        // truncate
                case 1 -> sb.deleteCharAt(at);                                     // drop a character
                case 2 -> sb.insert(at, (char) (11 + rnd.nextInt(245)));           // any byte but a newline
                case 3 -> sb.insert(at, "9".repeat(1 + rnd.nextInt(30)));          // huge numbers
                case 4 -> {                                                        // swap two fields
                    final String[] f = sb.toString().split(" ");
                    if (f.length == 0) {
                        break;                                                     // only spaces left: nothing to swap
                    }
                    final int a = rnd.nextInt(f.length);
                    final int b = rnd.nextInt(f.length);
                    final String t = f[a];
                    f[a] = f[b];
                    f[b] = t;
                    sb.setLength(0);
                    sb.append(String.join(" ", f));
                }
                default -> sb.insert(at, " =:[]|");
            }
        }
        return sb.toString();
    }

    @Property(tries = 1000)
    void mangledLinesAreEventsOrClearErrors(@ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) final int seed)
        throws IOException {
        final Random rnd = new Random(seed);
        final StringBuilder text = new StringBuilder();
        final int n = 1 + rnd.nextInt(40);
        for (int i = 0; i < n; i++) {
            final String l = LINES[rnd.nextInt(LINES.length)];
            text.append(rnd.nextInt(3) == 0 ? l : mangle(l, rnd)).append(rnd.nextInt(20) == 0 ? "\r\n" : "\n");
        }
        final List<String> errors = new ArrayList<>();
        final KmemTraceReader r = new KmemTraceReader(new ByteArrayInputStream(
            text.toString().getBytes(StandardCharsets.ISO_8859_1)), (line, msg) -> {
                assertTrue(line >= 1 && line <= n, "line " + line);
                assertTrue(!msg.isBlank() && msg.length() < 400, msg);
                errors.add(msg);
            });
        final KmemEvent ev = new KmemEvent();
        long events = 0;
        while (r.next(ev)) {
            events++;
            assertTrue(ev.type() >= 0 && ev.type() < KmemEvent.NR_TYPES);
            assertTrue(ev.order() >= 0 && ev.order() <= 10);
            assertTrue(ev.bytesReq() >= 0 && ev.bytesReq() <= KmemTraceReader.MAX_BYTES);
        }
        assertEquals(n, r.lineNo());
        assertEquals(errors.size(), r.malformed());
        assertTrue(events + r.malformed() + r.otherEvents() <= n);
    }
    /** Every field of every event, and every error, as one list (the reader's output, to compare two readers). */
    static List<String> readAll(final byte[] text, final boolean fastPath) throws IOException {
        final List<String> out = new ArrayList<>();
        final KmemTraceReader r = new KmemTraceReader(new ByteArrayInputStream(text), "input",
            (line, msg) -> out.add("error " + line + ": " + msg), fastPath);
        final KmemEvent ev = new KmemEvent();
        while (r.next(ev)) {
            out.add(ev.lineNo() + " " + ev.type() + " cpu=" + ev.cpu() + " pid=" + ev.pid() + " t="
                + ev.timestampMicros() + " ptr=" + ev.ptr() + " req=" + ev.bytesReq() + " alloc=" + ev.bytesAlloc()
                + " gfp=" + ev.gfp() + " node=" + ev.node() + " name=" + ev.cacheName() + "#" + ev.cacheNameId
                + " site=" + ev.callSite() + "#" + ev.callSiteId + " pfn=" + ev.pfn() + " order=" + ev.order()
                + " mt=" + ev.migratetype());
        }
        out.add("lines=" + r.lineNo() + " events=" + r.events() + " malformed=" + r.malformed() + " other="
            + r.otherEvents() + " lost=" + r.lostEvents());
        return out;
    }

    /**
     * The fast path (canonical lines, fields in the kernel's order) reads exactly what the general parser reads,
     * field by field, and reports the same errors, on real lines, mangled lines, and lines with fields swapped.
     */
    @Property(tries = 1000)
    void theFastPathReadsWhatTheGeneralParserReads(
        @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) final int seed) throws IOException {
        assertBothParsersReadAlike(new Random(seed), rnd -> {
            final String l = LINES[rnd.nextInt(LINES.length)];
            return rnd.nextInt(3) == 0 ? l : mangle(l, rnd);
        });
    }

    /**
     * Line forms beyond the kernel's own (each must read the same through the fast path, which takes only canonical
     * lines, and the general parser): no flags column (trace-cmd report), tasks with blanks, dashes and brackets,
     * tabs, odd widths of every column, events that are none of the six, comments, lost-event lines, hex in upper
     * case or with 0x, numbers at and past every limit.
     */
    private static final String[] FORMS = {
        "bash-6060    [000] .....  3741.299930: kmalloc: call_site=alloc_pipe_info+0x5d/0x230 ptr=0000000052566df2 "
            + "bytes_req=176 bytes_alloc=192 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO node=-1 accounted=true",
        "  <idle>-0     [003] 3741.299930: kfree: call_site=ida_alloc_range+0x39b/0x400 ptr=0000000000000000",
        "Web Content-12345 [003] d..1. 10.5: kmem_cache_free: call_site=x+0x1/0x2 ptr=00000000deadbeef name=dentry",
        "kworker/u8:2-99 [001] 10.000001: kfree: call_site=a+0x1/0x2 ptr=0x1234",
        "a[1]-7 [002] ..... 1.0: kfree: call_site=a+0x1/0x2 ptr=1",
        "x-y-42\t[001]\t.....\t5.000001: kfree: call_site=a+0x1/0x2 ptr=2",
        "sh-1 [000] ..... 12.0: mm_page_alloc: page=0000000000000000 pfn=0xffffffffffffffff order=3 migratetype=0 "
            + "gfp_flags=GFP_KERNEL|__GFP_SKIP_KASAN",
        "sh-1 [000] ..... 12.0: mm_page_alloc: page=0 pfn=0X1ABCDEF order=10 migratetype=-1 gfp_flags=0x0",
        "sh-1 [8191] ..... 99999999.1234567: mm_page_free: page=0 pfn=0x0000000000000000010 order=0",
        "sh-1 [8192] ..... 1.0: mm_page_free: page=0 pfn=0x10 order=0",
        "sh-1234567890 [000] ..... 1.0: mm_page_free: page=0 pfn=0x10 order=00",
        "sh-12 [0000] ..... 1099511627776.999999: kmem_cache_alloc: call_site=alloc_inode+0xa3/0xd0 "
            + "ptr=FFFFFFFFFFFFFFFF name=inode_cache bytes_req=1099511627776 bytes_alloc=9999999 gfp_flags=GFP_KERNEL "
            + "node=1023 accounted=false",
        "sh-12 [000] ..... 1099511627777.0: kfree: call_site=a ptr=1",
        "sh-12 [000] ..... 5: kmem_cache_alloc: call_site= ptr=1 name=x bytes_req=00000000008 bytes_alloc=12345678 "
            + "gfp_flags= node=1024 accounted=true   ",
        "<idle>-0       [000] d.s2.  11.000000: mm_page_alloc_zone_locked: page=0000 pfn=0x1 order=0 migratetype=0",
        "CPU:1 [LOST 17 EVENTS]",
        "# tracer: nop",
        "",
        "   "};

    /** A mangle of the header columns: widths, blanks, digits and separators. */
    static String mangleHeader(final String line, final Random rnd) {
        final int colon = line.indexOf(": ");
        final int at = rnd.nextInt(Math.max(1, colon < 0 ? line.length() : colon + 2));
        final String ins = switch (rnd.nextInt(8)) {
            case 0 -> " ";
            case 1 -> "\t";
            case 2 -> "-";
            case 3 -> "[";
            case 4 -> "]";
            case 5 -> String.valueOf(rnd.nextInt(10));
            case 6 -> ".";
            default -> ":";
        };
        final StringBuilder sb = new StringBuilder(line);
        if (rnd.nextBoolean() && at < sb.length()) {
            sb.deleteCharAt(at);
        } else {
            sb.insert(Math.min(at, sb.length()), ins);
        }
        return sb.toString();
    }

    /** The fast path and the general parser agree on every line form, as written and with its header mangled. */
    @Property(tries = 1000)
    void everyLineFormReadsTheSameThroughBothParsers(
        @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) final int seed) throws IOException {
        assertBothParsersReadAlike(new Random(seed), rnd -> {
            final String l = FORMS[rnd.nextInt(FORMS.length)];
            return switch (rnd.nextInt(4)) {
                case 0 -> l;
                case 1 -> mangle(l, rnd);
                default -> mangleHeader(l, rnd);
            };
        });
    }

    /**
     * 1 to 40 lines drawn by {@code line} (one in 20 ending in CR LF) read the same through the fast path and the
     * general parser: the same events, fields, errors and counts.
     */
    private static void assertBothParsersReadAlike(final Random rnd, final Function<Random, String> line)
        throws IOException {
        final StringBuilder text = new StringBuilder();
        final int n = 1 + rnd.nextInt(40);
        for (int i = 0; i < n; i++) {
            text.append(line.apply(rnd)).append(rnd.nextInt(20) == 0 ? "\r\n" : "\n");
        }
        final byte[] bytes = text.toString().getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(readAll(bytes, false), readAll(bytes, true), text.toString());
    }
}
