package org.mm4j.cli;

import org.mm4j.trace.kmem.KmemTraceGenerator;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * {@code mm4j bench --workloads replay}: the main job's benchmark. Writes a generated multi-million-event kmem trace
 * ({@link KmemTraceGenerator}, compressed by the {@code zstd} command: no big file in the repository) and the
 * bundled slice as zstd files in a temporary directory, then times {@code mm4j replay kmem FILE} end to end in a
 * child process (JVM start included: the {@code ./mm4j} launcher of the source tree, with its AOT cache, else
 * {@code java -jar} on the running jar), beside {@code zstd -dc FILE | wc -l} on the same file in the same run:
 * events/s, CPU seconds (user + sys of the child), and the ratio of the two times (the floor is 1x). The load
 * average before and after is printed with the table.
 */
final class ReplayBench {
    /** One timed command: wall and CPU seconds (children's user + sys), and its exit status. */
    record Timing(double wall, double cpu, int status) {
    }

    private final PrintStream out;
    private final PrintStream err;
    /** The command that replays, FILE appended; null: {@link #replayCommand()}. */
    private final List<String> replay;

    ReplayBench(final PrintStream out, final PrintStream err) {
        this(out, err, null);
    }

    ReplayBench(final PrintStream out, final PrintStream err, final List<String> replay) {
        this.out = out;
        this.err = err;
        this.replay = replay;
    }

    /** Runs the benchmark: {@code events} generated events, {@code runs} replays of each trace; the exit status. */
    int run(final long events, final int runs) throws IOException, InterruptedException {
        if (!onPath("zstd") || !onPath("bash") || !onPath("wc")) {
            err.println("mm4j bench: the replay workload needs the zstd, bash and wc commands "
                + "(apt-get install zstd)");
            return 2;
        }
        final List<String> replay = this.replay != null ? this.replay : replayCommand();
        if (replay == null) {
            err.println("mm4j bench: cannot find the mm4j launcher or jar to run replays with");
            return 2;
        }
        final Path dir = Files.createTempDirectory("mm4j-replay-bench");
        try {
            final Path generated = dir.resolve("generated.trace.zst");
            err.println("mm4j bench: generating " + String.format(Locale.ROOT, "%,d", events) + " events...");
            compress(generated, os -> new KmemTraceGenerator(1, 2, 65_536).write(os, events));
            final Path bundled = dir.resolve("bundled.trace.zst");
            compress(bundled, os -> {
                try (InputStream in = new GZIPInputStream(ReplayKmemCommand.class.getResourceAsStream(
                    ReplayKmemCommand.BUNDLED))) {
                    in.transferTo(os);
                }
            });
            out.println("load before: " + load());
            out.printf(Locale.ROOT, "%-22s %9s %9s %8s %12s %9s %12s %7s %6s%n", "trace", "events", "replay_s",
                "cpu_s", "events/s", "zstd_wc_s", "lines/s", "ratio", "steal");
            int status = 0;
            for (final Path f : List.of(generated, bundled)) {
                final String name = f.equals(generated) ? "generated (" + events + ")" : "bundled slice";
                final long lines = lines(f);
                for (int r = 0; r < runs; r++) {
                    final List<String> cmd = new ArrayList<>(replay);
                    cmd.add(f.toString());
                    final long steal0 = stealTicks();
                    final Timing t = time(cmd, dir);
                    final long steal1 = stealTicks();
                    final Timing z = time(List.of("sh", "-c", "zstd -dc \"$0\" | wc -l", f.toString()), dir);
                    if (t.status() != 0 || z.status() != 0) {
                        err.println("mm4j bench: " + (t.status() != 0 ? "the replay" : "zstd -dc") + " of " + f
                            + " exited with " + (t.status() != 0 ? t.status() : z.status()));
                        status = 1;
                    }
                    out.printf(Locale.ROOT, "%-22s %9d %9.2f %8.2f %12.0f %9.2f %12.0f %6.1fx %6s%n", name, lines,
                        t.wall(), t.cpu(), lines / t.wall(), z.wall(), lines / z.wall(), t.wall() / z.wall(),
                        steal0 < 0 || steal1 < 0 ? "-" : Long.toString(steal1 - steal0));
                }
            }
            out.println("load after:  " + load());
            out.println("replay: " + Path.of(replay.get(0)).getFileName() + " ... " + String.join(" ",
                replay.subList(replay.size() - 2, replay.size())) + " FILE; events/s = the file's lines / the "
                + "replay's wall time, JVM start included; ratio = replay_s / zstd_wc_s; steal = /proc/stat's steal "
                + "ticks (1/100 s, all CPUs) during the replay: CPU time the hypervisor gave to other guests, a slow "
                + "stretch of the host, not of the replay");
            return status;
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Something that writes a trace's text. */
    interface TraceWriter {
        void write(OutputStream os) throws IOException;
    }

    /** Writes {@code w}'s text through {@code zstd -q -T1} into {@code f}. */
    private static void compress(final Path f, final TraceWriter w) throws IOException, InterruptedException {
        final Process p = new ProcessBuilder("zstd", "-q", "-T1", "-f", "-o", f.toString())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (OutputStream os = new BufferedOutputStream(p.getOutputStream(), 1 << 16)) {
            w.write(os);
        }
        final int rc = p.waitFor();
        if (rc != 0) {
            throw new IOException("zstd -o " + f + " exited with " + rc);
        }
    }

    /** The file's lines, as {@code zstd -dc FILE | wc -l} counts them. */
    private static long lines(final Path f) throws IOException, InterruptedException {
        final Process p = new ProcessBuilder("sh", "-c", "zstd -dc \"$0\" | wc -l", f.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        final String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        p.waitFor();
        return Long.parseLong(s);
    }

    /**
     * Runs {@code cmd} (output discarded) under bash, whose {@code times} builtin then prints the CPU time of its
     * children: the command's user + sys seconds, all its threads (JIT and GC included).
     */
    static Timing time(final List<String> cmd, final Path dir) throws IOException, InterruptedException {
        final List<String> c = new ArrayList<>(List.of("bash", "-c", "\"$@\" >/dev/null 2>&1; s=$?; times; exit $s",
            "bash"));
        c.addAll(cmd);
        final long t0 = System.nanoTime();
        final Process p = new ProcessBuilder(c).directory(dir.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
        final String times = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        final int status = p.waitFor();
        final double wall = (System.nanoTime() - t0) / 1e9;
        return new Timing(wall, childCpu(times), status);
    }

    /** The children's user + sys seconds from bash's {@code times} output (its second line: "0m1.234s 0m0.056s"). */
    static double childCpu(final String times) {
        final String[] lines = times.strip().split("\n");
        if (lines.length < 2) {
            throw new IllegalArgumentException("times output '" + times + "' (expected: two lines)");
        }
        double s = 0;
        for (final String f : lines[lines.length - 1].trim().split("\\s+")) {
            final int m = f.indexOf('m');
            if (m < 0 || !f.endsWith("s")) {
                throw new IllegalArgumentException("times field '" + f + "' (expected: like 0m1.234s)");
            }
            s += Integer.parseInt(f.substring(0, m)) * 60 + Double.parseDouble(f.substring(m + 1, f.length() - 1));
        }
        return s;
    }

    /**
     * How to run {@code mm4j replay kmem}: the source tree's {@code ./mm4j} launcher (it uses the AOT cache), else
     * this JVM's java on the running jar; null when neither is found.
     */
    static List<String> replayCommand() {
        final Path root = BenchCommand.findSourceRoot();
        if (root != null && Files.isExecutable(root.resolve("mm4j"))) {
            return List.of(root.resolve("mm4j").toString(), "replay", "kmem");
        }
        try {
            final Path self = Path.of(ReplayBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isRegularFile(self)) {
                return List.of(BenchCommand.javaBinary().toString(), "--enable-native-access=ALL-UNNAMED", "-Xss4m",
                    "-jar", self.toString(), "replay", "kmem");
            }
        } catch (final java.net.URISyntaxException | RuntimeException e) {
            // not run from a jar
        }
        return null;
    }

    /** Whether an executable {@code command} is in a folder of {@code PATH} (also the launcher test's check). */
    static boolean onPath(final String command) {
        final String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (final String d : path.split(java.io.File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, command))) {
                return true;
            }
        }
        return false;
    }

    /** The steal ticks {@code /proc/stat} has counted so far (all CPUs), or -1 where it cannot be read. */
    private static long stealTicks() {
        try (java.io.BufferedReader r = Files.newBufferedReader(Path.of("/proc/stat"))) {
            return stealOf(r.readLine());
        } catch (final IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * The steal field (the 8th number) of {@code /proc/stat}'s first line ({@code cpu  user nice system idle iowait
     * irq softirq steal ...}), or -1 when the line is not such a line or has no steal field (kernels before 2.6.11).
     */
    static long stealOf(final String cpuLine) {
        if (cpuLine == null) {
            return -1;
        }
        final String[] f = cpuLine.trim().split(" +");
        if (f.length < 9 || !f[0].equals("cpu")) {
            return -1;
        }
        try {
            return Long.parseLong(f[8]);
        } catch (final NumberFormatException e) {
            return -1;
        }
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (final IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
