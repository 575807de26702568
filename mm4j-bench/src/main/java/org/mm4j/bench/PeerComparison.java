package org.mm4j.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * The peer comparison behind {@code mm4j bench}: runs every workload over every allocator row, its forks in
 * rounds across the allocators ({@link ForkRounds}: one JMH run of one fork each, the allocators' order rotated
 * per round, so every allocator sees the same machine minutes), merges each row's forks, prints the tables, the
 * targets under the ranking rule ({@link Targets}), the ratios and the paired per-round ratios, and writes the
 * JSON rows.
 *
 * <pre>
 * java -cp mm4j-bench/target/mm4j-benchmarks.jar org.mm4j.bench.PeerComparison [--quick] [--json FILE]
 *      [--allocators a,b,...] [--workloads w,...] [--forks N] [--warmup N] [--iterations N] [--time MS] [--list]
 * </pre>
 *
 * <p>Environment: the JVM that runs JMH must already have {@code GLIBC_TUNABLES} (jemalloc's static TLS), because
 * JMH's forks inherit the parent's environment and a JVM cannot change its own. So {@link #main} relaunches itself
 * once with the environment and JVM flags the peers need, unless {@code -Dmm4j.bench.launched=true} says it is
 * that relaunch. Each fork gets a fixed heap ({@code -Xms = -Xmx}, fixed young gen) and the Netty/Unsafe flags.
 * The {@code netty-pooled-direct-ftl} row's forks run with benchmark threads that are Netty
 * FastThreadLocalThreads ({@link FastThreadExecutor}). Each fork's JMH log is kept quiet and printed only when
 * the fork fails; a progress line per fork says its mean and iteration range.
 */
public final class PeerComparison {
    /** JVM flags every JVM that loads the peers needs (Netty 4.2 and Unsafe on JDK 25, FFM without warnings). */
    public static final List<String> PEER_JVM_ARGS = List.of(
        "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow",
        "--add-opens", "java.base/java.nio=ALL-UNNAMED",
        "-Dio.netty.tryReflectionSetAccessible=true",
        "-Dio.netty.leakDetection.level=disabled");

    /**
     * Heap flags of each fork: fixed heap and young generation, so GC sizing does not drift between rows, touched
     * at start-up so no row pays the first touch of fresh pages inside its measurement (0.4 s a fork here).
     */
    static final List<String> FORK_HEAP_ARGS = List.of("-Xms512m", "-Xmx512m", "-Xmn128m", "-XX:+AlwaysPreTouch");

    /**
     * JIT flags of each fork: {@link Allocator#allocWriteFree}'s default (the address rows' form) inlined into
     * the benchmark method, as the object rows' overrides are by their {@code @CompilerControl} (JMH's annotation
     * processor writes no compiler hint for an interface's default method). It is the benchmark's wrapper around
     * the row's calls, which a program has in its own method (docs/speed-history.md, "Ninth pass (issue 13)").
     */
    static final List<String> FORK_JIT_ARGS = List.of(
        "-XX:CompileCommand=inline,org/mm4j/bench/Allocator.allocWriteFree");

    /** Forks of a run whose numbers may be published (README): JMH's run-to-run variance needs several JVMs. */
    public static final int MIN_PUBLISHED_FORKS = 3;
    static final int DEFAULT_FORKS = MIN_PUBLISHED_FORKS;
    static final int DEFAULT_WARMUP = 3;
    static final int DEFAULT_ITERATIONS = 4;
    static final int DEFAULT_TIME_MS = 500;

    private static final String LAUNCHED = "mm4j.bench.launched";
    private static final int LOCK_WAIT_MINUTES = 15;

    private PeerComparison() {
    }

    /** Parsed command line. */
    static final class Settings {
        boolean quick;
        Path json;
        List<String> allocators = Allocators.NAMES;
        List<Workload> workloads = List.of(Workload.values());
        int forks = -1;
        int warmup = -1;
        int iterations = -1;
        int timeMs = -1;
        boolean list;

        int forks() {
            return forks >= 0 ? forks : quick ? 1 : DEFAULT_FORKS;
        }

        int warmup() {
            return warmup >= 0 ? warmup : quick ? 2 : DEFAULT_WARMUP;
        }

        int iterations() {
            return iterations >= 1 ? iterations : quick ? 3 : DEFAULT_ITERATIONS;
        }

        int timeMs() {
            return timeMs >= 1 ? timeMs : quick ? 300 : DEFAULT_TIME_MS;
        }

        /** Fewer forks than a publishable run needs ({@value #MIN_PUBLISHED_FORKS}), or {@code --quick}. */
        boolean smokeOnly() {
            return quick || forks() < MIN_PUBLISHED_FORKS;
        }
    }

    static Settings parse(final String[] args) {
        final Settings s = new Settings();
        for (int i = 0; i < args.length; i++) {
            final String a = args[i];
            switch (a) {
                case "--quick" -> s.quick = true;
                case "--list" -> s.list = true;
                case "--json" -> s.json = Path.of(value(args, ++i, a));
                case "--allocators" -> {
                    final List<String> names = split(value(args, ++i, a));
                    for (final String n : names) {
                        if (!Allocators.NAMES.contains(n)) {
                            throw new IllegalArgumentException("unknown allocator '" + n + "' (expected one of "
                                + String.join(", ", Allocators.NAMES) + ")");
                        }
                    }
                    s.allocators = names;
                }
                case "--workloads" -> s.workloads = split(value(args, ++i, a)).stream().map(Workload::byLabel).toList();
                case "--forks" -> s.forks = number(value(args, ++i, a), a, 0);
                case "--warmup" -> s.warmup = number(value(args, ++i, a), a, 0);
                case "--iterations" -> s.iterations = number(value(args, ++i, a), a, 1);
                case "--time" -> s.timeMs = number(value(args, ++i, a), a, 1);
                default -> throw new IllegalArgumentException("unknown option '" + a + "' (expected --quick, --json "
                    + "FILE, --allocators LIST, --workloads LIST, --forks N, --warmup N, --iterations N, --time MS, "
                    + "--list)");
            }
        }
        return s;
    }

    private static String value(final String[] args, final int i, final String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static List<String> split(final String list) {
        return Arrays.stream(list.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
    }

    private static int number(final String v, final String option, final int min) {
        try {
            final int n = Integer.parseInt(v);
            if (n >= min) {
                return n;
            }
        } catch (final NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(option + " " + v + " (expected: an integer >= " + min + ")");
    }

    public static void main(final String[] args) throws Exception {
        final Settings s;
        try {
            s = parse(args);
        } catch (final IllegalArgumentException e) {
            System.err.println("mm4j bench: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (!Boolean.getBoolean(LAUNCHED)) {
            System.exit(relaunch(args));
            return;
        }
        System.exit(run(s));
    }

    /** Runs this class again in a JVM with the peers' environment and flags; returns its exit code. */
    static int relaunch(final String[] args) throws IOException, InterruptedException {
        final List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-D" + LAUNCHED + "=true");
        cmd.add("-Xmx512m");
        if (Boolean.getBoolean("jmh.ignoreLock")) {
            cmd.add("-Djmh.ignoreLock=true");
        }
        cmd.addAll(PEER_JVM_ARGS);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(PeerComparison.class.getName());
        cmd.addAll(Arrays.asList(args));
        final ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        pb.environment().put("GLIBC_TUNABLES", withStaticTls(System.getenv("GLIBC_TUNABLES")));
        return pb.start().waitFor();
    }

    /** Adds jemalloc's static-TLS tunable to an existing GLIBC_TUNABLES value (colon-separated). */
    static String withStaticTls(final String current) {
        if (current == null || current.isBlank()) {
            return NativeMalloc.STATIC_TLS_TUNABLE;
        }
        return current.contains("glibc.rtld.optional_static_tls=") ? current
            : current + ":" + NativeMalloc.STATIC_TLS_TUNABLE;
    }

    static int run(final Settings s) throws RunnerException, IOException {
        final Map<String, String> unavailable = new LinkedHashMap<>();
        final List<String> runnable = new ArrayList<>();
        for (final String name : s.allocators) {
            final String why = Allocators.unavailableReason(name);
            if (why != null) {
                unavailable.put(name, why);
            } else {
                runnable.add(name);
            }
        }
        if (s.list) {
            for (final String name : s.allocators) {
                System.out.println(name + (unavailable.containsKey(name) ? "  skipped: " + unavailable.get(name)
                    : "  available"));
            }
            return 0;
        }
        final int rounds = Math.max(1, s.forks());
        final List<ForkRounds.Slot> schedule = ForkRounds.schedule(s.workloads, runnable, rounds);
        System.out.printf(Locale.ROOT, "mm4j bench: %d workloads x %d allocators, %d fork(s) each, run in %d "
                + "round(s) of one fork per workload and allocator (the allocators' order rotated each round), "
                + "%d+%d iterations of %d ms each (about %d min)%n", s.workloads.size(), runnable.size(), s.forks(),
            rounds, s.warmup(), s.iterations(), s.timeMs(), estimatedMinutes(s, schedule.size()));
        if (s.smokeOnly()) {
            System.out.println("mm4j bench: SMOKE TEST ONLY (" + s.forks() + " fork(s)" + (s.quick ? ", --quick" : "")
                + "): these numbers show that every row runs, they are not for publication; figures in the README "
                + "come from a run with >= " + MIN_PUBLISHED_FORKS + " forks");
        }
        if (s.forks() >= ForkRounds.MIN_FORKS_FOR_FORK_ERROR && s.forks() < ForkRounds.RANKING_FORKS) {
            System.out.printf(Locale.ROOT, "mm4j bench: each row's error is the 99.9 %% Student-t interval over its "
                    + "%d fork means (t = %.1f): rows rank only when far apart; --forks %d (t = %.1f) ranks finer%n",
                s.forks(), ForkRounds.studentT(s.forks()), ForkRounds.RANKING_FORKS,
                ForkRounds.studentT(ForkRounds.RANKING_FORKS));
        }
        System.out.println("mm4j bench: " + machine() + "; load before: " + loadAverage());
        for (final Map.Entry<String, String> e : unavailable.entrySet()) {
            System.out.println("mm4j bench: skipping " + e.getKey() + ": " + e.getValue());
        }
        final long start = System.nanoTime();
        final Map<String, double[][]> iterations = new HashMap<>();
        for (int i = 0; i < schedule.size(); i++) {
            final ForkRounds.Slot slot = schedule.get(i);
            final double[] it = runFork(s, slot.workload(), slot.allocator());
            iterations.computeIfAbsent(slot.workload().benchmark() + "|" + slot.allocator(),
                k -> new double[rounds][])[slot.round()] = it;
            System.out.printf(Locale.ROOT, "mm4j bench: [%" + digits(schedule.size()) + "d/%d %5s] round %"
                    + digits(rounds) + "d/%d %-21s %-24s %s%n", i + 1, schedule.size(),
                minutes(System.nanoTime() - start), slot.round() + 1, rounds, slot.workload().label(),
                slot.allocator(), it == null ? "FAILED" : summary(it));
        }
        final List<Row> rows = rows(s, iterations, unavailable, rounds);
        System.out.println();
        System.out.println(header());
        System.out.print(ResultTable.render(rows));
        System.out.println();
        System.out.print(ResultTable.renderMedians(rows));
        final String forks = ResultTable.renderForkMeans(rows);
        if (!forks.isEmpty()) {
            System.out.println();
            System.out.print(forks);
        }
        System.out.println();
        System.out.println("Targets (ns/op over the peer's, same run; ranked only where the 99.9 % intervals are "
            + "disjoint; glibc-malloc is information only):");
        System.out.print(Targets.report(rows));
        System.out.println();
        System.out.println("Ratios to the fastest of jemalloc and mimalloc (ns/op over its ns/op, same run):");
        System.out.print(Targets.bestPeerRatios(rows));
        final String paired = Targets.pairedRatios(rows);
        if (!paired.isEmpty()) {
            System.out.println();
            System.out.println("Paired ratios (per round, the two forks' means; forks of one round ran minutes "
                + "apart at most, so a slow machine minute slows both):");
            System.out.print(paired);
        }
        System.out.println();
        System.out.println("mm4j bench: took " + minutes(System.nanoTime() - start) + " (min:s); load after: "
            + loadAverage() + (s.smokeOnly() ? " (SMOKE TEST ONLY)" : ""));
        if (s.json != null) {
            BenchJson.write(rows, s.json);
            System.out.println("mm4j bench: wrote " + rows.size() + " rows to " + s.json);
        }
        return rows.stream().anyMatch(r -> !r.ran() && !unavailable.containsKey(r.allocator())) ? 1 : 0;
    }

    /** Seconds a fork costs beyond its iterations: the JVM's start with a pre-touched heap, JMH's set-up. */
    static final double FORK_OVERHEAD_SECONDS = 2;

    /** The run's expected length in minutes: every fork's iterations plus its start-up, at least 1. */
    static long estimatedMinutes(final Settings s, final int forks) {
        return Math.max(1, Math.round(forks * ((s.warmup() + s.iterations()) * s.timeMs() / 1000.0
            + FORK_OVERHEAD_SECONDS) / 60));
    }

    private static int digits(final int n) {
        return String.valueOf(n).length();
    }

    private static String minutes(final long nanos) {
        final long sec = TimeUnit.NANOSECONDS.toSeconds(nanos);
        return String.format(Locale.ROOT, "%d:%02d", sec / 60, sec % 60);
    }

    private static String summary(final double[] it) {
        double sum = 0;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (final double x : it) {
            sum += x;
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        return String.format(Locale.ROOT, "%.1f ns/op (iterations %.1f-%.1f)", sum / it.length, min, max);
    }

    /**
     * Runs one fork of one workload and allocator (in this JVM when {@code --forks 0}); returns its measured
     * iterations' scores, or null when it failed, after printing JMH's log of it (kept quiet otherwise).
     */
    static double[] runFork(final Settings s, final Workload w, final String allocator) throws RunnerException {
        final ByteArrayOutputStream log = new ByteArrayOutputStream();
        final PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
        Collection<RunResult> results;
        try {
            results = runWhenLockFree(options(s, w, allocator), out);
        } catch (final RunnerException e) {
            if (String.valueOf(e.getMessage()).contains("JMH lock")) {
                throw e;
            }
            out.println(e);
            results = List.of();
        }
        final List<Double> scores = new ArrayList<>();
        for (final RunResult r : results) {
            for (final BenchmarkResult b : r.getBenchmarkResults()) {
                for (final IterationResult i : b.getIterationResults()) {
                    scores.add(i.getPrimaryResult().getScore());
                }
            }
        }
        if (scores.isEmpty()) {
            System.out.println("mm4j bench: " + w.label() + " " + allocator + ": the fork failed; JMH's log:");
            System.out.print(log.toString(StandardCharsets.UTF_8));
            return null;
        }
        return scores.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static String header() {
        return String.format(Locale.ROOT, "mm4j bench, %s, JDK %s (%s), %d CPUs, %s %s",
            ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_LOCAL_DATE),
            System.getProperty("java.version"), System.getProperty("java.vm.name"),
            Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"), System.getProperty("os.arch"));
    }

    /** The CPU model and count (from {@code /proc/cpuinfo} where there is one) and the JDK. */
    static String machine() {
        String model = System.getProperty("os.arch");
        try {
            for (final String line : java.nio.file.Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (final IOException | RuntimeException e) {
            // not Linux: the architecture will do
        }
        return String.format(Locale.ROOT, "%s, %d CPUs, JDK %s", model, Runtime.getRuntime().availableProcessors(),
            System.getProperty("java.version"));
    }

    /** The 1, 5 and 15 minute load averages ({@code /proc/loadavg}), or "unknown". */
    static String loadAverage() {
        try {
            final String[] f = java.nio.file.Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (final IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** JMH's options for one fork of one workload and allocator ({@code --forks 0}: in this JVM). */
    static org.openjdk.jmh.runner.options.Options options(final Settings s, final Workload w,
                                                          final String allocator) {
        final List<String> jvm = new ArrayList<>(FORK_HEAP_ARGS);
        jvm.addAll(PEER_JVM_ARGS);
        jvm.addAll(FORK_JIT_ARGS);
        if (Allocators.FAST_THREAD_NAMES.contains(allocator)) {
            jvm.add("-Djmh.executor=CUSTOM");
            jvm.add("-Djmh.executor.class=" + FastThreadExecutor.class.getName());
        }
        return new OptionsBuilder()
            .include(w.includeRegex())
            .param("allocator", allocator)
            .forks(s.forks() == 0 ? 0 : 1)
            .warmupIterations(s.warmup())
            .warmupTime(TimeValue.milliseconds(s.timeMs()))
            .measurementIterations(s.iterations())
            .measurementTime(TimeValue.milliseconds(s.timeMs()))
            .threads(1)
            .jvmArgs(jvm.toArray(String[]::new))
            .shouldFailOnError(false)
            .build();
    }

    /**
     * Runs JMH, waiting (up to {@value #LOCK_WAIT_MINUTES} minutes) while another JMH run on this machine holds
     * JMH's lock file: two benchmark runs at once would distort each other's numbers.
     */
    static Collection<RunResult> runWhenLockFree(final org.openjdk.jmh.runner.options.Options o,
                                                 final PrintStream log) throws RunnerException {
        final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(LOCK_WAIT_MINUTES);
        boolean told = false;
        while (true) {
            try {
                return new Runner(o, OutputFormatFactory.createFormatInstance(log, VerboseMode.NORMAL)).run();
            } catch (final RunnerException e) {
                final String m = String.valueOf(e.getMessage());
                if (!m.contains("JMH lock") || System.nanoTime() > deadline) {
                    throw e;
                }
                if (!told) {
                    System.out.println("mm4j bench: another JMH run holds its lock file; waiting for it to end "
                        + "(at most " + LOCK_WAIT_MINUTES + " min; -Djmh.ignoreLock=true runs anyway)");
                    told = true;
                }
                try {
                    Thread.sleep(5_000);
                } catch (final InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private static List<Row> rows(final Settings s, final Map<String, double[][]> iterations,
                                  final Map<String, String> unavailable, final int rounds) {
        final List<Row> rows = new ArrayList<>();
        for (final Workload w : s.workloads) {
            for (final String name : s.allocators) {
                if (unavailable.containsKey(name)) {
                    rows.add(Row.skipped(w.label(), name, w.threads(), unavailable.get(name)));
                    continue;
                }
                final double[][] byRound = iterations.getOrDefault(w.benchmark() + "|" + name, new double[rounds][]);
                rows.add(ForkRounds.merge(w.label(), name, w.threads(), Arrays.asList(byRound)));
            }
        }
        return rows;
    }
}
