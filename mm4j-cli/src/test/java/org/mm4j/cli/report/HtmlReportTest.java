package org.mm4j.cli.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

class HtmlReportTest {
    static HtmlReport sample() {
        final HtmlReport h = new HtmlReport("test <report> & co");
        h.heading("Lines").paragraph("a paragraph with <b>markup</b> that must be escaped");
        final double[] x = {0, 10, 20, 30};
        h.lineChart("two series", "events", "KiB", x, List.of("a", "b"),
            List.of(new double[] {1, 2, 3, 4}, new double[] {4, 3, 2, 1}), false);
        h.lineChart("stacked", "events", "KiB", x, List.of("a", "b"),
            List.of(new double[] {1, 2, 3, 4}, new double[] {4, 3, 2, 1}), true);
        h.barChart("bars", "KiB", List.of("kmalloc-64", "dentry"), List.of("requested", "allocated"),
            List.of(new double[] {10, 20}, new double[] {16, 24}));
        h.shareChart("shares", List.of("kmalloc-64"), List.of("fast", "slow"), new double[][] {{90, 10}});
        h.strip("maps", 0x400000, 0x7ffffffff000L, List.of(
            new HtmlReport.Segment(0x400000, 0x401000, "/usr/bin/cat", "file"),
            new HtmlReport.Segment(0x1000000, 0x1021000, "[heap]", "heap"),
            new HtmlReport.Segment(0x7ffffffde000L, 0x7ffffffff000L, "[stack]", "stack")));
        h.table(List.of("cache", "n"), List.of(List.of("x<y", "1")));
        h.pre("text", "Node 0, zone   Normal <pre>");
        return h;
    }

    /** What the kmem report draws: 10 caches and "other" stacked, bytes over decades, 11 buddy orders. */
    static HtmlReport kmemLike() {
        final HtmlReport h = new HtmlReport("kmem-like");
        final double[] x = {0, 1, 2, 3};
        final List<String> caches = new java.util.ArrayList<>();
        final List<double[]> ys = new java.util.ArrayList<>();
        for (int c = 0; c < 10; c++) {
            caches.add("cache-" + c);
            ys.add(new double[] {c, c + 1, c + 2, c + 3});
        }
        caches.add("other (71 caches)");
        ys.add(new double[] {50, 60, 70, 80});
        h.lineChart("stacked caches", "events replayed", "KiB", x, caches, ys, true);
        // one cache at 20 MB, the others at tens of kB: four decades
        h.barChart("requested vs allocated", "bytes", "cache", List.of("names_cache", "vm_area_struct", "kmalloc-512",
            "never-used"), List.of("requested", "allocated"), List.of(new double[] {20_303_872, 821_952, 60_408, 0},
            new double[] {20_541_440, 821_952, 74_240, 0}), true, new String[] {"1.2 % waste", null, "18.6 % waste",
            null});
        final List<String> orders = new java.util.ArrayList<>();
        final List<double[]> fy = new java.util.ArrayList<>();
        for (int o = 0; o <= 10; o++) {
            orders.add("order " + o);
            fy.add(o == 5 ? new double[4] : new double[] {o, 2 * o + 1, o + 1, 300 * (o / 10)});
        }
        h.smallMultiples("buddy orders", "events replayed", "free blocks", x, orders, fy);
        h.shareChart("fast vs slow", List.of("a alloc", "a free", "b alloc"), List.of("fast path", "slow path"),
            new double[][] {{90, 10}, {0, 0}, {5, 5}});
        return h;
    }

    /** CIE76 colour difference (delta E in CIE Lab, D65) of two {@code #rrggbb} colours. */
    static double deltaE(final String a, final String b) {
        final double[] p = lab(a);
        final double[] q = lab(b);
        return Math.sqrt(Math.pow(p[0] - q[0], 2) + Math.pow(p[1] - q[1], 2) + Math.pow(p[2] - q[2], 2));
    }

    private static double[] lab(final String hex) {
        final double[] c = new double[3];
        for (int i = 0; i < 3; i++) {
            final double v = Integer.parseInt(hex.substring(1 + 2 * i, 3 + 2 * i), 16) / 255.0;
            c[i] = v > 0.04045 ? Math.pow((v + 0.055) / 1.055, 2.4) : v / 12.92;
        }
        final double x = (c[0] * 0.4124 + c[1] * 0.3576 + c[2] * 0.1805) / 0.95047;
        final double y = c[0] * 0.2126 + c[1] * 0.7152 + c[2] * 0.0722;
        final double z = (c[0] * 0.0193 + c[1] * 0.1192 + c[2] * 0.9505) / 1.08883;
        final java.util.function.DoubleUnaryOperator f = t -> t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116.0;
        return new double[] {116 * f.applyAsDouble(y) - 16, 500 * (f.applyAsDouble(x) - f.applyAsDouble(y)),
            200 * (f.applyAsDouble(y) - f.applyAsDouble(z))};
    }

    private static List<String> all(final String text, final String regex) {
        final Matcher m = Pattern.compile(regex).matcher(text);
        final List<String> out = new java.util.ArrayList<>();
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /**
     * What a reader sees, checked on the DOM a browser built from {@link #kmemLike()}: legend colours pairwise
     * distinct (delta E >= 25), "other" grey, every chart's axes named, the log axis ticked at each decade, empty rows
     * and all-zero panels left out, the small multiples each in a colour of their own.
     */
    static void checkReadable(final String dom) {
        final String[] svgs = dom.split("<svg ");
        assertEquals(5, svgs.length, "four charts");
        for (int i = 1; i < svgs.length; i++) {
            final String svg = svgs[i].substring(0, svgs[i].indexOf("</svg>"));
            final String before = svgs[i - 1];
            final String caption = before.substring(before.lastIndexOf("<figcaption>") + "<figcaption>".length(),
                before.lastIndexOf("</figcaption>"));
            // a legend swatch, then its name
            final Matcher m = Pattern.compile("<rect class=\"swatch\"[^>]*fill=\"(#[0-9a-f]{6})\"[^>]*>(?:</rect>)?"
                + "<text[^>]*>([^<]*)</text>").matcher(svg);
            final List<String> colours = new java.util.ArrayList<>();
            final List<String> names = new java.util.ArrayList<>();
            while (m.find()) {
                colours.add(m.group(1));
                names.add(m.group(2));
            }
            if (svg.contains("class=\"panel\"")) {
                colours.addAll(all(svg, "<polyline class=\"series\"[^>]*stroke=\"(#[0-9a-f]{6})\""));
            }
            assertTrue(colours.size() >= 2, caption);
            for (int a = 0; a < colours.size(); a++) {
                for (int b = a + 1; b < colours.size(); b++) {
                    assertTrue(deltaE(colours.get(a), colours.get(b)) >= 25, caption + ": " + colours.get(a) + " and "
                        + colours.get(b) + " look alike (delta E " + deltaE(colours.get(a), colours.get(b)) + ")");
                }
            }
            for (int k = 0; k < names.size(); k++) {
                if (names.get(k).startsWith("other")) {
                    final String c = colours.get(k);
                    final int r = Integer.parseInt(c.substring(1, 3), 16);
                    final int g = Integer.parseInt(c.substring(3, 5), 16);
                    final int b = Integer.parseInt(c.substring(5, 7), 16);
                    assertTrue(Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) <= 8, "other is grey: " + c);
                }
            }
            final List<String> xLabels = all(svg, "class=\"lbl xlabel\"[^>]*>([^<]+)</text>");
            assertEquals(1, xLabels.size(), caption + ": one named x axis");
            assertFalse(xLabels.get(0).isBlank(), caption);
            if (!svg.contains("class=\"panel\"") && !caption.contains("fast vs slow")) {
                assertEquals(1, all(svg, "class=\"lbl ylabel\"[^>]*>([^<]+)</text>").size(), caption + ": y axis");
            }
        }
        // the log axis: a tick at every decade, each ten times the last, over all four decades of the data
        final String logAxis = dom.substring(dom.indexOf("<g class=\"axis log\">"));
        final List<String> ticks = all(logAxis.substring(0, logAxis.indexOf("</g>")), "class=\"tick\"[^>]*>([^<]+)<");
        assertEquals(List.of("10.0k", "100k", "1.00M", "10.0M", "100M"), ticks);
        assertTrue(dom.contains("(1 empty row(s) hidden)") && !dom.contains(">never-used<"), "empty bar row hidden");
        assertTrue(!dom.contains(">a free<"), "empty share row hidden");
        assertEquals(10, count(dom, "<g class=\"panel\">"), "order 5 is zero throughout");
        assertTrue(dom.contains("zero throughout, not drawn: order 5"));
    }

    @Test
    void chartsAreReadableInTheSource() {
        checkReadable(kmemLike().html());
        // a log bar's length grows by the same step for every factor of ten
        final String bars = kmemLike().html();
        final List<String> w = all(bars, "<rect class=\"bar\" x=\"190\" y=\"[0-9]+\" width=\"([0-9.]+)\"");
        final double perDecade = 530.0 / 4;
        assertEquals(Math.log10(20_303_872 / 10_000.0) * perDecade, Double.parseDouble(w.get(0)), 0.1);
        assertEquals(Math.log10(60_408 / 10_000.0) * perDecade, Double.parseDouble(w.get(4)), 0.1);
    }

    static int count(final String text, final String regex) {
        final Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void selfContainedAndEscaped() {
        final HtmlReport h = sample();
        final String html = h.html();
        assertEquals(5, h.charts());
        assertEquals(5, count(html, "<svg "));
        assertEquals(2, count(html, "<polyline class=\"series\""));
        assertEquals(2, count(html, "<polygon class=\"series\""));
        assertEquals(4 + 2, count(html, "<rect class=\"bar\""));
        assertEquals(3, count(html, "<rect class=\"seg\""));
        assertTrue(html.contains("test &lt;report&gt; &amp; co"));
        assertTrue(html.contains("&lt;b&gt;markup&lt;/b&gt;"));
        assertFalse(html.contains("<script"));
        assertFalse(html.replace("http://www.w3.org/2000/svg", "").contains("://"), "no external reference");
    }

    @Test
    void mapsTextBecomesAStrip() {
        final String maps = """
            00400000-00401000 r-xp 00000000 08:01 123                                /usr/bin/cat
            01000000-01021000 rw-p 00000000 00:00 0                                  [heap]
            7f0000000000-7f0000002000 rw-p 00000000 00:00 0 
            7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]
            ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
            """;
        final List<HtmlReport.Segment> segs = HtmlReport.mapsSegments(maps);
        assertEquals(4, segs.size());
        assertEquals("file", segs.get(0).kind());
        assertEquals("heap", segs.get(1).kind());
        assertEquals("anon", segs.get(2).kind());
        assertEquals("stack", segs.get(3).kind());
        assertEquals(0x7ffffffff000L, segs.get(3).end());
        final HtmlReport h = new HtmlReport("m").mapsStrip("pid 1", maps);
        assertEquals(4, count(h.html(), "<rect class=\"seg\""));
    }

    @Test
    void niceScales() {
        assertEquals(1, HtmlReport.niceCeil(0));
        assertEquals(10, HtmlReport.niceCeil(9.5));
        assertEquals(1200, HtmlReport.niceCeil(1001));
        assertEquals("1.23M", HtmlReport.human(1_234_567));
        assertEquals("42", HtmlReport.human(42));
    }

    @Test
    void addressSpacesToScaleWithGapsCutAndChangesOutlined() {
        final String svg = new HtmlReport("m").mapsComparison("maps", "before", MAPS_BEFORE, "after", mapsAfter()).html();
        // to scale: the 8 KiB program and the 128 KiB libc differ 16x in width, whatever the gaps between them
        final List<String> widths = all(svg, "<rect class=\"seg[^\"]*\" x=\"[0-9.]+\" y=\"[0-9]+\" width=\"([0-9.]+)\"");
        assertEquals(3 + 4, widths.size());
        assertEquals(16, Double.parseDouble(widths.get(1)) / Double.parseDouble(widths.get(0)), 0.2);
        // the two big gaps (heap to libc: 42.7 TiB, libc to stack: 130 MiB) are cut out and say their size
        assertEquals(2, count(svg, "<g class=\"gap\">"));
        assertTrue(svg.contains(">gap 42.7 TiB<"), svg);
        // only the new heap is outlined, in the after row; every mapping is labelled with perms, name and size
        assertEquals(1, count(svg, "class=\"seg changed\""));
        assertTrue(svg.contains(">rw-p [heap] 132 KiB<"));
        assertEquals(7, count(svg, "class=\"tiny seglabel\""));
        // a legend names the permission colours, which are pairwise distinct
        final List<String> legend = all(svg, "<rect class=\"swatch\"[^>]*fill=\"(#[0-9a-f]{6})\"");
        assertEquals(HtmlReport.PERM_COLORS.length, legend.size());
        for (int a = 0; a < legend.size(); a++) {
            for (int b = a + 1; b < legend.size(); b++) {
                assertTrue(deltaE(legend.get(a), legend.get(b)) >= 20, legend.get(a) + " " + legend.get(b));
            }
        }
        assertTrue(svg.contains(">r-x code<") && svg.contains(">before</text>") && svg.contains(">after</text>"));
    }

    /**
     * Renders in headless Chromium and counts what the browser's DOM holds. Skips only when Chromium is not
     * installed (a failure under CI=true); a browser that hangs, exits non-zero or prints no DOM fails the test.
     */
    @Test
    void rendersInHeadlessChromium(@TempDir final Path dir) throws Exception {
        final Path chromium = Path.of("/usr/bin/chromium");
        requireOrSkip(Files.isExecutable(chromium), "no " + chromium + " (Debian package chromium)");
        final Path file = dir.resolve("r.html");
        final HtmlReport h = sample();
        h.write(file);
        final String dom = dumpDom(chromium, dir, file);
        // the browser parsed every chart and shape the page declares
        assertEquals(5, count(dom, "<svg "));
        assertEquals(2, count(dom, "<polyline "));
        assertEquals(2, count(dom, "<polygon "));
        assertEquals(3, count(dom, "<rect class=\"seg\""));
        assertTrue(dom.contains("<figcaption>stacked</figcaption>"));
        // and what a reader needs, on what the browser parsed
        final Path kmem = dir.resolve("kmem.html");
        kmemLike().write(kmem);
        checkReadable(dumpDom(chromium, dir, kmem));
        // the address strips: the gap marks, the outline of what changed and a label per mapping survive parsing
        final Path maps = dir.resolve("maps.html");
        new HtmlReport("maps").mapsComparison("maps", "before", MAPS_BEFORE, "after", mapsAfter()).write(maps);
        final String mapsDom = dumpDom(chromium, dir, maps);
        assertEquals(2, count(mapsDom, "<g class=\"gap\">"));
        assertEquals(1, count(mapsDom, "class=\"seg changed\""));
        assertEquals(7, count(mapsDom, "class=\"tiny seglabel\""));
        // what the browser computed and laid out, not what the source says
        checkRendered(probe(chromium, dir, "kmem-probe", kmemLike().html()));
        checkStrips(probe(chromium, dir, "maps-probe", new HtmlReport("maps").mapsComparison("maps", "before",
            MAPS_BEFORE, "after", mapsAfter()).html()), false);
        checkStrips(probe(chromium, dir, "dense-probe", new HtmlReport("dense").mapsComparison("dense", "before",
            MAPS_BEFORE, "after", denseMaps()).html()), true);
    }

    /**
     * Loads {@code html} in headless Chromium with a script appended (the report itself has none) that writes, per
     * chart, what the browser computed: legend swatch fills and their text's rendered width, series strokes, axis
     * titles' rendered boxes, the log axis's tick positions, bar and strip rectangle widths (getBBox) with their
     * tooltips, and the screen boxes of the strip labels. One tab-separated record a line.
     */
    static List<String[]> probe(final Path chromium, final Path dir, final String name, final String html)
        throws Exception {
        final String script = """
            <script>(function () {
              const out = [];
              const box = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
              document.querySelectorAll('svg.chart').forEach((svg, i) => {
                out.push(['svg', i, ...box(svg), svg.getAttribute('aria-label')]);
                svg.querySelectorAll('rect.swatch').forEach(r => {
                  const t = r.nextElementSibling;
                  out.push(['swatch', i, getComputedStyle(r).fill, t.textContent, t.getBoundingClientRect().width]);
                  out.push(['text', i, ...box(t), t.textContent]);
                });
                svg.querySelectorAll('.barnote').forEach(t => out.push(['text', i, ...box(t), t.textContent]));
                svg.querySelectorAll('polyline.series').forEach(p => out.push(['line', i, getComputedStyle(p).stroke]));
                svg.querySelectorAll('.xlabel, .ylabel').forEach(t => out.push(['axis', i,
                  t.classList.contains('xlabel') ? 'x' : 'y', t.textContent, t.getBoundingClientRect().width,
                  t.getBoundingClientRect().height]));
                svg.querySelectorAll('.axis.log .tick').forEach(t => {
                  const b = t.getBoundingClientRect();
                  out.push(['tick', i, (b.left + b.right) / 2, t.textContent]);
                });
                svg.querySelectorAll('rect.bar, rect.seg').forEach(r => out.push([r.classList.contains('bar') ? 'bar'
                  : 'seg', i, r.getBBox().x, r.getBBox().y, r.getBBox().width, r.querySelector('title').textContent]));
                svg.querySelectorAll('text.seglabel').forEach(t => out.push(['label', i, ...box(t), t.textContent]));
                svg.querySelectorAll('.note').forEach(t => out.push(['note', i, t.textContent]));
              });
              const pre = document.createElement('pre');
              pre.id = 'probe';
              pre.textContent = out.map(r => r.join('\\t')).join('\\n');
              document.body.appendChild(pre);
            })();</script>
            """;
        final Path file = dir.resolve(name + ".html");
        Files.writeString(file, html.replace("</body>", script + "</body>"), StandardCharsets.UTF_8);
        final String dom = dumpDom(chromium, dir, file);
        final int at = dom.indexOf("<pre id=\"probe\">");
        assertTrue(at >= 0, "the probe ran");
        final String text = dom.substring(at + "<pre id=\"probe\">".length(), dom.indexOf("</pre>", at))
            .replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&");
        final List<String[]> rows = new java.util.ArrayList<>();
        for (final String l : text.split("\n")) {
            rows.add(l.split("\t", -1));
        }
        return rows;
    }

    private static List<String[]> kind(final List<String[]> rows, final String kind, final int chart) {
        return rows.stream().filter(r -> r[0].equals(kind) && Integer.parseInt(r[1]) == chart).toList();
    }

    private static double[] box(final String[] r) {
        return new double[] {Double.parseDouble(r[2]), Double.parseDouble(r[3]), Double.parseDouble(r[4]),
            Double.parseDouble(r[5])};
    }

    /** "rgb(78, 121, 167)" -> "#4e79a7". */
    static String hex(final String rgb) {
        final Matcher m = Pattern.compile("rgba?\\((\\d+), (\\d+), (\\d+)").matcher(rgb);
        assertTrue(m.find(), rgb);
        return String.format("#%02x%02x%02x", Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
            Integer.parseInt(m.group(3)));
    }

    /**
     * The kmem charts as rendered: computed series colours pairwise at least delta E 25 apart, "other" grey, every
     * legend entry and axis title laid out with text, the log axis's decade ticks evenly spaced on screen and each
     * bar as long as its value's decades.
     */
    static void checkRendered(final List<String[]> rows) {
        final List<String[]> svgs = rows.stream().filter(r -> r[0].equals("svg")).toList();
        assertEquals(4, svgs.size());
        for (int i = 0; i < svgs.size(); i++) {
            final String chart = svgs.get(i)[6];
            final List<String> colours = new java.util.ArrayList<>();
            for (final String[] sw : kind(rows, "swatch", i)) {
                colours.add(hex(sw[2]));
                assertFalse(sw[3].isBlank(), chart + ": a legend entry without text");
                assertTrue(Double.parseDouble(sw[4]) > 5, chart + ": legend text '" + sw[3] + "' not laid out");
                if (sw[3].startsWith("other")) {
                    final String c = hex(sw[2]);
                    final int r = Integer.parseInt(c.substring(1, 3), 16);
                    final int g = Integer.parseInt(c.substring(3, 5), 16);
                    final int b = Integer.parseInt(c.substring(5, 7), 16);
                    assertTrue(Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) <= 8,
                        chart + ": 'other' is drawn grey, was " + c);
                }
            }
            if (kind(rows, "swatch", i).isEmpty()) {
                kind(rows, "line", i).forEach(l -> colours.add(hex(l[2])));
            }
            assertTrue(colours.size() >= 2, chart);
            for (int a = 0; a < colours.size(); a++) {
                for (int b = a + 1; b < colours.size(); b++) {
                    assertTrue(deltaE(colours.get(a), colours.get(b)) >= 25, chart + ": series " + a + " and " + b
                        + " are drawn alike, " + colours.get(a) + " and " + colours.get(b));
                }
            }
            final List<String[]> axes = kind(rows, "axis", i);
            assertTrue(axes.stream().anyMatch(a -> a[2].equals("x") && !a[3].isBlank()
                && Double.parseDouble(a[4]) > 20), chart + ": the x axis has a rendered title");
            for (final String[] a : axes) {
                assertTrue(Double.parseDouble(a[4]) > 0 && Double.parseDouble(a[5]) > 0, chart + ": axis " + a[3]);
            }
        }
        // legend entries and the notes beside the bars: inside their chart, none over another
        for (int i = 0; i < svgs.size(); i++) {
            final String[] svg = svgs.get(i);
            final List<String[]> texts = kind(rows, "text", i);
            for (int a = 0; a < texts.size(); a++) {
                final double[] p = box(texts.get(a));
                assertTrue(p[0] >= Double.parseDouble(svg[2]) - 0.5 && p[2] <= Double.parseDouble(svg[4]) + 0.5,
                    svg[6] + ": '" + texts.get(a)[6] + "' inside the chart");
                for (int b = a + 1; b < texts.size(); b++) {
                    final double[] q = box(texts.get(b));
                    assertFalse(p[0] < q[2] - 0.5 && q[0] < p[2] - 0.5 && p[1] < q[3] - 0.5 && q[1] < p[3] - 0.5,
                        svg[6] + ": '" + texts.get(a)[6] + "' and '" + texts.get(b)[6] + "' overlap");
                }
            }
        }
        assertEquals(2, rows.stream().filter(r -> r[0].equals("text") && r[6].endsWith("% waste")).count());
        // the log axis: decade ticks evenly spaced where the browser drew them
        final List<String[]> ticks = rows.stream().filter(r -> r[0].equals("tick")).toList();
        assertEquals(5, ticks.size());
        final double step = Double.parseDouble(ticks.get(1)[2]) - Double.parseDouble(ticks.get(0)[2]);
        assertTrue(step > 50, "a decade is " + step + " px");
        for (int t = 2; t < ticks.size(); t++) {
            assertEquals(step, Double.parseDouble(ticks.get(t)[2]) - Double.parseDouble(ticks.get(t - 1)[2]), 1.0);
        }
        // each bar's rendered length: its value's decades above 10k, times the decade width
        for (final String[] bar : rows.stream().filter(r -> r[0].equals("bar") && r[5].contains(" bytes")
            && r[5].contains("requested")).toList()) {
            final String v = bar[5].replaceAll(".*: ([0-9.]+[kMG]?) bytes$", "$1");
            final double value = Double.parseDouble(v.replaceAll("[kMG]", ""))
                * (v.endsWith("k") ? 1e3 : v.endsWith("M") ? 1e6 : v.endsWith("G") ? 1e9 : 1);
            assertEquals(Math.log10(value / 1e4) * step, Double.parseDouble(bar[4]), step * 0.01 + 0.5, bar[5]);
        }
    }

    /**
     * The address strips as rendered: within a row, each mapping's width is proportional to its size (those drawn
     * wider than the 1.5 px minimum), every label is laid out inside its chart, the permission legend's computed
     * colours are distinct; with {@code dense}, the labels that did not fit are counted in a note.
     */
    static void checkStrips(final List<String[]> rows, final boolean dense) {
        final String[] svg = rows.stream().filter(r -> r[0].equals("svg")).findFirst().orElseThrow();
        final double[] sb = {Double.parseDouble(svg[2]), Double.parseDouble(svg[3]), Double.parseDouble(svg[4]),
            Double.parseDouble(svg[5])};
        final Map<String, List<double[]>> byRow = new java.util.TreeMap<>();
        for (final String[] seg : kind(rows, "seg", 0)) {
            final Matcher m = Pattern.compile("^([0-9a-f]+)-([0-9a-f]+) ").matcher(seg[5]);
            assertTrue(m.find(), seg[5]);
            final long bytes = Long.parseUnsignedLong(m.group(2), 16) - Long.parseUnsignedLong(m.group(1), 16);
            byRow.computeIfAbsent(seg[3], k -> new java.util.ArrayList<>())
                .add(new double[] {Double.parseDouble(seg[4]), bytes});
        }
        assertEquals(2, byRow.size(), "two rows");
        for (final List<double[]> segs : byRow.values()) {
            final double perByte = segs.stream().filter(g -> g[0] > 3).mapToDouble(g -> g[0] / g[1]).max()
                .orElseThrow();
            for (final double[] g : segs) {
                if (g[0] > 3) {
                    assertEquals(g[1] * perByte, g[0], g[1] * perByte * 0.02 + 0.1, "width of a " + g[1]
                        + "-byte mapping");
                } else {
                    assertTrue(g[1] * perByte <= 3.05, "drawn at its minimum only when that small: " + g[1]);
                }
            }
        }
        final List<String[]> labels = kind(rows, "label", 0);
        assertFalse(labels.isEmpty());
        for (final String[] l : labels) {
            assertFalse(l[6].isBlank());
            assertTrue(Double.parseDouble(l[2]) >= sb[0] - 0.5 && Double.parseDouble(l[4]) <= sb[2] + 0.5
                && Double.parseDouble(l[5]) <= sb[3] + 0.5, "label '" + l[6] + "' inside the chart: " + l[2] + ".."
                + l[4] + " in " + sb[0] + ".." + sb[2]);
        }
        // labels of one row hang from anchors at least a step apart: their right ends (the anchors) never crowd
        final Map<Long, List<Double>> rights = new java.util.TreeMap<>();
        for (final String[] l : labels) {
            rights.computeIfAbsent(Math.round(Double.parseDouble(l[3]) / 40), k -> new java.util.ArrayList<>())
                .add(Double.parseDouble(l[4]));
        }
        for (final List<Double> rs : rights.values()) {
            final List<Double> sorted = rs.stream().sorted().toList();
            for (int i = 1; i < sorted.size(); i++) {
                assertTrue(sorted.get(i) - sorted.get(i - 1) >= HtmlReport.LABEL_STEP - 1.5, "labels "
                    + sorted.get(i - 1) + " and " + sorted.get(i) + " crowd each other");
            }
        }
        final List<String> legend = kind(rows, "swatch", 0).stream().map(r -> hex(r[2])).toList();
        assertEquals(HtmlReport.PERM_COLORS.length, legend.size());
        for (int a = 0; a < legend.size(); a++) {
            for (int b = a + 1; b < legend.size(); b++) {
                assertTrue(deltaE(legend.get(a), legend.get(b)) >= 20, legend.get(a) + " " + legend.get(b));
            }
        }
        final List<String[]> notes = kind(rows, "note", 0);
        if (dense) {
            assertEquals(1, notes.size(), "a note counts the unlabelled mappings");
            final int unlabelled = Integer.parseInt(notes.get(0)[2].replaceAll("^(\\d+) .*", "$1"));
            assertTrue(unlabelled > 0 && labels.size() < kind(rows, "seg", 0).size(), notes.get(0)[2]);
        } else {
            assertTrue(notes.isEmpty(), "every mapping labelled");
        }
    }

    /** 120 small anonymous mappings with gaps between them beside a program, its libc and its stack. */
    private static String denseMaps() {
        final StringBuilder sb = new StringBuilder(mapsAfter());
        for (int i = 0; i < 120; i++) {
            final long start = 0x7f0000000000L + i * 0x3000L;
            sb.append(String.format("%x-%x rw-p 00000000 00:00 0%n", start, start + 0x1000 * (1 + i % 3)));
        }
        return sb.toString();
    }

    private static final String MAPS_BEFORE = """
        555555554000-555555556000 r-xp 00000000 08:01 12                         /usr/bin/cat
        7ffff7dd0000-7ffff7df0000 r--p 00000000 08:01 13                         /usr/lib/libc.so.6
        7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]
        """;

    /** {@link #MAPS_BEFORE} with a 132 KiB heap added. */
    private static String mapsAfter() {
        return MAPS_BEFORE.replace("7ffffffde000", "555555559000-55555557a000 rw-p 00000000 00:00 0"
            + "                          [heap]\n7ffffffde000");
    }

    private static String dumpDom(final Path chromium, final Path dir, final Path file) throws Exception {
        final Path out = dir.resolve(file.getFileName() + ".dom");
        final Path err = dir.resolve(file.getFileName() + ".err");
        final Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
            "--user-data-dir=" + dir.resolve("profile"), "--dump-dom", file.toUri().toString())
            .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
            fail("chromium did not finish in 120 s; stderr:\n" + readQuietly(err));
        }
        assertEquals(0, p.exitValue(), () -> "chromium exit status; stderr:\n" + readQuietly(err));
        final String dom = Files.readString(out, StandardCharsets.UTF_8);
        assertFalse(dom.isBlank(), () -> "chromium printed no DOM; stderr:\n" + readQuietly(err));
        return dom;
    }

    private static String readQuietly(final Path p) {
        try {
            return Files.readString(p);
        } catch (final java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
