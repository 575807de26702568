package org.mm4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line as a user calls it: exit status, stdout, stderr. */
class MainTest {
    record Run(int status, String out, String err) {
    }

    static Run main(final String... args) {
        return capture(() -> Main.run(args));
    }

    /** Runs {@code job} with System.out and System.err captured. */
    static synchronized Run capture(final java.util.function.IntSupplier job) {
        final PrintStream oldOut = System.out;
        final PrintStream oldErr = System.err;
        final ByteArrayOutputStream o = new ByteArrayOutputStream();
        final ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            final int status = job.getAsInt();
            return new Run(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void versionAndHelp() {
        Run r = main("--version");
        assertEquals(0, r.status());
        assertTrue(r.out().startsWith("mm4j 0.1.0, models Linux 6.18"), r.out());
        // main's fast path for --version (no command model built) prints what picocli prints
        assertEquals(String.join(System.lineSeparator(), Main.versionLines()) + System.lineSeparator(), r.out());
        r = main("help");
        assertEquals(0, r.status());
        for (final String c : new String[] {"shell", "replay", "bench", "help"}) {
            assertTrue(r.out().contains("\n  " + c + " "), c + " in " + r.out());
        }
        r = main("help", "replay");
        assertTrue(r.out().contains("kmem") && r.out().contains("strace"), r.out());
        for (final String[] cmd : new String[][] {{"shell", "--help"}, {"replay", "kmem", "--help"}}) {
            r = main(cmd);
            assertEquals(0, r.status(), String.join(" ", cmd));
            assertTrue(r.out().contains("Usage: mm4j " + String.join(" ", cmd).replace(" --help", "")), r.out());
            assertTrue(r.out().contains("Exit status"), r.out());
        }
    }

    @Test
    void shellScriptFileAndErrors(@TempDir final Path dir) throws Exception {
        final Path script = dir.resolve("s.mm4j");
        Files.writeString(script, "print 6 * 7\nnosuch\n");
        Run r = main("shell", "--cmdline", "mem=16M", script.toString());
        assertEquals(1, r.status());
        assertEquals("42\n", r.out());
        assertEquals("mm4j: 2: unknown command 'nosuch' (try: help)\n", r.err());
        r = main("shell", dir.resolve("nosuch.mm4j").toString());
        assertEquals(2, r.status());
        assertEquals("mm4j: " + dir.resolve("nosuch.mm4j") + ": No such file or directory\n", r.err());
        r = main("shell", "--cmdline", "mem=lots", script.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("mm4j: --cmdline: "), r.err());
        r = main("shell", "--frobnicate");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("Unknown option: '--frobnicate'"), r.err());
    }

    @Test
    void binaryGarbageScriptIsErrorsNotACrash(@TempDir final Path dir) throws Exception {
        final byte[] junk = new byte[20_000];
        new java.util.Random(7).nextBytes(junk);
        final Path script = dir.resolve("junk");
        Files.write(script, junk);
        final Run r = main("shell", "--cmdline", "mem=16M", script.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().lines().allMatch(l -> l.startsWith("mm4j: ")), r.err());
        assertTrue(!r.err().contains("internal error"), r.err());
    }

    /** mm4j's help and each command's {@code --help}, at every depth (picocli's own help command aside). */
    private static List<String[]> everyHelp() {
        final List<String[]> out = new ArrayList<>(List.of(new String[] {"help"}, new String[] {"--help"}));
        final ArrayDeque<Map.Entry<List<String>, CommandLine>> todo = new ArrayDeque<>();
        todo.add(Map.entry(List.of(), Main.commandLine()));
        while (!todo.isEmpty()) {
            final Map.Entry<List<String>, CommandLine> e = todo.poll();
            for (final CommandLine sub : new LinkedHashSet<>(e.getValue().getSubcommands().values())) {
                if (sub.getCommandSpec().userObject() instanceof CommandLine.HelpCommand) {
                    continue;
                }
                final List<String> path = new ArrayList<>(e.getKey());
                path.add(sub.getCommandName());
                final List<String> cmd = new ArrayList<>(path);
                cmd.add("--help");
                out.add(cmd.toArray(String[]::new));
                todo.add(Map.entry(path, sub));
            }
        }
        return out;
    }

    /** The single quotes of {@code line} that open or close a quoted text (apostrophes, as in "6.18's", aside). */
    private static int quotes(final String line) {
        int n = 0;
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == '\'' && !(i > 0 && i + 1 < line.length()
                && Character.isLetterOrDigit(line.charAt(i - 1)) && Character.isLetter(line.charAt(i + 1)))) {
                n++;
            }
        }
        return n;
    }

    @Test
    void everyCommandsHelpIsChecked() {
        final List<String> checked = everyHelp().stream().map(c -> String.join(" ", c)).toList();
        for (final String c : List.of("shell --help", "replay --help", "replay kmem --help", "replay strace --help",
            "bench --help", "generate-kmem --help")) {
            assertTrue(checked.contains(c), c + " in " + checked);
        }
    }

    @Test
    void helpTextsWarnAboutNothingAndKeepPathsWhole() {
        for (final String[] cmd : everyHelp()) {
            final Run r = main(cmd);
            assertEquals(0, r.status(), String.join(" ", cmd));
            // picocli prints a WARN to stderr when a description has an unescaped '%'
            assertEquals("", r.err(), String.join(" ", cmd));
            final String[] lines = r.out().split("\\R");
            for (int i = 1; i < lines.length; i++) {
                final String prev = lines[i - 1].stripTrailing();
                final String next = lines[i].strip();
                // a path cut in two: "./" or "." at a line's end, "/word" or "-word" continuing the next
                assertTrue(!(prev.endsWith(".") && next.startsWith("/")) && !prev.endsWith("/")
                    && !(prev.endsWith("-") && !prev.endsWith(" -") && !prev.endsWith("--")),
                    String.join(" ", cmd) + ": '" + prev + "' | '" + next + "'");
                // a sentence broken early: picocli wraps each footer element on its own, so one paragraph given
                // as several elements leaves a short line in mid-sentence
                assertTrue(prev.isEmpty() || next.isEmpty() || Character.isWhitespace(lines[i - 1].charAt(0))
                    || Character.isWhitespace(lines[i].charAt(0)) || prev.length() >= 40 || prev.endsWith(".")
                    || prev.endsWith(":") || prev.startsWith("Usage:"), String.join(" ", cmd) + ": '" + prev + "' | '"
                    + next + "'");
                // a quoted command cut in two ("beside 'zstd" | "-dc FILE | wc -l'"): an odd number of quotes
                assertEquals(0, quotes(prev) % 2, String.join(" ", cmd) + ": '" + prev + "' | '" + next + "'");
                // an indented line (an example, a list) wrapped: its tail at the left margin
                assertTrue(prev.isEmpty() || next.isEmpty() || !Character.isWhitespace(lines[i - 1].charAt(0))
                    || Character.isWhitespace(lines[i].charAt(0)) || Character.isUpperCase(next.charAt(0)),
                    String.join(" ", cmd) + ": '" + prev + "' | '" + next + "'");
            }
        }
        assertTrue(main("help").out().contains("./mm4j-report.html"));
        assertTrue(main("replay", "strace", "--help").out().contains("trace=%memory"));
    }
    @Test
    void replayKmemFileWithNoOptionTakesTheFastPathAndPrintsWhatPicocliDoes(@TempDir final Path dir)
        throws java.io.IOException {
        assertEquals("t.zst", Main.plainReplayFile(new String[] {"replay", "kmem", "t.zst"}));
        for (final String[] a : new String[][] {{"replay", "kmem", "-"}, {"replay", "kmem", "--report=r.html"},
            {"replay", "kmem", "@args"}, {"replay", "kmem", ""}, {"replay", "strace", "t"}, {"replay", "kmem"},
            {"replay", "kmem", "t", "--report", "r.html"}}) {
            org.junit.jupiter.api.Assertions.assertNull(Main.plainReplayFile(a), String.join(" ", a));
        }
        final Path f = dir.resolve("t.trace");
        Files.write(f, org.mm4j.trace.kmem.KmemTraceGenerator.generate(3, 2, 512, 3_000));
        final Run picocli = main("replay", "kmem", f.toString());
        final Run fast = capture(() -> ReplayKmemCommand.replayWithDefaults(f.toString()));
        assertEquals(0, picocli.status(), picocli.err());
        assertTrue(picocli.out().contains("events replayed   3,000 in "), picocli.out());
        assertEquals(picocli.status(), fast.status());
        assertEquals(picocli.err(), fast.err());
        assertEquals(ReplayKmemCommandTest.untimed(picocli.out()), ReplayKmemCommandTest.untimed(fast.out()));
    }
}
