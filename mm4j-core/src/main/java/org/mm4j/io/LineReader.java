package org.mm4j.io;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads a text input one line at a time in bounded memory: each line is at most {@link #MAX_LINE} bytes (1 MiB;
 * a longer line, such as the endless one of {@code /dev/zero}, is refused after reading one byte past the limit,
 * never buffered whole), and must be UTF-8. Lines end at {@code \n}; a {@code \r} before it is dropped; the last
 * line needs no newline.
 *
 * <p>Errors are {@link InputLineException}s named {@code SOURCE:LINE: ...}: {@code line longer than 1048576 bytes}
 * (the reader stops: every later call throws it again) or {@code not UTF-8 text (byte 0xNN at column C)} (that
 * line is consumed; the next call reads the next line).
 *
 * <p>Memory: a 64 KiB read buffer plus the longest line read so far (at most the limit). Not thread-safe.
 */
public final class LineReader implements Closeable {
    /** The longest line accepted by every mm4j reader (strace logs, kmem traces, shell scripts). */
    public static final int MAX_LINE = 1 << 20;

    private final InputStream in;
    private final String source;
    private final int maxLine;
    private final byte[] buf = new byte[1 << 16];
    private int pos;
    private int end;
    private boolean eof;
    private byte[] line = new byte[256];
    private long lineNo;
    private InputLineException fatal;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);

    public LineReader(final InputStream in, final String source) {
        this(in, source, MAX_LINE);
    }

    public LineReader(final InputStream in, final String source, final int maxLine) {
        if (maxLine < 1) {
            throw new IllegalArgumentException("line limit " + maxLine + " (expected: at least 1)");
        }
        this.in = in;
        this.source = source;
        this.maxLine = maxLine;
    }

    /** The number of the line last returned (or refused); 0 before the first. */
    public long lineNo() {
        return lineNo;
    }

    public String source() {
        return source;
    }

    /** The next line without its end of line; null at the end of the input. */
    public String readLine() throws IOException {
        if (fatal != null) {
            throw fatal;
        }
        int len = 0;
        boolean ascii = true;
        while (true) {
            if (pos == end) {
                if (eof || !fill()) {
                    if (len == 0) {
                        return null;
                    }
                    break;
                }
            }
            int i = pos;
            final int stop = end;
            int nl = -1;
            while (i < stop) {
                final byte b = buf[i];
                if (b == '\n') {
                    nl = i;
                    break;
                }
                if (b < 0) {
                    ascii = false;
                }
                i++;
            }
            final int n = i - pos;
            if (len + n > maxLine) {
                lineNo++;
                fatal = new InputLineException(source, lineNo, "line longer than " + maxLine + " bytes", false);
                throw fatal;
            }
            if (len + n > line.length) {
                line = java.util.Arrays.copyOf(line, Math.min(maxLine, Math.max(len + n, line.length * 2)));
            }
            System.arraycopy(buf, pos, line, len, n);
            len += n;
            if (nl >= 0) {
                pos = nl + 1;
                break;
            }
            pos = end;
        }
        lineNo++;
        if (len > 0 && line[len - 1] == '\r') {
            len--;
        }
        if (ascii) {
            return new String(line, 0, len, StandardCharsets.ISO_8859_1);
        }
        try {
            return utf8.reset().decode(ByteBuffer.wrap(line, 0, len)).toString();
        } catch (final CharacterCodingException e) {
            throw new InputLineException(source, lineNo, notUtf8(line, len), true);
        }
    }

    /** Describes the first byte of {@code b[0, len)} that is no part of a UTF-8 sequence. */
    static String notUtf8(final byte[] b, final int len) {
        final CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        final ByteBuffer src = ByteBuffer.wrap(b, 0, len);
        final CharBuffer dst = CharBuffer.allocate(len + 1);
        d.decode(src, dst, true);
        final int at = src.position();
        return String.format("not UTF-8 text (byte 0x%02x at column %d)", b[Math.min(at, len - 1)] & 0xff, at + 1);
    }

    private boolean fill() throws IOException {
        int n;
        do {
            n = in.read(buf, 0, buf.length);
        } while (n == 0);
        if (n < 0) {
            eof = true;
            return false;
        }
        pos = 0;
        end = n;
        return true;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
