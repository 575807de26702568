package org.mm4j.cli.shell;

/**
 * One shell command: its name, synopsis (the usage line), one-line summary for {@code help}, longer text for
 * {@code help NAME}, and the code that runs it. A handler reads its arguments from an {@link ArgReader}, appends
 * what the kernel interface would print to {@code out} (whole lines, each ending in a newline) and throws
 * {@link ShellException} on a user error.
 */
public record Cmd(String name, String synopsis, String summary, String details, Handler handler) {

    /** The code of a command. */
    @FunctionalInterface
    public interface Handler {
        void run(Shell shell, ArgReader args, StringBuilder out);
    }
}
