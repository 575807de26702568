package org.mm4j.trace.kmem;

import org.junit.jupiter.api.Test;
import org.mm4j.testing.SystemProperties;
import org.mm4j.trace.kmem.zstd.Zstd;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ReadAheadInputStreamTest {
    /** Reads {@code in} to its end in reads of random sizes. */
    private static byte[] drain(final InputStream in, final Random rnd) throws IOException {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final byte[] buf = new byte[100_000];
        int n;
        while ((n = in.read(buf, 0, 1 + rnd.nextInt(buf.length))) >= 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    /** Compressed input (either zstd decoder, gzip) is read ahead on a thread; plain text on the caller's. */
    @Test
    void compressedInputIsReadAhead() throws Exception {
        final byte[] zst;
        final byte[] gz;
        try (InputStream a = ReadAheadInputStreamTest.class.getResourceAsStream("small.trace.zst");
             InputStream b = ReadAheadInputStreamTest.class.getResourceAsStream("small.trace.gz")) {
            zst = a.readAllBytes();
            gz = b.readAllBytes();
        }
        final byte[] plain;
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            plain = in.readAllBytes();
        }
        for (final String mode : new String[] {"java", "auto"}) {
            SystemProperties.with(Zstd.PROPERTY, mode, () -> {
                final InputStream raw = new BufferedInputStream(new ByteArrayInputStream(zst));
                try (InputStream in = TraceInput.decompressAhead(raw, "t.zst", TraceInput.DEFAULT_ZSTD_MAX_WINDOW)) {
                    assertInstanceOf(ReadAheadInputStream.class, in, mode);
                    assertArrayEquals(plain, in.readAllBytes(), mode);
                }
            });
        }
        final InputStream raw = new BufferedInputStream(new ByteArrayInputStream(gz));
        try (InputStream in = TraceInput.decompressAhead(raw, "t.gz", TraceInput.DEFAULT_ZSTD_MAX_WINDOW)) {
            assertInstanceOf(ReadAheadInputStream.class, in);
            assertArrayEquals(plain, in.readAllBytes());
        }
        final InputStream text = new BufferedInputStream(new ByteArrayInputStream(plain));
        assertSame(text, TraceInput.decompressAhead(text, "t", TraceInput.DEFAULT_ZSTD_MAX_WINDOW));
    }

    /**
     * decompressAhead (whose bytes the test above checks): what decompress refuses at once (an unknown decoder, a
     * window limit out of range, a bad gzip header) refused at once too, and a failure to make the decoder on the
     * decoder thread thrown by the first read.
     */
    /**
     * A stream opened on the decoder thread (a zstd trace's) comes in chunks of {@code OPENED_CHUNK} bytes, one given
     * as it is in {@code CHUNK}s; either way the bytes and the lines cut by a chunk's end read as the source's.
     */
    @Test
    void anOpenedStreamComesInLargerChunks() throws IOException {
        final byte[] data = new byte[2 * ReadAheadInputStream.OPENED_CHUNK + 12_345];
        new Random(11).nextBytes(data);
        for (final boolean opened : new boolean[] {false, true}) {
            final InputStream raw = new ByteArrayInputStream(data);
            try (ReadAheadInputStream in = opened ? new ReadAheadInputStream(raw, r -> r)
                : new ReadAheadInputStream(raw)) {
                final ByteArrayOutputStream out = new ByteArrayOutputStream();
                byte[] chunk = new byte[0];
                int from = 0;
                int chunks = 0;
                for (byte[] next; (next = in.nextChunk(chunk, from, from)) != null; chunk = next, chunks++) {
                    final int size = in.chunkEnd() - in.chunkStart();
                    if (!in.lastChunk()) {
                        assertEquals(opened ? ReadAheadInputStream.OPENED_CHUNK : ReadAheadInputStream.CHUNK, size);
                    }
                    out.write(next, in.chunkStart(), size);
                    from = in.chunkEnd();
                }
                assertArrayEquals(data, out.toByteArray(), "opened " + opened);
                assertEquals(opened ? 3 : 9, chunks, "opened " + opened);
            }
        }
    }

    @Test
    void aDecoderMadeOnTheDecoderThreadReadsAndFailsAsOneMadeBefore() throws Exception {
        final byte[] zst = resource("small.trace.zst");
        final byte[] gz = resource("small.trace.gz");
        final long window = TraceInput.DEFAULT_ZSTD_MAX_WINDOW;
        SystemProperties.with(Zstd.PROPERTY, "jni", () -> assertEquals("zstd: -Dmm4j.zstd=jni names no decoder"
            + " (expected: auto, java or native)", assertThrows(IOException.class, () -> TraceInput.decompressAhead(
                new BufferedInputStream(new ByteArrayInputStream(zst)), "t.zst", window)).getMessage()));
        assertThrows(IllegalArgumentException.class, () -> TraceInput.decompressAhead(new BufferedInputStream(
            new ByteArrayInputStream(zst)), "t.zst", 512));
        assertThrows(IOException.class, () -> TraceInput.decompressAhead(new BufferedInputStream(
            new ByteArrayInputStream(java.util.Arrays.copyOf(gz, 5))), "t.gz", window));
        final InputStream raw = new ByteArrayInputStream(zst);
        try (ReadAheadInputStream in = new ReadAheadInputStream(raw, r -> {
            throw new IOException("no decoder here");
        })) {
            assertEquals("no decoder here", assertThrows(IOException.class, in::read).getMessage());
            assertEquals("no decoder here", assertThrows(IOException.class, in::read).getMessage());
        }
    }

    private static byte[] resource(final String name) throws IOException {
        try (InputStream in = ReadAheadInputStreamTest.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void readsTheSameBytesAsTheSource() throws IOException {
        final Random rnd = new Random(1);
        for (final int size : new int[] {0, 1, ReadAheadInputStream.CHUNK - 1, ReadAheadInputStream.CHUNK,
            5 * ReadAheadInputStream.CHUNK + 12_345}) {
            final byte[] data = new byte[size];
            rnd.nextBytes(data);
            try (ReadAheadInputStream in = new ReadAheadInputStream(new ByteArrayInputStream(data))) {
                assertArrayEquals(data, drain(in, rnd), "size " + size);
                assertEquals(-1, in.read());
            }
        }
    }

    /** The source's exception comes after every byte read before it, and again on later reads. */
    @Test
    void aFailureOfTheSourceFollowsTheBytesBeforeIt() throws IOException {
        final byte[] data = new byte[3 * ReadAheadInputStream.CHUNK + 7];
        new Random(2).nextBytes(data);
        final InputStream failing = new InputStream() {
            private int pos;

            @Override
            public int read() throws IOException {
                if (pos == data.length) {
                    throw new IOException("zstd: corrupt data (test)");
                }
                return data[pos++] & 0xff;
            }
        };
        try (ReadAheadInputStream in = new ReadAheadInputStream(failing)) {
            final byte[] got = new byte[data.length];
            int off = 0;
            while (off < data.length) {
                off += in.read(got, off, data.length - off);
            }
            assertArrayEquals(data, got);
            final IOException e = assertThrows(IOException.class, () -> in.read(got, 0, 1));
            assertEquals("zstd: corrupt data (test)", e.getMessage());
            assertThrows(IOException.class, in::read);
        }
    }

    /** Closing early (the consumer gave up) stops the decoder thread and closes the source. */
    @Test
    void closingEarlyStopsTheThreadAndClosesTheSource() throws IOException {
        final boolean[] closed = {false};
        final InputStream endless = new InputStream() {
            @Override
            public int read() {
                return 'x';
            }

            @Override
            public void close() {
                closed[0] = true;
            }
        };
        final ReadAheadInputStream in = new ReadAheadInputStream(endless);
        assertEquals('x', in.read());
        in.close();
        assertEquals(true, closed[0]);
        assertThrows(IOException.class, in::read);
        final boolean running = Thread.getAllStackTraces().keySet().stream()
            .anyMatch(t -> t.getName().equals("mm4j-kmem-decoder") && t.isAlive());
        assertEquals(false, running, "the decoder thread still runs after close");
    }
}
