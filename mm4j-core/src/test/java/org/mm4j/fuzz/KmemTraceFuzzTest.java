package org.mm4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.mm4j.io.InputLineException;
import org.mm4j.trace.kmem.KmemEvent;
import org.mm4j.trace.kmem.KmemTraceReader;

import java.io.ByteArrayInputStream;
import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzz target for the ftrace kmem reader: any bytes are read to the end; every line is an event, skipped or a
 * malformed-line error with its number; nothing throws but an {@link InputLineException} for an overlong line.
 */
class KmemTraceFuzzTest {
    @FuzzTest
    void kmemTrace(final byte[] data) throws IOException {
        final long[] errors = {0, 0};
        final KmemTraceReader r = new KmemTraceReader(new ByteArrayInputStream(data), "fuzz", (line, msg) -> {
            assertTrue(line >= errors[1], "error line numbers go backwards");
            assertTrue(msg != null && !msg.isEmpty(), "an error without a message");
            errors[0]++;
            errors[1] = line;
        });
        final KmemEvent ev = new KmemEvent();
        long events = 0;
        try {
            while (r.next(ev)) {
                events++;
                assertTrue(ev.type() >= 0 && ev.type() < KmemEvent.NR_TYPES, "event type out of range");
                assertTrue(ev.lineNo() >= 1 && ev.lineNo() <= r.lineNo(), "event line number");
            }
        } catch (final InputLineException e) {
            assertTrue(e.getMessage().startsWith("fuzz:"), e.getMessage());
            return;
        }
        assertEquals(events, r.events());
        assertEquals(errors[0], r.malformed());
    }
}
