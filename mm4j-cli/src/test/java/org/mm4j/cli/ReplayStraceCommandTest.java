package org.mm4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReplayStraceCommandTest {
    private static final String CASE = """
        #vmaoracle 1
        #mode norandom
        #rlimit_stack 8388608
        #mmap_base 0x7ffff7fff000
        #BEFORE
        555555554000-555555555000 r--p 00000000 fe:00 11                         /tmp/prog
        7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]
        #OPS
        brk(NULL)                               = 0x555555559000
        mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7ffd000
        mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7ffc000
        brk(0x55555557a000)                     = 0x55555557a000
        #AFTER
        555555554000-555555555000 r--p 00000000 fe:00 11                         /tmp/prog
        555555559000-55555557a000 rw-p 00000000 00:00 0                          [heap]
        7ffff7ffc000-7ffff7fff000 rw-p 00000000 00:00 0\s
        7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]
        #END
        """;

    private static int run(final ByteArrayOutputStream out, final ByteArrayOutputStream err, final String... args) {
        final ReplayStraceCommand c = new ReplayStraceCommand();
        new picocli.CommandLine(c).parseArgs(args);
        return c.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true,
            StandardCharsets.UTF_8));
    }

    @Test
    void replaysCaseAndWritesOutLayout(@TempDir final Path dir) throws IOException {
        final Path f = dir.resolve("mine.trace");
        Files.writeString(f, CASE);
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(out, err, "--addresses", "model", "--out", dir.resolve("o").toString(), f.toString()),
            err::toString);
        final String maps = out.toString(StandardCharsets.UTF_8);
        // the model's final /proc/self/maps is exactly the kernel's, the case's #AFTER section
        final String after = CASE.substring(CASE.indexOf("#AFTER\n") + "#AFTER\n".length(), CASE.indexOf("#END"));
        assertTrue(after.contains("[heap]"), after);
        assertEquals(after, maps);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("maps MATCH #AFTER; results 4/4"));
        final List<String> written = Files.readAllLines(dir.resolve("o").resolve("mine.trace"));
        assertTrue(written.contains("brk(0x55555557a000)                     = 0x55555557a000"), written::toString);
        assertEquals("#END", written.get(written.size() - 1));
    }

    @Test
    void disagreementGivesStatusOne(@TempDir final Path dir) throws IOException {
        final Path f = dir.resolve("bad.trace");
        Files.writeString(f, CASE.replace("= 0x7ffff7ffc000", "= 0x7ffff7000000"));
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(1, run(new ByteArrayOutputStream(), err, "--addresses", "model", f.toString()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("kernel = 0x7ffff7000000, mm4j = 0x7ffff7ffc000"),
            err::toString);
    }

    @Test
    void missingFileAndBadOptions(@TempDir final Path dir) {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, run(new ByteArrayOutputStream(), err, dir.resolve("nope").toString()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("No such file or directory"));
        assertEquals(2, run(new ByteArrayOutputStream(), new ByteArrayOutputStream(), "--addresses", "x",
            dir.resolve("nope").toString()));
    }

    @Test
    void registeredUnderReplay() {
        assertTrue(Main.commandLine().getSubcommands().get("replay").getSubcommands().containsKey("strace"));
    }

    @Test
    void reportDrawsBeforeAndAfterStrips(@TempDir final Path dir) throws IOException {
        final Path f = dir.resolve("mine.trace");
        Files.writeString(f, CASE);
        final Path html = dir.resolve("r.html");
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(out, err, "--report", html.toString(), f.toString()));
        final String page = Files.readString(html);
        assertTrue(page.contains("Address space before (#BEFORE) and after the replay (mm4j)"), page);
        assertEquals(1, page.split("<svg", -1).length - 1, "one chart, two rows on one axis");
        assertTrue(page.contains(">before (#BEFORE)</text>") && page.contains(">after (mm4j)</text>"), "rows named");
        // the heap and the two anonymous pages are new: outlined in the after row; nothing vanished from before
        assertEquals(2, page.split("class=\"seg changed\"", -1).length - 1, page);
        assertTrue(page.contains("rw-p [heap] 132 KiB"), "the heap labelled with perms and size");
        assertTrue(page.contains("[heap]"), "after maps listed");
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("Report: "));
        assertEquals("555555554000-555555555000 r--p 00000000 fe:00 11                         /tmp/prog\n"
            + "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n",
            ReplayStraceCommand.block(CASE, "#BEFORE", "#OPS"));
    }

    @Test
    void rawLogSaysItStartsFromAnEmptyAddressSpace(@TempDir final Path dir) throws IOException {
        // ld.so's mprotect of the program's RELRO page: the program was mapped by execve, before the log began
        final Path f = dir.resolve("raw.strace");
        Files.writeString(f, """
            101 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000001000
            101 mprotect(0x555555558000, 4096, PROT_READ) = 0
            """);
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(1, run(new ByteArrayOutputStream(), err, f.toString()));
        final String e = err.toString(StandardCharsets.UTF_8);
        final List<String> lines = e.lines().toList();
        assertTrue(lines.get(0).contains("results 1/2"), e);
        assertTrue(lines.get(1).contains("starts from an empty address space")
            && lines.get(1).contains("(1 of 2 calls differ"), e);
        // a case with #BEFORE maps says nothing of the kind, even when a call disagrees
        final Path c = dir.resolve("bad.trace");
        Files.writeString(c, CASE.replace("= 0x7ffff7ffc000", "= 0x7ffff7000000"));
        final ByteArrayOutputStream err2 = new ByteArrayOutputStream();
        assertEquals(1, run(new ByteArrayOutputStream(), err2, "--addresses", "model", c.toString()));
        assertTrue(!err2.toString(StandardCharsets.UTF_8).contains("empty address space"), err2::toString);
    }
}
