package org.mm4j.cli;

import org.mm4j.cli.shell.Shell;
import org.mm4j.Kernel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code mm4j shell [--cmdline "..."] [SCRIPT]}. */
@Command(name = "shell", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    sortOptions = false, usageHelpAutoWidth = true,
    header = "The kernel-like shell: slab, kmalloc, page and raw-memory commands, /proc and /sys, syscalls.",
    description = {
        "",
        "Boots a model kernel and reads commands, one a line, from SCRIPT, from standard input, or (on a "
            + "terminal) interactively with line editing, history (~/.mm4j_history) and tab completion of commands "
            + "and /proc, /sys paths. Each command prints what the kernel interface would print.",
        "",
        "Commands (type 'help' in the shell for all of them, 'help COMMAND' for one):",
        "%n  kmem_cache_create NAME SIZE [align=N] [flags=A|B] [ctor=NAME] ...",
        "  kmem_cache_alloc NAME   kmem_cache_free NAME ADDR",
        "  kmem_cache_shrink NAME  kmem_cache_destroy NAME",
        "  kmalloc SIZE  kzalloc SIZE  kcalloc N SIZE  krealloc ADDR SIZE",
        "  kfree ADDR  ksize ADDR",
        "  alloc_pages ORDER   __free_pages ADDR ORDER",
        "  read ADDR LEN   write ADDR HEXBYTES   fill ADDR LEN BYTE   (raw memory)",
        "  cat PATH   echo VALUE > PATH   ls PATH   dmesg [-c]",
        "  mmap(...) munmap(...) mprotect(...) brk(...) ...   (strace syntax)",
        "  touch ADDR [r|w|x]   fork   ps   pid N",
        "  mkfile PATH SIZE [HEXBYTES]   openat(AT_FDCWD, \"PATH\", O_RDWR)   close(FD)",
        "  (files of the model: the host's are never read)",
        "",
        "Values: 'p = kmalloc 64' stores the first word printed in $p; $(COMMAND) substitutes the first line a "
            + "command prints; numbers and addresses may be expressions: write ($p & ~4095) + 64 12. '#' starts "
            + "a comment."},
    footer = {
        "",
        "Errors print 'mm4j: <line>: <message>' on standard error and the shell goes on. A SCRIPT line must be "
            + "UTF-8 (else that line fails) and at most 1 MiB (else the run ends with status 2). The shell reads no "
            + "file of this machine but SCRIPT and writes none but what 'report FILE' names.",
        "",
        "Exit status: 0 when every line succeeded, 1 when any line failed, 2 on a usage error (bad --cmdline, "
            + "unreadable SCRIPT); 'exit N' ends with N.",
        "",
        "Example:",
        "%n  printf 'p = kmalloc 100\\nksize $p\\n' | mm4j shell --cmdline slub_debug=FZP"})
public final class ShellCommand implements Callable<Integer> {
    @Option(names = "--cmdline", paramLabel = "PARAMS",
        description = "Kernel command line to boot with, e.g. \"mem=256M nr_cpus=2 slub_debug=FZPU\".")
    String cmdline = "";

    @Parameters(index = "0", arity = "0..1", paramLabel = "SCRIPT",
        description = "File of shell commands ('-' = standard input). Without it: standard input, or an "
            + "interactive session on a terminal.")
    String script;

    @Override
    public Integer call() {
        final PrintStream out = System.out;
        final PrintStream err = System.err;
        final Kernel kernel = Main.bootOrNull(cmdline, err);
        if (kernel == null) {
            return 2;
        }
        try (kernel) {
            final Shell shell = new Shell(kernel, out, err);
            if (script != null && !script.equals("-")) {
                // a line that is no UTF-8 is an error of that line, not of the run; an overlong one ends the run
                if (Files.isDirectory(Path.of(script))) {
                    err.println("mm4j: " + script + ": Is a directory");
                    return 2;
                }
                try (InputStream in = Files.newInputStream(Path.of(script))) {
                    return shell.runScript(in, script);
                } catch (final NoSuchFileException e) {
                    err.println("mm4j: " + script + ": No such file or directory");
                    return 2;
                } catch (final IOException | java.io.UncheckedIOException e) {
                    err.println("mm4j: " + script + ": " + e.getMessage());
                    return 2;
                }
            }
            if (script == null && Main.isTerminal()) {
                return Interactive.run(shell);
            }
            return shell.runScript(System.in, "stdin");
        }
    }
}
