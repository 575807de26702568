package org.mm4j.cli.report;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A single self-contained HTML page with inline SVG charts: no script, no network, no external file; any browser
 * (or a plain text editor) reads it. The replays build one section by section: headings, text, tables, line and
 * stacked-area charts over time, bar charts, 100 % share bars, and an address-space strip for process maps.
 *
 * <p>Use from another replay: {@code new HtmlReport("title").heading(..).strip(..).write(path)}. Not thread-safe.
 */
public final class HtmlReport {
    /** A mapped range of an address space, for {@link #strip}. {@code kind} picks the colour ("heap", "stack",
     * "file", "anon", ...). */
    public record Segment(long start, long end, String label, String kind) {
    }

    /**
     * Series colours, in order: 12 hues at least 29 apart (CIE76 delta E, Lab) from each other and from {@link #OTHER},
     * so the 11 buddy orders and the 10 largest caches each get a colour of their own. No grey: grey is "other".
     */
    static final String[] PALETTE = {
        "#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#edc948", "#b07aa1", "#2b3d26", "#17becf", "#8db600",
        "#7a0f2e", "#ff9da7", "#604e97"};

    /**
     * The locale numbers are formatted in, here and in the replay's text summary: {@code Locale.US}, whose digits,
     * grouping (',' every 3 digits), decimal point and minus sign are {@code NUMBERS}'s, so the text is the
     * same. It is not {@code ROOT} because {@link java.util.Formatter} knows US grouping without asking: for any
     * other locale each {@code %,d} builds a {@code NumberFormat} (a {@code DecimalFormat} and its pattern parsed)
     * to learn the grouping size, which made most of the end-of-replay summary's CPU and its compiles.
     */
    public static final Locale NUMBERS = Locale.US;

    /** The colour of a series named "other ..." (the sum of the small ones): neutral grey. */
    static final String OTHER = "#9e9e9e";

    private static final int W = 920;
    private final String title;
    private final StringBuilder body = new StringBuilder();
    private int charts;

    public HtmlReport(final String title) {
        this.title = title;
    }

    /** Number of SVG charts added so far. */
    public int charts() {
        return charts;
    }

    public HtmlReport heading(final String text) {
        body.append("<h2>").append(esc(text)).append("</h2>\n");
        return this;
    }

    public HtmlReport paragraph(final String text) {
        body.append("<p>").append(esc(text)).append("</p>\n");
        return this;
    }

    /** Preformatted text, e.g. the final /proc/slabinfo. */
    public HtmlReport pre(final String caption, final String text) {
        body.append("<details><summary>").append(esc(caption)).append("</summary><pre>").append(esc(text))
            .append("</pre></details>\n");
        return this;
    }

    public HtmlReport table(final List<String> header, final List<List<String>> rows) {
        body.append("<table><tr>");
        for (final String h : header) {
            body.append("<th>").append(esc(h)).append("</th>");
        }
        body.append("</tr>\n");
        for (final List<String> r : rows) {
            body.append("<tr>");
            for (int i = 0; i < r.size(); i++) {
                body.append(i == 0 ? "<td>" : "<td class=n>").append(esc(r.get(i))).append("</td>");
            }
            body.append("</tr>\n");
        }
        body.append("</table>\n");
        return this;
    }

    /**
     * Series over a shared x axis: lines, or stacked areas when {@code stacked}. {@code ys.get(s)[i]} is series
     * {@code s} at {@code x[i]}.
     */
    public HtmlReport lineChart(final String chartTitle, final String xLabel, final String yLabel, final double[] x,
                                final List<String> names, final List<double[]> ys, final boolean stacked) {
        return lineChart(chartTitle, xLabel, yLabel, x, names, ys, stacked, false);
    }

    /**
     * As {@link #lineChart(String, String, String, double[], List, List, boolean)}; with {@code logY} (lines only)
     * the y axis is logarithmic, log10(1 + v), so series of very different sizes stay readable.
     */
    public HtmlReport lineChart(final String chartTitle, final String xLabel, final String yLabel, final double[] x,
                                final List<String> names, final List<double[]> ys, final boolean stacked,
                                final boolean logY) {
        final int h = 300;
        final int left = 80;
        final int right = 200;
        final int top = 30;
        final int bottom = 45;
        final int pw = W - left - right;
        final int ph = h - top - bottom;
        final int n = x.length;
        final double[] base = new double[n];
        double ymax = 0;
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (final double[] y : ys) {
                sum = stacked ? sum + y[i] : Math.max(sum, y[i]);
            }
            ymax = Math.max(ymax, sum);
        }
        ymax = logY ? Math.max(1, Math.ceil(Math.log10(1 + ymax))) : niceCeil(ymax);
        final double xmin = n == 0 ? 0 : x[0];
        final double xmax = n == 0 ? 1 : Math.max(x[n - 1], xmin + 1e-9);
        final StringBuilder s = svgOpen(chartTitle, h);
        axes(s, left, top, pw, ph, xmin, xmax, 0, ymax, xLabel, yLabel, logY);
        for (int k = 0; k < ys.size(); k++) {
            final double[] y = ys.get(k);
            final String color = seriesColor(names, k);
            final StringBuilder pts = new StringBuilder();
            for (int i = 0; i < n; i++) {
                final double v = stacked ? base[i] + y[i] : logY ? Math.log10(1 + Math.max(0, y[i])) : y[i];
                pts.append(fmt(left + (x[i] - xmin) / (xmax - xmin) * pw)).append(',')
                    .append(fmt(top + ph - v / ymax * ph)).append(' ');
            }
            if (stacked) {
                for (int i = n - 1; i >= 0; i--) {
                    pts.append(fmt(left + (x[i] - xmin) / (xmax - xmin) * pw)).append(',')
                        .append(fmt(top + ph - base[i] / ymax * ph)).append(' ');
                }
                s.append("<polygon class=\"series\" fill=\"").append(color).append("\" fill-opacity=\"0.85\" points=\"")
                    .append(pts.toString().strip()).append("\"><title>").append(esc(names.get(k)))
                    .append("</title></polygon>\n");
                for (int i = 0; i < n; i++) {
                    base[i] += y[i];
                }
            } else {
                s.append("<polyline class=\"series\" fill=\"none\" stroke-width=\"1.6\" stroke=\"").append(color)
                    .append("\" points=\"").append(pts.toString().strip()).append("\"><title>")
                    .append(esc(names.get(k))).append("</title></polyline>\n");
            }
        }
        legend(s, names, left + pw + 15, top, stacked);
        return svgClose(s);
    }

    /** Horizontal grouped bars: one group per label, one bar per series ({@code values.get(s)[label]}). */
    public HtmlReport barChart(final String chartTitle, final String unit, final List<String> labels,
                               final List<String> seriesNames, final List<double[]> values) {
        return barChart(chartTitle, unit, null, labels, seriesNames, values, false);
    }

    /**
     * Horizontal grouped bars, as {@link #barChart(String, String, List, List, List)}; {@code rowLabel} names the
     * category axis; with {@code logX} the value axis is logarithmic with a tick at every power of ten, so values
     * that span decades all stay readable. Rows whose values are all zero are left out (the caption says how many).
     */
    public HtmlReport barChart(final String chartTitle, final String unit, final String rowLabel,
                               final List<String> labels, final List<String> seriesNames, final List<double[]> values,
                               final boolean logX) {
        return barChart(chartTitle, unit, rowLabel, labels, seriesNames, values, logX, null);
    }

    /**
     * As {@link #barChart(String, String, String, List, List, List, boolean)}, with a short note per row
     * ({@code rowNotes[label]}, null for none) printed in a column right of the plot: what the bars' lengths alone
     * do not show, such as a waste share that a log scale makes a few pixels.
     */
    public HtmlReport barChart(final String chartTitle, final String unit, final String rowLabel,
                               final List<String> labels, final List<String> seriesNames, final List<double[]> values,
                               final boolean logX, final String[] rowNotes) {
        final List<Integer> shown = new java.util.ArrayList<>();
        double max = 0;
        double minPos = Double.MAX_VALUE;
        for (int g = 0; g < labels.size(); g++) {
            boolean any = false;
            for (final double[] v : values) {
                max = Math.max(max, v[g]);
                if (v[g] > 0) {
                    minPos = Math.min(minPos, v[g]);
                    any = true;
                }
            }
            if (any) {
                shown.add(g);
            }
        }
        final int left = 190;
        final int right = 200;
        final int top = 30;
        final int barH = 11;
        final int groupH = barH * seriesNames.size() + 8;
        final int h = top + groupH * Math.max(1, shown.size()) + 45;
        final int pw = W - left - right;
        final int hidden = labels.size() - shown.size();
        final StringBuilder s = svgOpen(chartTitle + (hidden == 0 ? "" : " (" + hidden + " empty row(s) hidden)"), h);
        final int ph = groupH * Math.max(1, shown.size());
        // log: decades from the smallest value's to the largest's; linear: 0 to a round maximum
        final double lo = logX ? Math.pow(10, Math.floor(Math.log10(minPos == Double.MAX_VALUE ? 1 : minPos))) : 0;
        final double hi = logX ? Math.max(lo * 10, Math.pow(10, Math.ceil(Math.log10(Math.max(max, 1)))))
            : niceCeil(max);
        if (logX) {
            logXAxis(s, left, top, pw, ph, lo, hi, unit + " (log scale)");
        } else {
            axes(s, left, top, pw, ph, 0, hi, Double.NaN, Double.NaN, unit, null, false);
        }
        categoryLabel(s, rowLabel, top, ph);
        for (int r = 0; r < shown.size(); r++) {
            final int g = shown.get(r);
            final int gy = top + r * groupH + 4;
            s.append("<text x=\"").append(left - 6).append("\" y=\"").append(gy + groupH / 2)
                .append("\" text-anchor=\"end\" class=\"lbl\">").append(esc(labels.get(g))).append("</text>\n");
            for (int k = 0; k < seriesNames.size(); k++) {
                final double v = values.get(k)[g];
                final double frac = logX ? (v <= 0 ? 0 : Math.log10(Math.max(v, lo) / lo) / Math.log10(hi / lo))
                    : v / hi;
                s.append("<rect class=\"bar\" x=\"").append(left).append("\" y=\"").append(gy + k * barH)
                    .append("\" width=\"").append(fmt(frac * pw)).append("\" height=\"").append(barH - 2)
                    .append("\" fill=\"").append(seriesColor(seriesNames, k)).append("\"><title>")
                    .append(esc(labels.get(g) + " " + seriesNames.get(k) + ": " + human(v) + " " + unit))
                    .append("</title></rect>\n");
            }
            if (rowNotes != null && rowNotes[g] != null) {
                s.append("<text class=\"lbl barnote\" x=\"").append(left + pw + 8).append("\" y=\"")
                    .append(gy + groupH / 2).append("\">").append(esc(rowNotes[g])).append("</text>\n");
            }
        }
        legend(s, seriesNames, left + pw + (rowNotes == null ? 15 : 100), top);
        return svgClose(s);
    }

    /**
     * 100 % bars: one per label, split into {@code parts} by {@code shares[label][part]} (any scale). Rows whose
     * shares are all zero are left out (the caption says how many).
     */
    public HtmlReport shareChart(final String chartTitle, final List<String> labels, final List<String> parts,
                                 final double[][] shares) {
        final List<Integer> shown = new java.util.ArrayList<>();
        for (int g = 0; g < labels.size(); g++) {
            double total = 0;
            for (final double d : shares[g]) {
                total += d;
            }
            if (total > 0) {
                shown.add(g);
            }
        }
        final int left = 190;
        final int right = 200;
        final int top = 30;
        final int barH = 16;
        final int ph = barH * Math.max(1, shown.size());
        final int h = top + ph + 45;
        final int pw = W - left - right;
        final int hidden = labels.size() - shown.size();
        final StringBuilder s = svgOpen(chartTitle + (hidden == 0 ? "" : " (" + hidden + " empty row(s) hidden)"), h);
        axes(s, left, top, pw, ph, 0, 100, Double.NaN, Double.NaN, "% of the row's total", null, false);
        for (int r = 0; r < shown.size(); r++) {
            final int g = shown.get(r);
            final int y = top + r * barH;
            double total = 0;
            for (final double d : shares[g]) {
                total += d;
            }
            s.append("<text x=\"").append(left - 6).append("\" y=\"").append(y + barH - 4)
                .append("\" text-anchor=\"end\" class=\"lbl\">").append(esc(labels.get(g))).append("</text>\n");
            double x = left;
            for (int k = 0; k < parts.size(); k++) {
                final double w = shares[g][k] / total * pw;
                s.append("<rect class=\"bar\" x=\"").append(fmt(x)).append("\" y=\"").append(y + 1)
                    .append("\" width=\"").append(fmt(w)).append("\" height=\"").append(barH - 2)
                    .append("\" fill=\"").append(seriesColor(parts, k)).append("\"><title>")
                    .append(esc(labels.get(g) + " " + parts.get(k) + ": "
                        + String.format(NUMBERS, "%.1f %%", 100 * shares[g][k] / total)))
                    .append("</title></rect>\n");
                x += w;
            }
        }
        legend(s, parts, left + pw + 15, top);
        return svgClose(s);
    }

    /**
     * Small multiples: one small line chart per series, stacked vertically on a shared x axis, each with its own y
     * scale, so lines of different sizes never cross or hide each other. Series that are zero throughout are left
     * out and named in a note below.
     */
    public HtmlReport smallMultiples(final String chartTitle, final String xLabel, final String yLabel,
                                     final double[] x, final List<String> names, final List<double[]> ys) {
        final List<Integer> shown = new java.util.ArrayList<>();
        final List<String> empty = new java.util.ArrayList<>();
        for (int k = 0; k < ys.size(); k++) {
            boolean any = false;
            for (final double v : ys.get(k)) {
                any |= v != 0;
            }
            if (any) {
                shown.add(k);
            } else {
                empty.add(names.get(k));
            }
        }
        final int left = 110;
        final int right = 30;
        final int top = 20;
        final int panelH = 56;
        final int gap = 12;
        final int pw = W - left - right;
        final int n = x.length;
        final double xmin = n == 0 ? 0 : x[0];
        final double xmax = n == 0 ? 1 : Math.max(x[n - 1], xmin + 1e-9);
        final int plotH = Math.max(1, shown.size()) * (panelH + gap);
        final int h = top + plotH + 40 + (empty.isEmpty() ? 0 : 16);
        final StringBuilder s = svgOpen(chartTitle, h);
        for (int p = 0; p < shown.size(); p++) {
            final int k = shown.get(p);
            final double[] y = ys.get(k);
            double ymax = 0;
            for (final double v : y) {
                ymax = Math.max(ymax, v);
            }
            ymax = niceCeil(ymax);
            final int py = top + p * (panelH + gap);
            final String color = seriesColor(names, k);
            s.append("<g class=\"panel\"><rect x=\"").append(left).append("\" y=\"").append(py)
                .append("\" width=\"").append(pw).append("\" height=\"").append(panelH)
                .append("\" fill=\"#fafafa\" stroke=\"#ddd\"/>\n");
            s.append("<text x=\"").append(left - 48).append("\" y=\"").append(py + panelH / 2 + 4)
                .append("\" text-anchor=\"end\" class=\"lbl\" fill=\"").append(color).append("\">")
                .append(esc(names.get(k))).append("</text>\n");
            for (final double t : new double[] {0, ymax}) {
                s.append("<text x=\"").append(left - 5).append("\" y=\"").append(fmt(py + panelH - t / ymax * panelH
                    + (t == 0 ? 0 : 9))).append("\" text-anchor=\"end\" class=\"tiny\">").append(human(t))
                    .append("</text>\n");
            }
            final StringBuilder pts = new StringBuilder();
            for (int i = 0; i < n; i++) {
                pts.append(fmt(left + (x[i] - xmin) / (xmax - xmin) * pw)).append(',')
                    .append(fmt(py + panelH - y[i] / ymax * panelH)).append(' ');
            }
            s.append("<polyline class=\"series\" fill=\"none\" stroke-width=\"1.6\" stroke=\"").append(color)
                .append("\" points=\"").append(pts.toString().strip()).append("\"><title>").append(esc(names.get(k)))
                .append("</title></polyline></g>\n");
        }
        axes(s, left, top, pw, plotH - gap, xmin, xmax, Double.NaN, Double.NaN, xLabel, null, false);
        if (yLabel != null) {
            s.append("<text x=\"14\" y=\"").append(top + plotH / 2).append("\" text-anchor=\"middle\" ")
                .append("class=\"lbl ylabel\" transform=\"rotate(-90 14 ").append(top + plotH / 2).append(")\">")
                .append(esc(yLabel)).append("</text>\n");
        }
        if (!empty.isEmpty()) {
            s.append("<text x=\"").append(left).append("\" y=\"").append(h - 6).append("\" class=\"lbl note\">")
                .append(esc("zero throughout, not drawn: " + String.join(", ", empty))).append("</text>\n");
        }
        return svgClose(s);
    }

    /** The category (row) axis's name, rotated on the left. */
    private static void categoryLabel(final StringBuilder s, final String rowLabel, final int top, final int ph) {
        if (rowLabel != null) {
            s.append("<text x=\"14\" y=\"").append(top + ph / 2).append("\" text-anchor=\"middle\" ")
                .append("class=\"lbl ylabel\" transform=\"rotate(-90 14 ").append(top + ph / 2).append(")\">")
                .append(esc(rowLabel)).append("</text>\n");
        }
    }

    /** A logarithmic x axis over {@code [lo, hi]} (powers of ten) with a tick and grid line at every decade. */
    private static void logXAxis(final StringBuilder s, final int left, final int top, final int pw, final int ph,
                                 final double lo, final double hi, final String xLabel) {
        s.append("<g class=\"axis log\"><line x1=\"").append(left).append("\" y1=\"").append(top + ph)
            .append("\" x2=\"").append(left + pw).append("\" y2=\"").append(top + ph).append("\"/><line x1=\"")
            .append(left).append("\" y1=\"").append(top).append("\" x2=\"").append(left).append("\" y2=\"")
            .append(top + ph).append("\"/>\n");
        final int decades = (int) Math.round(Math.log10(hi / lo));
        for (int d = 0; d <= decades; d++) {
            final double px = left + pw * (double) d / decades;
            s.append("<line class=\"grid\" x1=\"").append(fmt(px)).append("\" y1=\"").append(top)
                .append("\" x2=\"").append(fmt(px)).append("\" y2=\"").append(top + ph).append("\"/><text class=\"tick\" x=\"")
                .append(fmt(px)).append("\" y=\"").append(top + ph + 15).append("\" text-anchor=\"middle\">")
                .append(human(lo * Math.pow(10, d))).append("</text>\n");
        }
        s.append("<text x=\"").append(left + pw / 2).append("\" y=\"").append(top + ph + 35)
            .append("\" text-anchor=\"middle\" class=\"lbl xlabel\">").append(esc(xLabel)).append("</text></g>\n");
    }

    /**
     * An address space drawn as a strip: each segment a box, placed by rank (not to scale: the gaps of a 47-bit
     * space would hide every mapping) with its start address and label; a second, to-scale row below shows where
     * the mappings sit in {@code [lo, hi)}.
     */
    public HtmlReport strip(final String chartTitle, final long lo, final long hi, final List<Segment> segments) {
        final int h = 190;
        final int left = 20;
        final int pw = W - 2 * left;
        final StringBuilder s = svgOpen(chartTitle, h);
        final int n = Math.max(1, segments.size());
        final double w = (double) pw / n;
        for (int i = 0; i < segments.size(); i++) {
            final Segment g = segments.get(i);
            final String color = kindColor(g.kind());
            final double x = left + i * w;
            s.append("<rect class=\"seg\" x=\"").append(fmt(x)).append("\" y=\"40\" width=\"").append(fmt(w - 1))
                .append("\" height=\"50\" fill=\"").append(color).append("\"><title>")
                .append(esc(String.format("%x-%x %s (%s)", g.start(), g.end(), g.label(), human((double) (g.end() - g.start()))
                    + "B"))).append("</title></rect>\n");
            if (w > 40) {
                s.append("<text x=\"").append(fmt(x + 2)).append("\" y=\"104\" class=\"tiny\" transform=\"rotate(30 ")
                    .append(fmt(x + 2)).append(" 104)\">").append(esc(shortLabel(g))).append("</text>\n");
            }
        }
        final double span = Math.max(1, (double) (hi - lo));
        s.append("<rect x=\"").append(left).append("\" y=\"160\" width=\"").append(pw)
            .append("\" height=\"10\" fill=\"#eee\"/>\n");
        for (final Segment g : segments) {
            final double x0 = left + Math.max(0, (g.start() - lo) / span) * pw;
            final double x1 = left + Math.min(1, (g.end() - lo) / span) * pw;
            s.append("<rect x=\"").append(fmt(x0)).append("\" y=\"160\" width=\"").append(fmt(Math.max(1, x1 - x0)))
                .append("\" height=\"10\" fill=\"").append(kindColor(g.kind())).append("\"/>\n");
        }
        s.append(String.format("<text x=\"%d\" y=\"185\" class=\"tiny\">%x</text>"
            + "<text x=\"%d\" y=\"185\" text-anchor=\"end\" class=\"tiny\">%x</text>%n", left, lo, left + pw, hi));
        return svgClose(s);
    }

    /**
     * The strip of a {@code /proc/PID/maps} text (as the kernel prints it), drawn as {@link #mapsComparison} draws
     * one address space. The [vsyscall] gate is left out.
     */
    public HtmlReport mapsStrip(final String chartTitle, final String mapsText) {
        return mapsComparison(chartTitle, null, null, "maps", mapsText);
    }

    /** Colours by permission (r, w, x of the maps line), with their legend names. */
    static final String[][] PERM_COLORS = {
        {"r-x", "#e15759", "r-x code"}, {"rw-", "#4e79a7", "rw- data"}, {"r--", "#59a14f", "r-- read-only"},
        {"rwx", "#b07aa1", "rwx"}, {"---", "#d4d4d4", "--- no access (guard)"}, {"", "#edc948", "other"}};

    private static String permColor(final Segment g) {
        final String l = g.label() == null ? "" : g.label();
        final String rwx = l.length() >= 3 ? l.substring(0, 3) : "";
        for (final String[] c : PERM_COLORS) {
            if (c[0].equals(rwx) || c[0].isEmpty()) {
                return c[1];
            }
        }
        return PERM_COLORS[PERM_COLORS.length - 1][1];
    }

    /**
     * Address spaces drawn to scale on one shared axis, one row each ({@code beforeMaps} may be null): mapped bytes
     * take width in proportion to their size, a gap wider than a quarter of all mapped bytes is cut out and marked
     * (a break with its size), each mapping is coloured by permission (legend) and labelled with its permissions,
     * file name and size. With two rows, a mapping that is not in the other row exactly (range, permissions, name)
     * is outlined in black: what the replay changed.
     */
    public HtmlReport mapsComparison(final String chartTitle, final String beforeTitle, final String beforeMaps,
                                     final String afterTitle, final String afterMaps) {
        final List<String> rowNames = new java.util.ArrayList<>();
        final List<List<Segment>> rows = new java.util.ArrayList<>();
        if (beforeMaps != null) {
            rowNames.add(beforeTitle);
            rows.add(mapsSegments(beforeMaps));
        }
        rowNames.add(afterTitle);
        rows.add(mapsSegments(afterMaps));
        final java.util.TreeMap<Long, Long> union = new java.util.TreeMap<>();
        for (final List<Segment> r : rows) {
            for (final Segment g : r) {
                union.merge(g.start(), g.end(), Math::max);
            }
        }
        if (union.isEmpty()) {
            return paragraph(chartTitle + ": no mappings");
        }
        // merge overlapping ranges, then cut the gaps wider than a quarter of the mapped bytes
        final List<long[]> ranges = new java.util.ArrayList<>();
        for (final java.util.Map.Entry<Long, Long> e : union.entrySet()) {
            final long[] last = ranges.isEmpty() ? null : ranges.get(ranges.size() - 1);
            if (last != null && Long.compareUnsigned(e.getKey(), last[1]) <= 0) {
                last[1] = Math.max(last[1], e.getValue());
            } else {
                ranges.add(new long[] {e.getKey(), e.getValue()});
            }
        }
        long mapped = 0;
        for (final long[] r : ranges) {
            mapped += r[1] - r[0];
        }
        final long cut = Math.max(mapped / 4, 1);
        final List<long[]> clusters = new java.util.ArrayList<>();
        for (final long[] r : ranges) {
            final long[] last = clusters.isEmpty() ? null : clusters.get(clusters.size() - 1);
            if (last != null && r[0] - last[1] <= cut) {
                last[1] = r[1];
            } else {
                clusters.add(new long[] {r[0], r[1]});
            }
        }
        long drawn = 0;
        for (final long[] c : clusters) {
            drawn += c[1] - c[0];
        }
        final int left = 120;
        final int right = 20;
        final int pw = W - left - right;
        // a break mark is 34 px wide, narrower when there are many, so that breaks take at most 35 % of the width
        final int breakW = clusters.size() < 2 ? 34
            : Math.max(12, Math.min(34, (int) (pw * 0.35 / (clusters.size() - 1))));
        final double scale = (pw - breakW * (clusters.size() - 1)) / (double) drawn;
        final double[] cx = new double[clusters.size()];
        double at = left;
        for (int c = 0; c < clusters.size(); c++) {
            cx[c] = at;
            at += (clusters.get(c)[1] - clusters.get(c)[0]) * scale + breakW;
        }
        final int stripH = 34;
        final int rowH = stripH + 125;
        final int top = 40;
        final int legendY = top + rowH * rows.size() + 4;
        final int h = legendY + 52;
        final StringBuilder s = svgOpen(chartTitle, h);
        // break marks and the address where each piece starts (a label that would overlap the last is left out;
        // the tooltip keeps it)
        double lastAddr = -1000;
        double lastGap = -1000;
        for (int c = 0; c < clusters.size(); c++) {
            if (cx[c] - lastAddr >= 80) {
                lastAddr = cx[c];
                final boolean atEnd = cx[c] > left + pw - 80;
                s.append("<text class=\"tiny addr\" x=\"").append(fmt(atEnd ? left + pw : cx[c])).append("\" y=\"")
                    .append(top - 6).append(atEnd ? "\" text-anchor=\"end\">" : "\">").append(Long.toHexString(clusters.get(c)[0])).append("</text>\n");
            }
            if (c > 0) {
                final double bx = cx[c] - breakW / 2.0;
                final long gap = clusters.get(c)[0] - clusters.get(c - 1)[1];
                s.append("<g class=\"gap\">");
                if (bx - lastGap >= 70) {
                    lastGap = bx;
                    s.append("<text x=\"").append(fmt(bx)).append("\" y=\"").append(top - 18)
                        .append("\" text-anchor=\"middle\" class=\"tiny\">").append(esc("gap " + bytes(gap)))
                        .append("</text>");
                }
                for (int r = 0; r < rows.size(); r++) {
                    final int y = top + r * rowH;
                    for (final int dx : new int[] {-4, 4}) {
                        s.append("<line x1=\"").append(fmt(bx + dx - 5)).append("\" y1=\"").append(y + stripH + 4)
                            .append("\" x2=\"").append(fmt(bx + dx + 5)).append("\" y2=\"").append(y - 4)
                            .append("\" stroke=\"#555\" stroke-width=\"1.5\"/>");
                    }
                }
                s.append("<title>").append(esc(String.format("%x-%x: %s unmapped, not to scale",
                    clusters.get(c - 1)[1], clusters.get(c)[0], bytes(gap)))).append("</title></g>\n");
            }
        }
        int unlabelled = 0;
        for (int r = 0; r < rows.size(); r++) {
            final int y = top + r * rowH;
            final List<Segment> other = rows.size() == 2 ? rows.get(1 - r) : null;
            s.append("<text x=\"").append(left - 8).append("\" y=\"").append(y + stripH / 2 + 4)
                .append("\" text-anchor=\"end\" class=\"lbl rowlabel\">").append(esc(rowNames.get(r)))
                .append("</text>\n");
            final List<Segment> segs = rows.get(r);
            final double[] x0s = new double[segs.size()];
            final double[] ws = new double[segs.size()];
            final boolean[] changed = new boolean[segs.size()];
            final int[] clusterOf = new int[segs.size()];
            for (int i = 0; i < segs.size(); i++) {
                final Segment g = segs.get(i);
                int c = 0;
                while (c + 1 < clusters.size() && Long.compareUnsigned(g.start(), clusters.get(c + 1)[0]) >= 0) {
                    c++;
                }
                clusterOf[i] = c;
                x0s[i] = cx[c] + (g.start() - clusters.get(c)[0]) * scale;
                ws[i] = Math.max(1.5, (g.end() - g.start()) * scale);
                changed[i] = other != null && !other.contains(g);
                s.append("<rect class=\"seg").append(changed[i] ? " changed" : "").append("\" x=\"")
                    .append(fmt(x0s[i])).append("\" y=\"").append(y).append("\" width=\"").append(fmt(ws[i]))
                    .append("\" height=\"").append(stripH).append("\" fill=\"").append(permColor(g)).append('"')
                    .append(changed[i] ? " stroke=\"#000\" stroke-width=\"2.5\""
                        : " stroke=\"#fff\" stroke-width=\"0.5\"")
                    .append("><title>").append(esc(String.format("%x-%x %s (%s)%s", g.start(), g.end(), g.label(),
                        bytes(g.end() - g.start()), changed[i] ? ", not in the other row" : "")))
                    .append("</title></rect>\n");
            }
            unlabelled += segLabels(s, segs, x0s, ws, changed, clusterOf, left, pw, y + stripH);
        }
        // legend: permissions present, then the outline
        double lx = left;
        for (final String[] pc : PERM_COLORS) {
            s.append("<rect class=\"swatch\" x=\"").append(fmt(lx)).append("\" y=\"").append(legendY)
                .append("\" width=\"10\" height=\"10\" fill=\"").append(pc[1]).append("\"/><text x=\"")
                .append(fmt(lx + 14)).append("\" y=\"").append(legendY + 9).append("\" class=\"lbl\">")
                .append(esc(pc[2])).append("</text>\n");
            lx += 24 + pc[2].length() * 6.5;
        }
        if (rows.size() == 2) {
            s.append("<rect x=\"").append(fmt(lx)).append("\" y=\"").append(legendY).append("\" width=\"10\" ")
                .append("height=\"10\" fill=\"#fff\" stroke=\"#000\" stroke-width=\"2.5\"/><text x=\"")
                .append(fmt(lx + 14)).append("\" y=\"").append(legendY + 9).append("\" class=\"lbl\">")
                .append("outlined: differs between the rows</text>\n");
        }
        s.append("<text x=\"").append(left).append("\" y=\"").append(legendY + 28).append("\" class=\"lbl xlabel\">")
            .append(esc("address (mapped ranges to scale: " + bytes(drawn) + " drawn; //: an unmapped gap cut out)"))
            .append("</text>\n");
        if (unlabelled > 0) {
            s.append("<text x=\"").append(left).append("\" y=\"").append(legendY + 44).append("\" class=\"lbl note\">")
                .append(esc(unlabelled + " small mapping(s) not labelled, for room: each one's range, permissions and"
                    + " file are in its tooltip and in /proc/PID/maps"))
                .append("</text>\n");
        }
        return svgClose(s);
    }

    /** Horizontal room a label takes beside the next one: rotated 50 degrees, 9 px text stays clear at 13 px. */
    static final int LABEL_STEP = 13;

    /**
     * Labels a row's mappings below the strip: a run of mappings of one file in one piece of the axis gets one label
     * ("libc.so.6 x4 1.82 MiB"), any other mapping its own ("rw-p [heap] 132 KiB"). Labels hang down and left of
     * their anchor, rotated, at least {@link #LABEL_STEP} px apart and inside the plot; when more labels are wanted
     * than fit, those drawn wide enough to point at, then the changed ones, then the largest are kept. A leader
     * joins a label moved off its mapping.
     * Returns the number of mappings left without a label.
     */
    private static int segLabels(final StringBuilder s, final List<Segment> segs, final double[] x0s,
                                 final double[] ws, final boolean[] changed, final int[] clusterOf, final int left,
                                 final int pw, final int below) {
        // groups: [first, last] index runs
        final List<int[]> groups = new java.util.ArrayList<>();
        for (int i = 0; i < segs.size(); i++) {
            final int[] last = groups.isEmpty() ? null : groups.get(groups.size() - 1);
            final String file = fileOf(segs.get(i));
            if (last != null && !file.isEmpty() && file.equals(fileOf(segs.get(last[1])))
                && clusterOf[last[1]] == clusterOf[i]) {
                last[1] = i;
            } else {
                groups.add(new int[] {i, i});
            }
        }
        final int room = (pw - 10) / LABEL_STEP;
        final List<int[]> chosen = new java.util.ArrayList<>(groups);
        if (chosen.size() > room) {
            // what a reader can point at first (drawn at least a label's step wide), then what changed, then size
            chosen.sort((a, b) -> {
                final double wa = x0s[a[1]] + ws[a[1]] - x0s[a[0]];
                final double wb = x0s[b[1]] + ws[b[1]] - x0s[b[0]];
                int c = Boolean.compare(wb >= LABEL_STEP, wa >= LABEL_STEP);
                c = c != 0 ? c : Boolean.compare(anyChanged(changed, b), anyChanged(changed, a));
                return c != 0 ? c : Long.compare(groupBytes(segs, b), groupBytes(segs, a));
            });
            chosen.subList(room, chosen.size()).clear();
            chosen.sort((a, b) -> Integer.compare(a[0], b[0]));
        }
        int labelled = 0;
        final double[] mids = new double[chosen.size()];
        final double[] lx = new double[chosen.size()];
        for (int k = 0; k < chosen.size(); k++) {
            final int[] g = chosen.get(k);
            mids[k] = (x0s[g[0]] + x0s[g[1]] + ws[g[1]]) / 2;
            lx[k] = Math.max(left + 4, k == 0 ? mids[k] : Math.max(mids[k], lx[k - 1] + LABEL_STEP));
            labelled += g[1] - g[0] + 1;
        }
        for (int k = chosen.size() - 1; k >= 0; k--) {
            lx[k] = Math.min(lx[k], k == chosen.size() - 1 ? left + pw - 2 : lx[k + 1] - LABEL_STEP);
        }
        for (int k = 0; k < chosen.size(); k++) {
            final int[] g = chosen.get(k);
            final boolean ch = anyChanged(changed, g);
            final String text = g[0] == g[1] ? shortLabel(segs.get(g[0])) + " " + bytes(groupBytes(segs, g))
                : baseName(fileOf(segs.get(g[0]))) + " x" + (g[1] - g[0] + 1) + " " + bytes(groupBytes(segs, g));
            if (Math.abs(lx[k] - mids[k]) > 1) {
                s.append("<line class=\"leader\" x1=\"").append(fmt(mids[k])).append("\" y1=\"").append(below)
                    .append("\" x2=\"").append(fmt(lx[k])).append("\" y2=\"").append(below + 8)
                    .append("\" stroke=\"#999\" stroke-width=\"0.6\"/>");
            }
            s.append("<text class=\"tiny seglabel\" x=\"").append(fmt(lx[k])).append("\" y=\"").append(below + 11)
                .append("\" text-anchor=\"end\" transform=\"rotate(-50 ").append(fmt(lx[k])).append(' ')
                .append(below + 11).append(")\"").append(ch ? " font-weight=\"bold\"" : "").append('>')
                .append(esc(text.length() > 28 ? text.substring(0, 27) + "\u2026" : text)).append("</text>\n");
        }
        return segs.size() - labelled;
    }

    private static boolean anyChanged(final boolean[] changed, final int[] g) {
        for (int i = g[0]; i <= g[1]; i++) {
            if (changed[i]) {
                return true;
            }
        }
        return false;
    }

    private static long groupBytes(final List<Segment> segs, final int[] g) {
        long n = 0;
        for (int i = g[0]; i <= g[1]; i++) {
            n += segs.get(i).end() - segs.get(i).start();
        }
        return n;
    }

    /** The file of a maps label ("r-xp /usr/lib/libc.so.6" -> "/usr/lib/libc.so.6"); "" for anonymous and [x]. */
    private static String fileOf(final Segment g) {
        final String l = g.label() == null ? "" : g.label();
        final int sp = l.indexOf(' ');
        final String name = sp < 0 ? "" : l.substring(sp + 1).strip();
        return name.startsWith("[") ? "" : name;
    }

    private static String baseName(final String path) {
        final int slash = path.lastIndexOf('/');
        return slash >= 0 && slash < path.length() - 1 ? path.substring(slash + 1) : path;
    }

    /** Parses /proc/PID/maps lines into segments (lines that do not parse are skipped). */
    public static List<Segment> mapsSegments(final String mapsText) {
        final List<Segment> out = new java.util.ArrayList<>();
        for (final String line : mapsText.split("\n")) {
            final String[] f = line.strip().split("\\s+", 6);
            if (f.length < 5 || f[0].indexOf('-') < 0) {
                continue;
            }
            try {
                final String[] range = f[0].split("-");
                final long start = Long.parseUnsignedLong(range[0], 16);
                final long end = Long.parseUnsignedLong(range[1], 16);
                final String name = f.length == 6 ? f[5].strip() : "";
                if (name.equals("[vsyscall]")) {
                    continue;
                }
                final String kind = name.equals("[heap]") ? "heap" : name.equals("[stack]") ? "stack"
                    : name.startsWith("[anon") || name.isEmpty() ? "anon" : name.startsWith("[") ? "special" : "file";
                out.add(new Segment(start, end, (f[1] + " " + name).strip(), kind));
            } catch (final NumberFormatException | ArrayIndexOutOfBoundsException e) {
                // not a maps line
            }
        }
        return out;
    }

    /** "r--p /usr/bin/cat" -> "r--p cat": the permissions and the file's base name. */
    private static String shortLabel(final Segment g) {
        final String l = g.label() == null ? "" : g.label();
        final int sp = l.indexOf(' ');
        final String perms = sp < 0 ? "" : l.substring(0, sp + 1);
        final String name = sp < 0 ? l : l.substring(sp + 1);
        final int slash = name.lastIndexOf('/');
        return perms + (slash >= 0 && slash < name.length() - 1 ? name.substring(slash + 1) : name);
    }

    private static String kindColor(final String kind) {
        return switch (kind == null ? "" : kind) {
            case "heap" -> "#e15759";
            case "stack" -> "#f28e2b";
            case "file" -> "#4e79a7";
            case "anon" -> "#59a14f";
            case "special" -> "#b07aa1";
            default -> "#bab0ac";
        };
    }

    /**
     * The colour of series {@code k}: grey for a series named "other ..." (the rest lumped together), otherwise the
     * next palette colour among the named series.
     */
    static String seriesColor(final List<String> names, final int k) {
        if (isOther(names.get(k))) {
            return OTHER;
        }
        int named = 0;
        for (int i = 0; i < k; i++) {
            if (!isOther(names.get(i))) {
                named++;
            }
        }
        return PALETTE[named % PALETTE.length];
    }

    private static boolean isOther(final String name) {
        return name != null && (name.equals("other") || name.startsWith("other "));
    }

    private StringBuilder svgOpen(final String chartTitle, final int h) {
        charts++;
        final StringBuilder s = new StringBuilder();
        s.append("<figure><figcaption>").append(esc(chartTitle)).append("</figcaption>\n")
            .append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"").append(W)
            .append("\" height=\"").append(h).append("\" viewBox=\"0 0 ").append(W).append(' ').append(h)
            .append("\" role=\"img\" aria-label=\"").append(esc(chartTitle)).append("\">\n");
        return s;
    }

    private HtmlReport svgClose(final StringBuilder s) {
        s.append("</svg></figure>\n");
        body.append(s);
        return this;
    }

    private static void legend(final StringBuilder s, final List<String> names, final int x, final int y) {
        legend(s, names, x, y, false);
    }

    /** One swatch and name a line; {@code reversed} lists the last series first (stacked areas: top band on top). */
    private static void legend(final StringBuilder s, final List<String> names, final int x, final int y,
                               final boolean reversed) {
        for (int k = 0; k < names.size(); k++) {
            final int ly = y + (reversed ? names.size() - 1 - k : k) * 16;
            s.append("<rect class=\"swatch\" x=\"").append(x).append("\" y=\"").append(ly).append("\" width=\"10\" height=\"10\" fill=\"")
                .append(seriesColor(names, k)).append("\"/><text x=\"").append(x + 15).append("\" y=\"")
                .append(ly + 9).append("\" class=\"lbl\">").append(esc(names.get(k))).append("</text>\n");
        }
    }

    /** Axes with 5 ticks on x ({@code [x0, x1]}) and, unless NaN, on y ({@code [y0, y1]}). */
    private static void axes(final StringBuilder s, final int left, final int top, final int pw, final int ph,
                             final double x0, final double x1, final double y0, final double y1,
                             final String xLabel, final String yLabel, final boolean logY) {
        s.append("<g class=\"axis\"><line x1=\"").append(left).append("\" y1=\"").append(top + ph).append("\" x2=\"")
            .append(left + pw).append("\" y2=\"").append(top + ph).append("\"/><line x1=\"").append(left)
            .append("\" y1=\"").append(top).append("\" x2=\"").append(left).append("\" y2=\"").append(top + ph)
            .append("\"/>\n");
        for (int t = 0; t <= 5; t++) {
            final double xv = x0 + (x1 - x0) * t / 5;
            final double px = left + pw * t / 5.0;
            s.append("<line class=\"grid\" x1=\"").append(fmt(px)).append("\" y1=\"").append(top).append("\" x2=\"")
                .append(fmt(px)).append("\" y2=\"").append(top + ph).append("\"/><text x=\"").append(fmt(px))
                .append("\" y=\"").append(top + ph + 15).append("\" text-anchor=\"middle\">").append(human(xv))
                .append("</text>\n");
            if (!Double.isNaN(y0) && !logY) {
                yTick(s, left, top, pw, ph, t / 5.0, human(y0 + (y1 - y0) * t / 5));
            }
        }
        if (!Double.isNaN(y0) && logY) {
            // log10(1 + v) on [0, y1]: ticks at v = 0 and every power of ten
            yTick(s, left, top, pw, ph, 0, "0");
            for (int d = 0; d < Math.round(y1); d++) {
                yTick(s, left, top, pw, ph, Math.log10(1 + Math.pow(10, d)) / y1, human(Math.pow(10, d)));
            }
        }
        s.append("<text x=\"").append(left + pw / 2).append("\" y=\"").append(top + ph + 35)
            .append("\" text-anchor=\"middle\" class=\"lbl xlabel\">").append(esc(xLabel)).append("</text>\n");
        if (yLabel != null) {
            s.append("<text x=\"14\" y=\"").append(top + ph / 2).append("\" text-anchor=\"middle\" class=\"lbl ylabel\" ")
                .append("transform=\"rotate(-90 14 ").append(top + ph / 2).append(")\">").append(esc(yLabel))
                .append("</text>\n");
        }
        s.append("</g>\n");
    }

    private static void yTick(final StringBuilder s, final int left, final int top, final int pw, final int ph,
                              final double frac, final String label) {
        final double py = top + ph - ph * frac;
        s.append("<line class=\"grid\" x1=\"").append(left).append("\" y1=\"").append(fmt(py))
            .append("\" x2=\"").append(left + pw).append("\" y2=\"").append(fmt(py)).append("\"/><text class=\"ytick\" x=\"")
            .append(left - 5).append("\" y=\"").append(fmt(py + 4)).append("\" text-anchor=\"end\">").append(label)
            .append("</text>\n");
    }

    static double niceCeil(final double v) {
        if (v <= 0) {
            return 1;
        }
        final double mag = Math.pow(10, Math.floor(Math.log10(v)));
        for (final double m : new double[] {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
            if (m * mag >= v) {
                return m * mag;
            }
        }
        return 10 * mag;
    }

    /** A size in binary units, as /proc prints them: 135168 -> "132 KiB", 4096 -> "4 KiB", 100 -> "100 B". */
    public static String bytes(final long n) {
        final String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = n;
        int u = 0;
        while (Math.abs(v) >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? Long.toString((long) v) : String.format(NUMBERS, "%.3g", v)) + " " + units[u];
    }

    /** 1234567 -> "1.23M". */
    public static String human(final double v) {
        final double a = Math.abs(v);
        if (a >= 1e9) {
            return String.format(NUMBERS, "%.3gG", v / 1e9);
        }
        if (a >= 1e6) {
            return String.format(NUMBERS, "%.3gM", v / 1e6);
        }
        if (a >= 1e4) {
            return String.format(NUMBERS, "%.3gk", v / 1e3);
        }
        if (a == Math.rint(a)) {
            return Long.toString((long) v);
        }
        return String.format(NUMBERS, "%.3g", v);
    }

    private static String fmt(final double v) {
        return String.format(NUMBERS, "%.1f", v);
    }

    static String esc(final String s) {
        if (s == null) {
            return "";
        }
        final StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            final char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> b.append(c < 0x20 && c != '\n' && c != '\t' ? '?' : c);
            }
        }
        return b.toString();
    }

    /** The whole page. */
    public String html() {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + esc(title)
            + "</title>\n<style>\n"
            + "body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:960px;color:#222}\n"
            + "h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}\n"
            + "table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;border-bottom:1px solid #eee}"
            + "td.n{text-align:right;font-variant-numeric:tabular-nums}th{text-align:left}\n"
            + "figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}\n"
            + "svg text{font-size:11px;fill:#333}svg .lbl{font-size:12px}svg .tiny{font-size:9px}"
            + ".axis line{stroke:#888}.axis line.grid{stroke:#eee}pre{font-size:12px;overflow-x:auto}\n"
            + "</style></head><body>\n<h1>" + esc(title) + "</h1>\n" + body + "</body></html>\n";
    }

    public void write(final Path file) throws IOException {
        checkOutput(file);
        Files.writeString(file, html(), StandardCharsets.UTF_8);
    }

    /**
     * Checks that {@code file} can be written without creating anything but the file itself: its directory must
     * exist (no directory is ever created silently). Throws a {@link java.nio.file.NoSuchFileException} naming the
     * missing directory, or one saying that the path is a directory.
     */
    public static void checkOutput(final Path file) throws IOException {
        final Path parent = file.toAbsolutePath().normalize().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new java.nio.file.NoSuchFileException(file.toString(), null, "No such file or directory"
                + " (directory " + parent + " does not exist)");
        }
        if (Files.isDirectory(file)) {
            throw new IOException(file + ": Is a directory");
        }
    }

    /**
     * {@link #checkOutput} for a command's {@code --report}: true when {@code file} can be written, else false with
     * "mm4j: --report REASON" printed to {@code err} (the command then exits with status 2).
     */
    public static boolean reportWritable(final Path file, final PrintStream err) {
        try {
            checkOutput(file);
            return true;
        } catch (final IOException e) {
            err.println("mm4j: --report " + e.getMessage());
            return false;
        }
    }
}
