package org.mm4j.cli.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
        final Path out = dir.resolve("dom.html");
        final Path err = dir.resolve("chromium.err");
        // runs as root in CI: no sandbox; a fresh profile and nothing that talks to the network
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
        // the browser parsed every chart and shape the page declares
        assertEquals(5, count(dom, "<svg "));
        assertEquals(2, count(dom, "<polyline "));
        assertEquals(2, count(dom, "<polygon "));
        assertEquals(3, count(dom, "<rect class=\"seg\""));
        assertTrue(dom.contains("<figcaption>stacked</figcaption>"));
    }

    private static String readQuietly(final Path p) {
        try {
            return Files.readString(p);
        } catch (final java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
