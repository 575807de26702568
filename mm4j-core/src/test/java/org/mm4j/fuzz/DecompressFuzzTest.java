package org.mm4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.mm4j.trace.kmem.zstd.ZstdInputStream;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzz targets for the compressed-trace readers: any byte string either decodes or fails with an
 * {@link IOException} whose message says what is wrong; never another exception, never a hang, never more output
 * than the window allows per block. Seeds: {@code DecompressFuzzTestInputs/<method>/} in the test resources.
 * In a plain test run they are replayed (regression mode); {@code JAZZER_FUZZ=1} fuzzes (see the README).
 */
class DecompressFuzzTest {
    /** The zstd decoder with a small window limit (1 MiB), so a hostile header cannot ask for much memory. */
    @FuzzTest
    void zstd(final byte[] data) {
        try (InputStream in = new ZstdInputStream(new ByteArrayInputStream(data), 1 << 20)) {
            drain(in);
        } catch (final IOException e) {
            assertNotNull(e.getMessage(), "an IOException without a message");
            assertTrue(e.getMessage().contains("zstd") || e.getMessage().startsWith("not zstd"), e.getMessage());
        }
    }

    /** java.util.zip's gzip reader as org.mm4j.trace.kmem.TraceInput.decompress uses it: CRC and size trailer checked. */
    @FuzzTest
    void gzip(final byte[] data) {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(data), 1 << 12)) {
            drain(in);
        } catch (final ZipException | EOFException e) {
            assertNotNull(e.getMessage() == null ? e.toString() : e.getMessage());
        } catch (final IOException e) {
            assertFalse(e.getMessage() == null, "an IOException without a message: " + e);
        }
    }

    /** Reads everything; a fuzz input of a few KB must not decode to more than 64 MiB (a decompression bomb). */
    private static void drain(final InputStream in) throws IOException {
        final byte[] buf = new byte[1 << 14];
        long total = 0;
        int n;
        while ((n = in.read(buf)) >= 0) {
            total += n;
            if (total > 64L << 20) {
                return;
            }
        }
    }
}
