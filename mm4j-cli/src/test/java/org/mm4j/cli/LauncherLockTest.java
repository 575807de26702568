package org.mm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher {@code ./mm4j}: two launches at once in a tree whose jar is missing build it once, one after the
 * other, never both at once (two Maven builds in one tree corrupt each other's jars: seen as a shade plugin's
 * {@code EOFException} on a fresh clone). The launcher runs in a copy of its folder whose {@code mvnw} is a stub
 * that logs its start and end around a pause and writes a stand-in jar; the launches' {@code java -jar} of that
 * stand-in fails, which is not what is checked.
 */
class LauncherLockTest {

    @TempDir
    Path tree;

    @Test
    void twoLaunchesAtOnceBuildOnceAndNeverTogether() throws Exception {
        final boolean ci = "true".equals(System.getenv("CI"));
        final boolean tools = ReplayBench.onPath("bash") && ReplayBench.onPath("flock");
        if (ci) {
            assertTrue(tools, "CI=true: bash and flock (util-linux) are needed by the launcher's build lock");
        }
        assumeTrue(tools, "bash or flock missing: the launcher then builds without a lock");
        final Path repo = Path.of("..").toAbsolutePath().normalize();
        Files.createDirectories(tree.resolve("scripts"));
        Files.copy(repo.resolve("mm4j"), tree.resolve("mm4j"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(repo.resolve("scripts/find-jdk.sh"), tree.resolve("scripts/find-jdk.sh"));
        for (final String d : List.of("mm4j-core/src/main", "mm4j-cli/src/main")) {
            Files.createDirectories(tree.resolve(d));
        }
        for (final String pom : List.of("pom.xml", "mm4j-core/pom.xml", "mm4j-cli/pom.xml")) {
            Files.writeString(tree.resolve(pom), "<project/>\n");
        }
        final Path log = tree.resolve("builds.log");
        final Path mvnw = tree.resolve("mvnw");
        Files.writeString(mvnw, """
            #!/usr/bin/env bash
            echo "start $$" >> "$MM4J_TEST_LOG"
            sleep 1
            mkdir -p mm4j-cli/target
            echo stand-in > mm4j-cli/target/mm4j.jar
            echo "end $$" >> "$MM4J_TEST_LOG"
            """);
        Files.setPosixFilePermissions(mvnw, PosixFilePermissions.fromString("rwxr-xr-x"));
        final List<Process> launches = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            final ProcessBuilder pb = new ProcessBuilder("bash", tree.resolve("mm4j").toString(), "--version")
                .directory(tree.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            pb.environment().put("MM4J_AOT", "0");
            pb.environment().put("MM4J_TEST_LOG", log.toString());
            launches.add(pb.start());
        }
        for (final Process p : launches) {
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "a launch did not end");
        }
        final List<String> lines = Files.readAllLines(log);
        assertEquals(2, lines.size(), "one build, started and ended, expected: " + lines);
        assertTrue(lines.get(0).startsWith("start ") && lines.get(1).startsWith("end "), lines.toString());
        assertEquals(lines.get(0).substring(6), lines.get(1).substring(4), "start and end of one build: " + lines);
    }
}
