package org.mm4j.cli.shell;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The README's shell sessions, run: each script the README shows, booted with the command line it names, prints
 * the lines the README shows under it, in that order. The README may leave lines out ("..." or a shortened dmesg).
 * Not compared: time stamps, jiffies and page_owner's ts (the host's clock), kmemleak's frame hashes, and the
 * offsets and line numbers of Java frames in stack traces ({@code +0x54/0x0 [PageAlloc.java:377]}: any edit above a
 * frame's line moves them; the frame's method and file are compared). Standard output and standard error go to one
 * stream, as on a terminal.
 */
class ReadmeSessionsTest {
    @Test
    void redZoneAndSegfaultSession() throws Exception {
        check("A session (`demo.mm4j`):", "mem=64M nr_cpus=2");
    }

    @Test
    void processesBuiltFromSlabCachesSession() throws Exception {
        check("A session (`demo.mm4j`, then its output):", "mem=64M nr_cpus=2 norandmaps");
    }

    @Test
    void kmemleakSession() throws Exception {
        check("demo.mm4j` with this script", "mem=64M nr_cpus=2 kmemleak=on");
    }

    @Test
    void failslabTranscript() throws Exception {
        transcript("$ ./mm4j shell --cmdline \"mem=64M nr_cpus=1\"\nkmem_cache_create my_cache 200\n");
    }

    @Test
    void failPageAllocTranscript() throws Exception {
        transcript("$ ./mm4j shell --cmdline \"mem=64M nr_cpus=1 fail_page_alloc=1,100,0,1\"\n");
    }

    @Test
    void pageOwnerTranscript() throws Exception {
        transcript("$ ./mm4j shell --cmdline \"mem=64M nr_cpus=1 page_owner=on\"\n");
    }

    /**
     * A code block that starts with {@code firstLines}: a {@code $ ./mm4j shell --cmdline "..."} line, then commands
     * (the lines that start with a lower-case word, as every shell command does) among what they print.
     */
    private static void transcript(final String firstLines) throws Exception {
        final String readme = Files.readString(Path.of("../README.md"), StandardCharsets.UTF_8);
        final int at = readme.indexOf("```\n" + firstLines);
        assertTrue(at >= 0, "README.md no longer has a block starting with " + firstLines);
        final List<String> block = readme.substring(at + 4, readme.indexOf("```\n", at + 4)).lines().toList();
        final String cmdline = block.get(0).replaceFirst("^\\$ \\./mm4j shell --cmdline \"([^\"]*)\"$", "$1");
        final StringBuilder script = new StringBuilder();
        final List<String> shown = new ArrayList<>();
        for (final String line : block.subList(1, block.size())) {
            if (line.matches("[a-z_].*")) {
                script.append(line).append('\n');
            } else {
                shown.add(line);
            }
        }
        compare(firstLines.strip(), cmdline, script.toString(), shown);
    }

    /** The two code blocks after {@code marker}: the script, then what it prints. */
    private static void check(final String marker, final String cmdline) throws Exception {
        final String readme = Files.readString(Path.of("../README.md"), StandardCharsets.UTF_8);
        final int at = readme.indexOf(marker);
        assertTrue(at >= 0, "README.md no longer has \"" + marker + "\"");
        final int scriptStart = readme.indexOf("```\n", at) + 4;
        final int scriptEnd = readme.indexOf("```\n", scriptStart);
        final int outStart = readme.indexOf("```\n", scriptEnd + 4) + 4;
        final int outEnd = readme.indexOf("```\n", outStart);
        assertTrue(readme.substring(Math.max(0, at - 300), outEnd).contains("--cmdline \"" + cmdline + "\""),
            "the session is run with --cmdline \"" + cmdline + "\"");
        final List<String> shown = readme.substring(outStart, outEnd).lines().toList();
        compare(marker, cmdline, readme.substring(scriptStart, scriptEnd),
            !shown.isEmpty() && shown.get(0).startsWith("$ ") ? shown.subList(1, shown.size()) : shown);
    }

    private static void compare(final String marker, final String cmdline, final String script,
                                final List<String> shown) throws Exception {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Kernel k = Kernel.boot(cmdline); PrintStream ps = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            new Shell(k, ps, ps).runScript(new BufferedReader(new StringReader(script)));
        }
        final List<String> printed = bytes.toString(StandardCharsets.UTF_8).lines().map(ReadmeSessionsTest::plain)
            .toList();
        int next = 0;
        for (final String line : shown) {
            if (line.strip().startsWith("...")) {
                continue;
            }
            final String want = plain(line);
            while (next < printed.size() && !printed.get(next).equals(want)) {
                next++;
            }
            if (next == printed.size()) {
                fail("README.md, session \"" + marker + "\": the shell does not print (here, or in this order)\n"
                    + want + "\nIt prints:\n" + String.join("\n", printed));
            }
            next++;
        }
    }

    private static String plain(final String line) {
        return line.replaceFirst("^\\[ *\\d+\\.\\d{6}\\] ", "[time] ").replaceAll("jiffies \\d+", "jiffies N")
            .replaceAll(", ts \\d+ ns", ", ts N ns").replaceAll("\\[<[0-9a-f]{16}>]", "[<hash>]")
            .replaceAll("\\+0x[0-9a-f]+/0x0 \\[(\\w+\\.java):\\d+]", "+0xN/0x0 [$1:N]")
            .stripTrailing();
    }
}
