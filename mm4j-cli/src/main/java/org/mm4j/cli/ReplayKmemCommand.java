package org.mm4j.cli;

import org.mm4j.cli.report.HtmlReport;
import org.mm4j.Kernel;
import org.mm4j.base.ProcFs;
import org.mm4j.boot.BootParams;
import org.mm4j.page.Zone;
import org.mm4j.slab.KmemCache;
import org.mm4j.slab.StatItem;
import org.mm4j.trace.kmem.KmemEvent;
import org.mm4j.trace.kmem.KmemEventBatch;
import org.mm4j.trace.kmem.KmemEventPipe;
import org.mm4j.trace.kmem.KmemReplayer;
import org.mm4j.trace.kmem.KmemTraceReader;
import org.mm4j.trace.kmem.Timeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code mm4j replay kmem [--cmdline ...] [--report OUT.html] FILE[.gz|.zst]}. */
@Command(name = "kmem", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
    usageHelpAutoWidth = true,
    header = "Replays an ftrace capture of kmem events through SLUB and the buddy allocator.",
    description = {
        "",
        "Replays an ftrace capture of the kmem events (kmalloc, kfree, kmem_cache_alloc, kmem_cache_free, "
            + "mm_page_alloc, mm_page_free: the text of /sys/kernel/tracing/trace_pipe) through mm4j's SLUB and "
            + "buddy allocator, each event on the CPU slot the trace names.",
        "",
        "Caches named in the events are created on first sight with the kernel's geometry (bytes_req is the "
            + "cache's object_size, bytes_alloc its size: mm4j picks the flags that give that size, else uses "
            + "bytes_alloc as object size); kmalloc events go through mm4j's "
            + "kmalloc. Pointers are hashed by the kernel: an alloc and its free are matched by that value; frees "
            + "of objects allocated before the capture began are counted and skipped; kfree(NULL) is legal. Page "
            + "events are matched by pfn.",
        "",
        "Prints the final /proc/slabinfo and /proc/buddyinfo, totals (events/s, peak slab memory, slabs "
            + "discarded), internal fragmentation per cache (requested vs allocated bytes), the top call sites by "
            + "bytes allocated with the slab and page summaries (as perf kmem stat --caller --alloc, --slab, --page) "
            + "and the SLUB fast/slow path share per cache. Memory stays bounded whatever the trace's length; a progress bar is drawn on "
            + "standard error when it is a terminal. Malformed lines are reported with file and line, counted, "
            + "and skipped.",
        "",
        "Capture a trace like this (as root):",
        "%n  cd /sys/kernel/tracing",
        "  for e in kmalloc kfree kmem_cache_alloc kmem_cache_free \\",
        "      mm_page_alloc mm_page_free; do",
        "    echo 1 > events/kmem/$e/enable; done",
        "  cat trace_pipe | gzip > kmem.trace.gz   # while the workload runs",
        "  # then echo 0 into the same enable files"},
    footer = {"", "Exit status: 0 when the trace replayed with no malformed line, 1 when some lines were "
        + "malformed (they are skipped), 2 when the file cannot be read or --cmdline is bad."})
public final class ReplayKmemCommand implements Callable<Integer> {
    /** The bundled default input: a slice of a real Linux 6.18 capture (see its README section). */
    static final String BUNDLED = "/org/mm4j/cli/kmem-default.trace.gz";
    static final String DEFAULT_REPORT = "mm4j-report.html";
    /** Numbers in the summary: the same text as {@code Locale.ROOT}, formatted faster ({@link HtmlReport#NUMBERS}). */
    private static final Locale NUMBERS = HtmlReport.NUMBERS;
    static final String DEFAULT_MEM = "mem=1G";
    /** Each cache the trace names stays its own (the names in a trace already are the kernel's merge survivors). */
    static final String DEFAULT_OPTS = "slab_nomerge";

    @Option(names = "--cmdline", paramLabel = "PARAMS",
        description = "Kernel command line to boot with (default: \"" + DEFAULT_MEM + " " + DEFAULT_OPTS + "\"; "
            + DEFAULT_MEM + " is added when PARAMS sets no mem=).")
    String cmdline = "";

    @Option(names = "--report", paramLabel = "OUT.html",
        description = "Also write a self-contained HTML report with SVG charts (no network, no script).")
    Path report;

    @Option(names = "--zstd-memory", paramLabel = "SIZE", defaultValue = "128M",
        description = "Largest zstd window decoded, as zstd --memory=SIZE (bytes, or K, M, G; default: "
            + "${DEFAULT-VALUE}, at most 1G); a frame needing more is refused before any memory is taken.")
    String zstdMemory;

    @Option(names = "--max-errors", paramLabel = "N", defaultValue = "20",
        description = "Print at most N malformed-line errors (all are counted; default: ${DEFAULT-VALUE}).")
    int maxErrors;

    @Parameters(index = "0", paramLabel = "FILE",
        description = "The trace: plain text, gzip (.gz) or zstd (.zst), told apart by their first bytes; '-' "
            + "reads standard input.")
    String file;

    @Override
    public Integer call() {
        final long window;
        try {
            window = org.mm4j.trace.kmem.TraceInput.parseZstdMemory(zstdMemory);
            if (window < 1024) {
                throw new IllegalArgumentException("size '" + zstdMemory + "' below 1 KiB");
            }
        } catch (final IllegalArgumentException e) {
            System.err.println("mm4j: --zstd-memory: " + e.getMessage());
            return 2;
        }
        return replay(file, cmdline, report, maxErrors, window, System.out, System.err);
    }

    /** The main job: the bundled trace slice, the report in ./mm4j-report.html. */
    static int mainJob() {
        return mainJob(false);
    }

    /** As above; {@code exitWhenDone}: the process ends when the output is written ({@link #replay}). */
    static int mainJob(final boolean exitWhenDone) {
        return replay(null, "", Path.of(DEFAULT_REPORT), 20, org.mm4j.trace.kmem.TraceInput.DEFAULT_ZSTD_MAX_WINDOW,
            true, exitWhenDone, System.out, System.err);
    }

    /** {@code replay kmem FILE} with every option at its default (Main's fast path: no picocli). */
    static int replayWithDefaults(final String file) {
        return replayWithDefaults(file, false);
    }

    /** As above; {@code exitWhenDone}: the process ends when the output is written ({@link #replay}). */
    static int replayWithDefaults(final String file, final boolean exitWhenDone) {
        return replay(file, "", null, 20, org.mm4j.trace.kmem.TraceInput.DEFAULT_ZSTD_MAX_WINDOW, true, exitWhenDone,
            System.out, System.err);
    }

    /** Replays {@code file} (null = the bundled slice); returns the exit status. */
    static int replay(final String file, final String cmdline, final Path report, final int maxErrors,
                      final PrintStream out, final PrintStream err) {
        return replay(file, cmdline, report, maxErrors, org.mm4j.trace.kmem.TraceInput.DEFAULT_ZSTD_MAX_WINDOW, out, err);
    }

    /** As above, refusing zstd frames whose window is above {@code zstdWindow} bytes. */
    static int replay(final String file, final String cmdline, final Path report, final int maxErrors,
                      final long zstdWindow, final PrintStream out, final PrintStream err) {
        return replay(file, cmdline, report, maxErrors, zstdWindow, true, out, err);
    }

    /**
     * As above; {@code pipelined} false reads with the general parser only ({@link KmemTraceReader#reference}) and
     * replays event by event on this one thread: the reference the fast path (byte-scanning parser on a reader
     * thread, batches replayed in place) is tested against; both must print the same.
     */
    static int replay(final String file, final String cmdline, final Path report, final int maxErrors,
                      final long zstdWindow, final boolean pipelined, final PrintStream out, final PrintStream err) {
        return replay(file, cmdline, report, maxErrors, zstdWindow, pipelined, false, out, err);
    }

    /**
     * As above; with {@code exitWhenDone} (the command line's own process, never a test) a replay that got as far
     * as its summary ends the process there, with its status ({@link System#exit}, output flushed), instead of
     * returning: the kernel, the pipe and the reader are not closed, so the exit neither unmaps the model's memory
     * one reservation at a time (nor binds {@code munmap} for it), nor stops and joins the reader's threads, nor
     * frees the zstd context: the process's end releases all of it at once.
     */
    @SuppressWarnings("ReferenceEquality") // err == System.err: the progress bar is drawn only on the real stderr
    static int replay(final String file, final String cmdline, final Path report, final int maxErrors,
                      final long zstdWindow, final boolean pipelined, final boolean exitWhenDone,
                      final PrintStream out, final PrintStream err) {
        if (report != null && !HtmlReport.reportWritable(report, err)) {
            return 2;
        }
        final String name = file == null ? "bundled trace (a 100,000-event slice of a real Linux 6.18 capture)"
            : file.equals("-") ? "standard input" : file;
        final Input input;
        try {
            input = open(file, zstdWindow, pipelined);
        } catch (final IOException e) {
            err.println("mm4j: " + message(e, file));
            return 2;
        }
        final String cl = cmdline == null || cmdline.isBlank() ? DEFAULT_MEM + " " + DEFAULT_OPTS
            : cmdline.matches("(^|.*\\s)mem=.*") ? cmdline : DEFAULT_MEM + " " + cmdline;
        final BootParams params = Main.paramsOrNull(cl, err);
        if (params == null) {
            closeQuietly(input.stream);
            return 2;
        }
        // errors name the file as the user wrote it (like a compiler's FILE:LINE: message)
        final String shortName = file == null ? "kmem-default.trace.gz" : file.equals("-") ? "stdin" : file;
        final long[] shown = {0};
        final KmemTraceReader.ErrorSink sink = (line, msg) -> {
            if (shown[0]++ < maxErrors) {
                err.println("mm4j: " + shortName + ":" + line + ": " + msg);
            }
        };
        final Progress progress = new Progress(err, input.size, err == System.err && Main.stderrIsTerminal() && file != null);
        // the pipe's thread starts decoding and parsing while this one boots the model (the fixed cost overlaps)
        try (KmemTraceReader reader = pipelined ? new KmemTraceReader(input.stream, shortName, sink)
                : KmemTraceReader.reference(input.stream, shortName, sink);
             KmemEventPipe pipe = pipelined ? new KmemEventPipe(reader) : null;
             Kernel kernel = Main.bootOrNull(params, err)) {
            if (kernel == null) {
                return 2;
            }
            final KmemReplayer replayer = new KmemReplayer(kernel.params(), kernel.buddy(), kernel.slab(), kernel.cpus());
            final KmemEvent ev = new KmemEvent();
            final long t0 = System.nanoTime();
            if (pipe != null) {
                // decompression and parsing run on the pipe's thread, the model on this one
                for (KmemEventBatch b = pipe.next(); b != null; b = pipe.next()) {
                    for (int i = 0, n = b.size(); i < n; i++) {
                        replayer.replay(b, i);
                    }
                    pipe.recycle(b);
                    progress.update(input.counter.count, replayer.events());
                }
            } else {
                while (reader.next(ev)) {
                    replayer.replay(ev);
                    if ((replayer.events() & 0x3fff) == 0) {
                        progress.update(input.counter.count, replayer.events());
                    }
                }
            }
            replayer.sample();
            replayer.finish();
            final long nanos = System.nanoTime() - t0;
            progress.done();
            if (reader.malformed() > maxErrors) {
                err.println("mm4j: " + shortName + ": " + (reader.malformed() - maxErrors) + " more malformed "
                    + "lines not shown");
            }
            summary(out, name, kernel, reader, replayer, nanos);
            if (report != null) {
                writeReport(report, name, kernel, reader, replayer, nanos);
                out.println();
                out.println("Report: " + report.toAbsolutePath().normalize()
                    + "  (one HTML file, open it in any browser)");
            }
            final int status = reader.malformed() > 0 ? 1 : 0;
            if (exitWhenDone) {
                out.flush();
                err.flush();
                System.exit(status);
            }
            return status;
        } catch (final IOException | java.io.UncheckedIOException e) {
            progress.done();
            err.println("mm4j: " + message(e, shortName));
            return 2;
        }
    }

    private static String message(final Exception e, final String file) {
        if (e instanceof NoSuchFileException) {
            return file + ": No such file or directory";
        }
        final String m = e.getMessage() == null ? e.toString() : e.getMessage();
        return m.startsWith(String.valueOf(file)) ? m : file + ": " + m;
    }

    // ---- input -------------------------------------------------------------------------------------------------

    /** Counts the bytes read from the underlying (compressed) file, for the progress bar. */
    @SuppressWarnings("NonAtomicVolatileUpdate") // one reading thread writes count; the progress bar only reads it
    static final class Counter extends FilterInputStream {
        volatile long count;

        Counter(final InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            final int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(final byte[] b, final int off, final int len) throws IOException {
            final int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }

    record Input(InputStream stream, Counter counter, long size) {
    }

    static Input open(final String file) throws IOException {
        return open(file, org.mm4j.trace.kmem.TraceInput.DEFAULT_ZSTD_MAX_WINDOW);
    }

    static Input open(final String file, final long zstdWindow) throws IOException {
        return open(file, zstdWindow, false);
    }

    /** As above; {@code readAhead}: a compressed input is decoded on a thread of its own. */
    static Input open(final String file, final long zstdWindow, final boolean readAhead) throws IOException {
        if (file == null) {
            final InputStream res = ReplayKmemCommand.class.getResourceAsStream(BUNDLED);
            if (res == null) {
                throw new IOException("the bundled trace " + BUNDLED + " is missing from this build");
            }
            final Counter c = new Counter(res);
            return new Input(decoded(new BufferedInputStream(c, 1 << 16), "bundled", zstdWindow, readAhead), c, -1);
        }
        if (file.equals("-")) {
            final Counter c = new Counter(System.in);
            return new Input(decoded(new BufferedInputStream(c, 1 << 16), "stdin", zstdWindow, readAhead), c, -1);
        }
        final Path p = Path.of(file);
        if (!Files.exists(p)) {
            throw new NoSuchFileException(file);
        }
        if (Files.isDirectory(p)) {
            throw new IOException(file + ": Is a directory");
        }
        final long size = Files.size(p);
        final Counter c = new Counter(Files.newInputStream(p));
        return new Input(decoded(new BufferedInputStream(c, 1 << 16), file, zstdWindow, readAhead), c, size);
    }

    /** The decompressed stream; with {@code readAhead}, a compressed one is decoded on its own thread. */
    private static InputStream decoded(final BufferedInputStream raw, final String name, final long zstdWindow,
                                       final boolean readAhead) throws IOException {
        return readAhead ? org.mm4j.trace.kmem.TraceInput.decompressAhead(raw, name, zstdWindow)
            : org.mm4j.trace.kmem.TraceInput.decompress(raw, name, zstdWindow);
    }

    private static void closeQuietly(final InputStream in) {
        try {
            in.close();
        } catch (final IOException ignored) {
            // nothing to do
        }
    }

    // ---- progress ----------------------------------------------------------------------------------------------

    /** A one-line progress bar on a terminal's stderr; silent otherwise. */
    static final class Progress {
        private final PrintStream err;
        private final long size;
        private final boolean on;
        private final long t0 = System.nanoTime();
        private long lastDraw;
        private boolean drawn;

        Progress(final PrintStream err, final long size, final boolean on) {
            this.err = err;
            this.size = size;
            this.on = on;
        }

        void update(final long bytes, final long events) {
            if (!on) {
                return;
            }
            final long now = System.nanoTime();
            if (now - lastDraw < 200_000_000L) {
                return;
            }
            lastDraw = now;
            drawn = true;
            final double secs = (now - t0) / 1e9;
            final StringBuilder sb = new StringBuilder("\r");
            if (size > 0) {
                final double f = Math.min(1, bytes / (double) size);
                final int w = 30;
                final int full = (int) (f * w);
                sb.append('[').append("#".repeat(full)).append(" ".repeat(w - full)).append("] ")
                    .append(String.format(NUMBERS, "%3.0f%% ", f * 100));
            }
            sb.append(String.format(NUMBERS, "%,d events, %,.0f events/s ", events, events / Math.max(secs, 1e-9)));
            err.print(sb);
            err.flush();
        }

        void done() {
            if (drawn) {
                err.print("\r" + " ".repeat(79) + "\r");
                err.flush();
                drawn = false;
            }
        }
    }

    // ---- output ------------------------------------------------------------------------------------------------

    static String procOr(final Kernel k, final String path, final String fallback) {
        try {
            return k.procfs().read(path);
        } catch (final ProcFs.ProcFsException e) {
            return fallback;
        }
    }

    /** /proc/buddyinfo as the kernel prints it (used when the page subsystem registers none). */
    static String buddyinfo(final Kernel k) {
        final StringBuilder sb = new StringBuilder();
        for (final Zone z : k.buddy().zones()) {
            sb.append(String.format("Node %d, zone %8s ", z.nid(), z.name()));
            for (int o = 0; o < Zone.NR_PAGE_ORDERS; o++) {
                sb.append(String.format("%6d ", z.nrFree(o)));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static void summary(final PrintStream out, final String name, final Kernel k, final KmemTraceReader r,
                                final KmemReplayer rp, final long nanos) {
        final double secs = nanos / 1e9;
        out.println("mm4j replay kmem: " + name);
        out.printf(NUMBERS, "booted: %s%n%n", k.params().cmdline());
        final String slabinfo = procOr(k, "/proc/slabinfo", null);
        if (slabinfo != null) {
            out.println("== /proc/slabinfo (final) ==");
            out.print(slabinfo);
            out.println();
        }
        out.println("== /proc/buddyinfo (final) ==");
        out.print(procOr(k, "/proc/buddyinfo", buddyinfo(k)));
        out.println();
        out.println("== totals ==");
        out.printf(NUMBERS, "events replayed   %,d in %.2f s = %,.0f events/s (trace covered %.3f s of kernel "
            + "time)%n", rp.events(), secs, rp.events() / Math.max(secs, 1e-9), rp.traceMicros() / 1e6);
        final StringBuilder per = new StringBuilder();
        for (int t = 0; t < KmemEvent.NR_TYPES; t++) {
            per.append(String.format(NUMBERS, "%s %,d  ", KmemEvent.typeName(t), rp.events(t)));
        }
        out.println("  by event        " + per.toString().strip());
        out.printf(NUMBERS, "lines             %,d read, %,d malformed (skipped), %,d other events, %,d lost "
            + "by the kernel%n", r.lineNo(), r.malformed(), r.otherEvents(), r.lostEvents());
        out.printf(NUMBERS, "frees of objects allocated before the capture  %,d (skipped); kfree(NULL) %,d%n",
            rp.preCaptureObjectFrees(), rp.kfreeNull());
        out.printf(NUMBERS, "pages freed that were allocated before the capture  %,d (skipped)%n",
            rp.preCapturePageFrees());
        out.printf(NUMBERS, "still live at the end  %,d objects, %,d page blocks%n", rp.liveObjects(),
            rp.livePages());
        if (rp.modelPageFailures() + rp.modelObjectFailures() + rp.kernelPageFailures() > 0) {
            out.printf(NUMBERS, "allocation failures  model: %,d page, %,d object; traced kernel: %,d page%n",
                rp.modelPageFailures(), rp.modelObjectFailures(), rp.kernelPageFailures());
        }
        out.printf(NUMBERS, "peak slab memory  %,d KiB; slabs allocated %,d, discarded %,d (FREE_SLAB)%n",
            rp.peakSlabPages() * 4, rp.stat(StatItem.ALLOC_SLAB), rp.stat(StatItem.FREE_SLAB));
        out.printf(NUMBERS, "caches created for the trace  %,d (%,d with the kernel's object_size and size)%n",
            rp.cachesCreated(), rp.cachesMatched());
        if (rp.refused() > 0) {
            out.printf(NUMBERS, "events the model refused  %,d (first: %s)%n", rp.refused(), rp.firstRefusal());
        }
        if (rp.cpuFolded() > 0) {
            out.printf(NUMBERS, "events on CPUs >= nr_cpus=%d, replayed on CPU %% nr_cpus  %,d%n",
                k.cpus().nrCpus(), rp.cpuFolded());
        }
        final List<KmemReplayer.CacheStats> caches = byAllocated(rp);
        if (!caches.isEmpty()) {
            out.println();
            out.println("== internal fragmentation per cache (replayed allocations) ==");
            out.printf("%-24s %10s %14s %14s %7s%n", "cache", "allocs", "requested", "allocated", "waste");
            for (final KmemReplayer.CacheStats c : caches.subList(0, Math.min(20, caches.size()))) {
                out.printf(NUMBERS, "%-24s %,10d %,14d %,14d %6.1f%%%n", c.name(), c.allocs(), c.bytesReq(),
                    c.bytesAlloc(), 100 * c.wasteShare());
            }
        }
        callSites(out, rp);
        final java.util.LinkedHashMap<String, long[]> paths = paths(k);
        if (!paths.isEmpty()) {
            out.println();
            out.println("== SLUB fast vs slow path per cache (stat counters: alloc_fastpath, alloc_slowpath, "
                + "free_fastpath, free_slowpath) ==");
            out.printf("%-24s %12s %12s %7s %12s %12s %7s%n", "cache", "alloc fast", "alloc slow", "fast",
                "free fast", "free slow", "fast");
            int shown = 0;
            for (final java.util.Map.Entry<String, long[]> e : paths.entrySet()) {
                if (shown++ == 20) {
                    out.printf("(%d more caches: /sys/kernel/slab/CACHE/alloc_fastpath ... with mm4j.config.SLUB_STATS=y)%n",
                        paths.size() - 20);
                    break;
                }
                final long[] v = e.getValue();
                out.printf(NUMBERS, "%-24s %,12d %,12d %s %,12d %,12d %s%n", e.getKey(), v[0], v[1],
                    share(v[0], v[0] + v[1]), v[2], v[3], share(v[2], v[2] + v[3]));
            }
        }
    }

    /** Rows of the per-call-site table. */
    static final int TOP_SITES = 20;

    /** The call sites by bytes allocated, largest first (ties by name). */
    static List<KmemReplayer.CallSiteStats> bySiteAllocated(final KmemReplayer rp) {
        final List<KmemReplayer.CallSiteStats> sites = new ArrayList<>(rp.callSites());
        // the order of comparingLong(bytesAlloc).reversed().thenComparing(site), as a lambda of ours: the JDK's
        // comparator combinators are serializable lambdas, which the AOT cache does not hold (three classes
        // spun at run time for each summary)
        sites.sort((a, b) -> {
            final int c = Long.compare(b.bytesAlloc(), a.bytesAlloc());
            return c != 0 ? c : a.site().compareTo(b.site());
        });
        return sites;
    }

    /** The slab summary, the top call sites and the page summary, as perf kmem stat --slab/--caller/--page. */
    private static void callSites(final PrintStream out, final KmemReplayer rp) {
        final List<KmemReplayer.CallSiteStats> sites = bySiteAllocated(rp);
        long req = 0;
        long alloc = 0;
        long hits = 0;
        for (final KmemReplayer.CallSiteStats c : sites) {
            req += c.bytesReq();
            alloc += c.bytesAlloc();
            hits += c.hits();
        }
        out.println();
        out.println("== slab summary (as perf kmem stat --slab; replayed allocations) ==");
        out.printf(NUMBERS, "total bytes requested   %,d%n", req);
        out.printf(NUMBERS, "total bytes allocated   %,d%n", alloc);
        out.printf(NUMBERS, "bytes wasted on internal fragmentation  %,d (%s)%n", alloc - req,
            share(alloc - req, alloc).strip());
        out.printf(NUMBERS, "allocations %,d, frees %,d (of objects allocated during the replay; %,d of them on"
            + " another CPU than the allocation: ping-pong)%n", hits, rp.objectFrees(), rp.pingPongs());
        if (!sites.isEmpty()) {
            out.println();
            out.println("== top call sites by bytes allocated (as perf kmem stat --caller --alloc) ==");
            out.printf("%-44s %22s %22s %10s %10s %6s%n", "call site", "total_alloc/per", "total_req/per", "hits",
                "ping-pong", "frag");
            for (final KmemReplayer.CallSiteStats c : sites.subList(0, Math.min(TOP_SITES, sites.size()))) {
                out.printf(NUMBERS, "%-44s %22s %22s %,10d %,10d %s%n", c.site(), perHit(c.bytesAlloc(), c.hits()),
                    perHit(c.bytesReq(), c.hits()), c.hits(), c.pingPong(),
                    share(c.bytesAlloc() - c.bytesReq(), c.bytesAlloc()));
            }
            if (sites.size() > TOP_SITES) {
                out.printf("(%d more call sites)%n", sites.size() - TOP_SITES);
            }
        }
        out.println();
        out.println("== page summary (as perf kmem stat --page; replayed mm_page_alloc/mm_page_free) ==");
        final StringBuilder head = new StringBuilder(String.format("%-8s", "order"));
        final StringBuilder allocs = new StringBuilder(String.format("%-8s", "allocs"));
        final StringBuilder frees = new StringBuilder(String.format("%-8s", "frees"));
        long pagesIn = 0;
        long pagesOut = 0;
        long nAlloc = 0;
        long nFree = 0;
        for (int o = 0; o < Timeline.ORDERS; o++) {
            head.append(String.format("%10d", o));
            allocs.append(String.format(NUMBERS, "%,10d", rp.pageAllocs(o)));
            frees.append(String.format(NUMBERS, "%,10d", rp.pageFrees(o)));
            nAlloc += rp.pageAllocs(o);
            nFree += rp.pageFrees(o);
            pagesIn += rp.pageAllocs(o) << o;
            pagesOut += rp.pageFrees(o) << o;
        }
        out.printf(NUMBERS, "allocation requests %,d (%,d KiB), frees %,d (%,d KiB); failed: %,d in the traced "
            + "kernel, %,d in the model%n", nAlloc, pagesIn * 4, nFree, pagesOut * 4, rp.kernelPageFailures(),
            rp.modelPageFailures());
        out.println(head);
        out.println(allocs);
        out.println(frees);
    }

    private static String perHit(final long bytes, final long hits) {
        return String.format(NUMBERS, "%,d/%d", bytes, hits == 0 ? 0 : bytes / hits);
    }

    /** Per cache: {fast allocs, slow allocs, fast frees, slow frees}, for caches that served anything. */
    @SuppressWarnings("NonApiType") // the insertion order is the report's order: callers rely on a LinkedHashMap
    static java.util.LinkedHashMap<String, long[]> paths(final Kernel k) {
        final java.util.LinkedHashMap<String, long[]> out = new java.util.LinkedHashMap<>();
        final List<KmemCache> caches = new ArrayList<>(k.slab().caches());
        // busiest first, ties by name (a lambda of ours: see bySiteAllocated)
        caches.sort((a, b) -> {
            final int c = Long.compare(-(a.stat(StatItem.ALLOC_FASTPATH) + a.stat(StatItem.ALLOC_SLOWPATH)),
                -(b.stat(StatItem.ALLOC_FASTPATH) + b.stat(StatItem.ALLOC_SLOWPATH)));
            return c != 0 ? c : a.name().compareTo(b.name());
        });
        for (final KmemCache c : caches) {
            final long[] v = {c.stat(StatItem.ALLOC_FASTPATH), c.stat(StatItem.ALLOC_SLOWPATH),
                c.stat(StatItem.FREE_FASTPATH), c.stat(StatItem.FREE_SLOWPATH)};
            if (v[0] + v[1] + v[2] + v[3] > 0) {
                out.put(c.name(), v);
            }
        }
        return out;
    }

    private static String share(final long part, final long total) {
        return total == 0 ? "     -" : String.format(NUMBERS, "%5.1f%%", 100.0 * part / total);
    }

    static List<KmemReplayer.CacheStats> byAllocated(final KmemReplayer rp) {
        final List<KmemReplayer.CacheStats> caches = new ArrayList<>(rp.caches());
        // largest first, ties by name (a lambda of ours: see bySiteAllocated)
        caches.sort((a, b) -> {
            final int c = Long.compare(b.bytesAlloc(), a.bytesAlloc());
            return c != 0 ? c : a.name().compareTo(b.name());
        });
        return caches;
    }

    private static void writeReport(final Path file, final String name, final Kernel k, final KmemTraceReader r,
                                    final KmemReplayer rp, final long nanos) throws IOException {
        final HtmlReport h = new HtmlReport("mm4j replay kmem: " + name);
        h.paragraph(String.format(NUMBERS, "%,d events replayed in %.2f s (%,.0f events/s) on a model kernel "
                + "booted with \"%s\"; %,d lines, %,d malformed.", rp.events(), nanos / 1e9,
            rp.events() / Math.max(nanos / 1e9, 1e-9), k.params().cmdline(), r.lineNo(), r.malformed()));
        final Timeline tl = rp.timeline();
        final int n = tl.size();
        final double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = tl.eventIndex(i);
        }
        // slab memory per cache over time: the 8 largest at their peak, the rest as "other"
        final List<String> series = tl.seriesNames();
        if (!series.isEmpty()) {
            final Integer[] idx = new Integer[series.size()];
            final long[] peak = new long[series.size()];
            for (int s = 0; s < series.size(); s++) {
                idx[s] = s;
                for (int i = 0; i < n; i++) {
                    peak[s] = Math.max(peak[s], tl.value(i, s));
                }
            }
            java.util.Arrays.sort(idx, (a, b) -> Long.compare(peak[b], peak[a]));
            final int top = Math.min(10, idx.length);
            final List<String> names = new ArrayList<>();
            final List<double[]> ys = new ArrayList<>();
            for (int t = 0; t < top; t++) {
                names.add(series.get(idx[t]));
                final double[] y = new double[n];
                for (int i = 0; i < n; i++) {
                    y[i] = tl.value(i, idx[t]) / 1024.0;
                }
                ys.add(y);
            }
            if (idx.length > top) {
                final double[] y = new double[n];
                for (int t = top; t < idx.length; t++) {
                    for (int i = 0; i < n; i++) {
                        y[i] += tl.value(i, idx[t]) / 1024.0;
                    }
                }
                names.add("other (" + (idx.length - top) + " caches)");
                ys.add(y);
            }
            h.heading("Slab memory per cache over time");
            h.lineChart("Slab memory (KiB, stacked) per cache", "events replayed", "KiB", x, names, ys, true);
        }
        final List<KmemReplayer.CacheStats> caches = byAllocated(rp);
        if (!caches.isEmpty()) {
            final List<KmemReplayer.CacheStats> topC = caches.subList(0, Math.min(15, caches.size()));
            final List<String> labels = new ArrayList<>();
            final double[] req = new double[topC.size()];
            final double[] alloc = new double[topC.size()];
            final List<List<String>> rows = new ArrayList<>();
            for (int i = 0; i < topC.size(); i++) {
                final KmemReplayer.CacheStats c = topC.get(i);
                labels.add(c.name());
                req[i] = c.bytesReq();
                alloc[i] = c.bytesAlloc();
                rows.add(List.of(c.name(), String.format(NUMBERS, "%,d", c.allocs()),
                    String.format(NUMBERS, "%,d", c.bytesReq()), String.format(NUMBERS, "%,d", c.bytesAlloc()),
                    String.format(NUMBERS, "%.1f %%", 100 * c.wasteShare())));
            }
            h.heading("Internal fragmentation per cache");
            // bytes per cache span decades (one 20 MB cache beside 60 kB ones): a log scale keeps them all readable
            // the waste a log scale shrinks to a few pixels, said in words beside each row
            final String[] notes = new String[topC.size()];
            for (int i = 0; i < topC.size(); i++) {
                final double w = 100 * topC.get(i).wasteShare();
                notes[i] = w >= 0.05 ? String.format(NUMBERS, "%.1f %% waste", w) : null;
            }
            h.barChart("Requested vs allocated bytes (replayed allocations, 15 largest caches)", "bytes", "cache",
                labels, List.of("requested", "allocated"), List.of(req, alloc), true, notes);
            h.table(List.of("cache", "allocs", "requested B", "allocated B", "waste"), rows);
        }
        final List<KmemReplayer.CallSiteStats> sites = bySiteAllocated(rp);
        if (!sites.isEmpty()) {
            final List<List<String>> rows = new ArrayList<>();
            for (final KmemReplayer.CallSiteStats c : sites.subList(0, Math.min(TOP_SITES, sites.size()))) {
                rows.add(List.of(c.site(), perHit(c.bytesAlloc(), c.hits()), perHit(c.bytesReq(), c.hits()),
                    String.format(NUMBERS, "%,d", c.hits()), String.format(NUMBERS, "%,d", c.pingPong()),
                    share(c.bytesAlloc() - c.bytesReq(), c.bytesAlloc()).strip()));
            }
            h.heading("Top call sites by bytes allocated (as perf kmem stat --caller --alloc)");
            h.table(List.of("call site", "total_alloc/per", "total_req/per", "hits", "ping-pong", "frag"), rows);
        }
        final List<List<String>> pageRows = new ArrayList<>();
        for (int o = 0; o < Timeline.ORDERS; o++) {
            if (rp.pageAllocs(o) + rp.pageFrees(o) > 0) {
                pageRows.add(List.of(Integer.toString(o), String.format(NUMBERS, "%,d", rp.pageAllocs(o)),
                    String.format(NUMBERS, "%,d", rp.pageFrees(o))));
            }
        }
        if (!pageRows.isEmpty()) {
            h.heading("Page allocations and frees per order (as perf kmem stat --page)");
            h.table(List.of("order", "allocs", "frees"), pageRows);
        }
        final java.util.LinkedHashMap<String, long[]> paths = paths(k);
        if (!paths.isEmpty()) {
            final List<String> labels = new ArrayList<>();
            final List<double[]> rows = new ArrayList<>();
            for (final java.util.Map.Entry<String, long[]> e : paths.entrySet()) {
                if (labels.size() == 30) {
                    break;
                }
                final long[] v = e.getValue();
                labels.add(e.getKey() + " alloc");
                rows.add(new double[] {v[0], v[1]});
                labels.add(e.getKey() + " free");
                rows.add(new double[] {v[2], v[3]});
            }
            h.heading("SLUB fast vs slow path per cache");
            h.shareChart("Share of fast-path allocations and frees (the 15 busiest caches)", labels,
                List.of("fast path", "slow path"), rows.toArray(new double[0][]));
        }
        h.heading("Buddy allocator: free pages per order over time");
        final List<String> orders = new ArrayList<>();
        final List<double[]> fy = new ArrayList<>();
        for (int o = 0; o < Timeline.ORDERS; o++) {
            orders.add("order " + o);
            final double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                y[i] = tl.freePages(i, o);
            }
            fy.add(y);
        }
        // one panel per order, each on its own scale: 11 lines on one chart tangle
        h.smallMultiples("Free blocks per order (/proc/buddyinfo over time), one panel per order", "events replayed",
            "free blocks", x, orders, fy);
        h.pre("/proc/buddyinfo (final)", procOr(k, "/proc/buddyinfo", buddyinfo(k)));
        final String slabinfo = procOr(k, "/proc/slabinfo", null);
        if (slabinfo != null) {
            h.pre("/proc/slabinfo (final)", slabinfo);
        }
        h.write(file);
    }
}
