package org.mm4j.cli.shell;

import java.util.Map;

/** The shell's own commands: {@code help}, {@code print}, {@code vars}, {@code exit}. */
final class BasicCommands {
    static final String VALUES_HELP = """
        Values, as in gdb:
          NAME = COMMAND     runs COMMAND, prints what it prints, and stores the first word printed in $NAME
          NAME = EXPR        stores the value of an expression
          $NAME, ${NAME}     the stored value
          $(COMMAND)         the first line COMMAND prints, e.g. $(cat /sys/kernel/slab/foo/slab_size)
        Wherever a number or an address is expected an expression is accepted: hex (0x...) or decimal numbers,
        $NAME, + - * / % & | ^ ~ << >> and parentheses, with C's precedence, over unsigned 64-bit values.
        An argument expression ends where no binary operator follows, so blanks may stand inside it:
          write ($p & ~4095) + $(cat /sys/kernel/slab/foo/slab_size) 00
        A negative number right after another argument needs parentheses: fill $p 16 (-1).
        # starts a comment (at the start of a word, outside quotes). "..." and '...' quote a word; no
        substitution happens inside '...'.
        Errors print "mm4j: <line>: <message>" on stderr; the shell goes on, and a script run exits non-zero
        when any line failed.
        """;

    private BasicCommands() {
    }

    static void register(final Shell sh) {
        sh.register(new Cmd("help", "help [COMMAND|values]", "list the commands, or show one in detail",
            "With no argument, lists every command with a one-line summary. 'help values' explains variables,\n"
                + "$(...) substitution and expressions.",
            BasicCommands::help));
        sh.register(new Cmd("print", "print EXPR", "evaluate an expression",
            "Prints the value of EXPR: an address (>= 2^48) as the kernel prints one (0x%016x), anything else in\n"
                + "decimal. Example: print ($p & ~4095) + 0x40",
            (s, a, out) -> {
                final long v = a.expr("EXPR");
                a.end();
                out.append(Shell.formatValue(v)).append('\n');
            }));
        sh.register(new Cmd("vars", "vars", "list the variables set with NAME = ...",
            "Prints NAME=VALUE for each variable, in the order they were first set.",
            (s, a, out) -> {
                a.end();
                for (final Map.Entry<String, String> e : s.variables().entrySet()) {
                    out.append(e.getKey()).append('=').append(e.getValue()).append('\n');
                }
            }));
        sh.register(new Cmd("exit", "exit [STATUS]", "leave the shell",
            "Ends the shell. Without STATUS the exit status is 0 when no line failed, else 1.",
            (s, a, out) -> {
                final int status = a.atEnd() ? s.failures() > 0 ? 1 : 0 : a.intArg("STATUS", 0, 255);
                a.end();
                s.requestExit(status);
            }));
    }

    private static String firstLine(final String text) {
        final int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }

    private static void help(final Shell sh, final ArgReader a, final StringBuilder out) {
        final String topic = a.optWord();
        a.end();
        if (topic == null) {
            out.append("mm4j shell: the commands of a running kernel's memory management (help COMMAND for one,\n")
                .append("help values for variables and expressions).\n\n");
            int width = 0;
            for (final Cmd c : sh.commands().values()) {
                width = Math.max(width, c.synopsis().length());
            }
            width = Math.min(width, 44);
            for (final Cmd c : sh.commands().values()) {
                final String syn = c.synopsis();
                out.append("  ").append(syn);
                if (syn.length() > width) {
                    out.append('\n').append(" ".repeat(width + 2));
                } else {
                    out.append(" ".repeat(width - syn.length()));
                }
                out.append("  ").append(c.summary()).append('\n');
            }
            for (final Map.Entry<String, String> t : sh.helpTopics().entrySet()) {
                out.append("\n  help ").append(t.getKey()).append(": ").append(firstLine(t.getValue())).append('\n');
            }
            return;
        }
        if (topic.equals("values") || topic.equals("expressions") || topic.equals("variables")) {
            out.append(VALUES_HELP);
            return;
        }
        final String extra = sh.helpTopics().get(topic);
        if (extra != null) {
            out.append(extra);
            return;
        }
        final Cmd c = sh.commands().get(topic);
        if (c == null) {
            throw new ShellException("no command '" + topic + "' (try: help)");
        }
        out.append("usage: ").append(c.synopsis()).append('\n').append(c.summary()).append('\n');
        if (c.details() != null && !c.details().isEmpty()) {
            out.append('\n').append(c.details().stripTrailing()).append('\n');
        }
    }
}
