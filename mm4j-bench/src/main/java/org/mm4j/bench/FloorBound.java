package org.mm4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a {@link CpuAb} run's rounds ({@code -Dmm4j.cpuab.raw=FILE}) with the variants labelled {@code mm4j},
 * {@code mm4j-segment}, {@code floor-long} and {@code floor-segment} ({@link Floor}) and prints, per workload,
 * paired round by round over the last two thirds of the rounds (medians of the per-round values):
 * <ul>
 * <li>each variant's CPU ns per pair and its ratio to {@code mm4j};</li>
 * <li>{@code floor-segment / floor-long} and {@code floor-segment - floor-long} (ns): the FFM face's own cost;</li>
 * <li>{@code bound}: {@code 1 + (floor-segment - floor-long) / mm4j}, the lowest {@code mm4j-segment / mm4j} any
 *     segment allocator over {@code mm4j}'s {@code kmalloc}/{@code kfree} can reach on this workload;</li>
 * <li>{@code own}: {@code (mm4j-segment - mm4j) - (floor-segment - floor-long)} (ns), what the segment path of
 *     {@code SlabAllocator} costs above that floor.</li>
 * </ul>
 * Other labels are printed with their ratio to {@code mm4j}. Run: {@code java -cp mm4j-benchmarks.jar
 * org.mm4j.bench.FloorBound RAW.csv...} (several files: one line per file and workload).
 */
public final class FloorBound {
    private FloorBound() {
    }

    public static void main(final String[] args) throws IOException {
        if (args.length == 0) {
            throw new IllegalArgumentException("args=[] (expected: one or more CpuAb raw files)");
        }
        for (final String f : args) {
            for (final String line : report(Files.readAllLines(Path.of(f)))) {
                System.out.println(line);
            }
        }
    }

    /** The report of one raw file's lines ({@code workload,round,label,ns}): one line per workload. */
    static List<String> report(final List<String> lines) {
        // workload -> label -> ns by round
        final Map<String, Map<String, double[]>> byWorkload = new LinkedHashMap<>();
        int rounds = 0;
        for (final String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            final String[] p = line.split(",");
            if (p.length != 4) {
                throw new IllegalArgumentException("line=" + line + " (expected: workload,round,label,ns)");
            }
            rounds = Math.max(rounds, Integer.parseInt(p[1]) + 1);
        }
        for (final String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            final String[] p = line.split(",");
            final int n = rounds;
            byWorkload.computeIfAbsent(p[0], k -> new LinkedHashMap<>())
                .computeIfAbsent(p[2], k -> new double[n])[Integer.parseInt(p[1])] = Double.parseDouble(p[3]);
        }
        final List<String> out = new ArrayList<>();
        final int from = rounds / 3;
        for (final Map.Entry<String, Map<String, double[]>> e : byWorkload.entrySet()) {
            final Map<String, double[]> m = e.getValue();
            final double[] kmalloc = m.get("mm4j");
            final StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-19s", e.getKey()));
            for (final Map.Entry<String, double[]> v : m.entrySet()) {
                sb.append(String.format(Locale.ROOT, " | %s %.2f", v.getKey(), CpuAb.median(v.getValue(), from,
                    rounds)));
                if (kmalloc != null && v.getValue() != kmalloc) {
                    sb.append(String.format(Locale.ROOT, " x%.3f", CpuAb.pairedMedian(v.getValue(), kmalloc, from,
                        rounds)));
                }
            }
            final double[] seg = m.get("mm4j-segment");
            final double[] fl = m.get("floor-long");
            final double[] fs = m.get("floor-segment");
            if (fl != null && fs != null) {
                final double[] face = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    face[r] = fs[r] - fl[r];
                }
                sb.append(String.format(Locale.ROOT, " || floor-segment/floor-long x%.3f, %+.2f ns",
                    CpuAb.pairedMedian(fs, fl, from, rounds), CpuAb.median(face, from, rounds)));
                if (kmalloc != null) {
                    final double[] bound = new double[rounds];
                    for (int r = 0; r < rounds; r++) {
                        bound[r] = 1 + face[r] / kmalloc[r];
                    }
                    sb.append(String.format(Locale.ROOT, " | bound x%.3f", CpuAb.median(bound, from, rounds)));
                    if (seg != null) {
                        final double[] own = new double[rounds];
                        for (int r = 0; r < rounds; r++) {
                            own[r] = seg[r] - kmalloc[r] - face[r];
                        }
                        sb.append(String.format(Locale.ROOT, " | own %+.2f ns", CpuAb.median(own, from, rounds)));
                    }
                }
            }
            out.add(sb.toString());
        }
        return out;
    }
}
