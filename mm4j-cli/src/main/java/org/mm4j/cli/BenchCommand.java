package org.mm4j.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mm4j bench}: the peer comparison (mm4j beside glibc malloc, jemalloc, mimalloc, Unsafe, Netty, the heap
 * and an arena bump). The JMH run lives in the mm4j-bench module's shaded jar, so the command line carries no JMH:
 * this command finds {@code mm4j-bench/target/mm4j-benchmarks.jar} in the source tree it was built from (building
 * it with the Maven wrapper when it is missing or older than the sources) and runs
 * {@code org.mm4j.bench.PeerComparison} in a child JVM, which sets up the forks' environment and JVM flags, prints
 * the table and writes the JSON rows.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Runs the JMH peer comparison and prints a table; writes JSON rows "
        + "{workload, allocator, threads, ns_per_op, error}.",
        "Workloads (every object's first and last 8 bytes written): alloc-free-64, batch-1024x64, batch-1024x1k, "
            + "kmalloc-random-8-8192, remote-free-2t-64, ring-64, ring-mixed-16-4096.",
        "Workload replay (alone, no JMH): 'mm4j replay kmem' end to end on a generated trace of --events events and "
            + "on the bundled slice, as zstd files, --iterations replays of each (default 3), beside this pipe in the "
            + "same run (needs zstd):",
        // on a line of its own: picocli wraps at any space, and a command cut in two cannot be copied
        "  zstd -dc FILE | wc -l",
        "Allocators: mm4j (kmalloc/kfree), mm4j-segment (allocate/free(MemorySegment)), mm4j-cpu-slab, "
            + "glibc-malloc (plain downcall, information only), glibc-malloc-critical, jemalloc, mimalloc, unsafe, "
            + "netty-pooled-direct, netty-pooled-direct-ftl, heap, arena-bump, arena-bump-256k (rows whose library "
            + "is absent are skipped with a note)."})
public final class BenchCommand implements Callable<Integer> {
    static final String MAIN_CLASS = "org.mm4j.bench.PeerComparison";
    static final String JAR = "mm4j-bench/target/mm4j-benchmarks.jar";
    /** The workload run by {@link ReplayBench}: {@code mm4j replay kmem} end to end. */
    static final String REPLAY = "replay";

    @Option(names = "--quick", description = "Smoke test only: 1 fork, few short iterations (numbers not for "
        + "publication; the README's come from >= 3 forks).")
    boolean quick;

    @Option(names = "--json", paramLabel = "FILE",
        description = "Where to write the JSON rows (default: mm4j-bench/target/bench-results.json).")
    Path json;

    @Option(names = "--allocators", paramLabel = "LIST", split = ",", description = "Only these allocator rows.")
    List<String> allocators;

    @Option(names = "--workloads", paramLabel = "LIST", split = ",", description = "Only these workloads.")
    List<String> workloads;

    @Option(names = "--forks", paramLabel = "N", description = "JMH forks per row, run in rounds across the "
        + "allocators; errors over the fork means, so rankings need 5-6 (default 3, quick 1).")
    Integer forks;

    @Option(names = "--warmup", paramLabel = "N", description = "Warm-up iterations (default 3, quick 2).")
    Integer warmup;

    @Option(names = "--iterations", paramLabel = "N", description = "Measurement iterations (default 4, quick 3).")
    Integer iterations;

    @Option(names = "--time", paramLabel = "MS", description = "Length of each iteration (default 500, quick 300).")
    Integer timeMs;

    @Option(names = "--list", description = "List the allocator rows and whether each can run here, then stop.")
    boolean list;

    @Option(names = "--benchmarks-jar", paramLabel = "FILE",
        description = "Use this mm4j-benchmarks.jar instead of the one in the source tree.")
    Path benchmarksJar;

    @Option(names = "--events", paramLabel = "N", defaultValue = "5000000",
        description = "Workload replay: events of the generated trace (default: ${DEFAULT-VALUE}; quick 500000).")
    long events;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (workloads != null && workloads.contains(REPLAY)) {
            if (workloads.size() > 1 || events < 1) {
                System.err.println("mm4j bench: --workloads " + REPLAY + " runs alone (no JMH), with --events >= 1");
                return 2;
            }
            // the main job end to end, child processes timed beside zstd -dc | wc -l (no JMH)
            return new ReplayBench(System.out, System.err).run(quick ? Math.min(events, 500_000) : events,
                iterations != null ? iterations : quick ? 1 : 3);
        }
        final Path jar;
        final Path root = benchmarksJar == null ? findSourceRoot() : null;
        if (benchmarksJar != null) {
            jar = benchmarksJar;
            if (!Files.isRegularFile(jar)) {
                System.err.println("mm4j bench: no such jar: " + jar);
                return 2;
            }
        } else if (root == null) {
            System.err.println("mm4j bench: cannot find the mm4j source tree (with " + JAR + ") above "
                + Path.of("").toAbsolutePath() + " or the mm4j jar; run it from the repository, or pass "
                + "--benchmarks-jar FILE");
            return 2;
        } else {
            jar = root.resolve(JAR);
            if (stale(root, jar)) {
                final int rc = build(root);
                if (rc != 0) {
                    System.err.println("mm4j bench: building mm4j-bench failed (exit " + rc + ")");
                    return rc;
                }
            }
        }
        final Path out = json != null ? json
            : root != null ? root.resolve("mm4j-bench/target/bench-results.json") : Path.of("bench-results.json");
        final ProcessBuilder pb = new ProcessBuilder(command(javaBinary(), jar, arguments(out))).inheritIO();
        return pb.start().waitFor();
    }

    /** The PeerComparison arguments for this command's options. */
    List<String> arguments(final Path out) {
        final List<String> a = new ArrayList<>();
        if (quick) {
            a.add("--quick");
        }
        if (list) {
            a.add("--list");
        }
        a.add("--json");
        a.add(out.toAbsolutePath().toString());
        if (allocators != null) {
            a.add("--allocators");
            a.add(String.join(",", allocators));
        }
        if (workloads != null) {
            a.add("--workloads");
            a.add(String.join(",", workloads));
        }
        if (forks != null) {
            a.add("--forks");
            a.add(forks.toString());
        }
        if (warmup != null) {
            a.add("--warmup");
            a.add(warmup.toString());
        }
        if (iterations != null) {
            a.add("--iterations");
            a.add(iterations.toString());
        }
        if (timeMs != null) {
            a.add("--time");
            a.add(timeMs.toString());
        }
        return a;
    }

    static List<String> command(final Path java, final Path jar, final List<String> args) {
        final List<String> c = new ArrayList<>(List.of(java.toString(), "-Xmx512m",
            "--enable-native-access=ALL-UNNAMED", "-cp", jar.toAbsolutePath().toString(), MAIN_CLASS));
        c.addAll(args);
        return c;
    }

    static Path javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    /** The mm4j source tree: above the running jar (mm4j-cli/target/mm4j.jar), else above the working directory. */
    static Path findSourceRoot() {
        try {
            final Path self = Path.of(BenchCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            final Path r = findSourceRoot(self);
            if (r != null) {
                return r;
            }
        } catch (final java.net.URISyntaxException | RuntimeException e) {
            // fall back to the working directory
        }
        return findSourceRoot(Path.of("").toAbsolutePath());
    }

    /** The nearest directory at or above {@code start} holding {@code mm4j-bench/pom.xml}, or null. */
    static Path findSourceRoot(final Path start) {
        for (Path p = start.toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("mm4j-bench/pom.xml"))) {
                return p;
            }
        }
        return null;
    }

    /** True when the jar is missing or any source it is built from is newer. */
    static boolean stale(final Path root, final Path jar) throws IOException {
        if (!Files.isRegularFile(jar)) {
            return true;
        }
        final FileTime built = Files.getLastModifiedTime(jar);
        for (final String dir : List.of("mm4j-core/src/main", "mm4j-bench/src/main")) {
            final Path d = root.resolve(dir);
            if (Files.isDirectory(d) && newerThan(d, built)) {
                return true;
            }
        }
        for (final String pom : List.of("pom.xml", "mm4j-core/pom.xml", "mm4j-bench/pom.xml")) {
            final Path f = root.resolve(pom);
            if (Files.isRegularFile(f) && Files.getLastModifiedTime(f).compareTo(built) > 0) {
                return true;
            }
        }
        return false;
    }

    private static boolean newerThan(final Path dir, final FileTime t) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).anyMatch(f -> {
                try {
                    return Files.getLastModifiedTime(f).compareTo(t) > 0;
                } catch (final IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    private static int build(final Path root) throws IOException, InterruptedException {
        System.err.println("mm4j bench: building " + JAR + " (first run, or sources changed)...");
        final ProcessBuilder pb = new ProcessBuilder("./mvnw", "-B", "-q", "-ntp", "-DskipTests",
            "-pl", "mm4j-bench", "-am", "package").directory(root.toFile()).inheritIO();
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        return pb.start().waitFor();
    }
}
