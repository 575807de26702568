package org.mm4j.trace.kmem;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parser's ninth pass (issue 14): four headers of one {@link HeaderMemo} set all remembered, the timestamp's
 * seconds forgotten with each new buffer, one matcher of event names for both fast paths, a batch filled by the
 * reader's own loop. The lines are read as the general parser reads them either way.
 */
class KmemParserNinthTest {
    private static final int SLACK = 16;

    /** A header in the kernel's layout: task right-aligned to 16, pid, CPU, flags, blanks up to the timestamp. */
    private static String header(final int pid) {
        return String.format("%16s-%-7d [%03d] ..... ", "worker", pid, pid % 4);
    }

    private static byte[] padded(final String s) {
        return Arrays.copyOf(s.getBytes(StandardCharsets.US_ASCII), s.length() + SLACK);
    }

    /** Four headers hashed to one set: each found after all four were remembered (two ways kept the last two only). */
    @Test
    void fourHeadersOfOneSetAreAllFound() {
        final Map<Integer, List<Integer>> bySet = new HashMap<>();
        List<Integer> four = null;
        for (int pid = 1; four == null; pid++) {
            final byte[] h = padded(header(pid) + "1.000000:");
            final List<Integer> pids = bySet.computeIfAbsent(HeaderMemo.set(h, 0), k -> new ArrayList<>());
            pids.add(pid);
            if (pids.size() == HeaderMemo.WAYS) {
                four = pids;
            }
        }
        final HeaderMemo memo = new HeaderMemo();
        for (final int pid : four) {
            final byte[] line = padded(header(pid) + "1.000000:");
            assertEquals(-1, memo.find(line, 0, line.length - SLACK), "not remembered yet: " + pid);
            memo.remember(line, 0, header(pid).length(), pid % 4, pid);
        }
        for (int round = 0; round < 3; round++) {
            for (final int pid : four) {
                final byte[] line = padded(header(pid) + "1.000000:");
                final int row = memo.find(line, 0, line.length - SLACK);
                assertTrue(row >= 0, "pid " + pid + " found in round " + round);
                assertEquals(pid, memo.pid(row));
                assertEquals(pid % 4, memo.cpu(row));
                assertEquals(header(pid).length(), memo.length(row));
            }
        }
        // a fifth header of the set pushes the one found least recently out
        int fifth = four.getLast() + 1;
        while (HeaderMemo.set(padded(header(fifth) + "1.000000:"), 0)
            != HeaderMemo.set(padded(header(four.getFirst()) + "1.000000:"), 0)) {
            fifth++;
        }
        final byte[] line5 = padded(header(fifth) + "1.000000:");
        memo.remember(line5, 0, header(fifth).length(), fifth % 4, fifth);
        final byte[] first = padded(header(four.getFirst()) + "1.000000:");
        assertEquals(-1, memo.find(first, 0, first.length - SLACK), "the least recently found one went");
        assertTrue(memo.find(line5, 0, line5.length - SLACK) >= 0);
    }

    private static final String LINE = header(6070) + "3743.534167: kfree: call_site=kvfree+0x31/0x40"
        + " ptr=00000100450b100e\n";

    /** A new buffer (the reader's next chunk) makes the parser read the seconds again, not take the last line's. */
    @Test
    void aNewBufferForgetsTheSeconds() {
        final byte[] b = padded(LINE);
        final KmemLineParser p = new KmemLineParser(b);
        final KmemEvent ev = new KmemEvent();
        assertEquals(KmemLineParser.EVENT, p.parse(ev, 0, LINE.length() - 1));
        assertEquals(3743_534167L, ev.timestampMicros());
        assertTrue(p.remembersSeconds());
        p.buffer(b);
        assertFalse(p.remembersSeconds());
        ev.reset();
        assertEquals(KmemLineParser.EVENT, p.parse(ev, 0, LINE.length() - 1));
        assertTrue(p.remembersSeconds());
        p.forgetSeconds();
        assertFalse(p.remembersSeconds());
    }

    /** The reader's own buffer: each read of new bytes forgets the seconds, and the lines read the same. */
    @Test
    void theReadersOwnBufferForgetsTheSecondsWithNewBytes() throws IOException {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 2_000; i++) {
            sb.append(header(6070 + i % 3)).append(3743 + i / 500).append(String.format(".%06d", i))
                .append(": kfree: call_site=kvfree+0x31/0x40 ptr=00000100450b100e\n");
        }
        final byte[] text = sb.toString().getBytes(StandardCharsets.US_ASCII);
        final List<String> fast = read(text, true);
        assertEquals(read(text, false), fast);
        assertEquals(2_000, fast.size());
    }

    private static List<String> read(final byte[] text, final boolean fastPath) throws IOException {
        final List<String> out = new ArrayList<>();
        final KmemTraceReader r = new KmemTraceReader(new ByteArrayInputStream(text), "input",
            (line, msg) -> out.add(line + ": " + msg), fastPath);
        final KmemEvent ev = new KmemEvent();
        while (r.next(ev)) {
            out.add(ev.lineNo() + " " + ev + " cpu=" + ev.cpu() + " pid=" + ev.pid() + " t=" + ev.timestampMicros());
        }
        return out;
    }

    /**
     * The one matcher of event names: a name followed by ':' and a blank is read by both fast paths; a name with
     * nothing after it, or a name cut by the line's end, is the general parser's (its error names the line).
     */
    @Test
    void eventNamesAtTheLinesEndAreTheGeneralParsers() throws IOException {
        final String[] names = {"kmalloc", "kfree", "kmem_cache_alloc", "kmem_cache_free", "mm_page_alloc",
            "mm_page_free"};
        for (final String name : names) {
            for (final String end : new String[] {name + ":", name + ": ", name.substring(0, name.length() - 1)}) {
                final String line = header(42) + "3743.534167: " + end;
                final KmemLineParser p = new KmemLineParser(padded(line + "\n"));
                assertEquals(KmemLineParser.GENERAL, p.parse(new KmemEvent(), 0, line.length()), line);
                final byte[] text = (line + "\n").getBytes(StandardCharsets.US_ASCII);
                final List<String> general = read(text, false);
                assertEquals(general, read(text, true), line);
            }
        }
    }
    /** One batch row as the model reads it. */
    private static String row(final KmemEventBatch b, final int i) {
        return b.lineNo[i] + " " + b.type[i] + " cpu=" + b.cpu[i] + " t=" + b.micros[i] + " ptr=" + b.ptr[i] + " req="
            + b.bytesReq[i] + " alloc=" + b.bytesAlloc[i] + " gfp=" + b.gfp[i] + " name=" + b.cacheName[i] + "#"
            + b.cacheNameId[i] + " site=" + b.callSite[i] + "#" + b.callSiteId[i] + " pfn=" + b.pfn[i] + " order="
            + b.order[i];
    }

    /**
     * {@link KmemTraceReader#read(KmemEventBatch, KmemEvent)} fills batches with what {@link KmemTraceReader#next}
     * and {@link KmemEventBatch#add} give, on generated captures with mangled lines (so lines that go the old way
     * come between lines read ahead), through a decoder's chunks: the same rows, errors and counters.
     */
    @Test
    void aBatchFilledByTheReaderHoldsWhatNextGives() throws IOException {
        for (int seed = 0; seed < 6; seed++) {
            final Random rnd = new Random(seed);
            final String text = new String(KmemTraceGenerator.generate(rnd.nextLong(), 4, 2_000, 30_000),
                StandardCharsets.ISO_8859_1);
            final StringBuilder sb = new StringBuilder();
            for (final String line : text.split("\n")) {
                sb.append(rnd.nextInt(1000) < 15 ? KmemTraceReaderProperties.mangle(line, rnd) : line).append('\n');
            }
            final byte[] bytes = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
            final List<String> byNext = new ArrayList<>();
            final List<String> byRead = new ArrayList<>();
            final int capacity = 1 + rnd.nextInt(5_000); // errors come out while a batch fills: one size for both
            for (final List<String> out : List.of(byNext, byRead)) {
                try (KmemTraceReader r = new KmemTraceReader(new ReadAheadInputStream(new ByteArrayInputStream(bytes)),
                    (line, msg) -> out.add(line + ": " + msg))) {
                    final KmemEvent ev = new KmemEvent();
                    final KmemEventBatch b = new KmemEventBatch(capacity);
                    boolean more = true;
                    while (more) {
                        b.clear();
                        if (out == byNext) {
                            while (!b.isFull() && (more = r.next(ev))) {
                                b.add(ev);
                            }
                        } else {
                            more = r.read(b, ev);
                        }
                        for (int i = 0; i < b.size(); i++) {
                            out.add(row(b, i));
                        }
                    }
                    out.add("lines=" + r.lineNo() + " events=" + r.events() + " malformed=" + r.malformed()
                        + " other=" + r.otherEvents() + " ahead=" + r.linesReadAhead() + " general="
                        + r.generalLines() + " kfree=" + r.events(KmemEvent.KFREE));
                }
            }
            for (int i = 0; i < Math.min(byNext.size(), byRead.size()); i++) {
                assertEquals(byNext.get(i), byRead.get(i), "seed " + seed + ", row " + i);
            }
            assertEquals(byNext.size(), byRead.size(), "seed " + seed);
            assertTrue(byRead.size() > 29_000, "rows " + byRead.size());
        }
    }
}
