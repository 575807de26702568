package org.mm4j.trace.kmem;

/**
 * A batch of parsed {@link KmemEvent}s in reused primitive arrays (one array per field the replay reads: not the pid,
 * node or migratetype, which no part of the model takes), handed from the thread that decodes and parses a trace to
 * the thread that replays it ({@link KmemEventPipe}). Filling and reading a batch
 * allocates nothing: strings in it (cache names, call sites) are the reader's interned instances. The replayer
 * reads the arrays in place ({@link KmemReplayer#replay(KmemEventBatch, int)}).
 *
 * <p>Threading: one thread at a time owns a batch; the hand-over through the pipe's queues is the happens-before
 * edge between the filler's writes and the reader's reads.
 */
public final class KmemEventBatch {
    private final int capacity;
    private int size;
    final byte[] type;
    final int[] cpu;
    final long[] micros;
    final long[] ptr;
    final long[] bytesReq;
    final long[] bytesAlloc;
    final int[] gfp;
    final String[] cacheName;
    final String[] callSite;
    final int[] cacheNameId;
    final int[] callSiteId;
    final long[] pfn;
    final byte[] order;
    final long[] lineNo;

    public KmemEventBatch(final int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity=" + capacity + " (expected: >= 1)");
        }
        this.capacity = capacity;
        type = new byte[capacity];
        cpu = new int[capacity];
        micros = new long[capacity];
        ptr = new long[capacity];
        bytesReq = new long[capacity];
        bytesAlloc = new long[capacity];
        gfp = new int[capacity];
        cacheName = new String[capacity];
        callSite = new String[capacity];
        cacheNameId = new int[capacity];
        callSiteId = new int[capacity];
        pfn = new long[capacity];
        order = new byte[capacity];
        lineNo = new long[capacity];
    }

    public int size() {
        return size;
    }

    public boolean isFull() {
        return size == capacity;
    }

    public void clear() {
        size = 0;
    }

    /** Appends a copy of {@code ev}; the batch must not be full. */
    public void add(final KmemEvent ev) {
        final int i = size++;
        type[i] = (byte) ev.type;
        cpu[i] = ev.cpu;
        micros[i] = ev.timestampMicros;
        ptr[i] = ev.ptr;
        bytesReq[i] = ev.bytesReq;
        bytesAlloc[i] = ev.bytesAlloc;
        gfp[i] = ev.gfp;
        cacheName[i] = ev.cacheName;
        callSite[i] = ev.callSite;
        cacheNameId[i] = ev.cacheNameId;
        callSiteId[i] = ev.callSiteId;
        pfn[i] = ev.pfn;
        order[i] = (byte) ev.order;
        lineNo[i] = ev.lineNo;
    }
}
