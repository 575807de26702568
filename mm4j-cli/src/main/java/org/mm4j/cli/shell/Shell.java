package org.mm4j.cli.shell;

import org.mm4j.io.InputLineException;
import org.mm4j.io.LineReader;
import org.mm4j.Kernel;
import org.mm4j.base.StackDepot;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The mm4j shell (DESIGN.md, "The shell"): one command per line over a booted {@link Kernel}.
 *
 * <p>A line is read in this order: a {@code #} at the start of a word (outside quotes) starts a comment;
 * {@code NAME = COMMAND} is split off; {@code $(COMMAND)} is replaced by the first line that command prints and
 * {@code $NAME} / {@code ${NAME}} by the variable (not inside single quotes); then a line shaped like a system call
 * ({@code mmap(...)}) goes to the syscall handler, anything else to the command named by its first word. A
 * {@code NAME = COMMAND} line prints what the command prints and stores its first word in {@code $NAME}; when the
 * right side is no command, it is an expression and its value is printed and stored.
 *
 * <p>Errors ({@link ShellException}, and the core's argument and state exceptions) print
 * {@code mm4j: <line>: <message>} on the error stream; the shell goes on and counts the failure. Not thread-safe:
 * one shell runs on one thread.
 */
public final class Shell {
    /** The command groups every shell gets; a subsystem adds its group here (one line). */
    private static final List<Consumer<Shell>> GROUPS = List.of(
        BasicCommands::register,
        ProcCommands::register,
        PageCommands::register,
        MemoryCommands::register,
        SlabCommands::register,
        VmaCommands::register,
        ProcpsCommands::register,
        ReportCommands::register,
        PageOwnerSort::register,
        KmemleakCommands::register);

    private static final Pattern ASSIGN = Pattern.compile("^\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*=(?!=)\\s*(.*)$");
    /** A system call as strace prints it, optionally with strace -f's pid prefix ("1234 " or "[pid 1234] "). */
    private static final Pattern SYSCALL =
        Pattern.compile("^\\s*(\\d+\\s+|\\[pid\\s+\\d+\\]\\s*)?[a-z_][a-z0-9_]*\\(.*");
    private static final int MAX_SUBST_DEPTH = 16;

    /** Runs a line shaped like a system call ({@code name(args...)}), returning what it prints. */
    @FunctionalInterface
    public interface SyscallHandler {
        String execute(Shell shell, String line);
    }

    private final Kernel kernel;
    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, Cmd> commands = new TreeMap<>();
    private final Map<String, String> vars = new LinkedHashMap<>();
    private final Map<Class<?>, Object> state = new LinkedHashMap<>();
    private final Map<String, String> helpTopics = new TreeMap<>();
    private SyscallHandler syscalls;
    private int lineNo;
    private int failures;
    private int substDepth;
    private Integer exitStatus;

    public Shell(final Kernel kernel, final PrintStream out, final PrintStream err) {
        this.kernel = kernel;
        this.out = out;
        this.err = err;
        for (final Consumer<Shell> g : GROUPS) {
            g.accept(this);
        }
    }


    public Kernel kernel() {
        return kernel;
    }

    public void register(final Cmd cmd) {
        commands.put(cmd.name(), cmd);
    }

    /** A help page that is no command ({@code help syscalls}); its first line is its summary. */
    public void helpTopic(final String name, final String text) {
        helpTopics.put(name, text);
    }

    public Map<String, String> helpTopics() {
        return Collections.unmodifiableMap(helpTopics);
    }

    public void syscallHandler(final SyscallHandler handler) {
        this.syscalls = handler;
    }

    /** Per-shell state a command group keeps (the current process, ...), created on first use. */
    @SuppressWarnings("unchecked")
    public <T> T state(final Class<T> type, final java.util.function.Supplier<T> create) {
        return (T) state.computeIfAbsent(type, k -> create.get());
    }

    public Map<String, Cmd> commands() {
        return Collections.unmodifiableMap(commands);
    }

    public Map<String, String> variables() {
        return Collections.unmodifiableMap(vars);
    }

    /** {@code unset NAME}: forgets a variable; false when there was none. */
    public boolean unsetVariable(final String name) {
        return vars.remove(name) != null;
    }

    public int lineNumber() {
        return lineNo;
    }

    /** Lines that failed so far. */
    public int failures() {
        return failures;
    }

    /** Set by {@code exit}: the status the run ends with; null while the shell goes on. */
    public Integer exitStatus() {
        return exitStatus;
    }

    void requestExit(final int status) {
        this.exitStatus = status;
    }

    /** Runs every line of {@code in} until its end or {@code exit}; returns the exit status (0: no line failed). */
    int runScript(final BufferedReader in) {
        try {
            String line;
            while (exitStatus == null && (line = in.readLine()) != null) {
                runLine(line);
            }
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        return status();
    }

    /**
     * Runs a script read as a stream ({@link LineReader}: lines of at most 1 MiB, UTF-8). A line that is not UTF-8
     * fails ({@code mm4j: FILE:LINE: not UTF-8 text ...}) and the script goes on; a line longer than the limit
     * ends the run with {@code mm4j: FILE:LINE: line longer than 1048576 bytes} and status 2.
     */
    public int runScript(final InputStream in, final String source) {
        return runLines(in, source, null);
    }

    /**
     * {@link #runScript(InputStream, String)} with {@code prompt} run before each line is read (the plain
     * interactive shell, when no terminal library is available, prints its prompt there): the same 1 MiB line
     * limit and UTF-8 check as a script.
     */
    public int runLines(final InputStream in, final String source, final Runnable prompt) {
        final LineReader lines = new LineReader(in, source);
        try {
            while (exitStatus == null) {
                if (prompt != null) {
                    prompt.run();
                }
                final String line;
                try {
                    line = lines.readLine();
                } catch (final InputLineException e) {
                    if (!e.recoverable()) {
                        throw e;
                    }
                    lineNo++;
                    failures++;
                    out.flush();
                    err.println("mm4j: " + e.getMessage());
                    err.flush();
                    continue;
                }
                if (line == null) {
                    break;
                }
                runLine(line);
            }
        } catch (final IOException e) {
            out.flush();
            err.println("mm4j: " + e.getMessage());
            err.flush();
            return 2;
        }
        return status();
    }

    /** The exit status a run ends with now. */
    public int status() {
        return exitStatus != null ? exitStatus : failures > 0 ? 1 : 0;
    }

    /** Runs one line (the next line number); returns false when it failed (the error is already printed). */
    public boolean runLine(final String rawLine) {
        lineNo++;
        substDepth = 0;
        // debugging stacks (page_owner, fault injection reports) end with the line instead of the shell's frames
        StackDepot.enter("mm4j shell line " + lineNo + ": " + Expr.clip(rawLine.strip()), Shell.class);
        try {
            final String text = runLineCapture(rawLine);
            out.print(text);
            out.flush();
            return true;
        } catch (final ShellException e) {
            fail(e.getMessage());
        } catch (final IllegalArgumentException | IllegalStateException | IndexOutOfBoundsException
                 | UnsupportedOperationException | ArithmeticException e) {
            fail(e.getMessage() != null ? e.getMessage() : e.toString());
        } catch (final RuntimeException e) {
            if (e.getClass().getName().startsWith("org.mm4j.") && e.getMessage() != null) {
                // the model's own exceptions (a segmentation fault, a strict-mode debug report) are user-level
                fail(e.getMessage());
            } else {
                internalError(e);
            }
        } catch (final StackOverflowError e) {
            internalError(e);
        } finally {
            StackDepot.leave();
        }
        return false;
    }

    private void internalError(final Throwable e) {
        fail("internal error: " + e);
        if (System.getenv("MM4J_DEBUG") != null) {
            e.printStackTrace(err);
        }
    }

    private void fail(final String message) {
        failures++;
        out.flush();
        err.println("mm4j: " + lineNo + ": " + message);
        err.flush();
    }

    /** Runs one line and returns what it prints (used by {@link #runLine} and tests). */
    String runLineCapture(final String rawLine) {
        final String line = stripComment(rawLine);
        if (line.isBlank()) {
            return "";
        }
        final Matcher m = ASSIGN.matcher(line);
        if (m.matches() && !SYSCALL.matcher(line).matches()) {
            final String name = m.group(1);
            final String rhs = m.group(2);
            if (rhs.isBlank()) {
                throw new ShellException("nothing to store in $" + name);
            }
            final String text = isCommand(rhs) ? execute(rhs) : formatValue(Expr.eval(substitute(rhs))) + "\n";
            final String first = firstWord(text);
            if (first.isEmpty()) {
                throw new ShellException("$" + name + ": '" + rhs.strip() + "' printed nothing to store");
            }
            vars.put(name, first);
            return text;
        }
        return execute(line);
    }

    private boolean isCommand(final String rhs) {
        final String s = rhs.strip();
        if (SYSCALL.matcher(s).matches()) {
            return true;
        }
        final int sp = indexOfBlank(s);
        return commands.containsKey(sp < 0 ? s : s.substring(0, sp));
    }

    /** Substitutes variables and {@code $(...)}, then runs the command; returns what it printed. */
    public String execute(final String commandText) {
        final String line = substitute(commandText).strip();
        if (line.isEmpty()) {
            return "";
        }
        if (SYSCALL.matcher(line).matches()) {
            if (syscalls == null) {
                throw new ShellException("system call lines need the address-space model, not in this build");
            }
            return syscalls.execute(this, line);
        }
        final int sp = indexOfBlank(line);
        final String name = sp < 0 ? line : line.substring(0, sp);
        final Cmd cmd = commands.get(name);
        if (cmd == null) {
            throw new ShellException("unknown command '" + Expr.clip(name) + "' (try: help)");
        }
        final StringBuilder sb = new StringBuilder();
        cmd.handler().run(this, new ArgReader(sp < 0 ? "" : line.substring(sp + 1), cmd.synopsis()), sb);
        return sb.toString();
    }

    /** The value as the shell prints an expression: an address in kernel style, else decimal. */
    public static String formatValue(final long v) {
        return Long.compareUnsigned(v, 1L << 48) >= 0 ? String.format("0x%016x", v) : Long.toUnsignedString(v);
    }

    /** An address or number in hex, as syscall arguments are written. */
    public static String formatHex(final long v) {
        return "0x" + Long.toHexString(v);
    }

    /**
     * The first blank-separated word of the first non-empty line of {@code text}, or "". A syscall's
     * {@code = result} line gives its result.
     */
    public static String firstWord(final String text) {
        for (final String l : text.split("\n")) {
            String s = l.strip();
            if (s.startsWith("= ")) {
                s = s.substring(2).strip();
            }
            if (!s.isEmpty()) {
                final int sp = indexOfBlank(s);
                return sp < 0 ? s : s.substring(0, sp);
            }
        }
        return "";
    }

    private static String firstLine(final String text) {
        for (final String l : text.split("\n")) {
            if (!l.isBlank()) {
                return l.strip();
            }
        }
        return "";
    }

    private static int indexOfBlank(final String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == ' ' || s.charAt(i) == '\t') {
                return i;
            }
        }
        return -1;
    }

    /** Cuts a comment: {@code #} at the start of a word, outside quotes and {@code $(...)}. */
    static String stripComment(final String line) {
        char quote = 0;
        int depth = 0;
        for (int i = 0; i < line.length(); i++) {
            final char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '$' && i + 1 < line.length() && line.charAt(i + 1) == '(') {
                depth++;
                i++;
            } else if (c == '(' && depth > 0) {
                depth++;
            } else if (c == ')' && depth > 0) {
                depth--;
            } else if (c == '#' && depth == 0 && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    /** Replaces {@code $NAME}, {@code ${NAME}} and {@code $(COMMAND)}; single quotes protect. */
    String substitute(final String s) {
        if (s.indexOf('$') < 0) {
            return s;
        }
        final StringBuilder sb = new StringBuilder(s.length() + 16);
        boolean single = false;
        for (int i = 0; i < s.length(); i++) {
            final char c = s.charAt(i);
            if (c == '\'') {
                single = !single;
                sb.append(c);
            } else if (c != '$' || single || i + 1 >= s.length()) {
                sb.append(c);
            } else if (s.charAt(i + 1) == '(') {
                final int close = matchParen(s, i + 1);
                final String inner = s.substring(i + 2, close);
                if (inner.isBlank()) {
                    throw new ShellException("empty $()");
                }
                if (substDepth >= MAX_SUBST_DEPTH) {
                    throw new ShellException("$(...) nested too deeply (at most " + MAX_SUBST_DEPTH + " levels)");
                }
                substDepth++;
                try {
                    sb.append(firstLine(execute(inner)));
                } finally {
                    substDepth--;
                }
                i = close;
            } else if (s.charAt(i + 1) == '{') {
                final int close = s.indexOf('}', i + 2);
                if (close < 0) {
                    throw new ShellException("missing '}' after '${'");
                }
                sb.append(variable(s.substring(i + 2, close)));
                i = close;
            } else if (Character.isLetter(s.charAt(i + 1)) || s.charAt(i + 1) == '_') {
                int j = i + 1;
                while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                    j++;
                }
                sb.append(variable(s.substring(i + 1, j)));
                i = j - 1;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private String variable(final String name) {
        final String v = vars.get(name);
        if (v == null) {
            throw new ShellException("undefined variable $" + name);
        }
        return v;
    }

    private static int matchParen(final String s, final int open) {
        int depth = 0;
        char quote = 0;
        for (int i = open; i < s.length(); i++) {
            final char c = s.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        throw new ShellException("missing ')' after '$('");
    }

    /** Every command name and its summary, for {@code help} and completion. */
    public List<String> commandNames() {
        return new ArrayList<>(commands.keySet());
    }
}
