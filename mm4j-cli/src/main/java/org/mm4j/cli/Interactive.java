package org.mm4j.cli;

import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.ParsedLine;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.mm4j.cli.shell.ProcCommands;
import org.mm4j.cli.shell.Shell;
import org.mm4j.base.ProcFs;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;

/**
 * The shell on a terminal: JLine line editing, history in {@code ~/.mm4j_history}, tab completion of commands and
 * of /proc, /sys paths. The terminal is reached through FFM (or the {@code exec} provider), never JNI. When no
 * terminal can be opened it falls back to plain line reading with a prompt.
 */
final class Interactive {
    static final String PROMPT = "mm4j> ";

    private Interactive() {
    }

    static int run(final Shell shell) {
        final Terminal terminal;
        try {
            terminal = TerminalBuilder.builder().system(true).ffm(true).jni(false).jansi(false).jna(false)
                .exec(true).dumb(false).build();
        } catch (final IOException | RuntimeException e) {
            return plain(shell, System.in, System.out);
        }
        try (terminal) {
            final LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("mm4j")
                .completer(new ShellCompleter(shell))
                .variable(LineReader.HISTORY_FILE, Path.of(System.getProperty("user.home"), ".mm4j_history"))
                .variable(LineReader.HISTORY_SIZE, 2000)
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .build();
            terminal.writer().println("mm4j shell (" + Main.versionLine() + "): 'help' lists the commands, "
                + "Ctrl-D leaves.");
            while (shell.exitStatus() == null) {
                final String line;
                try {
                    line = reader.readLine(PROMPT);
                } catch (final UserInterruptException e) {
                    continue;
                } catch (final EndOfFileException e) {
                    break;
                }
                shell.runLine(line);
            }
            return shell.status();
        } catch (final IOException e) {
            return shell.status();
        }
    }

    /** Without a terminal: prompt, then one line at a time, with a script's limits (1 MiB lines, UTF-8). */
    static int plain(final Shell shell, final InputStream in, final PrintStream out) {
        return shell.runLines(in, "stdin", () -> {
            out.print(PROMPT);
            out.flush();
        });
    }

    /** Completes the first word from the command names, and any word starting with '/' from /proc and /sys. */
    static final class ShellCompleter implements Completer {
        private final Shell shell;

        ShellCompleter(final Shell shell) {
            this.shell = shell;
        }

        @Override
        public void complete(final LineReader reader, final ParsedLine line, final List<Candidate> candidates) {
            final String word = line.word();
            if (line.wordIndex() == 0) {
                for (final String c : shell.commandNames()) {
                    candidates.add(new Candidate(c));
                }
                return;
            }
            final String cmd = line.words().isEmpty() ? "" : line.words().get(0);
            if (line.wordIndex() == 1 && cmd.startsWith("kmem_cache_") && !cmd.equals("kmem_cache_create")) {
                for (final String c : cacheNames(shell)) {
                    candidates.add(new Candidate(c));
                }
                return;
            }
            if (word.startsWith("/")) {
                for (final String p : completePath(shell.kernel().procfs(), word)) {
                    candidates.add(new Candidate(p, p, null, null, p.endsWith("/") ? "" : " ", null, !p.endsWith("/")));
                }
            } else if (word.startsWith("$")) {
                for (final String v : shell.variables().keySet()) {
                    candidates.add(new Candidate("$" + v));
                }
            }
        }
    }

    /** The names of the slab caches, for kmem_cache_alloc/free/shrink/destroy. */
    static List<String> cacheNames(final Shell shell) {
        final List<String> out = new java.util.ArrayList<>();
        for (final org.mm4j.slab.KmemCache c : shell.kernel().slab().caches()) {
            out.add(c.name());
        }
        return out;
    }

    /** A path with entries below it that is not itself a readable file. */
    static boolean isDirectory(final ProcFs fs, final String path) {
        try {
            fs.read(path);
            return false;
        } catch (final RuntimeException e) {
            return !ProcCommands.entries(fs, path).isEmpty();
        }
    }

    /** The paths that complete {@code prefix}: entries of its directory, a trailing '/' on directories. */
    static List<String> completePath(final ProcFs fs, final String prefix) {
        final int slash = prefix.lastIndexOf('/');
        final String dir = slash <= 0 ? "/" : prefix.substring(0, slash);
        final String base = dir.equals("/") ? "/" : dir + "/";
        final TreeSet<String> out = new TreeSet<>();
        for (final String e : ProcCommands.entries(fs, dir)) {
            final String full = base + e;
            if (full.startsWith(prefix)) {
                out.add(isDirectory(fs, full) ? full + "/" : full);
            }
        }
        return List.copyOf(out);
    }
}
