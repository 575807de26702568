package org.mm4j.trace.kmem;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fast path's reading of a line before its end is known ({@link KmemLineParser#parseAhead}): lines that repeat
 * a remembered header, call site and tail, and lines that differ from such a line in one byte anywhere (a newline,
 * a tab, a CR, a control or non-ASCII byte, a blank, a digit or letter), read as the general parser reads them,
 * event by event, error by error, whatever pieces the input arrives in (a line cut at the buffered bytes' end), and
 * when the reader parses a decoder's chunks in place ({@link ReadAheadInputStream#nextChunk}: lines cut at a chunk's
 * end, lines over {@link KmemTraceReader#MAX_LINE} bytes across chunks, a source failing after some chunks).
 */
class KmemLineAheadTest {
    private static final String[] LINES = {
        "        tar-6072    [001] ..s..  3743.525636: kmem_cache_alloc: call_site=vm_area_alloc+0x1f/0x80 "
            + "ptr=0000000080ba8a35 name=vm_area_struct bytes_req=192 bytes_alloc=192 gfp_flags=GFP_KERNEL node=-1 "
            + "accounted=false",
        "        tar-6072    [001] .....  3743.525637: mm_page_alloc: page=00000000a856ff41 pfn=0x100000 order=0 "
            + "migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP",
        "         rm-6075    [001] .....  3743.525663: kmem_cache_free: call_site=alloc_buffer_head+0x2e/0x60 "
            + "ptr=0000000020b3217f name=buffer_head",
        "         rm-6075    [001] .....  3743.525821: mm_page_free: page=00000000a836a285 pfn=0x100001 order=0",
        "        cat-6063    [000] d..1.  3743.525719: kmalloc: call_site=alloc_pipe_info+0x5d/0x230 "
            + "ptr=0000000052566df2 bytes_req=176 bytes_alloc=192 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO node=-1 "
            + "accounted=true",
        "        cat-6063    [000] d..1.  3743.525720: kfree: call_site=ida_alloc_range+0x39b/0x400 "
            + "ptr=0000000000000000",
        "sh-1 [000] ..... 1.000001: kfree: call_site=f+0x1/0x2 ptr=00000000000000a1",
        "sh-1 [000] ..... 1.000002: mm_page_free: page=0 pfn=0x10 order=10"};

    /** Bytes a mangled copy may hold at the place it changes: each class the line scans tell apart. */
    private static final char[] BYTES = {'\n', '\t', '\r', ' ', 0, 1, 0x1f, 0x7f, 0x80, 0xc3, 0xff, '0', '9', 'a',
        'f', 'g', 'x', 'F', ':', '.', '=', '[', ']', '-', '|'};

    /** An input stream handing out its bytes in random pieces of 1 to 300 bytes. */
    private static InputStream pieces(final byte[] text, final Random rnd) {
        return new ByteArrayInputStream(text) {
            @Override
            public synchronized int read(final byte[] b, final int off, final int len) {
                return super.read(b, off, Math.min(len, 1 + rnd.nextInt(300)));
            }
        };
    }

    /**
     * Every field of every event, every error and the counts, as read by one reader from {@code in}; with the fast
     * path, lines are read ahead up to the buffered bytes' very end (the reader's margin 0), so that lines cut there
     * are tried too.
     */
    private static List<String> read(final InputStream in, final boolean fastPath) throws IOException {
        return read(in, fastPath, 0);
    }

    private static List<String> read(final InputStream in, final boolean fastPath, final int aheadMargin)
        throws IOException {
        final List<String> out = new ArrayList<>();
        final KmemTraceReader r = new KmemTraceReader(in, "input", (line, msg) -> out.add(line + ": " + msg),
            fastPath, aheadMargin);
        final KmemEvent ev = new KmemEvent();
        while (r.next(ev)) {
            out.add(ev.lineNo() + " " + ev + " cpu=" + ev.cpu() + " pid=" + ev.pid() + " t=" + ev.timestampMicros()
                + " node=" + ev.node() + " mt=" + ev.migratetype() + " name#" + ev.cacheNameId + " site="
                + ev.callSite() + "#" + ev.callSiteId + " pfn=" + ev.pfn());
        }
        out.add("lines=" + r.lineNo() + " events=" + r.events() + " malformed=" + r.malformed() + " other="
            + r.otherEvents());
        return out;
    }

    /** Each line once as it is (so that the fast path remembers it), then repeated or changed in one byte. */
    private static byte[] text(final Random rnd, final int n) {
        final StringBuilder sb = new StringBuilder();
        for (final String l : LINES) {
            sb.append(l).append('\n');
        }
        for (int i = 0; i < n; i++) {
            final StringBuilder l = new StringBuilder(LINES[rnd.nextInt(LINES.length)]);
            final int at = rnd.nextInt(l.length() + 1);
            switch (rnd.nextInt(5)) {
                case 0 -> { }
                case 1 -> l.setCharAt(Math.min(at, l.length() - 1), BYTES[rnd.nextInt(BYTES.length)]);
                case 2 -> l.insert(at, BYTES[rnd.nextInt(BYTES.length)]);
                case 3 -> l.deleteCharAt(Math.min(at, l.length() - 1));
                default -> l.setLength(at);
            }
            sb.append(l).append('\n');
        }
        if (rnd.nextBoolean()) {
            sb.setLength(sb.length() - 1); // no newline after the last line
        }
        return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    @Property(tries = 500)
    void linesReadAheadReadAsTheGeneralParserReadsThem(
        @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) final int seed) throws IOException {
        final Random rnd = new Random(seed);
        final byte[] text = text(rnd, 1 + rnd.nextInt(200));
        final List<String> general = read(new ByteArrayInputStream(text), false);
        assertEquals(general, read(pieces(text, rnd), true));
        assertEquals(general, read(new ByteArrayInputStream(text), true));
        assertEquals(general, read(new ByteArrayInputStream(text), true, KmemTraceReader.AHEAD_MARGIN));
    }

    /**
     * A long run of repeated lines in small pieces, past the reader's buffer many times: read as the general parser
     * reads them, and nearly all of them (all but the first of each kind) before their end was known.
     */
    @Test
    void repeatedLinesAcrossManyBufferEndsReadAsTheGeneralParserReadsThem() throws IOException {
        final Random rnd = new Random(14);
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            sb.append(LINES[rnd.nextInt(LINES.length)]).append('\n');
        }
        final byte[] text = sb.toString().getBytes(StandardCharsets.US_ASCII);
        final List<String> general = read(new ByteArrayInputStream(text), false);
        assertEquals(general, read(pieces(text, rnd), true));
        assertEquals("lines=20000 events=20000 malformed=0 other=0", general.get(general.size() - 1));
        final KmemTraceReader r = new KmemTraceReader(new ByteArrayInputStream(text), (line, msg) -> { });
        final KmemEvent ev = new KmemEvent();
        while (r.next(ev)) {
            assertTrue(ev.type() >= 0);
        }
        assertEquals(0, r.generalLines());
        assertTrue(r.linesReadAhead() > 19_000, "lines read ahead: " + r.linesReadAhead());
    }

    /** Many mangled lines and a few overlong ones (past {@link KmemTraceReader#MAX_LINE}), over many chunks. */
    @Property(tries = 20)
    void chunksParsedInPlaceReadAsTheGeneralParserReadsThem(
        @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) final int seed) throws IOException {
        final Random rnd = new Random(seed);
        final StringBuilder sb = new StringBuilder(new String(text(rnd, 8_000), StandardCharsets.ISO_8859_1));
        for (int i = 0; i < 3; i++) {
            final int at = sb.indexOf("\n", rnd.nextInt(sb.length())) + 1;
            sb.insert(at, LINES[0].repeat(1 + rnd.nextInt(200)) + "\n");
        }
        final byte[] text = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
        assertTrue(text.length > 3 * ReadAheadInputStream.CHUNK, "length " + text.length);
        final List<String> general = read(new ByteArrayInputStream(text), false);
        try (ReadAheadInputStream in = new ReadAheadInputStream(pieces(text, rnd))) {
            assertEquals(general, read(in, true));
        }
        try (ReadAheadInputStream in = new ReadAheadInputStream(new ByteArrayInputStream(text))) {
            assertEquals(general, read(in, true, KmemTraceReader.AHEAD_MARGIN));
        }
        try (ReadAheadInputStream in = new ReadAheadInputStream(new ByteArrayInputStream(text))) {
            assertEquals(general, read(in, false));
        }
    }

    /** Chunks parsed in place: a source's failure after some chunks ends the reading after the events before it. */
    @Test
    void aSourceFailingAfterSomeChunksEndsTheReadingAfterTheEventsBeforeIt() throws IOException {
        final StringBuilder sb = new StringBuilder();
        int lines = 0;
        while (sb.length() < 2 * ReadAheadInputStream.CHUNK + 1_000) {
            sb.append(LINES[lines++ % LINES.length]).append('\n');
        }
        final byte[] text = sb.toString().getBytes(StandardCharsets.US_ASCII);
        final InputStream failing = new java.io.SequenceInputStream(new ByteArrayInputStream(text), new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("disk on fire");
            }
        });
        try (ReadAheadInputStream in = new ReadAheadInputStream(failing)) {
            final KmemTraceReader r = new KmemTraceReader(in, (line, msg) -> { });
            final KmemEvent ev = new KmemEvent();
            final IOException e = assertThrows(IOException.class, () -> {
                while (r.next(ev)) {
                    assertTrue(ev.type() >= 0);
                }
            });
            assertEquals("disk on fire", e.getMessage());
            assertEquals(lines, r.events());
        }
    }

    /** Chunks parsed in place: a line without end (/dev/zero) still ends the reading after 1 MiB with its number. */
    @Test
    void anEndlessLineInChunksEndsTheReadingWithFileAndLine() throws IOException {
        final InputStream zeros = new java.io.SequenceInputStream(new ByteArrayInputStream(
            (LINES[6] + "\n").getBytes(StandardCharsets.US_ASCII)), new org.mm4j.io.EndlessZeros(4L << 20));
        try (ReadAheadInputStream in = new ReadAheadInputStream(zeros)) {
            final KmemTraceReader r = new KmemTraceReader(in, "/dev/zero", (line, msg) -> { });
            final KmemEvent ev = new KmemEvent();
            assertTrue(r.next(ev));
            final org.mm4j.io.InputLineException e = assertThrows(org.mm4j.io.InputLineException.class,
                () -> r.next(ev));
            assertEquals("/dev/zero:2: line longer than 1048576 bytes", e.getMessage());
        }
    }
}
