package org.mm4j.bench;

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
    }

    @Test
    void targetsCompareWithTheBestOfJemallocAndMimallocAndSayMetOrByHowMuchMissed() {
        final List<Row> rows = List.of(
            Row.measured("ring-64", "mm4j", 1, 15.0, 0.2, 15.0),
            Row.measured("ring-64", "mm4j-segment", 1, 21.0, 0.2, 21.0),
            Row.measured("ring-64", "glibc-malloc", 1, 2.0, 0.1, 2.0),
            Row.measured("ring-64", "jemalloc", 1, 16.0, 0.3, 16.0),
            Row.measured("ring-64", "mimalloc", 1, 12.0, 0.3, 12.0));
        final List<Targets.Outcome> out = Targets.evaluate(rows);
        final Targets.Outcome vsBest = out.stream()
            .filter(o -> o.target().workload().equals("ring-64") && o.target().subject().equals("mm4j"))
            .findFirst().orElseThrow();
        assertEquals("mimalloc", vsBest.peer(), "the faster of the two, never the information-only glibc row");
        assertEquals(1.25, vsBest.ratio(), 1e-12);
        assertFalse(vsBest.met());
        assertTrue(vsBest.describe().contains("best of jemalloc/mimalloc (mimalloc)")
            && vsBest.describe().contains("MISSED: 1.25x too slow"), vsBest.describe());
        assertFalse(vsBest.withinErrors(), "15.0 ± 0.2 against 12.0 ± 0.3");
        assertFalse(vsBest.describe().contains("within"), vsBest.describe());
        final Targets.Outcome close = Targets.evaluate(List.of(
            Row.measured("ring-64", "mm4j", 1, 64.5, 21.6, 57.4),
            Row.measured("ring-64", "mimalloc", 1, 61.5, 11.5, 57.8))).get(1);
        assertEquals("ring-64", close.target().workload());
        assertTrue(close.withinErrors() && !close.met(), close.describe());
        assertTrue(close.describe().contains("within each other's 99.9 % errors"), close.describe());
        final Targets.Outcome segment = out.stream()
            .filter(o -> o.target().workload().equals("ring-64") && o.target().subject().equals("mm4j-segment"))
            .findFirst().orElseThrow();
        assertEquals(1.4, segment.ratio(), 1e-12);
        assertFalse(segment.met(), "limit 1.3");
        final Targets.Outcome missing = out.stream()
            .filter(o -> o.target().workload().equals("alloc-free-64")).findFirst().orElseThrow();
        assertFalse(missing.known());
        assertTrue(missing.describe().contains("not measured"));
        assertTrue(Targets.ALL.stream().noneMatch(t -> t.peers().contains("glibc-malloc")),
            "the plain glibc downcall is information only");
    }

    @Test
    void producerConsumerIsNotRankedWhenAnErrorExceedsTwentyPercent() {
        final List<Row> noisy = List.of(
            Row.measured("remote-free-2t-64", "mm4j", 2, 30.0, 3.0, 30.0),
            Row.measured("remote-free-2t-64", "jemalloc", 2, 40.0, 8.5, 40.0));
        final Targets.Outcome o = Targets.evaluate(noisy).stream()
            .filter(x -> x.target().workload().equals("remote-free-2t-64")).findFirst().orElseThrow();
        assertTrue(o.known());
        assertFalse(o.ranked());
        assertFalse(o.met(), "a ratio that cannot be ranked is never met");
        assertTrue(o.describe().contains("NOT RANKED: jemalloc's error is 21 % of its score"), o.describe());
        assertTrue(ResultTable.render(noisy).contains("remote-free-2t-64: not ranked: jemalloc's error is 21 %"),
            ResultTable.render(noisy));
        assertTrue(Targets.bestPeerRatios(noisy).contains("not ranked"), Targets.bestPeerRatios(noisy));

        final List<Row> quiet = List.of(
            Row.measured("remote-free-2t-64", "mm4j", 2, 30.0, 3.0, 30.0),
            Row.measured("remote-free-2t-64", "jemalloc", 2, 40.0, 8.0, 40.0));
        final Targets.Outcome q = Targets.evaluate(quiet).stream()
            .filter(x -> x.target().workload().equals("remote-free-2t-64")).findFirst().orElseThrow();
        assertTrue(q.ranked() && q.met(), q.describe());
    }

    @Test
    void ratiosToTheBestPeerCoverEveryWorkload() {
        final String r = Targets.bestPeerRatios(List.of(
            Row.measured("alloc-free-64", "mm4j", 1, 12.0, 0.1, 12.0),
            Row.measured("alloc-free-64", "jemalloc", 1, 10.0, 0.1, 10.0),
            Row.measured("alloc-free-64", "mimalloc", 1, 15.0, 0.1, 15.0),
            Row.measured("alloc-free-64", "arena-bump-256k", 1, 2.0, 0.1, 2.0)));
        final String line = r.lines().filter(l -> l.startsWith("alloc-free-64")).findFirst().orElseThrow();
        assertTrue(line.contains("jemalloc") && line.contains("1.20") && line.contains("0.20"), line);
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
