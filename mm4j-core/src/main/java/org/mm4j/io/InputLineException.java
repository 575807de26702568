package org.mm4j.io;

import java.io.IOException;

/**
 * A line of an input file that mm4j refuses: longer than the limit, or not UTF-8. The message is
 * {@code SOURCE:LINE: what is wrong}, ready to print after {@code "mm4j: "}.
 */
public class InputLineException extends IOException {
    private static final long serialVersionUID = 1L;
    private final String source;
    private final long lineNo;
    /** Whether reading may go on with the next line (the bad line was consumed whole). */
    private final boolean recoverable;

    public InputLineException(final String source, final long lineNo, final String what, final boolean recoverable) {
        super(source + ":" + lineNo + ": " + what);
        this.source = source;
        this.lineNo = lineNo;
        this.recoverable = recoverable;
    }

    public String source() {
        return source;
    }

    public long lineNo() {
        return lineNo;
    }

    /** The message without the {@code SOURCE:LINE: } prefix. */
    public String what() {
        final String m = getMessage();
        final String prefix = source + ":" + lineNo + ": ";
        return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
    }

    /** True for a non-UTF-8 line (consumed: the next line can be read); false for an overlong line. */
    public boolean recoverable() {
        return recoverable;
    }
}
