package org.mm4j.cli.shell;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.mm4j.Kernel;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Fuzz targets for the shell: the expression evaluator alone, and whole command lines (the line parser,
 * substitution, every command) on one long-lived shell and kernel (rebooted every 2000 lines). A line may fail
 * with a message; it must never be an "internal error" (a Java exception that escaped a command). Lines with
 * {@code report} are skipped: that command writes a file of this machine.
 */
class ShellLineFuzzTest {
    private static Kernel kernel;
    private static Shell shell;
    private static final ByteArrayOutputStream OUT = new ByteArrayOutputStream();
    private static final ByteArrayOutputStream ERR = new ByteArrayOutputStream();
    private static int lines;

    @AfterAll
    static void shutdown() {
        if (kernel != null) {
            kernel.close();
            kernel = null;
        }
    }

    @FuzzTest
    void expression(final byte[] data) {
        final String text = new String(data, StandardCharsets.UTF_8);
        try {
            Expr.eval(text);
        } catch (final ShellException e) {
            assertNotNull(e.getMessage());
            assertFalse(e.getMessage().length() > 400, "an error message of " + e.getMessage().length() + " chars");
        }
        try {
            final long[] r = Expr.evalPrefix(text, 0);
            assertFalse(r[1] < 0 || r[1] > text.length(), "end position out of the text");
        } catch (final ShellException e) {
            assertNotNull(e.getMessage());
        }
    }

    @FuzzTest
    void shellLine(final byte[] data) {
        final String line = new String(data, StandardCharsets.UTF_8);
        if (line.contains("report")) {
            return;
        }
        if (shell == null || ++lines % 2000 == 0) {
            shutdown();
            kernel = Kernel.boot("mem=128M nr_cpus=2");
            shell = new Shell(kernel, new PrintStream(OUT, true, StandardCharsets.UTF_8),
                new PrintStream(ERR, true, StandardCharsets.UTF_8));
        }
        OUT.reset();
        ERR.reset();
        for (final String l : line.split("\n", 4)) {
            shell.runLine(l);
        }
        final String err = ERR.toString(StandardCharsets.UTF_8);
        // the shell's own mark of an escaped Java exception (the input's text may say "internal error" too)
        assertFalse(err.lines().anyMatch(l -> l.matches("mm4j: \\d+: internal error: .*")), err);
    }
}
