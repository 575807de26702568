package org.mm4j.trace.kmem;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Samples of a replay over time, in bounded memory: at most {@link #MAX_SAMPLES} rows; when full, every other row
 * is dropped and the sampling interval doubles, so a trace of any length ends with between MAX/2 and MAX evenly
 * spaced samples. Each row holds the event count, the trace time, the free pages per buddy order and the slab
 * bytes per series (one series per cache, added as caches appear). Not thread-safe.
 */
public final class Timeline {
    public static final int MAX_SAMPLES = 1024;
    public static final int ORDERS = 11;

    private long interval;
    private long nextAt;
    private int size;
    private final long[] eventIndex = new long[MAX_SAMPLES];
    private final long[] micros = new long[MAX_SAMPLES];
    private final long[][] freePages = new long[MAX_SAMPLES][];
    private final long[][] series = new long[MAX_SAMPLES][];
    private final List<String> seriesNames = new ArrayList<>();
    private final java.util.Map<String, Integer> seriesIndex = new java.util.HashMap<>();

    public Timeline(final long initialInterval) {
        this.interval = Math.max(1, initialInterval);
    }

    /** Whether a sample is due after {@code events} events. */
    public boolean due(final long events) {
        return events >= nextAt;
    }

    /** The index of series {@code name}, added when new. */
    public int seriesIndex(final String name) {
        final Integer i = seriesIndex.get(name);
        if (i != null) {
            return i;
        }
        seriesNames.add(name);
        seriesIndex.put(name, seriesNames.size() - 1);
        return seriesNames.size() - 1;
    }

    /** How many series there are. */
    public int seriesCount() {
        return seriesNames.size();
    }

    /** Records a row; {@code values} is indexed by series index (copied). */
    public void add(final long events, final long timeMicros, final long[] freePerOrder, final long[] values) {
        if (size == MAX_SAMPLES) {
            for (int i = 0; i < MAX_SAMPLES / 2; i++) {
                eventIndex[i] = eventIndex[2 * i + 1];
                micros[i] = micros[2 * i + 1];
                freePages[i] = freePages[2 * i + 1];
                series[i] = series[2 * i + 1];
            }
            Arrays.fill(freePages, MAX_SAMPLES / 2, MAX_SAMPLES, null);
            Arrays.fill(series, MAX_SAMPLES / 2, MAX_SAMPLES, null);
            size = MAX_SAMPLES / 2;
            interval *= 2;
        }
        eventIndex[size] = events;
        micros[size] = timeMicros;
        freePages[size] = freePerOrder.clone();
        series[size] = values.clone();
        size++;
        nextAt = events + interval;
    }

    public int size() {
        return size;
    }

    public long eventIndex(final int i) {
        return eventIndex[i];
    }

    public long micros(final int i) {
        return micros[i];
    }

    /** Free pages of {@code order} (all zones) at sample {@code i}. */
    public long freePages(final int i, final int order) {
        return freePages[i][order];
    }

    /** Value of series {@code s} at sample {@code i} (0 before the series existed). */
    public long value(final int i, final int s) {
        final long[] row = series[i];
        return s < row.length ? row[s] : 0;
    }

    public List<String> seriesNames() {
        return List.copyOf(seriesNames);
    }
}
