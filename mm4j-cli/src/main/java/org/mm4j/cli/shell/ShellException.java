package org.mm4j.cli.shell;

/**
 * A user error in a shell line: bad syntax, a bad value, a command the model refused. The shell prints
 * {@code mm4j: <line>: <message>} on stderr and goes on; it never prints a stack trace for one of these.
 */
public final class ShellException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ShellException(final String message) {
        super(message);
    }
}
