package org.mm4j.boot;

/** A kernel command line that cannot be booted: names the parameter and the value at fault. */
public final class CmdlineException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public CmdlineException(final String message) {
        super(message);
    }
}
