package org.mm4j.io;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LineReaderTest {
    private static LineReader reader(final byte[] b) {
        return new LineReader(new ByteArrayInputStream(b), "f.txt");
    }

    @Test
    void linesCrLfAndALastLineWithoutNewline() throws IOException {
        final LineReader r = reader("a\r\n\nb\nlast".getBytes(StandardCharsets.UTF_8));
        assertEquals("a", r.readLine());
        assertEquals("", r.readLine());
        assertEquals("b", r.readLine());
        assertEquals("last", r.readLine());
        assertEquals(4, r.lineNo());
        assertNull(r.readLine());
        assertNull(reader(new byte[0]).readLine());
    }

    @Test
    void utf8IsDecodedAndAnythingElseIsAnErrorOfThatLineOnly() throws IOException {
        final byte[] bad = {'o', 'k', '\n', 'x', (byte) 0xff, 'y', '\n', (byte) 0xc3, (byte) 0xa9, '\n'};
        final LineReader r = reader(bad);
        assertEquals("ok", r.readLine());
        final InputLineException e = assertThrows(InputLineException.class, r::readLine);
        assertEquals("f.txt:2: not UTF-8 text (byte 0xff at column 2)", e.getMessage());
        assertTrue(e.recoverable());
        assertEquals("\u00e9", r.readLine(), "the next line is read after the bad one");
    }

    @Test
    void anEndlessLineIsRefusedAfterTheLimitNotBufferedWhole() {
        final EndlessZeros zeros = new EndlessZeros(LineReader.MAX_LINE + (1 << 17));
        final LineReader r = new LineReader(zeros, "/dev/zero");
        final InputLineException e = assertThrows(InputLineException.class, r::readLine);
        assertEquals("/dev/zero:1: line longer than 1048576 bytes", e.getMessage());
        assertFalse(e.recoverable());
        assertThrows(InputLineException.class, r::readLine, "the reader stays stopped");
        assertTrue(zeros.read <= LineReader.MAX_LINE + (1 << 16), "read " + zeros.read + " bytes");
    }

    @Test
    void aLineOfExactlyTheLimitIsAccepted() throws IOException {
        final byte[] b = new byte[LineReader.MAX_LINE + 1];
        java.util.Arrays.fill(b, (byte) 'x');
        b[LineReader.MAX_LINE] = '\n';
        assertEquals(LineReader.MAX_LINE, reader(b).readLine().length());
        final byte[] c = java.util.Arrays.copyOf(b, b.length + 1);
        c[LineReader.MAX_LINE] = 'x';
        c[LineReader.MAX_LINE + 1] = '\n';
        assertThrows(InputLineException.class, () -> reader(c).readLine());
    }
}
