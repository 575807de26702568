package org.mm4j.cli.shell;

import org.mm4j.cli.report.HtmlReport;
import org.mm4j.base.ProcFs;
import org.mm4j.vma.Processes;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code report FILE}: the model's state now as one self-contained HTML page. */
final class ReportCommands {
    private ReportCommands() {
    }

    static void register(final Shell sh) {
        sh.register(new Cmd("report", "report FILE.html", "write the model's state as an HTML page",
            """
            Writes one self-contained HTML page (inline SVG, no script, no network): each process's address
            space as a strip (/proc/PID/maps), the slab caches in use (/proc/slabinfo), /proc/buddyinfo and
            /proc/meminfo. Prints the file's path. The file's directory must exist (none is created).""",
            ReportCommands::report));
    }

    private static String read(final ProcFs fs, final String path) {
        try {
            return fs.read(path);
        } catch (final ProcFs.ProcFsException e) {
            return "";
        }
    }

    private static void report(final Shell sh, final ArgReader a, final StringBuilder out) {
        final String file = a.word("FILE");
        a.end();
        final ProcFs fs = sh.kernel().procfs();
        final HtmlReport h = new HtmlReport("mm4j shell: the model's state");
        h.paragraph("Booted with \"" + sh.kernel().params().cmdline() + "\".");
        h.heading("Address spaces");
        for (final Processes.Task t : sh.kernel().processes().tasks()) {
            h.mapsStrip("pid " + t.pid() + " (" + t.comm() + ")", t.mm().maps());
        }
        final List<List<String>> rows = new ArrayList<>();
        for (final String line : read(fs, "/proc/slabinfo").split("\n")) {
            final String[] f = line.strip().split("\\s+");
            if (f.length > 5 && !line.startsWith("#") && !line.startsWith("slabinfo") && !f[1].equals("0")) {
                rows.add(List.of(f[0], f[1], f[2], f[3], f[4], f[5]));
            }
        }
        h.heading("Slab caches in use");
        h.table(List.of("cache", "active_objs", "num_objs", "objsize", "objperslab", "pagesperslab"), rows);
        h.pre("/proc/buddyinfo", read(fs, "/proc/buddyinfo"));
        h.pre("/proc/meminfo", read(fs, "/proc/meminfo"));
        final Path p = Path.of(file);
        try {
            h.write(p);
        } catch (final IOException e) {
            final String m = String.valueOf(e.getMessage());
            throw new ShellException("report: " + (m.startsWith(file) ? m : file + ": " + m));
        }
        out.append(p.toAbsolutePath().normalize()).append('\n');
    }
}
