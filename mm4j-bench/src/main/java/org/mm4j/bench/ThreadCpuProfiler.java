package org.mm4j.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * A JMH profiler ({@code -prof org.mm4j.bench.ThreadCpuProfiler}) that adds each iteration's score scaled by the
 * share of its wall time the benchmark threads were on a CPU: {@code ·cpu}, "CPU ns/op", comparable with
 * {@link CpuAb}'s per-thread CPU time on a machine too busy for wall-clock scores (docs/speed-history.md, "Ninth pass
 * (issue 13)"). The threads are JMH's workers, found by name ({@code jmh-worker}); the share is their CPU time over
 * the iteration's wall time divided by their number, so it includes JMH's own per-iteration synchronisation (a few
 * microseconds in an iteration of hundreds of milliseconds). {@code ·process} does the same with the whole JVM's CPU
 * time (the GC's and the JIT's threads too): what the benchmark thread's work costs other threads shows there.
 *
 * <p>Threads: JMH calls it from its control thread, before and after each iteration.
 */
public final class ThreadCpuProfiler implements InternalProfiler {
    private final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    private final Map<Long, Long> cpuAtStart = new HashMap<>();
    private final com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private long wallAtStart;
    private long processAtStart;

    @Override
    public String getDescription() {
        return "the score scaled by the benchmark threads' CPU time over the iteration's wall time";
    }

    @Override
    public void beforeIteration(final BenchmarkParams benchmarkParams, final IterationParams iterationParams) {
        cpuAtStart.clear();
        for (final Thread t : workers()) {
            cpuAtStart.put(t.threadId(), mx.getThreadCpuTime(t.threadId()));
        }
        processAtStart = os.getProcessCpuTime();
        wallAtStart = System.nanoTime();
    }

    @Override
    public List<? extends Result<?>> afterIteration(final BenchmarkParams benchmarkParams,
                                                    final IterationParams iterationParams,
                                                    final IterationResult result) {
        final long wall = System.nanoTime() - wallAtStart;
        final long process = os.getProcessCpuTime() - processAtStart;
        long cpu = 0;
        int n = 0;
        for (final Thread t : workers()) {
            final Long start = cpuAtStart.get(t.threadId());
            if (start != null) {  // a worker born during the iteration is not counted
                cpu += mx.getThreadCpuTime(t.threadId()) - start;
                n++;
            }
        }
        if (n == 0 || wall <= 0) {
            return List.of();
        }
        final double score = result.getPrimaryResult().getScore();
        return List.of(
            new ScalarResult("cpu", score * cpu / n / wall, result.getScoreUnit(), AggregationPolicy.AVG),
            new ScalarResult("process", score * process / n / wall, result.getScoreUnit(), AggregationPolicy.AVG));
    }

    private static List<Thread> workers() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().contains("jmh-worker"))
            .toList();
    }
}
