package org.mm4j.build;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The build's tests-ran check ({@code scripts/TestsRan.java}, run by every module's {@code verify}) fails exactly
 * when a class with tests has no Surefire report of this build, and names it.
 */
class TestsRanCheckTest {
    private static final Path SCRIPT = Path.of("../scripts/TestsRan.java");
    private static final Instant START = Instant.parse("2026-01-01T12:00:00Z");

    record Run(int status, String out, String err) {
    }

    static Run check(final Path module) throws IOException, InterruptedException {
        final Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        final Process p = new ProcessBuilder(java.toString(), SCRIPT.toString(), module.toString(), START.toString())
            .start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        final String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the check finished");
        return new Run(p.exitValue(), out, err);
    }

    static void source(final Path module, final String cls, final String body) throws IOException {
        final Path f = module.resolve("src/test/java").resolve(cls.replace('.', '/') + ".java");
        Files.createDirectories(f.getParent());
        final String pkg = cls.substring(0, cls.lastIndexOf('.'));
        Files.writeString(f, "package " + pkg + ";\n\n" + body);
    }

    static void report(final Path module, final String cls, final int tests, final Instant written) throws IOException {
        final Path f = module.resolve("target/surefire-reports/TEST-" + cls + ".xml");
        Files.createDirectories(f.getParent());
        Files.writeString(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite xmlns:xsi=\"x\" version=\"3.0.2\""
            + " name=\"" + cls + "\" time=\"0.1\" tests=\"" + tests + "\" errors=\"0\" skipped=\"0\" failures=\"0\">\n"
            + "</testsuite>\n");
        Files.setLastModifiedTime(f, FileTime.from(written));
    }

    @Test
    void namesEveryTestClassWithoutAFreshNonEmptyReport(@TempDir final Path module) throws Exception {
        source(module, "a.b.FooTest", "class FooTest {\n    @Test\n    void t() {}\n}\n");
        source(module, "a.b.BarProperties", "class BarProperties {\n    @Property(tries = 10)\n    void p() {}\n}\n");
        source(module, "a.b.QuxCheck", "class QuxCheck {\n    @org.junit.jupiter.params.ParameterizedTest\n"
            + "    void q(int x) {}\n}\n");
        source(module, "a.Empty", "class Empty {\n    @Example\n    void e() {}\n}\n");
        // not test classes: a helper, an abstract base (its subclasses run its tests), a javadoc mention
        source(module, "a.b.Helper", "/** Used by a {@code @Test}.\n * @Test is not an annotation here\n */\n"
            + "final class Helper {\n}\n");
        source(module, "a.b.AbstractBase", "abstract class AbstractBase {\n    @Test\n    void t() {}\n}\n");

        report(module, "a.b.FooTest", 3, START.plusSeconds(5));
        report(module, "a.b.BarProperties", 1, START.minusSeconds(60));  // left over from an earlier build
        report(module, "a.Empty", 0, START.plusSeconds(5));             // ran nothing
        final Run r = check(module);
        assertEquals(1, r.status(), r.err());
        final List<String> named = r.err().lines().filter(l -> l.startsWith("[tests-ran]   "))
            .map(l -> l.substring("[tests-ran]   ".length())).toList();
        assertEquals(List.of("a.Empty", "a.b.BarProperties", "a.b.QuxCheck"), named, r.err());
        assertTrue(r.err().contains("3 of 4 test classes were NOT executed"), r.err());

        report(module, "a.b.BarProperties", 1, START);
        report(module, "a.Empty", 2, START.plusSeconds(1));
        report(module, "a.b.QuxCheck", 4, START.plusSeconds(1));
        final Run ok = check(module);
        assertEquals(0, ok.status(), ok.err());
        assertEquals("[tests-ran] " + module.getFileName() + ": all 4 test classes were executed\n", ok.out());
    }
}
