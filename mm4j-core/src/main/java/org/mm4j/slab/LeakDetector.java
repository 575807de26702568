package org.mm4j.slab;

import org.mm4j.base.KernelLog;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;

import java.lang.foreign.MemorySegment;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A leak detector for JVM users of {@link SlabAllocator#allocate}, after Netty's {@code ResourceLeakDetector}:
 * Java references are not scannable (kmemleak's way, scanning memory for pointers, cannot see a segment held in a
 * Java field), so a tracked segment gets a {@link PhantomReference} record tied to the {@link MemorySegment}
 * instance {@code allocate} returned; {@link SlabAllocator#free(MemorySegment)} removes and clears it. When the GC
 * finds the instance unreachable and the record was never cleared, the segment was dropped without {@code free}:
 * the detector prints
 * <pre>
 * mm4j: LEAK: MemorySegment 0xffff888000123440 (size 64, kmalloc-64) was garbage-collected without free();
 *   allocated at:
 *  com.example.Cache.put(Cache.java:42)
 * </pre>
 * (one line in the log, wrapped here) to the kernel log (the Java frames, innermost first) and hands a
 * {@link Leak} to every {@link LeakListener}. The stack is captured as a {@link Throwable} (filled in natively,
 * resolved to frames only when a leak is reported: about 5 times cheaper than a {@link StackWalker} walk that
 * interns its frames, as page_owner's depot does).
 *
 * <p>Levels ({@link Level}; boot parameter {@code mm4j.leak_detection=disabled|simple|advanced|paranoid}, or
 * {@link #level(Level)} from Java at any time): {@code DISABLED} (the default: nothing is tracked, and
 * {@code allocate} costs one test of a field of the allocator, the frees nothing: their fast paths' address limit
 * is 0 while the allocator consults the detector), {@code SIMPLE} (one allocation in
 * {@value #SAMPLING_INTERVAL} per allocator is tracked, by a per-allocator counter; the report names the
 * allocation site, one frame), {@code ADVANCED} (sampled as SIMPLE; the report has the allocation stack, up to
 * {@value #STACK_DEPTH} frames, and the last {@value #MAX_RECORDS} access records {@link #record} left),
 * {@code PARANOID} (as ADVANCED, every allocation tracked). Departure from Netty: its default is SIMPLE; mm4j's
 * is DISABLED, since the issue's rule is that debugging facilities are off until asked.
 *
 * <p>Not reclaimed: a leaked object stays allocated (counted in the cache's active objects, as the kernel's
 * kmemleak leaves an unreferenced object allocated). Its address may have been copied out of the segment
 * ({@code address()}, a reinterpreted segment, a {@code long} in a data structure) and still be in use;
 * reclaiming it would turn a leak into a use-after-free. Reporting without reclaiming is the safe choice.
 *
 * <p>What counts as a leak is the instance: keep the segment {@code allocate} returned (or free it) while its
 * memory is in use. A slice or reinterpreted segment kept instead of it does not keep the record alive (a
 * {@code MemorySegment} slice holds no reference to its parent, unlike Netty's derived buffers), so such a
 * segment, freed later, is reported when the original instance is collected. Free tracked segments through
 * any thread's allocator: {@code free(MemorySegment)}, and {@code kfree(kaddr)} or {@code free(cache, kaddr)} by
 * kernel address, drop the record before the object can be handed out again. The kernel layer's
 * {@link Slub#kfree} and {@link KmemCache#free} do not look at records: an object freed there keeps its record
 * until its address is tracked again or its segment is collected (and reported).
 *
 * <p>{@code MemorySegment} is a value-based class: the record relies on the identity of the instance, which JDK 25
 * keeps; a JDK that made it a value class would refuse the phantom reference.
 *
 * <p>When reports are made: a tracked allocation first drains the GC's queue (as Netty's {@code track} does), and
 * {@link #reportLeaks()} drains it on demand (tests: {@code System.gc()} then {@code reportLeaks()} in a loop).
 * No thread of its own.
 *
 * <p>Invariants: {@link #live} maps the native address of each tracked, unfreed segment to its record; the
 * counting filter holds, per hash bucket of addresses, the number of records in {@link #live} of that bucket, so
 * a free whose bucket count is 0 has nothing to untrack (no map lookup, no boxing). A record leaves
 * {@link #live} exactly once: by a free (cleared, never enqueued afterwards), by a newer record for the same
 * address (the object was freed by address and handed out again), or by its report.
 *
 * <p>Threads: any thread may track, untrack, record and report; the map and the filter are concurrent, the level
 * is volatile, the sampling counters are plain fields of each allocator (owner only, racy for the virtual
 * threads' shared allocator: sampling stays about one in {@value #SAMPLING_INTERVAL}).
 */
public final class LeakDetector {
    /** The levels, as Netty's {@code ResourceLeakDetector.Level}. */
    public enum Level {
        /** Nothing is tracked. */
        DISABLED,
        /** About one allocation in {@value LeakDetector#SAMPLING_INTERVAL} is tracked; reports name the site. */
        SIMPLE,
        /** Sampled as SIMPLE; reports have the allocation stack and the recent access records. */
        ADVANCED,
        /** Every allocation is tracked, as ADVANCED. */
        PARANOID;

        /**
         * The level named {@code value} ({@code disabled}, {@code simple}, {@code advanced}, {@code paranoid}, in
         * any case).
         *
         * @throws IllegalArgumentException naming the value when it is none of these
         */
        public static Level parse(final String value) {
            if (value != null) {
                for (final Level l : values()) {
                    if (l.name().equalsIgnoreCase(value.strip())) {
                        return l;
                    }
                }
            }
            throw new IllegalArgumentException("mm4j.leak_detection=" + value
                + " (expected: disabled, simple, advanced or paranoid)");
        }

        /** The boot parameter's spelling. */
        public String paramValue() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One leak: the segment's kernel virtual address and size, the cache its object came from, the allocating
     * thread, the allocation frames ({@code %pS} symbols, innermost first; one under SIMPLE) and the access
     * records, newest first (each a hint line followed by its frames).
     */
    public record Leak(long kaddr, long byteSize, String cache, String thread, List<String> allocatedAt,
                       List<String> records) {
        public Leak {
            allocatedAt = List.copyOf(allocatedAt);
            records = List.copyOf(records);
        }
    }

    /** One in this many allocations of an allocator is tracked under SIMPLE and ADVANCED (a power of two). */
    public static final int SAMPLING_INTERVAL = 128;
    /** Frames of an allocation stack (ADVANCED, PARANOID) and of an access record. */
    public static final int STACK_DEPTH = 32;
    /** Access records kept per tracked segment (the newest; Netty's default target is 4 too). */
    public static final int MAX_RECORDS = 4;
    private static final int FILTER_BITS = 12;


    private final Slub slub;
    private final KernelLog log;
    private volatile Level level;
    private final ReferenceQueue<MemorySegment> queue = new ReferenceQueue<>();
    /** Tracked, unfreed segments by native address (see the invariants). */
    private final ConcurrentHashMap<Long, Track> live = new ConcurrentHashMap<>();
    /** Per hash bucket of native addresses: how many records of {@link #live} fall in it. */
    private final AtomicIntegerArray filter = new AtomicIntegerArray(1 << FILTER_BITS);
    private final List<LeakListener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong trackedTotal = new AtomicLong();
    /**
     * Set by the first record ever made, never cleared: until then the kernel layer's frees ({@code Slub.kfree},
     * {@code KmemCache.free}) pay one volatile read for the detector and nothing more.
     */
    private volatile boolean everTracked;
    private final AtomicLong leaksTotal = new AtomicLong();

    LeakDetector(final Slub slub, final KernelLog log, final Level level) {
        this.slub = slub;
        this.log = log;
        this.level = level;
    }

    public Level level() {
        return level;
    }

    /**
     * Sets the level; allocations made from now on follow it. Records already made stay until freed or
     * reported: while there are any, the allocators keep dropping them on free, even under DISABLED.
     */
    public LeakDetector level(final Level newLevel) {
        if (newLevel == null) {
            throw new IllegalArgumentException("level=null (expected: one of " + List.of(Level.values()) + ")");
        }
        level = newLevel;
        slub.leakLevelChanged(newLevel != Level.DISABLED || !live.isEmpty());
        return this;
    }

    public LeakDetector addListener(final LeakListener l) {
        listeners.add(l);
        return this;
    }

    public LeakDetector removeListener(final LeakListener l) {
        listeners.remove(l);
        return this;
    }

    /** Segments tracked now (allocated under a level other than DISABLED, sampled, not freed, not reported). */
    public int trackedNow() {
        return live.size();
    }

    /** Segments tracked since boot. */
    public long trackedTotal() {
        return trackedTotal.get();
    }

    /** Leaks reported since boot. */
    public long leaksReported() {
        return leaksTotal.get();
    }

    /** Whether {@code segment}'s address has a record (it was tracked and is neither freed nor reported). */
    public boolean isTracked(final MemorySegment segment) {
        return live.containsKey(segment.address());
    }

    /**
     * An access record (Netty's {@code touch(hint)}), kept under ADVANCED and PARANOID for a tracked segment: the
     * caller's stack and {@code hint}'s text, printed with the leak report (the newest {@value #MAX_RECORDS}).
     * Does nothing for an untracked segment or under SIMPLE and DISABLED.
     */
    public void record(final MemorySegment segment, final Object hint) {
        final Level l = level;
        if (l != Level.ADVANCED && l != Level.PARANOID || live.isEmpty()) {
            return;
        }
        final Track t = live.get(segment.address());
        if (t != null) {
            t.addRecord(String.valueOf(hint), new Throwable());
        }
    }

    /**
     * Reports every tracked segment the GC has found unreachable since the last call: a kernel-log report and
     * the listeners, per leak. Returns the number reported.
     */
    public int reportLeaks() {
        int n = 0;
        for (Reference<? extends MemorySegment> r = queue.poll(); r != null; r = queue.poll()) {
            final Track t = (Track) r;
            if (live.remove(t.address, t)) {
                filter.decrementAndGet(bucket(t.address));
                report(t);
                n++;
            }
        }
        return n;
    }

    // ------------------------------------------------------------------ the allocator's hooks

    /**
     * {@link SlabAllocator#allocate} while the allocator's {@code leakTracking} is set: samples, and tracks the
     * sampled segment (a new instance, not the allocator's cached view, which stays reachable from it).
     */
    MemorySegment allocate(final SlabAllocator a, final long byteSize, final long byteAlignment) {
        final Level l = level;
        if (l == Level.DISABLED || l != Level.PARANOID && (++a.leakTick & (SAMPLING_INTERVAL - 1)) != 0) {
            return a.allocateUntracked(byteSize, byteAlignment);
        }
        reportLeaks();
        final MemorySegment segment = a.allocateUntracked(byteSize, byteAlignment).asSlice(0);
        track(segment, l);
        return segment;
    }

    private void track(final MemorySegment segment, final Level l) {
        final long address = segment.address();
        final long kaddr = slub.kaddrOfNative(address);
        final long phys = kaddr - PhysicalMemory.PAGE_OFFSET;
        final long slab = slub.virtToSlab(phys);
        final KmemCache s = slab < 0 ? null : slub.cacheById(slub.memMap.lpInt(slab, MemMap.SLAB_CACHE));
        final Throwable stack = new Throwable();
        final Track t = new Track(segment, queue, address, kaddr, segment.byteSize(),
            s == null ? "page allocator" : s.name(), Thread.currentThread().getName(), stack,
            l == Level.SIMPLE ? 1 : STACK_DEPTH);
        everTracked = true;
        filter.incrementAndGet(bucket(address));
        final Track old = live.put(address, t);
        if (old != null) {  // freed by address and handed out again: the old record's object is not this one
            old.clear();
            filter.decrementAndGet(bucket(address));
        }
        trackedTotal.incrementAndGet();
    }

    /**
     * {@link SlabAllocator#free(MemorySegment)}, {@code kfree} and {@code free(cache, kaddr)} while
     * {@code leakTracking} is set: drops the record of the native {@code address}, if any.
     */
    void untrack(final long address) {
        if (filter.get(bucket(address)) == 0) {
            return;
        }
        final Track t = live.remove(address);
        if (t != null) {
            t.clear();
            filter.decrementAndGet(bucket(address));
        }
    }

    /**
     * The kernel layer's {@code kfree}/{@code kmem_cache_free} of the object at physical offset {@code phys}: a
     * segment of the JVM allocator freed there (its kernel address passed to {@code Slub.kfree} or
     * {@code KmemCache.free}) loses its record as it would through {@link SlabAllocator}, so it is never reported
     * as a leak once its segment is collected. One volatile read until a record was ever made.
     */
    void untrackKernelFree(final long phys) {
        if (everTracked) {
            untrack(slub.mem.nativeAddress(phys));
        }
    }

    private static int bucket(final long address) {
        return (int) ((address * 0x9E3779B97F4A7C15L) >>> (64 - FILTER_BITS));
    }

    private void report(final Track t) {
        leaksTotal.incrementAndGet();
        final List<String> frames = frames(t.stack, t.depth);
        final List<String> records = t.records();
        final StringBuilder sb = new StringBuilder(256);
        sb.append("mm4j: LEAK: MemorySegment 0x").append(Long.toHexString(t.kaddr)).append(" (size ")
            .append(t.byteSize).append(", ").append(t.cache).append(") was garbage-collected without free(); ")
            .append("allocated at:\n");
        for (final String f : frames) {
            sb.append(' ').append(f).append('\n');
        }
        if (frames.size() == 1 && level == Level.SIMPLE) {
            sb.append("mm4j: LEAK: boot with mm4j.leak_detection=advanced for the whole stack and access records\n");
        }
        if (!records.isEmpty()) {
            sb.append("mm4j: LEAK: recent access records (newest first):\n");
            for (final String r : records) {
                sb.append(r).append('\n');
            }
        }
        log.printk(sb.toString());
        final Leak leak = new Leak(t.kaddr, t.byteSize, t.cache, t.thread, frames, records);
        for (final LeakListener l : listeners) {
            try {
                l.onLeak(leak);
            } catch (final RuntimeException e) {
                log.printk("mm4j: LEAK: a leak listener threw " + e);
            }
        }
    }

    /**
     * The frames of {@code stack}, innermost first, without the allocator's and java.lang.foreign's at the top
     * (the leak detector, {@link SlabAllocator}, {@code SegmentAllocator}'s default methods), at most
     * {@code depth}: {@code class.method(File.java:line)}.
     */
    static List<String> frames(final Throwable stack, final int depth) {
        final StackTraceElement[] st = stack.getStackTrace();
        int i = 0;
        while (i < st.length && isAllocatorFrame(st[i].getClassName())) {
            i++;
        }
        final List<String> out = new ArrayList<>(Math.min(depth, st.length - i));
        for (; i < st.length && out.size() < depth; i++) {
            final StackTraceElement e = st[i];
            out.add(e.getClassName() + "." + e.getMethodName() + "(" + (e.getFileName() == null ? "Unknown Source"
                : e.getFileName() + (e.getLineNumber() >= 0 ? ":" + e.getLineNumber() : "")) + ")");
        }
        return out;
    }

    private static boolean isAllocatorFrame(final String className) {
        return className.equals(LeakDetector.class.getName()) || className.equals(SlabAllocator.class.getName())
            || className.startsWith("java.lang.foreign.") || className.startsWith("jdk.internal.foreign.");
    }

    /**
     * The record of one tracked segment: a phantom reference to the instance the user holds, with what a report
     * needs (never the segment itself, which would keep it reachable).
     */
    private static final class Track extends PhantomReference<MemorySegment> {
        final long address;
        final long kaddr;
        final long byteSize;
        final String cache;
        final String thread;
        /** The allocation stack, captured, resolved only for a report. */
        final Throwable stack;
        /** Frames of {@link #stack} a report prints (1 under SIMPLE). */
        final int depth;
        /** Access records, newest last: hint and stack. Guarded by this. */
        private ArrayDeque<Object[]> records;

        Track(final MemorySegment segment, final ReferenceQueue<MemorySegment> queue, final long address,
              final long kaddr, final long byteSize, final String cache, final String thread, final Throwable stack,
              final int depth) {
            super(segment, queue);
            this.address = address;
            this.kaddr = kaddr;
            this.byteSize = byteSize;
            this.cache = cache;
            this.thread = thread;
            this.stack = stack;
            this.depth = depth;
        }

        synchronized void addRecord(final String hint, final Throwable where) {
            if (records == null) {
                records = new ArrayDeque<>(MAX_RECORDS);
            }
            if (records.size() == MAX_RECORDS) {
                records.removeFirst();
            }
            records.addLast(new Object[] {hint, where});
        }

        /** The records, newest first: {@code #N: hint} then one line per frame. */
        synchronized List<String> records() {
            if (records == null) {
                return List.of();
            }
            final List<String> out = new ArrayList<>();
            int i = 1;
            for (final var it = records.descendingIterator(); it.hasNext(); i++) {
                final Object[] r = it.next();
                final StringBuilder sb = new StringBuilder("#").append(i).append(": ").append(r[0]);
                for (final String f : frames((Throwable) r[1], STACK_DEPTH)) {
                    sb.append("\n ").append(f);
                }
                out.add(sb.toString());
            }
            return out;
        }
    }
}
