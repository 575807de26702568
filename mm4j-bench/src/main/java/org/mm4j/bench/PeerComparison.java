package org.mm4j.bench;

import java.io.IOException;
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
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The peer comparison behind {@code mm4j bench}: runs every workload over every allocator row in one JMH run,
 * prints a table and the target ratios, and writes the JSON rows.
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
 * The {@code netty-pooled-direct-ftl} row runs in a second JMH run whose benchmark threads are Netty
 * FastThreadLocalThreads ({@link FastThreadExecutor}).
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
        final List<String> plain = new ArrayList<>();
        final List<String> fast = new ArrayList<>();
        for (final String name : s.allocators) {
            final String why = Allocators.unavailableReason(name);
            if (why != null) {
                unavailable.put(name, why);
            } else if (Allocators.FAST_THREAD_NAMES.contains(name)) {
                fast.add(name);
            } else {
                plain.add(name);
            }
        }
        if (s.list) {
            for (final String name : s.allocators) {
                System.out.println(name + (unavailable.containsKey(name) ? "  skipped: " + unavailable.get(name)
                    : "  available"));
            }
            return 0;
        }
        final int combos = (plain.size() + fast.size()) * s.workloads.size();
        System.out.printf(Locale.ROOT, "mm4j bench: %d workloads x %d allocators, %d fork(s), %d+%d iterations of "
                + "%d ms each (about %d min)%n", s.workloads.size(), plain.size() + fast.size(), s.forks(),
            s.warmup(), s.iterations(), s.timeMs(),
            Math.max(1, Math.round(combos * Math.max(1, s.forks()) * ((s.warmup() + s.iterations()) * s.timeMs()
                / 1000.0 + 2) / 60)));
        if (s.smokeOnly()) {
            System.out.println("mm4j bench: SMOKE TEST ONLY (" + s.forks() + " fork(s)" + (s.quick ? ", --quick" : "")
                + "): these numbers show that every row runs, they are not for publication; figures in the README "
                + "come from a run with >= " + MIN_PUBLISHED_FORKS + " forks");
        }
        System.out.println("mm4j bench: " + machine() + "; load before: " + loadAverage());
        for (final Map.Entry<String, String> e : unavailable.entrySet()) {
            System.out.println("mm4j bench: skipping " + e.getKey() + ": " + e.getValue());
        }
        final Map<String, RunResult> results = new HashMap<>();
        if (!plain.isEmpty()) {
            collect(runWhenLockFree(options(s, plain, false)), results);
        }
        if (!fast.isEmpty()) {
            collect(runWhenLockFree(options(s, fast, true)), results);
        }
        final List<Row> rows = rows(s, results, unavailable);
        System.out.println();
        System.out.println(header());
        System.out.print(ResultTable.render(rows));
        System.out.println();
        System.out.print(ResultTable.renderMedians(rows));
        System.out.println();
        System.out.println("Targets (ns/op over the peer's, same run; glibc-malloc is information only):");
        System.out.print(Targets.report(rows));
        System.out.println();
        System.out.println("Ratios to the fastest of jemalloc and mimalloc (ns/op over its ns/op, same run):");
        System.out.print(Targets.bestPeerRatios(rows));
        System.out.println();
        System.out.println("mm4j bench: load after: " + loadAverage() + (s.smokeOnly() ? " (SMOKE TEST ONLY)" : ""));
        if (s.json != null) {
            BenchJson.write(rows, s.json);
            System.out.println("mm4j bench: wrote " + rows.size() + " rows to " + s.json);
        }
        return rows.stream().anyMatch(r -> !r.ran() && !unavailable.containsKey(r.allocator())) ? 1 : 0;
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

    static org.openjdk.jmh.runner.options.Options options(final Settings s, final List<String> allocators,
                                                          final boolean fastThreads) {
        final ChainedOptionsBuilder b = new OptionsBuilder();
        for (final Workload w : s.workloads) {
            b.include(w.includeRegex());
        }
        final List<String> jvm = new ArrayList<>(FORK_HEAP_ARGS);
        jvm.addAll(PEER_JVM_ARGS);
        if (fastThreads) {
            jvm.add("-Djmh.executor=CUSTOM");
            jvm.add("-Djmh.executor.class=" + FastThreadExecutor.class.getName());
        }
        return b.param("allocator", allocators.toArray(String[]::new))
            .forks(s.forks())
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
    static Collection<RunResult> runWhenLockFree(final org.openjdk.jmh.runner.options.Options o)
            throws RunnerException {
        final long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(LOCK_WAIT_MINUTES);
        boolean told = false;
        while (true) {
            try {
                return new Runner(o).run();
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

    private static void collect(final Collection<RunResult> run, final Map<String, RunResult> into) {
        for (final RunResult r : run) {
            final BenchmarkParams p = r.getParams();
            into.put(p.getBenchmark() + "|" + p.getParam("allocator"), r);
        }
    }

    private static List<Row> rows(final Settings s, final Map<String, RunResult> results,
                                  final Map<String, String> unavailable) {
        final List<Row> rows = new ArrayList<>();
        for (final Workload w : s.workloads) {
            for (final String name : s.allocators) {
                if (unavailable.containsKey(name)) {
                    rows.add(Row.skipped(w.label(), name, w.threads(), unavailable.get(name)));
                    continue;
                }
                final RunResult r = results.get(w.benchmark() + "|" + name);
                if (r == null || r.getPrimaryResult() == null) {
                    rows.add(Row.skipped(w.label(), name, w.threads(), "benchmark failed (see the JMH log above)"));
                    continue;
                }
                final Result<?> res = r.getPrimaryResult();
                rows.add(Row.measured(w.label(), name, w.threads(), res.getScore(), res.getScoreError(),
                    res.getStatistics().getPercentile(50)));
            }
        }
        return rows;
    }
}
