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
 * The parser's hand-over to the model ({@link KmemTraceReader#read(KmemEventBatch)}): the fast path writes each
 * field of a batch's row in place, other lines are copied in; a batch reused for batch after batch holds, row by
 * row, exactly the events the reader's {@link KmemTraceReader#next} gives one by one (and so the general parser),
 * with the same counters, on realistic generated captures with mangled lines among them, from the reader's own
 * buffer and from a decoder's chunks.
 */
class KmemEventBatchReadTest {
    private static String show(final KmemEvent ev) {
        return ev.lineNo() + " " + ev.type() + " cpu=" + ev.cpu() + " pid=" + ev.pid() + " t=" + ev.timestampMicros()
            + " ptr=" + ev.ptr() + " req=" + ev.bytesReq() + " alloc=" + ev.bytesAlloc() + " gfp=" + ev.gfp()
            + " node=" + ev.node() + " name=" + ev.cacheName() + "#" + ev.cacheNameId + " site=" + ev.callSite()
            + "#" + ev.callSiteId + " pfn=" + ev.pfn() + " order=" + ev.order() + " mt=" + ev.migratetype();
    }

    private static String counts(final KmemTraceReader r) {
        return "lines=" + r.lineNo() + " events=" + r.events() + " malformed=" + r.malformed() + " other="
            + r.otherEvents() + " lost=" + r.lostEvents() + " kmalloc=" + r.events(KmemEvent.KMALLOC) + " pages="
            + r.events(KmemEvent.MM_PAGE_ALLOC);
    }

    /** Every event as {@link KmemTraceReader#next} reads it, then the errors, then the counters. */
    private static List<String> oneByOne(final InputStream in, final boolean fastPath) throws IOException {
        final List<String> out = new ArrayList<>();
        final List<String> errors = new ArrayList<>();
        final KmemTraceReader r = new KmemTraceReader(in, "input", (line, msg) -> errors.add(line + ": " + msg),
            fastPath);
        final KmemEvent ev = new KmemEvent();
        while (r.next(ev)) {
            out.add(show(ev));
        }
        out.addAll(errors);
        out.add(counts(r));
        return out;
    }

    /**
     * The same from batches of {@code capacity} events, one batch reused for all (its rows loaded back); errors are
     * reported as their lines are read, before the batch holding the events around them is full, so they are
     * compared apart from the events.
     */
    private static List<String> batched(final InputStream in, final int capacity) throws IOException {
        final List<String> out = new ArrayList<>();
        final List<String> errors = new ArrayList<>();
        final KmemTraceReader r = new KmemTraceReader(in, "input", (line, msg) -> errors.add(line + ": " + msg));
        final KmemEventBatch b = new KmemEventBatch(capacity);
        final KmemEvent ev = new KmemEvent();
        boolean more = true;
        while (more) {
            b.clear();
            more = r.read(b);
            assertTrue(more ? b.isFull() : b.size() < capacity, "a batch is filled up unless the input ended");
            for (int i = 0; i < b.size(); i++) {
                b.load(i, ev);
                out.add(show(ev));
            }
        }
        out.addAll(errors);
        out.add(counts(r));
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

    @Property(tries = 40)
    void batchesHoldTheEventsTheReaderReadsOneByOne(
        @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) final int seed) throws IOException {
        final Random rnd = new Random(seed);
        final byte[] text = capture(rnd, 500 + rnd.nextInt(3_000), rnd.nextInt(60));
        final List<String> general = oneByOne(new ByteArrayInputStream(text), false);
        assertEquals(general, oneByOne(new ByteArrayInputStream(text), true));
        for (final int capacity : new int[] {1, 1 + rnd.nextInt(64), KmemEventPipe.BATCH_SIZE}) {
            assertEquals(general, batched(new ByteArrayInputStream(text), capacity), "capacity " + capacity);
        }
    }

    /**
     * Over many of a decoder's chunks (parsed in place, lines near a chunk's end read ahead after the next chunk is
     * fetched): the same events in the same rows, nearly all lines read ahead.
     */
    @Test
    void batchesFromChunksHoldTheEventsTheGeneralParserReads() throws IOException {
        final Random rnd = new Random(14);
        final byte[] text = capture(rnd, 30_000, 2);
        assertTrue(text.length > 3 * ReadAheadInputStream.CHUNK, "length " + text.length);
        final List<String> general = oneByOne(new ByteArrayInputStream(text), false);
        try (ReadAheadInputStream in = new ReadAheadInputStream(new ByteArrayInputStream(text))) {
            assertEquals(general, batched(in, KmemEventPipe.BATCH_SIZE));
        }
        try (ReadAheadInputStream in = new ReadAheadInputStream(new ByteArrayInputStream(text))) {
            final KmemTraceReader r = new KmemTraceReader(in, (line, msg) -> { });
            final KmemEventBatch b = new KmemEventBatch(KmemEventPipe.BATCH_SIZE);
            do {
                b.clear();
            } while (r.read(b));
            assertEquals(30_000, r.lineNo());
            assertTrue(r.linesReadAhead() > 29_000, "lines read ahead: " + r.linesReadAhead());
        }
    }
}
