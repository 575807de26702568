package org.mm4j.build;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shape issue 12 set for the core's sources, kept: no file above 1,000 lines, and every package with a
 * package-info that maps its Java names to kernel symbols and states its error convention.
 */
class SourceShapeTest {
    private static final Path MAIN = Path.of("src/main/java/org/mm4j");
    static final int MAX_LINES = 1_000;

    @Test
    void noCoreSourceFileAboveAThousandLines() throws IOException {
        final List<String> tooLong;
        try (Stream<Path> files = Files.walk(MAIN)) {
            tooLong = files.filter(p -> p.toString().endsWith(".java")).filter(p -> lines(p) > MAX_LINES)
                .map(p -> MAIN.relativize(p) + " (" + lines(p) + " lines)").sorted().toList();
        }
        assertEquals(List.of(), tooLong, "core sources above " + MAX_LINES + " lines: cut them along the kernel's seams");
    }

    @Test
    void everyPackageHasItsTableAndErrorConvention() throws IOException {
        final List<Path> dirs;
        try (Stream<Path> all = Files.walk(MAIN)) {
            dirs = all.filter(Files::isDirectory).filter(SourceShapeTest::hasJava).toList();
        }
        assertTrue(dirs.size() >= 10, "packages found: " + dirs);
        for (final Path d : dirs) {
            final Path info = d.resolve("package-info.java");
            assertTrue(Files.exists(info), "no package-info.java in " + d);
            final String text = Files.readString(info);
            final String lower = text.toLowerCase(java.util.Locale.ROOT);
            assertTrue((text.contains("<table>") || text.contains("<pre>"))
                    && (lower.contains("symbol") || lower.contains("kernel site")),
                info + ": a Java name -> kernel symbol table");
            assertTrue(lower.contains("error convention") || lower.contains("errors"),
                info + ": the package's error convention");
        }
    }

    private static boolean hasJava(final Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> p.toString().endsWith(".java") && !p.endsWith("package-info.java"));
        } catch (final IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long lines(final Path p) {
        try (Stream<String> l = Files.lines(p)) {
            return l.count();
        } catch (final IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
