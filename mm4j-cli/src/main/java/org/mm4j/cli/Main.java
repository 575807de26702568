package org.mm4j.cli;

import org.mm4j.Kernel;
import org.mm4j.boot.BootParams;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintStream;

/**
 * The {@code mm4j} command. With no subcommand it runs the main job: the replay of the bundled kernel trace
 * ({@link ReplayKmemCommand#mainJob()}). The subcommands are listed in the annotation; a subsystem adds its own
 * with one line there.
 */
@Command(name = "mm4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    usageHelpAutoWidth = true,
    subcommands = {
        ShellCommand.class,
        ReplayCommand.class,
        BenchCommand.class,
        GenerateKmemCommand.class,
        CommandLine.HelpCommand.class,
    },
    description = {
        "The Linux kernel's memory-management core (buddy page allocator, SLUB, process address spaces) "
            + "rebuilt in Java over off-heap memory, observable like a running kernel. Models Linux 6.18.",
        "",
        "Without a command: replays the bundled slice of a real kernel trace (kmem events) through the model, "
            + "prints the summary and writes an HTML report to the file",
        // on a line of its own: picocli wraps at any line-break opportunity, '.', '/' and '-' included
        "  ./mm4j-report.html"},
    footer = {"", "Run 'mm4j help COMMAND' or 'mm4j COMMAND --help' for a command's manual."})
public final class Main implements java.util.concurrent.Callable<Integer> {
    public static void main(final String[] args) {
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            // fast start: the version without building the whole command model (what picocli prints, see Version)
            for (final String line : versionLines()) {
                System.out.println(line);
            }
            System.exit(0);
        }
        if (args.length == 0) {
            // fast start: the main job without building picocli's command model (~40 ms of reflection)
            System.exit(orError(() -> ReplayKmemCommand.mainJob(true)));
        }
        final String file = plainReplayFile(args);
        if (file != null) {
            // fast start: `replay kmem FILE` with no option, without picocli's command model (~0.25 s of CPU)
            System.exit(orError(() -> ReplayKmemCommand.replayWithDefaults(file, true)));
        }
        System.exit(run(args));
    }

    /**
     * The FILE of {@code replay kmem FILE} with no option, as picocli would read it, else null (options, '-',
     * '@file' argument files, anything else: picocli parses those).
     */
    static String plainReplayFile(final String[] args) {
        if (args.length != 3 || !args[0].equals("replay") || !args[1].equals("kmem")) {
            return null;
        }
        final String f = args[2];
        return f.isEmpty() || f.startsWith("-") || f.startsWith("@") ? null : f;
    }

    /** {@code job}'s exit status, an exception printed as the command line's handler prints it. */
    private static int orError(final java.util.function.IntSupplier job) {
        try {
            return job.getAsInt();
        } catch (final RuntimeException ex) {
            System.err.println("mm4j: " + (ex.getMessage() != null ? ex.getMessage() : ex.toString()));
            if (System.getenv("MM4J_DEBUG") != null) {
                ex.printStackTrace(System.err);
            }
            return 1;
        }
    }

    /** Runs the command line and returns its exit status (tests call this). */
    public static int run(final String... args) {
        final CommandLine cl = commandLine();
        return cl.execute(args);
    }

    static CommandLine commandLine() {
        final CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("mm4j: " + (ex.getMessage() != null ? ex.getMessage() : ex.toString()));
            if (System.getenv("MM4J_DEBUG") != null) {
                ex.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        return cl;
    }

    @Override
    public Integer call() {
        return ReplayKmemCommand.mainJob();
    }

    /** Boots a kernel, or prints the command-line error and returns null. */
    static Kernel bootOrNull(final String cmdline, final PrintStream err) {
        final BootParams params = paramsOrNull(cmdline, err);
        return params == null ? null : bootOrNull(params, err);
    }

    /** The parsed kernel command line, or null after printing the command-line error. */
    static BootParams paramsOrNull(final String cmdline, final PrintStream err) {
        try {
            return BootParams.parse(cmdline);
        } catch (final IllegalArgumentException e) {
            err.println("mm4j: --cmdline: " + e.getMessage());
            return null;
        }
    }

    /** Boots a kernel on parsed parameters, or prints the error as {@link #bootOrNull(String, PrintStream)}. */
    static Kernel bootOrNull(final BootParams params, final PrintStream err) {
        try {
            return Kernel.boot(params);
        } catch (final IllegalArgumentException e) {
            err.println("mm4j: --cmdline: " + e.getMessage());
            return null;
        }
    }

    /** Whether standard input and output are a terminal. */
    @SuppressWarnings("SystemConsoleNull") // null when the JDK runs with -Djdk.console=java.base and no terminal
    static boolean isTerminal() {
        final java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    /**
     * Whether standard error is a terminal (for progress bars): on Linux by where fd 2 points, elsewhere when the
     * console is a terminal.
     */
    static boolean stderrIsTerminal() {
        try {
            final String target = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/2"))
                .toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (final java.io.IOException | UnsupportedOperationException | SecurityException e) {
            return isTerminal();
        }
    }

    static String versionLine() {
        final String v = Main.class.getPackage().getImplementationVersion();
        return "mm4j " + (v != null ? v : "0.1.0") + ", models Linux " + Kernel.VERSION;
    }

    static String[] versionLines() {
        return new String[] {versionLine(), "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name")
            + ")"};
    }

    /** {@code --version}. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return versionLines();
        }
    }
}
