package org.mm4j.vma.replay;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

/**
 * Every case captured on a real Linux 6.18 (bundled copies, and ../shared/samples/vma when present) must end with
 * exactly the kernel's #AFTER maps and every call must return the kernel's result, in both address modes.
 */
class SampleReplayTest {
    static final List<String> BUNDLED = List.of("case012.trace", "case233.trace", "case072.trace", "real04.trace");

    static String bundled(final String name) throws IOException {
        try (InputStream in = SampleReplayTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static Path samplesDir() {
        for (final String p : List.of("../shared/samples/vma", "../../shared/samples/vma")) {
            final Path d = Path.of(p);
            if (Files.isDirectory(d)) {
                return d;
            }
        }
        return null;
    }

    static Stream<Arguments> bundledCases() {
        final List<Arguments> out = new ArrayList<>();
        for (final String n : BUNDLED) {
            for (final StraceReplayer.AddressMode m : StraceReplayer.AddressMode.values()) {
                out.add(Arguments.of(n, m));
            }
        }
        return out.stream();
    }

    private static void assertMatches(final StraceReplayer.Result r) {
        assertTrue(r.errors.isEmpty(), () -> "bad lines: " + r.errors);
        assertTrue(r.mismatches.isEmpty(), () -> "results differ: " + r.mismatches);
        assertEquals(r.calls, r.callsMatched);
        assertTrue(r.calls > 0);
        assertTrue(r.afterDiff != null && r.afterDiff.isEmpty(), () -> "maps differ: " + r.afterDiff);
        assertEquals(r.placements, r.placementsMatched);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("bundledCases")
    void bundledCaseMatchesKernel(final String name, final StraceReplayer.AddressMode mode) throws IOException {
        assertMatches(new StraceReplayer(mode).replay(name, bundled(name)));
    }

    @Test
    void everySampleCaseMatchesKernelInBothModes() throws IOException {
        final Path dir = samplesDir();
        requireOrSkip(dir != null, "../shared/samples/vma absent");
        final List<Path> cases;
        try (Stream<Path> s = Files.list(dir)) {
            cases = s.filter(p -> p.getFileName().toString().endsWith(".trace")).sorted().toList();
        }
        assertFalse(cases.isEmpty());
        for (final Path c : cases) {
            for (final StraceReplayer.AddressMode m : StraceReplayer.AddressMode.values()) {
                assertMatches(new StraceReplayer(m).replay(c));
            }
        }
    }

    @Test
    void outputLayoutDiffersFromKernelFileOnlyInInodes() throws IOException {
        final String text = bundled("case072.trace");
        final StraceReplayer.Result r = new StraceReplayer(StraceReplayer.AddressMode.MODEL).replay("c", text);
        final String[] kernel = text.split("\n");
        assertEquals(kernel.length, r.out.size());
        for (int i = 0; i < kernel.length; i++) {
            final MapsLine k = MapsLine.parse(kernel[i]);
            if (k == null) {
                assertEquals(kernel[i], r.out.get(i), "line " + (i + 1));
            } else {
                final MapsLine m = MapsLine.parse(r.out.get(i));
                assertEquals(k.key(), m.key(), "line " + (i + 1));
                // same column layout: the name starts where the kernel's does
                assertEquals(kernel[i].length() - k.name().length(), r.out.get(i).length() - m.name().length());
            }
        }
    }

    @Test
    void changedResultIsReportedAsDisagreement() throws IOException {
        final String text = bundled("case012.trace").replace("madvise(0x7f9937f87000, 139264, MADV_DONTNEED) = 0",
            "madvise(0x7f9937f87000, 139264, MADV_DONTNEED) = -1 ENOMEM (Cannot allocate memory)");
        final StraceReplayer.Result r = new StraceReplayer(StraceReplayer.AddressMode.TRACE).replay("c", text);
        assertEquals(1, r.mismatches.size());
        assertTrue(r.mismatches.get(0).contains("madvise"));
        assertFalse(r.matches());
    }

    @Test
    void changedAfterMapsAreReported() throws IOException {
        final String text = bundled("case233.trace");
        final int at = text.indexOf("#AFTER\n") + 7;
        final String broken = text.substring(0, at) + text.substring(text.indexOf('\n', at) + 1);
        final StraceReplayer.Result r = new StraceReplayer(StraceReplayer.AddressMode.TRACE).replay("c", broken);
        assertEquals(1, r.afterDiff.size());
        assertTrue(r.afterDiff.get(0).startsWith("+ model"));
    }

    @Test
    void badLinesAreReportedWithFileAndLineAndReplayGoesOn() throws IOException {
        final String text = bundled("case012.trace").replace("brk(0x558f4c199000)                     = 0x558f4c199000",
            "brk(0x558f4c199000 = 0x558f4c199000\nmmap(NULL, 4096, PROT_BOGUS, MAP_PRIVATE, -1, 0) = 0x1000\n"
                + "brk(0x558f4c199000)                     = 0x558f4c199000");
        final StraceReplayer.Result r = new StraceReplayer(StraceReplayer.AddressMode.TRACE).replay("x.trace", text);
        assertEquals(2, r.errors.size(), r.errors::toString);
        assertTrue(r.errors.get(0).startsWith("x.trace:43: missing ')'"), r.errors.get(0));
        assertTrue(r.errors.get(1).contains("unknown protection 'PROT_BOGUS'"), r.errors.get(1));
        assertTrue(r.afterDiff.isEmpty(), () -> r.afterDiff.toString());
    }

    @Test
    void rawStraceLogReplays() throws IOException {
        final StraceReplayer.Result r = new StraceReplayer(StraceReplayer.AddressMode.TRACE)
            .replay("real04.strace", bundled("real04.strace"));
        assertTrue(r.errors.isEmpty(), r.errors::toString);
        // the start state is unknown: only the mprotects of the exec'd images cannot be reproduced
        assertEquals(r.calls - 2, r.callsMatched, r.mismatches::toString);
        assertTrue(r.maps.contains("/usr/lib/locale/C.utf8/LC_CTYPE"));
    }

    @Test
    void unfinishedResumedPairsAreJoined() {
        final String log = """
            100 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0 <unfinished ...>
            101 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000
            100 <... mmap resumed>) = 0x7f0000010000
            101 --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---
            101 +++ killed by SIGSEGV +++
            100 munmap(0x7f0000010000, 8192 <unfinished ...>
            100 <... munmap resumed>) = 0
            """;
        final StraceReplayer.Result r = new StraceReplayer(StraceReplayer.AddressMode.TRACE).replay("t", log);
        assertTrue(r.errors.isEmpty(), r.errors::toString);
        assertEquals(3, r.calls);
        assertEquals(3, r.callsMatched, r.mismatches::toString);
        assertTrue(r.maps.startsWith("7f0000000000-7f0000001000 r--p"), r.maps);
    }
}
