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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reader fetches more bytes before the read-ahead's margin runs out ({@code KmemTraceReader.fillAhead}), so
 * the lines near a buffer's or a chunk's end are read ahead too, and the remembered headers ({@link HeaderMemo}:
 * sets of four rows): on realistic generated captures with mangled lines among them, from the reader's own buffer
 * and from a decoder's chunks, every event, error and count is the general parser's, nearly every line is read
 * ahead, and a source's failure still comes after every line before it.
 */
class KmemTraceReaderFillAheadTest {
    private static String show(final KmemEvent ev) {
        return ev.lineNo() + " " + ev.type() + " cpu=" + ev.cpu() + " pid=" + ev.pid() + " t=" + ev.timestampMicros()
            + " ptr=" + ev.ptr() + " req=" + ev.bytesReq() + " alloc=" + ev.bytesAlloc() + " gfp=" + ev.gfp()
            + " node=" + ev.node() + " name=" + ev.cacheName() + "#" + ev.cacheNameId + " site=" + ev.callSite()
            + "#" + ev.callSiteId + " pfn=" + ev.pfn() + " order=" + ev.order() + " mt=" + ev.migratetype();
    }

    /** Every event and error as one reader reads them from {@code in}, then its counters. */
    private static List<String> read(final InputStream in, final boolean fastPath) throws IOException {
        final List<String> out = new ArrayList<>();
        final KmemTraceReader r = new KmemTraceReader(in, "input", (line, msg) -> out.add(line + ": " + msg),
            fastPath);
        final KmemEvent ev = new KmemEvent();
        while (r.next(ev)) {
            out.add(show(ev));
        }
        out.add("lines=" + r.lineNo() + " events=" + r.events() + " malformed=" + r.malformed() + " other="
            + r.otherEvents() + " lost=" + r.lostEvents() + " kmalloc=" + r.events(KmemEvent.KMALLOC) + " pages="
            + r.events(KmemEvent.MM_PAGE_ALLOC));
        return out;
    }

    /** A generated capture with some of its lines mangled (truncated, a byte changed, fields swapped...). */
    private static byte[] capture(final Random rnd, final int events, final int mangledPerMille) {
        final String text = new String(KmemTraceGenerator.generate(rnd.nextLong(), 4, 2_000, events),
            StandardCharsets.ISO_8859_1);
        final StringBuilder sb = new StringBuilder(text.length());
        for (final String line : text.split("\n", -1)) {
            sb.append(rnd.nextInt(1000) < mangledPerMille ? KmemTraceReaderProperties.mangle(line, rnd) : line)
                .append('\n');
        }
        sb.setLength(sb.length() - 1);
        return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    @Property(tries = 30)
    void generatedCapturesWithMangledLinesReadAsTheGeneralParserReadsThem(
        @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) final int seed) throws IOException {
        final Random rnd = new Random(seed);
        final byte[] text = capture(rnd, 500 + rnd.nextInt(20_000), rnd.nextInt(60));
        final List<String> general = read(new ByteArrayInputStream(text), false);
        assertEquals(general, read(new ByteArrayInputStream(text), true));
        try (ReadAheadInputStream in = new ReadAheadInputStream(new ByteArrayInputStream(text))) {
            assertEquals(general, read(in, true));
        }
    }

    /** Over many of a decoder's chunks: nearly every line is read ahead, those near a chunk's end included. */
    @Test
    void nearlyEveryLineAcrossChunksIsReadAhead() throws IOException {
        final byte[] text = capture(new Random(14), 30_000, 0);
        assertTrue(text.length > 3 * ReadAheadInputStream.CHUNK, "length " + text.length);
        try (ReadAheadInputStream in = new ReadAheadInputStream(new ByteArrayInputStream(text))) {
            final KmemTraceReader r = new KmemTraceReader(in, (line, msg) -> { });
            final KmemEvent ev = new KmemEvent();
            while (r.next(ev)) {
                assertTrue(ev.type() >= 0);
            }
            assertEquals(30_000, r.lineNo());
            assertTrue(r.linesReadAhead() > 29_500, "lines read ahead: " + r.linesReadAhead());
        }
    }

    /**
     * The reader's own buffer (plain text): a source failing after some lines, met when the reader fetches more
     * bytes early (less than the read-ahead's margin left), still ends the reading after every line before it.
     */
    @Test
    void aPlainSourceFailingEndsTheReadingAfterEveryLineBeforeIt() throws IOException {
        final String text = new String(KmemTraceGenerator.generate(7, 4, 2_000, 5_000), StandardCharsets.US_ASCII);
        final int lines = (int) text.chars().filter(c -> c == '\n').count();
        final InputStream failing = new java.io.FilterInputStream(
            new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII))) {
            @Override
            public int read(final byte[] b, final int off, final int len) throws IOException {
                final int n = super.read(b, off, len);
                if (n < 0) {
                    throw new IOException("disk on fire"); // where the text ends
                }
                return n;
            }
        };
        final KmemTraceReader r = new KmemTraceReader(failing, (line, msg) -> { });
        final KmemEvent ev = new KmemEvent();
        IOException failure = null;
        try {
            while (r.next(ev)) {
                assertTrue(ev.type() >= 0);
            }
        } catch (final IOException e) {
            failure = e;
        }
        assertEquals("disk on fire", failure == null ? "no failure" : failure.getMessage());
        assertEquals(lines, r.events());
        assertTrue(r.linesReadAhead() > lines / 2, "lines read ahead: " + r.linesReadAhead());
    }
}
