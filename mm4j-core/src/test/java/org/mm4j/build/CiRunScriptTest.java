package org.mm4j.build;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code .ci/run}, the CI entry point, on a copy of the repository's scripts with {@code dpkg}, {@code apt-get},
 * {@code id} and {@code ./run-tests} replaced by recorders: it installs the test prerequisites only when one is
 * missing, with one {@code apt-get update}, and then runs exactly {@code ./run-tests}.
 */
class CiRunScriptTest {
    private static final List<String> PACKAGES = List.of("chromium", "libjemalloc2", "libmimalloc2.0", "zstd");

    record Run(int status, List<String> calls, String err) {
    }

    private static void script(final Path p, final String body) throws IOException {
        Files.createDirectories(p.getParent());
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** Runs a copy of .ci/run where dpkg knows {@code installed} and {@code id -u} prints {@code uid}. */
    private static Run ciRun(final Path dir, final List<String> installed, final int uid) throws Exception {
        final Path repo = dir.resolve("repo");
        final Path bin = dir.resolve("bin");
        final Path log = dir.resolve("calls.log");
        Files.createDirectories(repo.resolve(".ci"));
        Files.createDirectories(repo.resolve("scripts"));
        Files.copy(Path.of("../.ci/run"), repo.resolve(".ci/run"));
        Files.copy(Path.of("../scripts/find-jdk.sh"), repo.resolve("scripts/find-jdk.sh"));
        script(repo.resolve("run-tests"), "echo \"run-tests $*\" >> " + log);
        script(bin.resolve("dpkg"), "case \" " + String.join(" ", installed) + " \" in *\" $2 \"*) exit 0;; esac\n"
            + "exit 1");
        script(bin.resolve("apt-get"), "echo \"apt-get $*\" >> " + log);
        script(bin.resolve("id"), "echo " + uid);
        final ProcessBuilder pb = new ProcessBuilder("bash", repo.resolve(".ci/run").toString())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        final Process p = pb.start();
        final String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), ".ci/run finished");
        return new Run(p.exitValue(), Files.exists(log) ? Files.readAllLines(log) : List.of(), err);
    }

    @Test
    void installsOnlyWhenSomethingIsMissingThenRunsTheTests(@TempDir final Path dir) throws Exception {
        final Run all = ciRun(dir.resolve("all"), PACKAGES, 0);
        assertEquals(0, all.status(), all.err());
        assertEquals(List.of("run-tests "), all.calls(), "nothing missing: no apt-get");

        final Run one = ciRun(dir.resolve("one"), List.of("libjemalloc2", "libmimalloc2.0", "zstd"), 0);
        assertEquals(0, one.status(), one.err());
        assertEquals(List.of("apt-get update", "apt-get install -y " + String.join(" ", PACKAGES), "run-tests "),
            one.calls());
    }

    @Test
    void aMissingPackageWithoutRootIsAClearFailure(@TempDir final Path dir) throws Exception {
        final Run r = ciRun(dir, List.of("chromium", "libjemalloc2", "zstd"), 1000);
        assertEquals(1, r.status());
        assertEquals(List.of(), r.calls(), "neither apt-get nor the tests");
        assertTrue(r.err().contains("missing libmimalloc2.0 and not root"), r.err());
    }
}
