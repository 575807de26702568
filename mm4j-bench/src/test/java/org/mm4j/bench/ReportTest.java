package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON rows, the table, the target ratios and the command line of the comparison. */
class ReportTest {
    private static final List<Row> ROWS = List.of(
        Row.measured("alloc-free-64", "mm4j", 1, 6.0, 0.25, 5.9),
        Row.measured("alloc-free-64", "glibc-malloc", 1, 24.0, Double.NaN, Double.NaN),
        Row.measured("alloc-free-64", "jemalloc", 1, 5.0, 0.5, 5.0),
        Row.skipped("alloc-free-64", "mimalloc", 1, "Debian package \"libmimalloc2.0\" not loadable"),
        Row.measured("remote-free-2t-64", "mm4j", 2, 50.0, 1.0, 49.5));

    @Test
    void jsonHasTheFiveFieldsPerRowAndEscapesNotes(@TempDir final Path dir) throws Exception {
        final Path f = dir.resolve("sub/out.json");
        BenchJson.write(ROWS, f);
        final String json = Files.readString(f);
        assertEquals("""
            [
              {"workload": "alloc-free-64", "allocator": "mm4j", "threads": 1, "ns_per_op": 6.000, "error": 0.250, "median": 5.900},
              {"workload": "alloc-free-64", "allocator": "glibc-malloc", "threads": 1, "ns_per_op": 24.000, "error": null},
              {"workload": "alloc-free-64", "allocator": "jemalloc", "threads": 1, "ns_per_op": 5.000, "error": 0.500, "median": 5.000},
              {"workload": "alloc-free-64", "allocator": "mimalloc", "threads": 1, "ns_per_op": null, "error": null, \
            "note": "Debian package \\"libmimalloc2.0\\" not loadable"},
              {"workload": "remote-free-2t-64", "allocator": "mm4j", "threads": 2, "ns_per_op": 50.000, "error": 1.000, "median": 49.500}
            ]
            """, json);
        assertEquals("\"a\\\\b\\u0001\\n\"", BenchJson.string("a\\b\u0001\n"));
        final String merged = BenchJson.toJson(List.of(ForkRounds.merge("ring-64", "mm4j", 1,
            java.util.Arrays.asList(new double[] {10, 11, 12}, null, new double[] {12, 13, 14}))));
        assertTrue(merged.contains("\"ns_per_op\": 12.000, \"error\": 3.96") && merged.contains("\"median\": 12.000, "
            + "\"error_over\": \"iterations\", \"error_iterations\": 3.96")
            && merged.contains("\"fork_means\": [11.000, null, 13.000], \"note\": \"the fork of round(s) 2 failed"),
            merged);
    }

    private static Targets.Outcome outcome(final List<Row> rows, final String workload, final String subject) {
        return Targets.evaluate(rows).stream()
            .filter(o -> o.target().workload().equals(workload) && o.target().subject().equals(subject))
            .findFirst().orElseThrow();
    }

    @Test
    void targetsCompareWithTheBestOfJemallocAndMimallocAndRankOnlyDisjointIntervals() {
        final List<Row> rows = List.of(
            Row.measured("ring-64", "mm4j", 1, 15.0, 0.2, 15.0),
            Row.measured("ring-64", "mm4j-segment", 1, 21.0, 0.2, 21.0),
            Row.measured("ring-64", "glibc-malloc", 1, 2.0, 0.1, 2.0),
            Row.measured("ring-64", "jemalloc", 1, 16.0, 0.3, 16.0),
            Row.measured("ring-64", "mimalloc", 1, 12.0, 0.3, 12.0));
        final Targets.Outcome vsBest = outcome(rows, "ring-64", "mm4j");
        assertEquals("mimalloc", vsBest.peer(), "the faster of the two, never the information-only glibc row");
        assertEquals(1.25, vsBest.ratio(), 1e-12);
        assertEquals(Targets.Verdict.MISSED, vsBest.verdict(), "14.8..15.2 lies above mimalloc's 11.7..12.3");
        assertEquals("mimalloc", vsBest.decidedBy());
        assertTrue(vsBest.describe().contains("best of jemalloc/mimalloc (mimalloc)")
            && vsBest.describe().contains("MISSED (intervals apart)"), vsBest.describe());
        assertFalse(vsBest.describe().contains("warning"), vsBest.describe());
        final Targets.Outcome segment = outcome(rows, "ring-64", "mm4j-segment");
        assertEquals(1.4, segment.ratio(), 1e-12);
        assertEquals(Targets.Verdict.MISSED, segment.verdict(), "20.8..21.2 above 1.3 x 14.8..15.2 = 19.24..19.76");
        assertTrue(Targets.ALL.stream().noneMatch(t -> t.peers().contains("glibc-malloc")),
            "the plain glibc downcall is information only");
        final Targets.Outcome missing = outcome(rows, "alloc-free-64", "mm4j");
        assertFalse(missing.known());
        assertTrue(missing.describe().contains("not measured"));
    }

    @Test
    void overlappingIntervalsAreWithinTheErrorsWhicheverMeanIsLower() {
        final List<Row> slower = List.of(
            Row.measured("ring-64", "mm4j", 1, 64.5, 21.6, 57.4),
            Row.measured("ring-64", "jemalloc", 1, 88.6, 2.0, 88.0),
            Row.measured("ring-64", "mimalloc", 1, 61.5, 11.5, 57.8));
        final Targets.Outcome o = outcome(slower, "ring-64", "mm4j");
        assertEquals(Targets.Verdict.WITHIN_ERRORS, o.verdict(), o.describe());
        assertEquals("mimalloc", o.decidedBy(), "below jemalloc beyond the errors, level with mimalloc");
        assertTrue(o.describe().contains("within the errors (of mimalloc)"), o.describe());
        assertTrue(o.describe().contains("[warning: noisy (error > 20 % of the score): mm4j 33 %]"),
            o.describe());
        final List<Row> faster = List.of(
            Row.measured("ring-64", "mm4j", 1, 10.0, 1.0, 10.0),
            Row.measured("ring-64", "jemalloc", 1, 30.0, 1.0, 30.0),
            Row.measured("ring-64", "mimalloc", 1, 11.5, 0.6, 11.5));
        assertEquals(Targets.Verdict.WITHIN_ERRORS, outcome(faster, "ring-64", "mm4j").verdict(),
            "the lower mean alone never meets a target: 9..11 touches 10.9..12.1");
        final List<Row> met = List.of(
            Row.measured("ring-64", "mm4j", 1, 10.0, 1.0, 10.0),
            Row.measured("ring-64", "jemalloc", 1, 30.0, 1.0, 30.0),
            Row.measured("ring-64", "mimalloc", 1, 11.5, 0.4, 11.5));
        assertEquals(Targets.Verdict.MET, outcome(met, "ring-64", "mm4j").verdict());
        final List<Row> unknownError = List.of(
            Row.measured("ring-64", "mm4j", 1, 1.0, Double.NaN, 1.0),
            Row.measured("ring-64", "mimalloc", 1, 100.0, 0.1, 100.0));
        assertEquals(Targets.Verdict.WITHIN_ERRORS, outcome(unknownError, "ring-64", "mm4j").verdict(),
            "a row without an error never ranks");
        assertEquals(Targets.Rank.ABOVE, Targets.rank(met.get(1), met.get(0), 1.0));
        assertEquals(Targets.Rank.BELOW, Targets.rank(met.get(0), met.get(1), 1.0));
    }

    @Test
    void aNoisyRowStillRanksWhenItsIntervalIsApartAndCarriesAWarning() {
        final List<Row> rows = List.of(
            Row.measured("remote-free-2t-64", "mm4j", 2, 25.3, 3.2, 25.0),
            Row.measured("remote-free-2t-64", "jemalloc", 2, 57.4, 25.8, 52.0));
        final Targets.Outcome o = outcome(rows, "remote-free-2t-64", "mm4j");
        assertEquals(Targets.Verdict.MET, o.verdict(), "22.1..28.5 lies below 31.6..83.2");
        assertTrue(o.describe().contains("met (intervals apart)")
            && o.describe().contains("noisy (error > 20 % of the score): jemalloc 45 %]"), o.describe());
        final String table = ResultTable.render(rows);
        assertTrue(table.contains("57.4 ± 25.8 !") && table.contains("25.3 ± 3.2  "), table);
        assertTrue(table.contains("! noisy: error above 20 %"), table);
        final List<Row> overlapping = List.of(
            Row.measured("remote-free-2t-64", "mm4j", 2, 30.0, 3.0, 30.0),
            Row.measured("remote-free-2t-64", "jemalloc", 2, 40.0, 8.5, 40.0));
        final Targets.Outcome q = outcome(overlapping, "remote-free-2t-64", "mm4j");
        assertEquals(Targets.Verdict.WITHIN_ERRORS, q.verdict(), "27..33 touches 31.5..48.5");
        assertFalse(q.met());
    }

    @Test
    void forksMergeIntoTheMeanOfForkMeansWithAStudentTErrorOverForks() {
        final Row r = ForkRounds.merge("ring-64", "mm4j", 1, java.util.Arrays.asList(
            new double[] {9, 10, 11, 10}, new double[] {12, 12, 12, 12}, new double[] {14, 13, 15, 14}));
        assertEquals(List.of(10.0, 12.0, 14.0), r.forkMeans());
        assertEquals(12.0, r.nsPerOp(), 1e-12);
        assertEquals(3, r.forks());
        assertTrue(r.errorOverForks());
        // t(0.9995, df 2) = 31.5991 (tables); sd of 10, 12, 14 is 2
        assertEquals(31.5991 * 2 / Math.sqrt(3), r.error(), 1e-3);
        assertEquals(12.0, r.median(), 1e-12, "median of all twelve iterations");
        assertTrue(r.iterationError() < r.error(), "pooling the iterations understates forks that differ: "
            + r.iterationError());
        assertEquals(null, r.note());

        final Row two = ForkRounds.merge("ring-64", "mm4j", 1, java.util.Arrays.asList(
            new double[] {10, 11, 12}, null, new double[] {12, 13, 14}));
        assertEquals(2, two.forks());
        assertTrue(Double.isNaN(two.forkMeans().get(1)));
        assertFalse(two.errorOverForks(), "two forks give no interval over fork means");
        assertEquals(12.0, two.nsPerOp(), 1e-12);
        assertEquals(two.iterationError(), two.error());
        // six iterations 10..14, sd sqrt(2), t(0.9995, df 5) = 6.8688
        assertEquals(6.8688 * Math.sqrt(2) / Math.sqrt(6), two.error(), 1e-3);
        assertTrue(two.note().contains("round(s) 2 failed"), two.note());

        // t(0.9995) from tables: df 2 31.5991, df 4 8.6103, df 5 6.8688
        assertEquals(31.5991, ForkRounds.studentT(3), 1e-3);
        assertEquals(8.6103, ForkRounds.studentT(5), 1e-3);
        assertEquals(6.8688, ForkRounds.studentT(6), 1e-3);
        assertTrue(Double.isNaN(ForkRounds.studentT(2)));

        final Row none = ForkRounds.merge("ring-64", "mm4j", 1, java.util.Arrays.asList(null, null));
        assertFalse(none.ran());
        assertTrue(none.note().contains("failed in every fork"), none.note());
    }

    @Test
    void roundsRunOneForkOfEveryAllocatorPerWorkloadTheOrderRotated() {
        final List<ForkRounds.Slot> s = ForkRounds.schedule(List.of(Workload.RING_64, Workload.ALLOC_FREE_64),
            List.of("a", "b", "c"), 3);
        assertEquals(18, s.size());
        final StringBuilder order = new StringBuilder();
        for (final ForkRounds.Slot x : s) {
            order.append(x.round()).append(x.workload() == Workload.RING_64 ? "R" : "A").append(x.allocator())
                .append(' ');
        }
        assertEquals("0Ra 0Rb 0Rc 0Aa 0Ab 0Ac 1Rb 1Rc 1Ra 1Ab 1Ac 1Aa 2Rc 2Ra 2Rb 2Ac 2Aa 2Ab ",
            order.toString());
        assertThrows(IllegalArgumentException.class, () -> ForkRounds.schedule(List.of(Workload.RING_64),
            List.of("a"), 0));
    }

    @Test
    void pairedRatiosDivideForksOfTheSameRound() {
        final Row mm4j = ForkRounds.merge("ring-64", "mm4j", 1, java.util.Arrays.asList(
            new double[] {10}, new double[] {20}, null, new double[] {12}));
        final Row jemalloc = ForkRounds.merge("ring-64", "jemalloc", 1, java.util.Arrays.asList(
            new double[] {20}, new double[] {40}, new double[] {30}, new double[] {16}));
        assertArrayEquals(new double[] {0.5, 0.5, 0.75}, Targets.pairedRatios(mm4j, jemalloc), 1e-12,
            "round 3 left out: mm4j's fork failed");
        final String view = Targets.pairedRatios(List.of(mm4j, jemalloc));
        assertTrue(view.contains("mm4j / jemalloc") && view.contains("median  0.50")
            && view.contains("rounds: 0.50 0.50 0.75"), view);
        // log ratios ln 0.5, ln 0.5, ln 0.75: mean -0.55799, sd 0.23410, t(0.9995, df 2) = 31.5991
        final double[] ci = Targets.pairedInterval(new double[] {0.5, 0.5, 0.75});
        final double half = 31.5991 * 0.2340954 / Math.sqrt(3);
        assertEquals(Math.exp(-0.5579921 - half), ci[0], 1e-3 * ci[0]);
        assertEquals(Math.exp(-0.5579921 + half), ci[1], 1e-3 * ci[1]);
        assertEquals(null, Targets.pairedInterval(new double[] {0.5, 0.6}));
        assertEquals(0.5, outcome(List.of(mm4j, jemalloc), "ring-64", "mm4j").pairedRatio(), 1e-12);
        final String forks = ResultTable.renderForkMeans(List.of(mm4j, jemalloc));
        assertTrue(forks.contains("10.0 20.0 x 12.0") && forks.contains("20.0 40.0 30.0 16.0"), forks);
        final List<Row> oneRound = List.of(
            ForkRounds.merge("ring-64", "mm4j", 1, List.<double[]>of(new double[] {10, 11, 12})),
            ForkRounds.merge("ring-64", "jemalloc", 1, List.<double[]>of(new double[] {20, 21, 22})));
        assertTrue(Double.isNaN(outcome(oneRound, "ring-64", "mm4j").pairedRatio()), "one round is no pairing");
        assertEquals("", Targets.pairedRatios(oneRound));
        assertEquals("", ResultTable.renderForkMeans(oneRound));
    }

    @Test
    void ratiosToTheBestPeerCoverEveryWorkload() {
        final String r = Targets.bestPeerRatios(List.of(
            Row.measured("alloc-free-64", "mm4j", 1, 12.0, 0.1, 12.0),
            Row.measured("alloc-free-64", "jemalloc", 1, 10.0, 0.1, 10.0),
            Row.measured("alloc-free-64", "mimalloc", 1, 15.0, 0.1, 15.0),
            Row.measured("alloc-free-64", "arena-bump-256k", 1, 2.0, 0.1, 2.0)));
        final String line = r.lines().filter(l -> l.startsWith("alloc-free-64")).findFirst().orElseThrow();
        assertTrue(line.contains("jemalloc") && line.contains("1.20 >") && line.contains("0.20 <"), line);
    }

    @Test
    void tableHasARowPerAllocatorAndNotesForSkippedOnes() {
        final String t = ResultTable.render(ROWS);
        final String[] lines = t.split("\n");
        assertTrue(lines[0].contains("alloc-free-64") && lines[0].contains("remote-free-2t-64"), lines[0]);
        assertTrue(lines[1].startsWith("mm4j ") && lines[1].contains("6.0 ± 0.3") && lines[1].contains("50.0"),
            lines[1]);
        assertTrue(t.contains("mimalloc") && t.contains("skipped"));
        assertTrue(t.contains("note: mimalloc: Debian package"), t);
        final String m = ResultTable.renderMedians(ROWS);
        assertTrue(m.startsWith("median iteration, ns") && m.contains(" 5.9 ") && m.contains("49.5"), m);
    }

    @Test
    void commandLineParsesAndRejectsBadValues() {
        final PeerComparison.Settings s = PeerComparison.parse(new String[] {"--quick", "--json", "x.json",
            "--allocators", "glibc-malloc,heap", "--workloads", "alloc-free-64"});
        assertTrue(s.quick);
        assertEquals(Path.of("x.json"), s.json);
        assertEquals(List.of("glibc-malloc", "heap"), s.allocators);
        assertEquals(List.of(Workload.ALLOC_FREE_64), s.workloads);
        assertEquals(1, s.forks());
        assertTrue(s.smokeOnly(), "--quick is a smoke test");
        final PeerComparison.Settings full = PeerComparison.parse(new String[0]);
        assertEquals(PeerComparison.MIN_PUBLISHED_FORKS, full.forks());
        assertFalse(full.smokeOnly());
        assertTrue(PeerComparison.parse(new String[] {"--forks", "2"}).smokeOnly());
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> PeerComparison.parse(new String[] {"--allocators", "glibc,heap"}));
        assertTrue(e.getMessage().contains("'glibc'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PeerComparison.parse(new String[] {"--forks", "-1"}));
        assertThrows(IllegalArgumentException.class, () -> PeerComparison.parse(new String[] {"--json"}));
        assertThrows(IllegalArgumentException.class, () -> PeerComparison.parse(new String[] {"--workloads", "x"}));
    }

    @Test
    void eachForkIsOneJmhForkOfOneWorkloadAndAllocatorAndTheEstimateCountsEveryFork() {
        final PeerComparison.Settings s = PeerComparison.parse(new String[0]);
        final org.openjdk.jmh.runner.options.Options o = PeerComparison.options(s, Workload.RING_64, "jemalloc");
        assertEquals(List.of(Workload.RING_64.includeRegex()), o.getIncludes());
        assertEquals(List.of("jemalloc"), List.copyOf(o.getParameter("allocator").get()));
        assertEquals(1, o.getForkCount().get());
        assertFalse(o.getJvmArgs().get().contains("-Djmh.executor=CUSTOM"));
        assertTrue(PeerComparison.options(s, Workload.RING_64, "netty-pooled-direct-ftl").getJvmArgs().get()
            .contains("-Djmh.executor=CUSTOM"), "Netty's FastThreadLocalThreads for the -ftl row");
        assertEquals(0, PeerComparison.options(PeerComparison.parse(new String[] {"--forks", "0"}),
            Workload.RING_64, "jemalloc").getForkCount().get(), "--forks 0 runs in this JVM, as JMH's -f 0");
        // default: 7 workloads x 13 allocators x 3 forks, each (3 + 4) x 0.5 s + 2 s of start-up
        final int forks = ForkRounds.schedule(List.of(Workload.values()), Allocators.NAMES, 3).size();
        assertEquals(7 * Allocators.NAMES.size() * 3, forks);
        assertEquals(Math.round(forks * 5.5 / 60), PeerComparison.estimatedMinutes(s, forks));
        assertEquals(1, PeerComparison.estimatedMinutes(s, 1), "never less than a minute");
    }

    @Test
    void staticTlsTunableIsAddedOnce() {
        assertEquals("glibc.rtld.optional_static_tls=16384", PeerComparison.withStaticTls(null));
        assertEquals("glibc.malloc.tcache_count=0:glibc.rtld.optional_static_tls=16384",
            PeerComparison.withStaticTls("glibc.malloc.tcache_count=0"));
        assertEquals("glibc.rtld.optional_static_tls=4096",
            PeerComparison.withStaticTls("glibc.rtld.optional_static_tls=4096"));
    }

    @Test
    void everyWorkloadMapsToAnExistingBenchmarkMethod() throws Exception {
        for (final Workload w : Workload.values()) {
            final int dot = w.benchmark().lastIndexOf('.');
            final Class<?> c = Class.forName(w.benchmark().substring(0, dot));
            c.getMethod(w.benchmark().substring(dot + 1), org.openjdk.jmh.infra.Blackhole.class);
            assertEquals(w, Workload.byBenchmark(w.benchmark()));
            assertEquals(w, Workload.byLabel(w.label()));
        }
    }
}
