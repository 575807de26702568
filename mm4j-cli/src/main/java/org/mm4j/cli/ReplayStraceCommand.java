package org.mm4j.cli;

import org.mm4j.boot.BootParams;
import org.mm4j.cli.report.HtmlReport;
import org.mm4j.trace.kmem.KmemTraceReader;
import org.mm4j.vma.MmStruct;
import org.mm4j.vma.VmaStore;
import org.mm4j.vma.replay.StraceReplayer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code mm4j replay strace [--cmdline ...] [--addresses trace|model] [--out DIR] FILE...}. */
@Command(name = "strace", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
    usageHelpAutoWidth = true,
    // one string per paragraph: picocli wraps each to the terminal's width
    description = {
        "Replays memory-syscall logs through mm4j's process address space (mm_struct, VMAs, the mmap "
            + "family with Linux 6.18's merge, split and placement rules) and prints the final "
            + "/proc/<pid>/maps of each FILE.",
        "",
        "FILE is a case in the layout of samples/vma (#BEFORE maps, #OPS syscall lines as strace -y "
            + "prints them and #touch lines, #AFTER maps): the replay starts from #BEFORE and compares its "
            + "maps with #AFTER and every result with the kernel's. A plain 'strace -f -y -e trace=%%memory' "
            + "log works too (pid prefixes, <unfinished ...>/<... resumed> pairs, signals, exits; openat and "
            + "close lines, when logged, make one struct file per open); it starts from an empty address space, "
            + "so calls on what execve mapped before the log's first line (the program, ld.so, the stack) fail.",
        "",
        "Summaries, disagreements and malformed lines (with file and line) go to standard error; a bad "
            + "line is skipped and the replay goes on. A FILE is read as a stream, line by line, in bounded "
            + "memory (gzip and zstd files too); a line over 1 MiB (1048576 bytes) ends that FILE's replay "
            + "with this error:",
        "  FILE:LINE: line longer than 1048576 bytes",
        "Files the log names are model files (zeros), never read from this machine."},
    footer = {"", "Exit status: 0 when every FILE matched (maps and results), 1 when some disagreed or had "
        + "malformed lines, 2 when a file cannot be read or --cmdline is bad."})
public final class ReplayStraceCommand implements Callable<Integer> {
    @Option(names = "--cmdline", paramLabel = "PARAMS", defaultValue = "",
        description = "Kernel command line of the model (checked; the replay needs no memory).")
    String cmdline;

    @Option(names = "--addresses", paramLabel = "trace|model", defaultValue = "trace",
        description = "trace: put each non-fixed mapping where the log says the kernel put it (default); "
            + "model: let mm4j's get_unmapped_area choose and count the placements equal to the kernel's.")
    String addresses;

    @Option(names = "--out", paramLabel = "DIR",
        description = "Write DIR/<FILE's name> in the case layout with mm4j's own '= result' on every call "
            + "line and mm4j's #AFTER maps (diff it against FILE). DIR is created when missing if its parent "
            + "directory exists (as mkdir; never mkdir -p).")
    Path out;

    @Option(names = "--report", paramLabel = "OUT.html",
        description = "Also write one self-contained HTML page: per FILE the summary, the disagreements and the "
            + "address space before and after, each drawn as a strip of its mappings.")
    Path report;

    @Option(names = "--max-report", paramLabel = "N", defaultValue = "20",
        description = "Disagreements printed per file (default: ${DEFAULT-VALUE}).")
    int maxReport;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Case files or strace logs.")
    List<Path> files;

    @Override
    public Integer call() {
        return run(System.out, System.err);
    }

    int run(final PrintStream stdout, final PrintStream stderr) {
        final VmaStore.Kind store;
        try {
            final String named = BootParams.parse(cmdline).vmaStore();
            store = named == null ? VmaStore.Kind.defaultKind() : VmaStore.Kind.parse(named);
        } catch (final IllegalArgumentException e) {
            stderr.println("mm4j: --cmdline: " + e.getMessage());
            return 2;
        }
        final StraceReplayer.AddressMode mode;
        switch (addresses) {
            case "trace" -> mode = StraceReplayer.AddressMode.TRACE;
            case "model" -> mode = StraceReplayer.AddressMode.MODEL;
            default -> {
                stderr.println("mm4j: --addresses: '" + addresses + "' (expected: trace or model)");
                return 2;
            }
        }
        int status = 0;
        if (report != null && !HtmlReport.reportWritable(report, stderr)) {
            return 2;
        }
        if (out != null) {
            try {
                StraceReplayer.outDir(out);
            } catch (final IOException e) {
                stderr.println("mm4j: --out " + e.getMessage());
                return 2;
            }
        }
        final HtmlReport html = report == null ? null
            : new HtmlReport("mm4j replay strace: " + files.size() + " file(s)");
        for (final Path f : files) {
            if (!Files.exists(f)) {
                stderr.println("mm4j: " + f + ": No such file or directory");
                status = 2;
                continue;
            }
            if (Files.isDirectory(f)) {
                stderr.println("mm4j: " + f + ": Is a directory");
                status = 2;
                continue;
            }
            final StraceReplayer.Result r;
            final Path outFile = out == null ? null : out.resolve(f.getFileName().toString());
            try (InputStream in = org.mm4j.trace.kmem.TraceInput.decompress(new BufferedInputStream(Files.newInputStream(f),
                     1 << 16), f.toString());
                 Writer w = outFile == null ? Writer.nullWriter()
                     : Files.newBufferedWriter(outFile, StandardCharsets.UTF_8)) {
                final StraceReplayer replayer = new StraceReplayer(mode, () -> MmStruct.DEFAULT_MAX_MAP_COUNT, store);
                r = replayer.replay(f.toString(), in, line -> {
                    try {
                        w.write(line);
                        w.write('\n');
                    } catch (final IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (final IOException | UncheckedIOException e) {
                final String m = e.getMessage() == null ? e.toString() : e.getMessage();
                stderr.println("mm4j: " + (m.startsWith(f.getFileName().toString()) || m.startsWith(f.toString())
                    ? m : f + ": " + m));
                status = 2;
                continue;
            }
            if (files.size() > 1) {
                stdout.println("==> " + f + " <==");
            }
            stdout.print(r.maps);
            stderr.println(r.summary());
            final String startNote = startNote(r);
            if (startNote != null) {
                stderr.println("  " + startNote);
            }
            int n = 0;
            for (final String m : r.mismatches) {
                if (n++ < maxReport) {
                    stderr.println("  " + m);
                }
            }
            if (r.afterDiff != null) {
                n = 0;
                for (final String d : r.afterDiff) {
                    if (n++ < maxReport) {
                        stderr.println("  " + d);
                    }
                }
            }
            for (final String e : r.errors) {
                stderr.println("mm4j: " + e);
            }
            if (r.errorCount > r.errors.size()) {
                stderr.println("mm4j: " + f + ": " + (r.errorCount - r.errors.size()) + " more bad lines not shown");
            }
            if (html != null) {
                addToReport(html, f, r);
            }
            final boolean ok = r.errorCount == 0 && r.mismatchCount == 0
                && (r.afterDiff == null || r.afterDiff.isEmpty());
            if (!ok && status == 0) {
                status = 1;
            }
        }
        if (html != null) {
            try {
                html.write(report);
                stderr.println("Report: " + report.toAbsolutePath());
            } catch (final IOException e) {
                stderr.println("mm4j: --report " + report + ": " + e.getMessage());
                status = 2;
            }
        }
        return status;
    }

    /**
     * What a replay without #BEFORE maps (a raw strace log, or a case with '#BEFORE unknown') must say: it starts from
     * an empty address space, so calls on what execve and ld.so mapped before the log's first line disagree.
     */
    static String startNote(final StraceReplayer.Result r) {
        if (!r.beforeMaps.isEmpty()) {
            return null;
        }
        final long failed = r.calls - r.callsMatched;
        return "no #BEFORE maps: the replay starts from an empty address space, so calls on mappings made before "
            + "the log's first line (by execve: the program, ld.so, the stack, the vDSO) cannot match"
            + (failed == 0 ? "" : " (" + failed + " of " + r.calls + " calls differ from the kernel's here)");
    }

    private void addToReport(final HtmlReport html, final Path f, final StraceReplayer.Result r) {
        html.heading(f.getFileName().toString());
        html.paragraph(r.summary());
        final String startNote = startNote(r);
        if (startNote != null) {
            html.paragraph(startNote);
        }
        final List<String> problems = new java.util.ArrayList<>(r.mismatches);
        if (r.afterDiff != null) {
            problems.addAll(r.afterDiff);
        }
        r.errors.forEach(problems::add);
        if (!problems.isEmpty()) {
            html.pre("Disagreements and malformed lines", String.join("\n",
                problems.subList(0, Math.min(problems.size(), maxReport))));
        }
        final String before = r.beforeMaps;
        if (!before.isBlank()) {
            html.mapsComparison("Address space before (#BEFORE) and after the replay (mm4j)", "before (#BEFORE)",
                before, "after (mm4j)", r.maps);
        } else {
            html.mapsComparison("Address space after the replay (mm4j; the log's start state is unknown)", null, null,
                "after (mm4j)", r.maps);
        }
        html.pre("/proc/PID/maps after the replay", r.maps);
    }

    /** The lines strictly between the marker lines {@code from} and {@code to} ("" when absent). */
    static String block(final String text, final String from, final String to) {
        final int a = text.indexOf("\n" + from);
        if (a < 0) {
            return "";
        }
        final int start = text.indexOf('\n', a + 1);
        final int end = text.indexOf("\n" + to, start);
        return start < 0 || end < 0 ? "" : text.substring(start + 1, end + 1);
    }
}
