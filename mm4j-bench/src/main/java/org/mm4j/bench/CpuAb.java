package org.mm4j.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Before/after (or A/B/C...) of the fast path in <em>one process</em>, by thread CPU time, for a machine too busy
 * for wall-clock JMH: each variant is a benchmark jar loaded by a class loader of its own (so each has its own
 * compiled code and profile), an allocator row and system properties set while that variant boots (read by
 * {@code static final} fields at class initialisation, so an experiment switch costs the variant nothing). The
 * workloads are {@link SafetyCost}'s (alloc-free-64, ring-64, ring-mixed-16-4096, batch-1024x64), run in rounds of
 * about {@value SafetyCost#BATCH} operations; the variants take turns round by round, in a rotating order, so
 * they see the same background load and the same neighbours on the shared core. Prints, per workload and variant,
 * the median and minimum CPU ns per alloc+free pair over the last two thirds of the rounds and the median of the
 * per-round ratios to the first variant (the paired ratio is what to read: it cancels the load of the moment).
 *
 * <p>Run: {@code java -Xms512m -Xmx512m -Xmn128m -XX:+AlwaysPreTouch --enable-native-access=ALL-UNNAMED -cp
 * mm4j-benchmarks.jar org.mm4j.bench.CpuAb ROUNDS WORKLOADS VARIANT...}, {@code WORKLOADS} a comma list of
 * {@code alloc-free-64,ring-64,ring-mixed-16-4096,batch-1024x64}, each {@code VARIANT}
 * {@code label=JAR=ALLOCATOR[=PROP,PROP~VALUE,...]} (a property without {@code ~} is set to {@code true}). Example:
 * {@code base=before.jar=mm4j new=after.jar=mm4j off=after.jar=mm4j-double-free-kernel mimalloc=after.jar=mimalloc}
 * (set {@code GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384} for jemalloc). This jar's own {@link SafetyCost}
 * runs in every variant (put in front of the variant's jar), so jars that predate it can be measured too.
 *
 * <p>{@code -Dmm4j.cpuab.raw=FILE} also writes every round's CPU ns per pair, one line per round and variant
 * ({@code workload,round,label,ns}, all rounds, warm-up included), for pairings other than with the first variant
 * (e.g. the floor rows' difference, docs/speed-history.md, "Fifth pass (issue 13)").
 *
 * <p>{@code -Dmm4j.cpuab.sched=true} (Linux) adds two columns to each raw line: the CPU the thread was on when the
 * round ended and the involuntary context switches (preemptions) during the round ({@code /proc/thread-self}, read
 * outside the timed part). On this project's 2-vCPU machine the two CPUs often run 1.5-2x apart for minutes, for
 * every allocator alike; a process that stays on the slow one is a "slow process" (docs/speed-history.md, "Eighth
 * pass (issue 13)"). {@code -Dmm4j.cpuab.reopen=true} closes every variant's allocator and opens a new one (a new
 * kernel, the same class loader and compiled code) before each workload after the first: list a workload twice to
 * tell a slow kernel instance from slow compiled code.
 *
 * <p>{@code -Dmm4j.cpuab.old=true} runs a full GC ({@code System.gc()}) once the variants are open: the workloads'
 * slot arrays then sit in old regions, as a long-lived program's would, so the caller's store of a segment into
 * them takes G1's full post-write barrier (with its {@code StoreLoad} fence on JDK 25). Without it they stay young
 * when no GC runs during the run (the 64-byte workloads of the address and cached-view rows allocate nothing),
 * and the barrier stops at its young-card test.
 *
 * <p>alloc-free-64 runs each row's {@link Allocator#allocWriteFree} (the handle in a local, docs/speed-history.md,
 * "Ninth pass (issue 13)") and hands it to a JMH Blackhole, so run with {@link #BLACKHOLE_FLAGS} as JMH's forks do;
 * variants of jars that predate that method, and variants with the property {@code mm4j.cpuab.slots}, run the slot
 * form all rows had before ({@code refs[0]}). The rings of a segment row ({@link SegmentRow}) run in their natural
 * form ({@link SafetyCost}'s {@code ringSegments}, as {@link RingBench#step}), except for jars that predate that type
 * and for variants with {@code mm4j.cpuab.slots} (the slot form: the segment through {@code refs[slot]}, its
 * address also stored into the {@code long[]}); {@code mm4j.cpuab.step} runs {@link RingBench#step} itself. Their
 * batch runs in its natural form too ({@link SafetyCost}'s {@code batchSegments}, as {@link BatchBench}), except
 * for the same jars and variants; {@code mm4j.cpuab.step} runs {@link BatchBench#batch1024x64} itself.
 *
 * <p>Not JMH: one JVM, no fork isolation; the JIT compiles each variant's loop separately. CPU time still carries
 * the cache pollution of context switches and a busy sibling hyperthread: compare variants of one run, not runs.
 */
public final class CpuAb {
    static final String[] WORKLOADS = {"alloc-free-64", "ring-64", "ring-mixed-16-4096", "batch-1024x64"};
    /**
     * The JIT flags JMH's forks of {@code mm4j bench} get that matter here: compiler blackholes (JMH 1.37's, which
     * make {@code Blackhole.consume} free) and the inlining of {@link Allocator#allocWriteFree} (the benchmark's
     * compiler hints and {@link PeerComparison#FORK_JIT_ARGS}).
     */
    static final List<String> BLACKHOLE_FLAGS = List.of("-XX:+UnlockDiagnosticVMOptions",
        "-XX:+UnlockExperimentalVMOptions", "-DcompilerBlackholesEnabled=true",
        "-XX:CompileCommand=quiet", "-XX:CompileCommand=blackhole,org/openjdk/jmh/infra/Blackhole.consumeCompiler",
        "-XX:CompileCommand=inline,org/mm4j/bench/*.allocWriteFree");

    private CpuAb() {
    }

    /**
     * One variant: its label, allocator and the workload methods of its class loader, and how to open another
     * allocator of its row there ({@code open}, {@code bind}, {@code row}; properties are not set again).
     */
    private record Variant(String label, Object allocator, Method allocFree, Method ring, Method batch, Method open,
                           Method bind, String row) {
        Variant reopen() throws Exception {
            ((AutoCloseable) allocator).close();
            final Object a = open.invoke(null, row);
            bind.invoke(a, 0);
            return new Variant(label, a, allocFree, ring, batch, open, bind, row);
        }
    }

    public static void main(final String[] args) throws Exception {
        if (args.length < 3) {
            throw new IllegalArgumentException("args=" + Arrays.toString(args)
                + " (expected: ROUNDS WORKLOADS label=JAR=ALLOCATOR[=PROPS] ...)");
        }
        final int rounds = Integer.parseInt(args[0]);
        if (rounds < 3) {
            throw new IllegalArgumentException("ROUNDS=" + rounds + " (expected: >= 3)");
        }
        final List<Integer> work = new ArrayList<>();
        for (final String w : args[1].split(",")) {
            final int i = Arrays.asList(WORKLOADS).indexOf(w);
            if (i < 0) {
                throw new IllegalArgumentException("workload=" + w + " (expected: one of "
                    + String.join(", ", WORKLOADS) + ")");
            }
            work.add(i);
        }
        if (!Boolean.getBoolean("compilerBlackholesEnabled")) {
            System.err.println("CpuAb: alloc-free-64 hands each allocation to a JMH Blackhole; run with JMH's flags "
                + "for compiler blackholes, as its forks do: " + String.join(" ", BLACKHOLE_FLAGS));
        }
        final Path own = ownSafetyCost();
        final List<Variant> vs = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            vs.add(open(args[i], own));
        }
        if (Boolean.getBoolean("mm4j.cpuab.old")) {
            // the workloads' slot arrays (SafetyCost's statics) and the allocators' state into old regions
            System.gc();
        }
        final int[] sizes64 = RingBench.constant(64);
        final int[] mixed = KmallocRandomBench.logUniform(RingBench.SEQUENCE, RingMixedBench.SEED,
            RingMixedBench.MIN_SIZE, RingMixedBench.MAX_SIZE);
        final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        final int n = vs.size();
        final String rawFile = System.getProperty("mm4j.cpuab.raw");
        final PrintStream raw = rawFile == null ? null : new PrintStream(Files.newOutputStream(Path.of(rawFile)),
            false, StandardCharsets.UTF_8);
        final boolean sched = Boolean.getBoolean("mm4j.cpuab.sched");
        final boolean reopen = Boolean.getBoolean("mm4j.cpuab.reopen");
        boolean first = true;
        for (final int w : work) {
            if (reopen && !first) {
                for (int i = 0; i < n; i++) {
                    vs.set(i, vs.get(i).reopen());
                }
            }
            first = false;
            final double ops = w == 3 ? SafetyCost.BATCHES * 1024.0 : SafetyCost.BATCH;
            final double[][] ns = new double[n][rounds];
            final int[][] cpu = new int[n][rounds];
            final long[][] preempted = new long[n][rounds];
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < n; k++) {
                    final int i = (k + r) % n;
                    final Variant v = vs.get(i);
                    final long s0 = sched ? preemptions() : 0;
                    final long t0 = mx.getCurrentThreadCpuTime();
                    switch (w) {
                        case 0 -> v.allocFree.invoke(null, v.allocator);
                        case 1 -> v.ring.invoke(null, v.allocator, sizes64);
                        case 2 -> v.ring.invoke(null, v.allocator, mixed);
                        default -> v.batch.invoke(null, v.allocator);
                    }
                    ns[i][r] = (mx.getCurrentThreadCpuTime() - t0) / ops;
                    if (sched) {
                        preempted[i][r] = preemptions() - s0;
                        cpu[i][r] = currentCpu();
                    }
                }
            }
            final StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-19s", WORKLOADS[w]));
            final int from = rounds / 3;
            for (int i = 0; i < n; i++) {
                final double[] t = Arrays.copyOfRange(ns[i], from, rounds);
                Arrays.sort(t);
                sb.append(String.format(Locale.ROOT, " | %s %.2f (min %.2f) x%.3f", vs.get(i).label,
                    t[t.length / 2], t[0], pairedMedian(ns[i], ns[0], from, rounds)));
            }
            System.out.println(sb);
            if (raw != null) {
                for (int r = 0; r < rounds; r++) {
                    for (int i = 0; i < n; i++) {
                        raw.printf(Locale.ROOT, "%s,%d,%s,%.4f", WORKLOADS[w], r, vs.get(i).label, ns[i][r]);
                        raw.println(sched ? "," + cpu[i][r] + "," + preempted[i][r] : "");
                    }
                }
                raw.flush();
            }
        }
        if (raw != null) {
            raw.close();
        }
        for (final Variant v : vs) {
            ((AutoCloseable) v.allocator).close();
        }
    }

    /** This jar's SafetyCost class file in a directory of its own, to put in front of every variant's jar. */
    private static Path ownSafetyCost() throws IOException {
        final Path dir = Files.createTempDirectory("mm4j-cpu-ab");
        final Path file = dir.resolve("org/mm4j/bench/SafetyCost.class");
        Files.createDirectories(file.getParent());
        try (InputStream in = CpuAb.class.getResourceAsStream("SafetyCost.class")) {
            if (in == null) {
                throw new IllegalStateException("SafetyCost.class is not beside CpuAb.class");
            }
            Files.copy(in, file);
        }
        file.toFile().deleteOnExit();
        file.getParent().toFile().deleteOnExit();
        file.getParent().getParent().toFile().deleteOnExit();
        file.getParent().getParent().getParent().toFile().deleteOnExit();
        dir.toFile().deleteOnExit();
        return dir;
    }

    private static Variant open(final String spec, final Path own) throws Exception {
        final String[] p = spec.split("=", 4);
        if (p.length < 3) {
            throw new IllegalArgumentException("variant=" + spec + " (expected: label=JAR=ALLOCATOR[=PROPS])");
        }
        final Path jar = Path.of(p[1]);
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("variant=" + spec + ": no such jar " + jar);
        }
        final List<String> props = p.length > 3 ? Arrays.asList(p[3].split(",")) : List.of();
        for (final String x : props) {
            final int t = x.indexOf('~');
            System.setProperty(t < 0 ? x : x.substring(0, t), t < 0 ? "true" : x.substring(t + 1));
        }
        try {
            @SuppressWarnings("resource")  // lives as long as the run
            final URLClassLoader cl = new URLClassLoader(new URL[] {own.toUri().toURL(), jar.toUri().toURL()},
                ClassLoader.getPlatformClassLoader());
            final Class<?> ai = cl.loadClass("org.mm4j.bench.Allocator");
            final Method open = cl.loadClass("org.mm4j.bench.Allocators").getDeclaredMethod("open", String.class);
            open.setAccessible(true);
            final Object a = open.invoke(null, p[2]);
            final Method bind = ai.getDeclaredMethod("bindThread", int.class);
            bind.setAccessible(true);
            bind.invoke(a, 0);  // boots the allocator's thread state while the properties are set
            final Class<?> sc = cl.loadClass("org.mm4j.bench.SafetyCost");
            final boolean natural = Arrays.stream(ai.getDeclaredMethods())
                .anyMatch(m -> m.getName().equals("allocWriteFree")) && !Boolean.getBoolean("mm4j.cpuab.slots");
            final Method af = sc.getDeclaredMethod(natural ? "allocFree" : "allocFreeSlots", ai);
            final Method ring = sc.getDeclaredMethod(loopMethod("ring", cl, a), ai, int[].class);
            final Method batch = sc.getDeclaredMethod(loopMethod("batch", cl, a), ai);
            af.setAccessible(true);
            ring.setAccessible(true);
            batch.setAccessible(true);
            return new Variant(p[0], a, af, ring, batch, open, bind, p[2]);
        } catch (final InvocationTargetException e) {
            throw new IllegalArgumentException("variant=" + spec + ": " + e.getCause(), e.getCause());
        } finally {
            for (final String x : props) {
                final int t = x.indexOf('~');
                System.clearProperty(t < 0 ? x : x.substring(0, t));
            }
        }
    }

    /**
     * The {@link SafetyCost} method that runs {@code loop} ({@code ring} or {@code batch}) for a variant whose class
     * loader is {@code cl}, with the variant's properties set: {@code loop + "Step"} (the JMH benchmark's own step)
     * with {@code mm4j.cpuab.step}, {@code loop + "Segments"} (the natural form) for a {@link SegmentRow} of a jar
     * that has that type (unless {@code mm4j.cpuab.slots}), {@code loop} (the slot form) otherwise.
     */
    static String loopMethod(final String loop, final ClassLoader cl, final Object allocator) {
        if (Boolean.getBoolean("mm4j.cpuab.step")) {
            return loop + "Step";
        }
        return isSegmentRow(cl, allocator) && !Boolean.getBoolean("mm4j.cpuab.slots") ? loop + "Segments" : loop;
    }

    /** Whether {@code allocator} is a {@link SegmentRow} of its jar (jars older than that type have none). */
    private static boolean isSegmentRow(final ClassLoader cl, final Object allocator) {
        try {
            return cl.loadClass("org.mm4j.bench.SegmentRow").isInstance(allocator);
        } catch (final ClassNotFoundException e) {
            return false;
        }
    }

    /** The CPU this thread runs on (field 39 of {@code /proc/thread-self/stat}). */
    static int currentCpu() throws IOException {
        final String stat = Files.readString(Path.of("/proc/thread-self/stat"));
        // the fields after the command name (which may hold spaces) start at field 3
        final String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(f[39 - 3]);
    }

    /** This thread's involuntary context switches so far ({@code /proc/thread-self/status}). */
    static long preemptions() throws IOException {
        for (final String line : Files.readAllLines(Path.of("/proc/thread-self/status"))) {
            if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        throw new IOException("/proc/thread-self/status: no nonvoluntary_ctxt_switches");
    }

    /** The median of the rounds {@code [from, to)} of {@code ns}. */
    static double median(final double[] ns, final int from, final int to) {
        final double[] t = Arrays.copyOfRange(ns, from, to);
        Arrays.sort(t);
        return t[t.length / 2];
    }

    /** The median of the per-round ratios {@code ns[r] / base[r]} over the rounds {@code [from, to)}. */
    static double pairedMedian(final double[] ns, final double[] base, final int from, final int to) {
        final double[] ratio = new double[to - from];
        for (int r = from; r < to; r++) {
            ratio[r - from] = ns[r] / base[r];
        }
        Arrays.sort(ratio);
        return ratio[ratio.length / 2];
    }
}
