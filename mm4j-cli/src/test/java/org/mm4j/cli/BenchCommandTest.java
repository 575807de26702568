package org.mm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code mm4j bench} finds, rebuilds when stale, and runs the benchmark jar with the right arguments (no run). */
class BenchCommandTest {

    @Test
    void optionsBecomePeerComparisonArguments() {
        final BenchCommand c = new BenchCommand();
        new CommandLine(c).parseArgs("--quick", "--json", "out.json", "--allocators", "mm4j,glibc-malloc",
            "--workloads", "alloc-free-64", "--forks", "2", "--warmup", "3", "--iterations", "4", "--time", "500");
        final List<String> args = c.arguments(Path.of("out.json"));
        assertEquals(List.of("--quick", "--json", Path.of("out.json").toAbsolutePath().toString(),
            "--allocators", "mm4j,glibc-malloc", "--workloads", "alloc-free-64", "--forks", "2", "--warmup", "3",
            "--iterations", "4", "--time", "500"), args);
        final List<String> cmd = BenchCommand.command(Path.of("/jdk/bin/java"), Path.of("/r/b.jar"), args);
        assertEquals(List.of("/jdk/bin/java", "-Xmx512m", "--enable-native-access=ALL-UNNAMED", "-cp", "/r/b.jar",
            "org.mm4j.bench.PeerComparison"), cmd.subList(0, 6));
        assertEquals(args, cmd.subList(6, cmd.size()));
    }

    @Test
    void benchIsASubcommandOfMm4j() {
        assertTrue(new CommandLine(new Main()).getSubcommands().containsKey("bench"));
    }

    @Test
    void sourceRootIsFoundAboveAnyDirectoryInside(@TempDir final Path root) throws Exception {
        Files.createDirectories(root.resolve("mm4j-bench"));
        Files.writeString(root.resolve("mm4j-bench/pom.xml"), "<project/>");
        final Path deep = Files.createDirectories(root.resolve("mm4j-cli/target"));
        assertEquals(root.toAbsolutePath(), BenchCommand.findSourceRoot(deep));
        assertNull(BenchCommand.findSourceRoot(root.getParent()));
    }

    @Test
    void jarIsStaleWhenMissingOrOlderThanASource(@TempDir final Path root) throws Exception {
        final Path src = Files.createDirectories(root.resolve("mm4j-bench/src/main/java"));
        final Path java = Files.writeString(src.resolve("A.java"), "class A {}");
        final Path jar = root.resolve(BenchCommand.JAR);
        assertTrue(BenchCommand.stale(root, jar));
        Files.createDirectories(jar.getParent());
        Files.writeString(jar, "jar");
        Files.setLastModifiedTime(java, FileTime.fromMillis(1_000_000L));
        Files.setLastModifiedTime(jar, FileTime.fromMillis(2_000_000L));
        assertFalse(BenchCommand.stale(root, jar));
        Files.setLastModifiedTime(java, FileTime.fromMillis(3_000_000L));
        assertTrue(BenchCommand.stale(root, jar));
    }
    @Test
    void bashTimesOutputGivesTheChildrensCpuSeconds() {
        assertEquals(1.5 + 62.25, ReplayBench.childCpu("0m0.010s 0m0.002s\n0m1.500s 1m2.250s\n"), 1e-9);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> ReplayBench.childCpu("0m0.010s 0m0.002s"));
    }

    @Test
    void stealIsTheEighthNumberOfProcStatsCpuLine() {
        assertEquals(6362, ReplayBench.stealOf("cpu  4477287 3301895 770047 1797267 2146 0 1907 6362 0 0"));
        assertEquals(-1, ReplayBench.stealOf("cpu  4477287 3301895 770047 1797267 2146 0 1907"));  // before 2.6.11
        assertEquals(-1, ReplayBench.stealOf("cpu0 4477287 3301895 770047 1797267 2146 0 1907 6362 0 0"));
        assertEquals(-1, ReplayBench.stealOf("cpu  a b c d e f g h"));
        assertEquals(-1, ReplayBench.stealOf(null));
    }

    @Test
    void theReplayWorkloadTimesReplaysBesideZstd(@TempDir final Path dir) throws Exception {
        org.mm4j.testing.Prerequisite.requireOrSkip(new java.io.File("/usr/bin/zstd").canExecute(),
            "no /usr/bin/zstd to compress the traces");
        final java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        final java.io.ByteArrayOutputStream e = new java.io.ByteArrayOutputStream();
        // this test's class path stands in for the launcher
        final List<String> replay = List.of(BenchCommand.javaBinary().toString(), "--enable-native-access=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), Main.class.getName(), "replay", "kmem");
        final int rc = new ReplayBench(new java.io.PrintStream(o, true, java.nio.charset.StandardCharsets.UTF_8),
            new java.io.PrintStream(e, true, java.nio.charset.StandardCharsets.UTF_8), replay).run(3_000, 1);
        final String out = o.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, rc, out + e);
        assertTrue(out.matches("(?s)load before: .*\n"
            + "trace +events +replay_s +cpu_s +events/s +zstd_wc_s +lines/s +ratio +steal\n"
            + "generated \\(3000\\) +3000 +[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9.]+ +[0-9]+ +[0-9.]+x +([0-9]+|-)\n"
            + "bundled slice +100000 +[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9.]+ +[0-9]+ +[0-9.]+x +([0-9]+|-)\n"
            + "load after: .*"), out);
    }

    @Test
    void theReplayWorkloadRunsAlone() {
        final BenchCommand c = new BenchCommand();
        new CommandLine(c).parseArgs("--workloads", "replay,alloc-free-64");
        assertEquals(2, assertDoesNotThrowCall(c));
    }

    private static int assertDoesNotThrowCall(final BenchCommand c) {
        return org.junit.jupiter.api.Assertions.assertDoesNotThrow(c::call);
    }
}
