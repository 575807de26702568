import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Fails the build when a test class of a module was not executed by Surefire in this build.
 *
 * <p>Run by every module's {@code verify} phase (see the parent pom) as a single-file program:
 * {@code java scripts/TestsRan.java MODULE_DIR SESSION_START}. A test class is a top-level, non-abstract class
 * under {@code MODULE_DIR/src/test/java} that declares a test method (JUnit Jupiter's {@code @Test},
 * {@code @ParameterizedTest}, {@code @RepeatedTest}, {@code @TestFactory}, {@code @TestTemplate}, jqwik's
 * {@code @Property} and {@code @Example}, {@code @FuzzTest}). It was executed when
 * {@code MODULE_DIR/target/surefire-reports/TEST-<class>.xml} (or one of a nested class) was written at or after
 * SESSION_START (an ISO-8601 instant: Maven's {@code maven.build.timestamp}) and counts at least one test, so a
 * report left over from an earlier build proves nothing. Exit status 1 names every class that did not run.
 */
public final class TestsRan {
    static final Pattern TEST_METHOD = Pattern.compile(
        "(?m)^\\s*@(?:org\\.junit\\.jupiter\\.api\\.|org\\.junit\\.jupiter\\.params\\.|net\\.jqwik\\.api\\.)?"
            + "(Test|ParameterizedTest|RepeatedTest|TestFactory|TestTemplate|Property|Example|FuzzTest)\\b");
    static final Pattern ABSTRACT_OR_INTERFACE = Pattern.compile(
        "(?m)^(?:public\\s+|sealed\\s+|non-sealed\\s+)*(?:abstract\\s+class|interface|@interface)\\s+(\\w+)");
    static final Pattern TESTS_COUNT = Pattern.compile("<testsuite\\b[^>]*?\\btests=\"(\\d+)\"");

    private TestsRan() {
    }

    public static void main(final String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: java TestsRan.java MODULE_DIR SESSION_START");
            System.exit(2);
        }
        final Path module = Path.of(args[0]);
        final Instant start = Instant.parse(args[1]);
        final List<String> missing = notExecuted(module, start);
        final int classes = testClasses(module.resolve("src/test/java")).size();
        if (missing.isEmpty()) {
            if (classes == 0) {
                return;
            }
            System.out.println("[tests-ran] " + module.getFileName() + ": all " + classes
                + " test classes were executed");
            return;
        }
        System.err.println("[tests-ran] " + module.getFileName() + ": " + missing.size() + " of " + classes
            + " test classes were NOT executed by Surefire in this build (check the surefire <includes> and the"
            + " class name):");
        missing.forEach(c -> System.err.println("[tests-ran]   " + c));
        System.exit(1);
    }

    /** The test classes of {@code module} with no fresh, non-empty Surefire report, sorted. */
    static List<String> notExecuted(final Path module, final Instant start) throws IOException {
        final Path reports = module.resolve("target/surefire-reports");
        final List<String> missing = new ArrayList<>();
        for (final String c : testClasses(module.resolve("src/test/java"))) {
            if (!ran(reports, c, start)) {
                missing.add(c);
            }
        }
        return missing;
    }

    /** Fully qualified names of the classes under {@code root} that declare test methods. */
    static TreeSet<String> testClasses(final Path root) throws IOException {
        final TreeSet<String> out = new TreeSet<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (final Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                final String src = Files.readString(f);
                final String simple = f.getFileName().toString().replaceFirst("\\.java$", "");
                if (simple.equals("package-info") || simple.equals("module-info") || !TEST_METHOD.matcher(src).find()) {
                    continue;
                }
                final Matcher m = ABSTRACT_OR_INTERFACE.matcher(src);
                boolean abstractTop = false;
                while (m.find()) {
                    abstractTop |= m.group(1).equals(simple);
                }
                if (!abstractTop) {
                    out.add(root.relativize(f).toString().replace(f.getFileSystem().getSeparator(), ".")
                        .replaceFirst("\\.java$", ""));
                }
            }
        }
        return out;
    }

    private static boolean ran(final Path reports, final String cls, final Instant start) throws IOException {
        if (!Files.isDirectory(reports)) {
            return false;
        }
        try (Stream<Path> files = Files.list(reports)) {
            for (final Path r : files.toList()) {
                final String n = r.getFileName().toString();
                if ((n.equals("TEST-" + cls + ".xml") || n.startsWith("TEST-" + cls + "$")) && n.endsWith(".xml")
                    && !Files.getLastModifiedTime(r).toInstant().isBefore(start) && testsIn(r) > 0) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int testsIn(final Path report) throws IOException {
        final Matcher m = TESTS_COUNT.matcher(Files.readString(report));
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }
}
