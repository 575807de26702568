package org.mm4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

/**
 * Issue 11, reproductions 3 to 5 and 7 through the command line: endless and non-UTF-8 input, zstd windows and
 * checksums, output paths that do not exist. Each gives a clear error naming the file and line, no stack trace.
 */
class HostileInputTest {
    record Run(int status, String out, String err) {
    }

    private static Run strace(final String... args) {
        final ByteArrayOutputStream o = new ByteArrayOutputStream();
        final ByteArrayOutputStream e = new ByteArrayOutputStream();
        final ReplayStraceCommand c = new ReplayStraceCommand();
        picocli.CommandLine cl = new picocli.CommandLine(c);
        cl.parseArgs(args);
        final int status = c.run(new PrintStream(o, true, StandardCharsets.UTF_8),
            new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Run(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    private static Run kmem(final String file, final Path report, final long zstdWindow) {
        final ByteArrayOutputStream o = new ByteArrayOutputStream();
        final ByteArrayOutputStream e = new ByteArrayOutputStream();
        final int status = ReplayKmemCommand.replay(file, "mem=64M", report, 20, zstdWindow,
            new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Run(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    private static void assertNoStackTrace(final Run r) {
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception") || r.err().contains("Error:"),
            r.err());
    }

    @Test
    void replayStraceOfDevZeroIsALineTooLongNotAnOutOfMemoryError() {
        requireOrSkip(Files.isReadable(Path.of("/dev/zero")), "no /dev/zero");
        final Run r = strace("/dev/zero");
        assertEquals(2, r.status());
        assertEquals("mm4j: /dev/zero:1: line longer than 1048576 bytes\n", r.err());
    }

    @Test
    void replayKmemOfDevZeroStopsWithFileAndLine() {
        requireOrSkip(Files.isReadable(Path.of("/dev/zero")), "no /dev/zero");
        final Run r = kmem("/dev/zero", null, 128L << 20);
        assertEquals(2, r.status());
        assertEquals("mm4j: /dev/zero:1: line longer than 1048576 bytes\n", r.err());
    }

    @Test
    void aNonUtf8StraceLineIsAnErrorOfThatLineAndTheReplayGoesOn(@TempDir final Path dir) throws IOException {
        final Path f = dir.resolve("bin.log");
        final byte[] good = "1 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
            .getBytes(StandardCharsets.US_ASCII);
        final byte[] bad = {'1', ' ', 'b', 'r', 'k', '(', (byte) 0xc3, (byte) 0x28, ')', '\n'};
        final byte[] all = new byte[bad.length + good.length];
        System.arraycopy(bad, 0, all, 0, bad.length);
        System.arraycopy(good, 0, all, bad.length, good.length);
        Files.write(f, all);
        final Run r = strace(f.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("mm4j: " + f + ":1: not UTF-8 text (byte 0xc3 at column 7)"), r.err());
        assertTrue(r.err().contains("results 1/1 equal the kernel's"), r.err());
        assertTrue(r.out().startsWith("7f0000000000-7f0000001000 r--p"), r.out());
        assertNoStackTrace(r);
    }

    @Test
    void aGzippedStraceLogIsReadAsAStream(@TempDir final Path dir) throws IOException {
        final Path f = dir.resolve("log.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(f))) {
            o.write("mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n"
                .getBytes(StandardCharsets.US_ASCII));
        }
        final Run r = strace(f.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("7f0000000000-7f0000001000 r--p"), r.out());
    }

    @Test
    void outputPathsAreNeverCreatedSilently(@TempDir final Path dir) throws IOException {
        final Path log = dir.resolve("a.log");
        Files.writeString(log, "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n");
        final Path missing = dir.resolve("nonexistent-dir");
        final Run r = strace("--report", missing.resolve("x/y.html").toString(), log.toString());
        assertEquals(2, r.status());
        assertEquals("mm4j: --report " + missing.resolve("x/y.html") + ": No such file or directory (directory "
            + missing.resolve("x") + " does not exist)\n", r.err());
        final Run o = strace("--out", missing.resolve("x").toString(), log.toString());
        assertEquals(2, o.status());
        assertEquals("mm4j: --out " + missing.resolve("x") + ": directory " + missing + " does not exist\n", o.err());
        final Run k = kmem(log.toString(), missing.resolve("r.html"), 128L << 20);
        assertEquals(2, k.status());
        assertTrue(k.err().startsWith("mm4j: --report " + missing.resolve("r.html") + ": No such file or directory"),
            k.err());
        assertFalse(Files.exists(missing), "nothing was created");
        // --out DIR is created when its parent exists (documented: mkdir, not mkdir -p)
        assertEquals(0, strace("--out", dir.resolve("o").toString(), log.toString()).status());
        assertTrue(Files.isRegularFile(dir.resolve("o").resolve("a.log")));
    }

    @Test
    void aZstdWindowAboveTheLimitNeedsTheFlag(@TempDir final Path dir) throws IOException {
        final Path f = dir.resolve("big-window.zst");
        // frame header with a 256 MiB window (zstd --long=28 from a pipe), one empty last raw block
        Files.write(f, new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0x00, (byte) 0x90, 1, 0, 0});
        final Run r = kmem(f.toString(), null, 128L << 20);
        assertEquals(2, r.status());
        assertEquals("mm4j: " + f + ": zstd: frame 1 (at offset 0) needs a window of 256 MiB, above the memory limit"
            + " of 128 MiB (as zstd --memory=: allow more with --zstd-memory=SIZE, at most 1024 MiB, or decompress"
            + " with the zstd program)\n", r.err());
        final Run ok = kmem(f.toString(), null, 256L << 20);
        assertEquals(0, ok.status(), ok.err());
        assertTrue(Main.commandLine().getSubcommands().get("replay").getSubcommands().get("kmem")
            .getCommandSpec().findOption("--zstd-memory") != null);
    }

    @Test
    void aCorruptZstdChecksumIsAnErrorNotOtherText(@TempDir final Path dir) throws IOException {
        final byte[] text = "bash-1 [000] ..... 1.0: kfree: ptr=1\n".getBytes(StandardCharsets.US_ASCII);
        final byte[] frame = new byte[6 + 3 + text.length + 4];
        System.arraycopy(new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0x24, (byte) text.length}, 0, frame, 0, 6);
        final int h = 1 | text.length << 3;
        frame[6] = (byte) h;
        frame[7] = (byte) (h >>> 8);
        frame[8] = (byte) (h >>> 16);
        System.arraycopy(text, 0, frame, 9, text.length);
        // a stored checksum that is not the content's
        frame[frame.length - 1] = 0x5a;
        final Path f = dir.resolve("t.zst");
        Files.write(f, frame);
        final Run r = kmem(f.toString(), null, 128L << 20);
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("mm4j: " + f + ": zstd: content checksum mismatch in frame 1"), r.err());
        assertNoStackTrace(r);
    }
}
