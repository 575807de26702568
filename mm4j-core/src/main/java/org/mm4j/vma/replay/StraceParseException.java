package org.mm4j.vma.replay;

/** A log line mm4j cannot read: names the source, the line number and what is wrong. */
public final class StraceParseException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String source;
    private final long lineNo;

    public StraceParseException(final String source, final long lineNo, final String message) {
        super((source == null ? "" : source + ":") + (lineNo > 0 ? lineNo + ": " : "") + message);
        this.source = source;
        this.lineNo = lineNo;
    }

    public String source() {
        return source;
    }

    public long lineNo() {
        return lineNo;
    }
}
