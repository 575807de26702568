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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The README's shell sessions, run: each script the README shows, booted with the command line it names, prints
 * the lines the README shows under it, in that order. The README may leave lines out ("..." or a shortened dmesg).
 * Not compared: time stamps and jiffies (the host's clock), kmemleak's frame hashes, and inode numbers (one
 * counter per JVM, so they depend on the kernels booted before). Standard output and standard error go to one
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
        final String script = readme.substring(scriptStart, scriptEnd);
        List<String> shown = readme.substring(outStart, outEnd).lines().toList();
        if (!shown.isEmpty() && shown.get(0).startsWith("$ ")) {
            shown = shown.subList(1, shown.size());
        }
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (Kernel k = Kernel.boot(cmdline); PrintStream ps = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            new Shell(k, ps, ps).runScript(new BufferedReader(new StringReader(script)));
        }
        final List<String> printed = bytes.toString(StandardCharsets.UTF_8).lines().map(ReadmeSessionsTest::plain)
            .toList();
        int next = 0;
        for (final String line : shown) {
            if (line.strip().equals("...")) {
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
            .replaceAll("\\[<[0-9a-f]{16}>]", "[<hash>]").replaceAll(" fe:00 \\d+ ", " fe:00 INO ").stripTrailing();
    }
}
