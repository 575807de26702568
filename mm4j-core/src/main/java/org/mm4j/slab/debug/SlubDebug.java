package org.mm4j.slab.debug;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.mm4j.base.CpuSlots;
import org.mm4j.base.Current;
import org.mm4j.base.InternalApi;
import org.mm4j.base.KernelLog;
import org.mm4j.base.jfr.MmEvents;
import org.mm4j.page.PhysicalMemory;

/**
 * SLUB debugging (CONFIG_SLUB_DEBUG of Linux 6.18, mm/slub.c): red zones, poisoning, padding and free-pointer
 * checks, user tracking, {@code validate}, and the kernel's reports in dmesg. One instance per kernel.
 *
 * <p>Java names map to the kernel's (the table is in the package documentation); each check keeps the kernel's
 * order of checks, its repairs ({@code restore_bytes}, the freelist cut) and its messages.
 *
 * <p>Error counting: while a {@link KunitErrors} scope is open on a thread, reports from that thread are not
 * printed but counted exactly where {@code slab_add_kunit_errors()} counts them in the kernel (one per
 * object_err, slab_err and slab_fix, one per byte check before its fix, one per leaked object; lib/tests/slub_kunit.c).
 *
 * <p>Threads: every check runs with the cache's node list lock held by the caller, so no two checks of one cache
 * run at once; caches may report concurrently, each report in one printk call. Listeners run on the reporting
 * thread. The taint mask is global and only grows. Nothing here runs on a fast path.
 */
public final class SlubDebug {
    /** SLUB_RED_INACTIVE: red zone of a free object. */
    public static final int SLUB_RED_INACTIVE = 0xbb;
    /** SLUB_RED_ACTIVE: red zone of an allocated object. */
    public static final int SLUB_RED_ACTIVE = 0xcc;
    /** POISON_INUSE: padding and a fresh slab. */
    public static final int POISON_INUSE = 0x5a;
    /** POISON_FREE: bytes of a free poisoned object. */
    public static final int POISON_FREE = 0x6b;
    /** POISON_END: the last byte of a free poisoned object. */
    public static final int POISON_END = 0xa5;
    static final int MAX_OBJS_PER_PAGE = 32767;
    private static final String BANNER_EQ = "=".repeat(77);
    private static final String BANNER_DASH = "-".repeat(77);

    private final PhysicalMemory mem;
    private final KernelLog log;
    private final CpuSlots cpus;
    /** {@code current}: the task whose pid and comm the WARN block and the tracks record. */
    private final Current current;
    private final DebugTrack tracks = new DebugTrack();
    private final AtomicInteger taint = new AtomicInteger();
    private final List<DebugListener> listeners = new CopyOnWriteArrayList<>();
    @SuppressWarnings("ThreadLocalUsage") // per kernel, not per class: two booted kernels count their own errors
    private final ThreadLocal<int[]> kunit = new ThreadLocal<>();
    @SuppressWarnings("ThreadLocalUsage") // per kernel, as kunit above
    private final ThreadLocal<int[]> events = ThreadLocal.withInitial(() -> new int[1]);
    @SuppressWarnings("ThreadLocalUsage") // per kernel, as kunit above
    private final ThreadLocal<SlubDebugException> pending = new ThreadLocal<>();
    private volatile boolean strict;
    private volatile boolean warnings = true;

    @InternalApi("org.mm4j.slab")
    public SlubDebug(final PhysicalMemory mem, final KernelLog log, final CpuSlots cpus, final Current current) {
        this.mem = mem;
        this.log = log;
        this.cpus = cpus;
        this.current = current;
    }

    /** The user-tracking tables (call sites, stacks, the stack depth). */
    public DebugTrack tracks() {
        return tracks;
    }

    public void addListener(final DebugListener listener) {
        listeners.add(listener);
    }

    public void removeListener(final DebugListener listener) {
        listeners.remove(listener);
    }

    /**
     * Strict mode: the first report of an operation becomes a {@link SlubDebugException}, thrown when the
     * allocator finishes the operation (see {@link #checkpoint()}).
     */
    public void strict(final boolean on) {
        this.strict = on;
        if (!on) {
            pending.remove();
        }
    }

    public boolean strict() {
        return strict;
    }

    /** Whether reports end with the kernel's WARN block ("cut here" ... "end trace"); default on. */
    public void warnings(final boolean on) {
        this.warnings = on;
    }

    /** The global taint mask (bit 5 = B bad page, bit 9 = W warning). */
    public int taintMask() {
        return taint.get();
    }

    /** {@code print_tainted()} now. */
    public String tainted() {
        return DebugFormat.tainted(taint.get());
    }

    /** Drops the pending strict-mode exception of this thread (the allocator reported it another way). */
    public void clearPending() {
        pending.remove();
    }

    /**
     * Throws the pending strict-mode exception of this thread, if any. The allocator calls it when an operation on
     * a debug cache is complete and its locks are released; its validate entry point does the same.
     */
    public void checkpoint() {
        final SlubDebugException e = pending.get();
        if (e != null) {
            pending.remove();
            throw e;
        }
    }

    // ---------------------------------------------------------------- kunit-style error counting

    /** A {@code slab_errors} counter for the current thread: reports are counted instead of printed. */
    public final class KunitErrors implements AutoCloseable {
        private final int[] counter = new int[1];
        private final int[] previous;

        private KunitErrors() {
            previous = kunit.get();
            kunit.set(counter);
        }

        /** {@code slab_errors}. */
        public int count() {
            return counter[0];
        }

        /** {@code slab_errors = 0}. */
        public void reset() {
            counter[0] = 0;
        }

        @Override
        public void close() {
            if (previous == null) {
                kunit.remove();
            } else {
                kunit.set(previous);
            }
        }
    }

    /** Opens a kunit error-counting scope on the calling thread (like the "slab_errors" kunit resource). */
    public KunitErrors kunitErrors() {
        return new KunitErrors();
    }

    /**
     * The number of error events (the points where the kernel calls {@code slab_add_kunit_errors()}) seen on the
     * calling thread so far, printed or not; a caller takes the difference around a check to count its errors.
     */
    public int errorEvents() {
        return events.get()[0];
    }

    /** {@code slab_add_kunit_errors()}: counts the event, and says whether a kunit scope swallows it. */
    private boolean slabAddKunitErrors() {
        events.get()[0]++;
        final int[] c = kunit.get();
        if (c == null) {
            return false;
        }
        c[0]++;
        return true;
    }

    private boolean slabInKunitTest() {
        return kunit.get() != null;
    }

    // ---------------------------------------------------------------- layout helpers

    private static long getInfoEnd(final DebugCache s) {
        return s.offset() >= s.inuse() ? s.inuse() + 8L : s.inuse();
    }

    private static boolean slubDebugOrigSize(final DebugCache s) {
        return s.storeUser() && s.isKmalloc();
    }

    private static long sizeFromObject(final DebugCache s) {
        return s.redZone() ? s.size() - s.redLeftPad() : s.size();
    }

    /** {@code get_track(s, object, alloc)}: the address of the alloc (true) or free (false) track. */
    public static long trackAddress(final DebugCache s, final long object, final boolean alloc) {
        return object + getInfoEnd(s) + (alloc ? 0 : DebugTrack.TRACK_SIZE);
    }

    private long origSizeAddress(final DebugCache s, final long object) {
        return object + getInfoEnd(s) + 2L * DebugTrack.TRACK_SIZE;
    }

    /** {@code get_orig_size}: the kmalloc request size, or object_size when not tracked. */
    public long getOrigSize(final DebugCache s, final long object) {
        if (!slubDebugOrigSize(s)) {
            return s.objectSize();
        }
        final long phys = PhysicalMemory.virtToPhys(origSizeAddress(s, object));
        return s.origSizeBytes() == 8 ? mem.getLong(phys) : mem.getLong(phys) & 0xffffffffL;
    }

    /** {@code skip_orig_size_check}: after {@code ksize()} the whole object is the caller's (no kmalloc red zone). */
    public void skipOrigSizeCheck(final DebugCache s, final long object) {
        setOrigSize(s, object, s.objectSize());
    }

    /** {@code set_orig_size}. */
    public void setOrigSize(final DebugCache s, final long object, final long origSize) {
        if (!slubDebugOrigSize(s)) {
            return;
        }
        final long phys = PhysicalMemory.virtToPhys(origSizeAddress(s, object));
        if (s.origSizeBytes() == 8) {
            mem.putLong(phys, origSize);
        } else {
            for (int i = 0; i < 4; i++) {
                mem.putByte(phys + i, (byte) (origSize >>> (8 * i)));
            }
        }
    }

    private int byteAt(final long kaddr) {
        return mem.getByte(PhysicalMemory.virtToPhys(kaddr)) & 0xff;
    }

    private void fill(final long kaddr, final long length, final int value) {
        if (length > 0) {
            mem.fill(PhysicalMemory.virtToPhys(kaddr), length, (byte) value);
        }
    }

    /** {@code memchr_inv}: the first byte in range that is not {@code value}, or 0 (NULL). */
    private long memchrInv(final long start, final long bytes, final int value) {
        final long phys = PhysicalMemory.virtToPhys(start);
        for (long i = 0; i < bytes; i++) {
            if ((mem.getByte(phys + i) & 0xff) != value) {
                return start + i;
            }
        }
        return 0;
    }

    private static int orderObjects(final int order, final int size) {
        return (int) ((4096L << order) / size);
    }

    // ---------------------------------------------------------------- pointer checks

    /** {@code check_valid_pointer}: 0 or the address of an object slot of this slab. */
    public boolean checkValidPointer(final DebugCache s, final DebugSlab slab, final long object) {
        if (object == 0) {
            return true;
        }
        final long base = slab.address();
        final long o = s.redZone() ? object - s.redLeftPad() : object;
        return !(Long.compareUnsigned(o, base) < 0
            || Long.compareUnsigned(o, base + (long) slab.objects() * s.size()) >= 0
            || Long.remainderUnsigned(o - base, s.size()) != 0);
    }

    // ---------------------------------------------------------------- report printing

    private void slabBug(final List<String> out, final String cache, final String reason) {
        out.add(BANNER_EQ);
        out.add("BUG " + cache + " (" + DebugFormat.tainted(taint.get()) + "): " + reason);
        out.add(BANNER_DASH);
        out.add("");
    }

    private void printSlabInfo(final List<String> out, final DebugSlab slab) {
        out.add("Slab 0x" + DebugFormat.ptr(slab.structAddress()) + " objects=" + slab.objects() + " used="
            + slab.inuse() + " fp=0x" + DebugFormat.ptr(slab.freelist()) + " flags=" + slab.flagsText());
    }

    /** {@code print_tracking}. */
    void printTracking(final List<String> out, final DebugCache s, final long object) {
        if (!s.storeUser()) {
            return;
        }
        final long now = tracks.jiffies();
        tracks.print(out, "Allocated", mem, trackAddress(s, object, true), now);
        tracks.print(out, "Freed", mem, trackAddress(s, object, false), now);
    }

    /** {@code print_trailer}. */
    private void printTrailer(final List<String> out, final DebugCache s, final DebugSlab slab, final long p) {
        final long addr = slab.address();
        printTracking(out, s, p);
        printSlabInfo(out, slab);
        out.add("Object 0x" + DebugFormat.ptr(p) + " @offset=" + (p - addr) + " fp=0x"
            + DebugFormat.ptr(s.getFreePointer(p)));
        out.add("");
        if (s.redZone()) {
            DebugFormat.hexDump(out, "Redzone  ", mem, p - s.redLeftPad(), s.redLeftPad());
        } else if (p > addr + 16) {
            DebugFormat.hexDump(out, "Bytes b4 ", mem, p - 16, 16);
        }
        DebugFormat.hexDump(out, "Object   ", mem, p, Math.min(s.objectSize(), 4096));
        if (s.redZone()) {
            DebugFormat.hexDump(out, "Redzone  ", mem, p + s.objectSize(), s.inuse() - s.objectSize());
        }
        long off = getInfoEnd(s);
        if (s.storeUser()) {
            off += 2L * DebugTrack.TRACK_SIZE;
        }
        if (slubDebugOrigSize(s)) {
            off += s.origSizeBytes();
        }
        if (off != sizeFromObject(s)) {
            DebugFormat.hexDump(out, "Padding  ", mem, p + off, sizeFromObject(s) - off);
        }
    }

    /** The kernel's WARN_ON/WARN block (dump_stack with the Java call trace), tainting W. */
    private void warn(final List<String> out, final String message, final String function) {
        if (!warnings) {
            taint.getAndUpdate(t -> t | (1 << DebugFormat.TAINT_WARN));
            return;
        }
        final int cpu = cpus.current();
        final int pid = current.get().pid();
        out.add("------------[ cut here ]------------");
        if (message != null) {
            out.add(message);
        }
        out.add("WARNING: CPU: " + cpu + " PID: " + pid + " at mm/slub.c " + function);
        dumpStack(out);
        out.add("---[ end trace 0000000000000000 ]---");
        taint.getAndUpdate(t -> t | (1 << DebugFormat.TAINT_WARN));
    }

    /** {@code dump_stack()}: the CPU line ({@code current}'s comm) and the Java call trace. */
    private void dumpStack(final List<String> out) {
        final Current.Task task = current.get();
        DebugFormat.dumpStack(out, cpus.current(), task.pid(), task.comm(), taint.get(), tracks.stackDepth());
    }

    private void addTaintBadPage() {
        taint.getAndUpdate(t -> t | (1 << DebugFormat.TAINT_BAD_PAGE));
    }

    /** Prints the lines as one printk and hands the report to listeners (and to strict mode). */
    @SuppressWarnings("ModifyCollectionInEnhancedForLoop") // listeners is a CopyOnWriteArrayList: the loop walks a snapshot
    private void emit(final List<String> lines, final DebugReport.Kind kind, final String cache, final String reason,
                      final String what, final long start, final long end, final long offset, final int found,
                      final int expected, final DebugSlab slab, final DebugCache s, final long object) {
        log.printk(String.join("\n", lines));
        MmEvents.slabDebugReport(log.kernelId(), kind.name(), cache, reason, what, start, end, object,
            slab == null ? 0 : slab.address());
        if (listeners.isEmpty() && !strict) {
            return;
        }
        DebugTrack.Track alloc = null;
        DebugTrack.Track free = null;
        if (s != null && object != 0 && s.storeUser() && slab != null
            && checkValidPointer(s, slab, object)) {
            alloc = tracks.read(mem, trackAddress(s, object, true));
            free = tracks.read(mem, trackAddress(s, object, false));
        }
        final DebugReport r = new DebugReport(kind, cache, reason, what, start, end, offset, found, expected,
            slab == null ? 0 : slab.address(), object, alloc, free, lines);
        for (final DebugListener l : listeners) {
            try {
                l.onReport(r);
            } catch (final RuntimeException e) {
                listeners.remove(l);
                log.printk("slub_debug: removed a listener that threw " + e);
            }
        }
        if (strict && pending.get() == null) {
            pending.set(new SlubDebugException(r));
        }
    }

    /** {@code object_err}. */
    void objectErr(final DebugCache s, final DebugSlab slab, final long object, final String reason) {
        objectErr(s, slab, object, reason, new ArrayList<>(), null, 0, 0, -1, -1);
    }

    private void objectErr(final DebugCache s, final DebugSlab slab, final long object, final String reason,
                           final List<String> out, final String what, final long start, final long end,
                           final int found, final int expected) {
        if (slabAddKunitErrors()) {
            return;
        }
        slabBug(out, s.name(), reason);
        if (object == 0 || !checkValidPointer(s, slab, object)) {
            printSlabInfo(out, slab);
            out.add("Invalid pointer 0x" + DebugFormat.ptr(object));
        } else {
            printTrailer(out, s, slab, object);
        }
        addTaintBadPage();
        warn(out, null, "object_err");
        emit(out, what == null ? DebugReport.Kind.OBJECT : DebugReport.Kind.BYTES, s.name(), reason, what, start,
            end, what == null ? -1 : start - slab.address(), found, expected, slab, s, object);
    }

    /** {@code slab_err}: a BUG about the slab as a whole. */
    public void slabErr(final DebugCache s, final DebugSlab slab, final String message) {
        if (slabAddKunitErrors()) {
            return;
        }
        final List<String> out = new ArrayList<>();
        slabBug(out, s == null ? "<unknown>" : s.name(), message);
        slabErrTail(out, slab);
        emit(out, DebugReport.Kind.SLAB, s == null ? "<unknown>" : s.name(), message, null, 0, 0, -1, -1, -1, slab,
            s, 0);
    }

    /** {@code __slab_err}: slab info, taint, WARN (nothing inside a kunit test). */
    private void slabErrTail(final List<String> out, final DebugSlab slab) {
        if (slabInKunitTest()) {
            return;
        }
        printSlabInfo(out, slab);
        addTaintBadPage();
        warn(out, null, "__slab_err");
    }

    /** {@code slab_fix}: "FIX cache: message". */
    void slabFix(final DebugCache s, final String message) {
        if (slabAddKunitErrors()) {
            return;
        }
        log.printk("FIX " + s.name() + ": " + message);
    }

    private void restoreBytes(final DebugCache s, final String message, final int data, final long from,
                              final long to) {
        slabFix(s, "Restoring " + message + " 0x" + DebugFormat.ptr(from) + "-0x" + DebugFormat.ptr(to - 1) + "="
            + DebugFormat.hexByte(data));
        fill(from, to - from, data);
    }

    // ---------------------------------------------------------------- object initialisation

    /** {@code init_object}: red zones to {@code val}, poison (6b..a5), kmalloc red zone past orig_size. */
    public void initObject(final DebugCache s, final long object, final int val) {
        long poisonSize = s.objectSize();
        if (s.redZone()) {
            fill(object - s.redLeftPad(), s.redLeftPad(), val);
            if (slubDebugOrigSize(s) && val == SLUB_RED_ACTIVE) {
                poisonSize = getOrigSize(s, object);
            }
        }
        if (s.objectPoison()) {
            fill(object, poisonSize - 1, POISON_FREE);
            fill(object + poisonSize - 1, 1, POISON_END);
        }
        if (s.redZone()) {
            fill(object + poisonSize, s.inuse() - poisonSize, val);
        }
    }

    /** {@code setup_object_debug}: a new object of a new slab is free: inactive red zones, poison, no tracks. */
    public void setupObjectDebug(final DebugCache s, final long object) {
        if (!(s.storeUser() || s.redZone()) && !s.objectPoison()) {
            return;
        }
        initObject(s, object, SLUB_RED_INACTIVE);
        if (s.storeUser()) {
            DebugTrack.clear(mem, trackAddress(s, object, true));
            DebugTrack.clear(mem, trackAddress(s, object, false));
        }
    }

    /** {@code setup_slab_debug}: a new slab of a poisoning cache is filled with 0x5a first. */
    public void setupSlabDebug(final DebugCache s, final long slabAddress, final long byteSize) {
        if (s.poison()) {
            fill(slabAddress, byteSize, POISON_INUSE);
        }
    }

    /** {@code set_track(s, object, TRACK_ALLOC/TRACK_FREE, addr)}: records the Java caller. */
    public void setTrack(final DebugCache s, final long object, final boolean alloc) {
        if (s.storeUser()) {
            tracks.record(mem, trackAddress(s, object, alloc), cpus.current(), current.get().pid());
        }
    }

    // ---------------------------------------------------------------- checks

    /** {@code check_bytes_and_report}: true when all bytes hold {@code value}; else reports and restores them. */
    boolean checkBytesAndReport(final DebugCache s, final DebugSlab slab, final long object, final String what,
                                final long start, final int value, final long bytes, final boolean slabObjPrint) {
        final long fault = memchrInv(start, bytes, value);
        if (fault == 0) {
            return true;
        }
        long end = start + bytes;
        while (end > fault && byteAt(end - 1) == value) {
            end--;
        }
        if (!slabAddKunitErrors()) {
            final int found = byteAt(fault);
            final List<String> out = new ArrayList<>();
            out.add("[" + what + " overwritten] 0x" + DebugFormat.ptr(fault) + "-0x" + DebugFormat.ptr(end - 1)
                + " @offset=" + (fault - slab.address()) + ". First byte " + DebugFormat.hexByte(found)
                + " instead of " + DebugFormat.hexByte(value));
            if (slabObjPrint) {
                objectErr(s, slab, object, "Object corrupt", out, what, fault, end - 1, found, value);
            } else {
                emit(out, DebugReport.Kind.BYTES, s.name(), "Object corrupt", what, fault, end - 1,
                    fault - slab.address(), found, value, slab, s, object);
            }
        }
        restoreBytes(s, what, value, fault, end);
        return false;
    }

    /** {@code check_pad_bytes}: the padding after the metadata holds 0x5a. */
    boolean checkPadBytes(final DebugCache s, final DebugSlab slab, final long p) {
        long off = getInfoEnd(s);
        if (s.storeUser()) {
            off += 2L * DebugTrack.TRACK_SIZE;
            if (s.isKmalloc()) {
                off += s.origSizeBytes();
            }
        }
        if (sizeFromObject(s) == off) {
            return true;
        }
        return checkBytesAndReport(s, slab, p, "Object padding", p + off, POISON_INUSE, sizeFromObject(s) - off,
            true);
    }

    /** {@code slab_pad_check}: the bytes after the last object of a poisoning cache's slab hold 0x5a. */
    public void slabPadCheck(final DebugCache s, final DebugSlab slab) {
        if (!s.poison()) {
            return;
        }
        final long start = slab.address();
        final long length = slab.byteSize();
        long end = start + length;
        final long remainder = length % s.size();
        if (remainder == 0) {
            return;
        }
        final long pad = end - remainder;
        final long fault = memchrInv(pad, remainder, POISON_INUSE);
        if (fault == 0) {
            return;
        }
        while (end > fault && byteAt(end - 1) == POISON_INUSE) {
            end--;
        }
        final String reason = "Padding overwritten. 0x" + DebugFormat.ptr(fault) + "-0x" + DebugFormat.ptr(end - 1)
            + " @offset=" + (fault - start);
        final List<String> out = new ArrayList<>();
        slabBug(out, s.name(), reason);
        DebugFormat.hexDump(out, "Padding ", mem, pad, remainder);
        slabErrTail(out, slab);
        emit(out, DebugReport.Kind.SLAB, s.name(), reason, "slab padding", fault, end - 1, fault - start,
            byteAt(fault), POISON_INUSE, slab, s, 0);
        restoreBytes(s, "slab padding", POISON_INUSE, fault, end);
    }

    /**
     * {@code check_object(s, slab, object, val)}: red zones, kmalloc red zone, alignment padding, poison, object
     * padding and the free pointer, for a free ({@link #SLUB_RED_INACTIVE}) or allocated
     * ({@link #SLUB_RED_ACTIVE}) object. A corrupt free pointer is set to NULL, cutting the freelist there.
     */
    @InternalApi("org.mm4j.slab")
    public boolean checkObject(final DebugCache s, final DebugSlab slab, final long object, final int val) {
        final long p = object;
        final long endObject = object + s.objectSize();
        boolean ret = true;
        if (s.redZone()) {
            if (!checkBytesAndReport(s, slab, object, "Left Redzone", object - s.redLeftPad(), val, s.redLeftPad(),
                ret)) {
                ret = false;
            }
            if (!checkBytesAndReport(s, slab, object, "Right Redzone", endObject, val, s.inuse() - s.objectSize(),
                ret)) {
                ret = false;
            }
            if (slubDebugOrigSize(s) && val == SLUB_RED_ACTIVE) {
                final long origSize = getOrigSize(s, object);
                if (s.objectSize() > origSize && !checkBytesAndReport(s, slab, object, "kmalloc Redzone",
                    p + origSize, val, s.objectSize() - origSize, ret)) {
                    ret = false;
                }
            }
        } else if (s.poison() && s.objectSize() < s.inuse()) {
            if (!checkBytesAndReport(s, slab, p, "Alignment padding", endObject, POISON_INUSE,
                s.inuse() - s.objectSize(), ret)) {
                ret = false;
            }
        }
        if (s.poison()) {
            if (val != SLUB_RED_ACTIVE && s.objectPoison()) {
                if (s.objectSize() > 1 && !checkBytesAndReport(s, slab, p, "Poison", p, POISON_FREE,
                    s.objectSize() - 1L, ret)) {
                    ret = false;
                }
                if (!checkBytesAndReport(s, slab, p, "End Poison", p + s.objectSize() - 1, POISON_END, 1, ret)) {
                    ret = false;
                }
            }
            if (!checkPadBytes(s, slab, p)) {
                ret = false;
            }
        }
        if ((s.offset() >= s.inuse() || val != SLUB_RED_ACTIVE)
            && !checkValidPointer(s, slab, s.getFreePointer(p))) {
            objectErr(s, slab, p, "Freepointer corrupt");
            s.setFreePointer(p, 0);
            ret = false;
        }
        return ret;
    }

    /** {@code check_slab}: the slab page and its counters are sane; checks its padding. */
    public boolean checkSlab(final DebugCache s, final DebugSlab slab) {
        if (!slab.isSlab()) {
            slabErr(s, slab, "Not a valid slab page");
            return false;
        }
        final int maxobj = orderObjects(slab.order(), s.size());
        if (slab.objects() > maxobj) {
            slabErr(s, slab, "objects " + slab.objects() + " > max " + maxobj);
            return false;
        }
        if (slab.inuse() > slab.objects()) {
            slabErr(s, slab, "inuse " + slab.inuse() + " > max " + slab.objects());
            return false;
        }
        slabPadCheck(s, slab);
        return true;
    }

    /**
     * {@code on_freelist(s, slab, search)}: walks the freelist; true when {@code search} is on it (or, for
     * {@code search} = 0, when the walk found no problem). Repairs as the kernel does: a bad pointer cuts the chain
     * ("Freechain corrupt") or clears the freelist ("Freepointer corrupt", "Freelist cycle detected"), and the
     * object counters are corrected ("Wrong number of objects", "Wrong object count").
     */
    public boolean onFreelist(final DebugCache s, final DebugSlab slab, final long search) {
        int nr = 0;
        long fp = slab.freelist();
        long object = 0;
        while (fp != 0 && nr <= slab.objects()) {
            if (fp == search) {
                return true;
            }
            if (!checkValidPointer(s, slab, fp)) {
                if (object != 0) {
                    objectErr(s, slab, object, "Freechain corrupt");
                    s.setFreePointer(object, 0);
                    break;
                }
                slabErr(s, slab, "Freepointer corrupt");
                slab.freelist(0);
                slab.inuse(slab.objects());
                slabFix(s, "Freelist cleared");
                return false;
            }
            object = fp;
            fp = s.getFreePointer(object);
            nr++;
        }
        if (nr > slab.objects()) {
            slabErr(s, slab, "Freelist cycle detected");
            slab.freelist(0);
            slab.inuse(slab.objects());
            slabFix(s, "Freelist cleared");
            return false;
        }
        final int maxObjects = Math.min(orderObjects(slab.order(), s.size()), MAX_OBJS_PER_PAGE);
        if (slab.objects() != maxObjects) {
            slabErr(s, slab, "Wrong number of objects. Found " + slab.objects() + " but should be " + maxObjects);
            slab.objects(maxObjects);
            slabFix(s, "Number of objects adjusted");
        }
        if (slab.inuse() != slab.objects() - nr) {
            slabErr(s, slab, "Wrong object count. Counter is " + slab.inuse() + " but counted were "
                + (slab.objects() - nr));
            slab.inuse(slab.objects() - nr);
            slabFix(s, "Object count adjusted");
        }
        return search == 0;
    }

    /** {@code trace()}: SLAB_TRACE lines for each alloc and free. */
    void trace(final DebugCache s, final DebugSlab slab, final long object, final boolean alloc) {
        if (!s.trace()) {
            return;
        }
        final List<String> out = new ArrayList<>();
        out.add("TRACE " + s.name() + " " + (alloc ? "alloc" : "free") + " 0x" + DebugFormat.ptr(object)
            + " inuse=" + slab.inuse() + " fp=0x" + DebugFormat.ptr(slab.freelist()));
        if (!alloc) {
            DebugFormat.hexDump(out, "Object ", mem, object, s.objectSize());
        }
        dumpStack(out);
        log.printk(String.join("\n", out));
    }

    // ---------------------------------------------------------------- alloc / free processing

    /**
     * {@code alloc_debug_processing}: with F, checks the slab and the free object; then traces, records orig_size
     * and sets the active red zones and poison. On failure marks every object used (the slab is taken out of
     * service) and returns false: the caller must take the slab off its list and try another.
     */
    public boolean allocDebugProcessing(final DebugCache s, final DebugSlab slab, final long object,
                                        final long origSize) {
        if (s.consistencyChecks()) {
            boolean ok = checkSlab(s, slab);
            if (ok && !checkValidPointer(s, slab, object)) {
                objectErr(s, slab, object, "Freelist Pointer check fails");
                ok = false;
            }
            if (ok && !checkObject(s, slab, object, SLUB_RED_INACTIVE)) {
                ok = false;
            }
            if (!ok) {
                if (slab.isSlab()) {
                    slabFix(s, "Marking all objects used");
                    slab.inuse(slab.objects());
                    slab.freelist(0);
                }
                return false;
            }
        }
        trace(s, slab, object, true);
        setOrigSize(s, object, origSize);
        initObject(s, object, SLUB_RED_ACTIVE);
        return true;
    }

    /**
     * {@code free_debug_processing}: checks (with F) and prepares the objects {@code head..tail} (a chain linked
     * through their free pointers, {@code bulkCnt[0]} objects) for freeing: free track, trace, inactive red zones
     * and poison. Returns false when the objects must not be freed (they stay allocated, leaked, as in the kernel:
     * "Object at 0x... not freed"). {@code bulkCnt[0]} is corrected when the chain is shorter.
     */
    @SuppressWarnings("LabelledBreakTarget") // "break out" is free_debug_processing's "goto out", kept as the kernel reads
    public boolean freeDebugProcessing(final DebugCache s, final DebugSlab slab, final long head, final long tail,
                                       final int[] bulkCnt) {
        boolean checksOk = false;
        long object = head;
        int cnt = 0;
        out:
        {
            if (s.consistencyChecks() && !checkSlab(s, slab)) {
                break out;
            }
            if (slab.inuse() < bulkCnt[0]) {
                slabErr(s, slab, "Slab has " + slab.inuse() + " allocated objects but " + bulkCnt[0]
                    + " are to be freed\n");
                break out;
            }
            while (true) {
                if (++cnt > bulkCnt[0]) {
                    break;
                }
                if (s.consistencyChecks() && !freeConsistencyChecks(s, slab, object)) {
                    break out;
                }
                setTrack(s, object, false);
                trace(s, slab, object, false);
                initObject(s, object, SLUB_RED_INACTIVE);
                if (object != tail) {
                    object = s.getFreePointer(object);
                    continue;
                }
                checksOk = true;
                break;
            }
            if (cnt != bulkCnt[0]) {
                slabErr(s, slab, "Bulk free expected " + bulkCnt[0] + " objects but found " + cnt + "\n");
                bulkCnt[0] = cnt;
            }
        }
        if (!checksOk) {
            slabFix(s, "Object at 0x" + DebugFormat.ptr(object) + " not freed");
        }
        return checksOk;
    }

    private boolean freeConsistencyChecks(final DebugCache s, final DebugSlab slab, final long object) {
        if (!checkValidPointer(s, slab, object)) {
            slabErr(s, slab, "Invalid object pointer 0x" + DebugFormat.ptr(object));
            return false;
        }
        if (onFreelist(s, slab, object)) {
            objectErr(s, slab, object, "Object already free");
            return false;
        }
        if (!checkObject(s, slab, object, SLUB_RED_ACTIVE)) {
            return false;
        }
        final DebugCache owner = slab.cache();
        if (owner == null || !owner.equals(s)) {
            if (owner == null) {
                slabErr(null, slab, "No slab cache for object 0x" + DebugFormat.ptr(object));
            } else {
                objectErr(s, slab, object, "page slab pointer corrupt.");
            }
            return false;
        }
        return true;
    }

    // ---------------------------------------------------------------- validate, shutdown

    /** {@code validate_slab}: slab sanity, freelist walk, then every object against its state. */
    public void validateSlab(final DebugCache s, final DebugSlab slab) {
        if (!slab.isSlab()) {
            slabErr(s, slab, "Not a valid slab page");
            return;
        }
        if (!checkSlab(s, slab) || !onFreelist(s, slab, 0)) {
            return;
        }
        final BitSet free = freeMap(s, slab);
        final long first = slab.address() + (s.redZone() ? s.redLeftPad() : 0);
        for (int i = 0; i < slab.objects(); i++) {
            final long p = first + (long) i * s.size();
            if (!checkObject(s, slab, p, free.get(i) ? SLUB_RED_INACTIVE : SLUB_RED_ACTIVE)) {
                break;
            }
        }
    }

    /** {@code __fill_map}: the indexes of the free objects. */
    private BitSet freeMap(final DebugCache s, final DebugSlab slab) {
        final BitSet map = new BitSet(slab.objects());
        final long first = slab.address() + (s.redZone() ? s.redLeftPad() : 0);
        int guard = 0;
        for (long p = slab.freelist(); p != 0 && guard <= slab.objects(); p = s.getFreePointer(p), guard++) {
            map.set((int) ((p - first) / s.size()));
        }
        return map;
    }

    /**
     * {@code validate_slab_node}: validates the node's partial slabs and, for SLAB_STORE_USER caches, its full
     * slabs, and compares the counts with the node's counters. Returns the number of slabs walked. The caller
     * holds the node's list lock and has flushed the per-CPU slabs.
     */
    public long validateSlabNode(final DebugCache s, final List<? extends DebugSlab> partial, final long nrPartial,
                                 final List<? extends DebugSlab> full, final long nrSlabs) {
        long count = 0;
        for (final DebugSlab slab : partial) {
            validateSlab(s, slab);
            count++;
        }
        if (count != nrPartial) {
            log.printk("SLUB " + s.name() + ": " + count + " partial slabs counted but counter=" + nrPartial);
            slabAddKunitErrors();
        }
        if (!s.storeUser()) {
            return count;
        }
        for (final DebugSlab slab : full) {
            validateSlab(s, slab);
            count++;
        }
        if (count != nrSlabs) {
            log.printk("SLUB: " + s.name() + " " + count + " slabs counted but counter=" + nrSlabs);
            slabAddKunitErrors();
        }
        return count;
    }

    /**
     * {@code list_slab_objects}: at {@code __kmem_cache_shutdown}, a partial slab that still has allocated
     * objects: the BUG banner, each object with its tracks, the slab line and WARN.
     */
    public void listSlabObjects(final DebugCache s, final DebugSlab slab) {
        final List<String> out = new ArrayList<>();
        if (!slabAddKunitErrors()) {
            slabBug(out, s.name(), "Objects remaining on __kmem_cache_shutdown()");
        }
        final BitSet free = freeMap(s, slab);
        final long first = slab.address() + (s.redZone() ? s.redLeftPad() : 0);
        long firstLeak = 0;
        for (int i = 0; i < slab.objects(); i++) {
            if (free.get(i)) {
                continue;
            }
            if (slabAddKunitErrors()) {
                continue;
            }
            final long p = first + (long) i * s.size();
            if (firstLeak == 0) {
                firstLeak = p;
            }
            out.add("Object 0x" + DebugFormat.ptr(p) + " @offset=" + (p - slab.address()));
            printTracking(out, s, p);
        }
        slabErrTail(out, slab);
        if (!out.isEmpty()) {
            emit(out, DebugReport.Kind.LEAK, s.name(), "Objects remaining on __kmem_cache_shutdown()", null, 0, 0,
                -1, -1, -1, slab, s, firstLeak);
        }
    }

    /** The WARN of {@code kmem_cache_destroy} when the cache still has objects (not inside a kunit test). */
    public void destroyBusyWarning(final String cacheName) {
        if (slabInKunitTest()) {
            return;
        }
        final List<String> out = new ArrayList<>();
        final String msg = "kmem_cache_destroy " + cacheName + ": Slab cache still has objects when called from "
            + callerSymbol();
        warn(out, msg, "kmem_cache_destroy");
        emit(out, DebugReport.Kind.WARN, cacheName, "Slab cache still has objects", null, 0, 0, -1, -1, -1, null,
            null, 0);
    }

    /**
     * {@code cache_from_obj}'s WARN: {@code kmem_cache_free(s, x)} of an object of another cache (with F). The
     * object's tracks are printed from its real cache, which the kernel then frees it to.
     */
    public void wrongCacheWarning(final DebugCache s, final DebugCache owner, final DebugSlab slab,
                                  final long object) {
        final List<String> out = new ArrayList<>();
        final String msg = "cache_from_obj: Wrong slab cache. " + s.name() + " but object is from " + owner.name();
        warn(out, msg, "cache_from_obj");
        if (slab != null && checkValidPointer(owner, slab, object)) {
            printTracking(out, owner, object);
        }
        emit(out, DebugReport.Kind.WARN, s.name(), "Wrong slab cache. " + s.name() + " but object is from "
            + owner.name(), null, 0, 0, -1, -1, -1, slab, owner, object);
    }

    /** {@code virt_to_cache}'s WARN: the freed address is not in a slab page (the free is skipped). */
    public void notSlabWarning(final String cacheName, final long object) {
        final List<String> out = new ArrayList<>();
        warn(out, "virt_to_cache: Object is not a Slab page!", "virt_to_cache");
        emit(out, DebugReport.Kind.WARN, cacheName, "Object is not a Slab page! 0x" + DebugFormat.ptr(object), null,
            0, 0, -1, -1, -1, null, null, object);
    }

    private static String callerSymbol() {
        return StackWalker.getInstance().walk(st -> st
            .filter(f -> !f.getClassName().startsWith("org.mm4j.slab.") || f.getClassName().endsWith("Test"))
            .findFirst()
            .map(f -> new DebugTrack.CallSite(f.getClassName(), f.getMethodName(), f.getFileName(),
                f.getLineNumber(), f.getByteCodeIndex()).symbol())
            .orElse("?"));
    }

    // ---------------------------------------------------------------- alloc_traces / free_traces

    /**
     * The {@code alloc_traces} (alloc = true) or {@code free_traces} text of a cache from its slabs' allocated
     * objects; {@code withStacks} adds the stack lines as debugfs prints them (sysfs {@code alloc_calls} of 5.x
     * had none). The caller holds the list lock of each node while the slabs are walked.
     */
    public String traces(final DebugCache s, final Iterable<? extends DebugSlab> slabs, final boolean alloc,
                         final boolean withStacks, final int onlineNodes) {
        final DebugTrack.Locations t = tracks.locations();
        if (s.storeUser()) {
            for (final DebugSlab slab : slabs) {
                final BitSet free = freeMap(s, slab);
                final long first = slab.address() + (s.redZone() ? s.redLeftPad() : 0);
                for (int i = 0; i < slab.objects(); i++) {
                    if (free.get(i)) {
                        continue;
                    }
                    final long p = first + (long) i * s.size();
                    final long waste = alloc ? s.objectSize() - getOrigSize(s, p) : 0;
                    t.add(mem, trackAddress(s, p, alloc), waste, slab.nid());
                }
            }
        }
        return t.format(withStacks, cpus.nrCpus(), onlineNodes);
    }
}
