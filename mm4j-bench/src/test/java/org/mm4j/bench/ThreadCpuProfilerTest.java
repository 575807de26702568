package org.mm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.AverageTimeResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ResultRole;

/** The JMH profiler's two secondary results: the score scaled by a CPU share, never above the score itself. */
class ThreadCpuProfilerTest {

    @Test
    void scalesTheScoreByTheWorkersShareOfTheIterationOnACpu() throws Exception {
        final AtomicBoolean stop = new AtomicBoolean();
        final CountDownLatch running = new CountDownLatch(1);
        final Thread worker = new Thread(() -> {
            running.countDown();
            while (!stop.get()) {
                Thread.onSpinWait();
            }
        }, "test-jmh-worker-1");
        worker.start();
        running.await();
        final ThreadCpuProfiler p = new ThreadCpuProfiler();
        final List<? extends Result<?>> extra;
        try {
            p.beforeIteration(null, null);
            Thread.sleep(200);
            final IterationResult r = new IterationResult(null, null, null);
            // 10 ns/op: 1,000,000 operations in 10 ms
            r.addResult(new AverageTimeResult(ResultRole.PRIMARY, "op", 1_000_000, 10_000_000L, TimeUnit.NANOSECONDS));
            extra = p.afterIteration(null, null, r);
        } finally {
            stop.set(true);
            worker.join();
        }
        final Map<String, Result<?>> byLabel = extra.stream()
            .collect(Collectors.toMap(Result::getLabel, Function.identity()));
        assertEquals(Map.of("cpu", "ns/op", "process", "ns/op"), byLabel.values().stream()
            .collect(Collectors.toMap(Result::getLabel, Result::getScoreUnit)));
        final double cpu = byLabel.get("cpu").getScore();
        // a thread's CPU time never exceeds the wall time it was measured over: at most the score itself
        assertTrue(cpu > 0 && cpu <= 10.0 * 1.01, "cpu=" + cpu + " (expected: in (0, 10] ns/op)");
        assertTrue(byLabel.get("process").getScore() > 0, "process=" + byLabel.get("process").getScore());
    }

    @Test
    void withoutAWorkerThereIsNothingToScale() {
        final ThreadCpuProfiler p = new ThreadCpuProfiler();
        p.beforeIteration(null, null);
        final IterationResult r = new IterationResult(null, null, null);
        r.addResult(new AverageTimeResult(ResultRole.PRIMARY, "op", 1, 10L, TimeUnit.NANOSECONDS));
        assertEquals(List.of(), p.afterIteration(null, null, r));
    }
}
