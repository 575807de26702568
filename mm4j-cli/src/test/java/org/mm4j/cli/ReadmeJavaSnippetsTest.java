package org.mm4j.cli;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mm4j.Kernel;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every Java snippet of the README compiles against mm4j-core (only the quick start also runs, in mm4j-core's
 * LibraryQuickStartTest): each becomes the body of a method, with the API's packages imported, so a renamed class,
 * method or constant in the README fails here. A snippet may use {@code kernel} and {@code cache} (fields).
 */
class ReadmeJavaSnippetsTest {
    private static final String IMPORTS = """
        import org.mm4j.*;
        import org.mm4j.base.*;
        import org.mm4j.management.*;
        import org.mm4j.page.*;
        import org.mm4j.slab.*;
        import org.mm4j.slab.debug.*;
        import org.mm4j.vma.*;
        import org.mm4j.vma.replay.*;
        import java.lang.foreign.*;
        import java.lang.management.ManagementFactory;
        import javax.management.JMX;
        import javax.management.MBeanServer;
        import javax.management.ObjectName;
        import static org.mm4j.vma.Mman.*;
        import static org.junit.jupiter.api.Assertions.*;
        """;

    @Test
    void everyJavaSnippetCompiles(@TempDir final Path dir) throws Exception {
        final String readme = Files.readString(Path.of("../README.md"), StandardCharsets.UTF_8);
        final List<String> snippets = new ArrayList<>();
        for (int at = readme.indexOf("```java\n"); at >= 0; at = readme.indexOf("```java\n", at + 1)) {
            snippets.add(readme.substring(at + 8, readme.indexOf("```\n", at + 8)));
        }
        assertTrue(snippets.size() >= 7, "the README's Java snippets: " + snippets.size());
        final StringBuilder src = new StringBuilder(IMPORTS).append("class Snippets {\n    Kernel kernel;\n")
            .append("    KmemCache cache;\n");
        for (int i = 0; i < snippets.size(); i++) {
            src.append("    void snippet").append(i).append("() throws Exception {\n").append(snippets.get(i))
                .append("    }\n");
        }
        final Path file = dir.resolve("Snippets.java");
        Files.writeString(file, src.append("}\n"), StandardCharsets.UTF_8);

        final JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        final DiagnosticCollector<JavaFileObject> found = new DiagnosticCollector<>();
        final String classPath = jarOf(Kernel.class) + File.pathSeparator + jarOf(Assertions.class);
        try (StandardJavaFileManager files = javac.getStandardFileManager(found, null, StandardCharsets.UTF_8)) {
            javac.getTask(null, files, found, List.of("-proc:none", "-classpath", classPath, "-d",
                dir.toString()), null, files.getJavaFileObjects(file)).call();
        }
        final List<String> errors = new ArrayList<>();
        for (final Diagnostic<? extends JavaFileObject> d : found.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.ERROR) {
                final String[] lines = src.toString().split("\n");
                errors.add("line " + d.getLineNumber() + ": " + d.getMessage(null) + "\n    "
                    + lines[(int) d.getLineNumber() - 1].strip());
            }
        }
        assertEquals(List.of(), errors, "README.md's Java snippets must compile against the API");
    }

    /** The jar (or classes folder) {@code c} was loaded from: mm4j-core's, JUnit's. */
    private static Path jarOf(final Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
