package org.mm4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.mm4j.io.InputLineException;
import org.mm4j.vma.replay.StraceCall;
import org.mm4j.vma.replay.StraceReplayer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzz targets for the strace side: the line parser ({@link StraceCall#parse}: a call or an
 * IllegalArgumentException with a message) and the whole replayer over any bytes (case layout or raw log): it
 * finishes with a Result whose bad lines are counted, never another exception.
 */
class StraceFuzzTest {
    @FuzzTest
    void straceLine(final byte[] data) {
        final String line = new String(data, StandardCharsets.UTF_8);
        try {
            final StraceCall c = StraceCall.parse(line);
            assertNotNull(c.name());
            assertNotNull(c.args());
        } catch (final IllegalArgumentException e) {
            assertNotNull(e.getMessage(), "an error without a message: " + e);
        }
    }

    @FuzzTest
    void straceReplay(final byte[] data) throws IOException {
        for (final StraceReplayer.AddressMode mode : StraceReplayer.AddressMode.values()) {
            try {
                final StraceReplayer.Result r = new StraceReplayer(mode, () -> 4096).replay("fuzz",
                    new ByteArrayInputStream(data), l -> { });
                assertTrue(r.errorCount >= r.errors.size());
                assertTrue(r.callsMatched <= r.calls);
                assertEquals(r.errors.size(), Math.min(r.errorCount, StraceReplayer.MAX_KEPT));
                for (final String e : r.errors) {
                    assertTrue(e.startsWith("fuzz"), e);
                }
            } catch (final InputLineException e) {
                assertTrue(e.getMessage().startsWith("fuzz:"), e.getMessage());
            }
        }
    }
}
