package org.mm4j.slab;

import org.mm4j.base.Current;
import org.mm4j.base.FaultAttr;
import org.mm4j.base.Jiffies;
import org.mm4j.base.KernelLog;
import org.mm4j.base.ProcFs;
import org.mm4j.base.StackDepot;
import org.mm4j.page.PhysicalMemory;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;

/**
 * kmemleak (mm/kmemleak.c and Documentation/dev-tools/kmemleak.rst of Linux 6.18, {@code CONFIG_DEBUG_KMEMLEAK}
 * with {@code CONFIG_DEBUG_KMEMLEAK_DEFAULT_OFF}: runs only when booted with {@code kmemleak=on}). Every slab object
 * ({@code kmemleak_alloc} from {@code slab_post_alloc_hook}, size {@code s->object_size}) and every large kmalloc
 * ({@code kmemleak_alloc} from {@code __kmalloc_large_node}, the size asked for) gets a {@link KmemleakObject}
 * with the allocating task's comm and pid, {@code jiffies} and the allocation stack (saved in a
 * {@link StackDepot}); {@code kmemleak_free} (from {@code slab_free_hook} and {@code free_large_kmalloc}) drops it.
 *
 * <p>A scan ({@code kmemleak_scan}) is a tracing garbage collector that reports instead of freeing: every object
 * is made white ({@code count = 0}); objects with {@code min_count} 0 start grey; the roots are scanned word by
 * word, and each word that points into an object (its start or inside it) raises the object's {@code count}; an
 * object whose count reaches {@code min_count} (1 for slab objects) turns grey and its contents are scanned in turn.
 * The model's roots (the kernel's are its data sections, per-CPU areas, {@code struct page}s and task stacks) are
 * what {@link #addRoot} registers: the composition root adds every process's user memory (the present pages of each
 * {@code mm_struct}), the shell adds its variables as a "stack" root ({@code stack=off} leaves such roots out, as
 * the kernel then leaves task stacks out). Then white objects whose contents changed since the previous scan
 * (checksum: {@code crc32} of the contents, seed 0, no inversion) are greyed for this scan, so a new object with
 * non-zero contents is reported by the second scan that finds it unreferenced, not the first. A white object older
 * than {@code MSECS_MIN_AGE} (5 s) at the scan is reported once: dmesg
 * {@code kmemleak: N new suspected memory leaks (see /sys/kernel/debug/kmemleak)} and the file lists it.
 *
 * <p>{@code /sys/kernel/debug/kmemleak}: reading prints the reported objects still unreferenced; writes
 * {@code scan}, {@code clear}, {@code dump=<addr>}, {@code off}, {@code stack=on|off}, {@code scan=on|off},
 * {@code scan=<secs>}, each matched by prefix as the kernel's {@code strncmp} does. Departure: the model has no
 * kernel thread; the "automatic scanning thread" is a due time on the model's clock ({@link Jiffies}), and the scan
 * that fell due runs when the clock is moved ({@code sleep}) or the file is read or written (one scan however many
 * periods passed: nothing changed in between). Departure: kmemleak's metadata lives on the Java heap, so the
 * memory pool ({@code CONFIG_DEBUG_KMEMLEAK_MEM_POOL_SIZE}) is never used.
 *
 * <p>Invariants: {@code tree} and {@code objects} hold the same objects, keyed by start address; objects never
 * overlap (an overlap is a missed free: kmemleak stops, as the kernel's {@code kmemleak_stop}). Threads: one lock
 * ({@code lock}, the kernel's {@code kmemleak_lock} and {@code scan_mutex} in one) guards the maps, every object's
 * fields and the scan state; a scan holds it throughout, so allocations and frees wait for the scan. Roots are
 * called with the lock held and must not allocate from the slab allocator. Saving a stack (a few microseconds)
 * happens before the lock is taken. Off ({@link Slub} built without it): no instance, no memory, no work.
 */
public final class Kmemleak {
    /** Path of the debugfs file. */
    public static final String DEBUGFS = "/sys/kernel/debug/kmemleak";
    /** The module parameter {@code kmemleak.verbose}. */
    public static final String VERBOSE = "/sys/module/kmemleak/parameters/verbose";
    /** {@code MAX_TRACE}: frames kept per allocation stack. */
    static final int MAX_TRACE = 16;
    /** {@code MSECS_MIN_AGE}: younger objects are not reported. */
    public static final int MSECS_MIN_AGE = 5000;
    static final int SECS_FIRST_SCAN = 60;
    static final int SECS_SCAN_WAIT = 600;
    static final int KMEMLEAK_GREY = 0;
    static final int KMEMLEAK_BLACK = -1;
    static final int OBJECT_ALLOCATED = 1;
    static final int OBJECT_REPORTED = 1 << 1;
    static final int OBJECT_NO_SCAN = 1 << 2;
    static final int HEX_ROW_SIZE = 16;
    static final int HEX_MAX_LINES = 2;

    /** What a root hands the scan: single words (a shell variable) or blocks of kernel memory to scan. */
    public interface Scanner {
        /** One word that may point into an object. */
        void word(long value);

        /** The aligned words of {@code [kaddr, kaddr + len)} (a kernel virtual address range of the model). */
        void block(long kaddr, long len);
    }

    /** A source of references scanned before the objects (the kernel's data sections, stacks, ...). */
    @FunctionalInterface
    public interface Root {
        void scan(Scanner s);
    }

    private record RootEntry(String name, boolean stack, Root root) {
    }

    /** {@code struct kmemleak_object}: the metadata of one allocated block. Guarded by the lock. */
    static final class KmemleakObject {
        final long pointer;
        final long size;
        final int trace;
        final long jiffies;
        final int pid;
        final String comm;
        int minCount;
        /** References found by the current scan; -1 until the first scan (no colour). */
        int count = -1;
        int flags = OBJECT_ALLOCATED;
        int checksum;

        KmemleakObject(final long pointer, final long size, final int minCount, final int trace, final long jiffies,
                       final int pid, final String comm) {
            this.pointer = pointer;
            this.size = size;
            this.minCount = minCount;
            this.trace = trace;
            this.jiffies = jiffies;
            this.pid = pid;
            this.comm = comm;
        }

        long end() {
            return pointer + size;
        }
    }

    private final PhysicalMemory mem;
    private final KernelLog log;
    private final Current current;
    private final Jiffies clock;
    private final StackDepot depot = new StackDepot();
    /** {@code kmemleak_verbose}: new leaks are also printed to dmesg ({@link #VERBOSE}). */
    private volatile boolean verbose;
    private final ReentrantLock lock = new ReentrantLock();
    /** {@code object_tree_root}: by start address (kernel addresses all have the sign bit, so signed order works). */
    private final TreeMap<Long, KmemleakObject> tree = new TreeMap<>();
    /** {@code object_list}: allocation order. */
    private final Map<Long, KmemleakObject> objects = new LinkedHashMap<>();
    private final List<RootEntry> roots = new CopyOnWriteArrayList<>();
    private final long jiffiesMinAge;
    private long minAddr = -1L;
    private long maxAddr;
    private volatile boolean enabled = true;
    private volatile boolean freeEnabled = true;
    private boolean stackScan = true;
    private boolean foundLeaks;
    private long jiffiesLastScan;
    private boolean scanThread;
    private boolean firstRun = true;
    private long nextScan;
    private long jiffiesScanWait;

    /**
     * {@code kmemleak_init} and {@code kmemleak_late_init}: registers the debugfs file (when {@code procfs} is not
     * null) and, with {@code autoScan} ({@code CONFIG_DEBUG_KMEMLEAK_AUTO_SCAN}), starts the automatic scans.
     */
    public Kmemleak(final PhysicalMemory mem, final KernelLog log, final Current current, final Jiffies clock,
                    final ProcFs procfs, final boolean autoScan, final boolean verbose) {
        this.mem = mem;
        this.log = log;
        this.current = current;
        this.clock = clock;
        this.verbose = verbose;
        this.jiffiesMinAge = clock.msecsToJiffies(MSECS_MIN_AGE);
        this.jiffiesScanWait = clock.msecsToJiffies(SECS_SCAN_WAIT * 1000L);
        if (procfs != null) {
            procfs.registerFile(DEBUGFS, this::show);
            procfs.registerWriter(DEBUGFS, this::write);
            procfs.registerFile(VERBOSE, () -> FaultAttr.yn(verbose));
            procfs.registerWriter(VERBOSE, v -> this.verbose = FaultAttr.bool(VERBOSE, v.strip()));
        }
        clock.onAdvance(this::scanIfDue);
        log.printk("kmemleak: Kernel memory leak detector initialized (mem pool available: 16000)");
        lock.lock();
        try {
            if (autoScan) {
                startScanThread();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Leaves out kmemleak's own frames and the JDK's: the first frame saved is the allocator's. */
    private static boolean own(final Class<?> c) {
        return c == Kmemleak.class || c.getName().startsWith("java.");
    }

    // ------------------------------------------------------------------ hooks

    /** {@code kmemleak_alloc(ptr, size, min_count, gfp)}: a block was allocated at {@code kaddr}. */
    public void alloc(final long kaddr, final long size, final int minCount) {
        if (!enabled || kaddr == 0) {
            return;
        }
        final int trace = depot.save(Kmemleak::own, MAX_TRACE);
        final Current.Task t = current.get();
        final KmemleakObject o = new KmemleakObject(kaddr, size, minCount, trace, clock.get(), t.pid(), t.comm());
        lock.lock();
        try {
            if (!enabled) {
                return;
            }
            final Map.Entry<Long, KmemleakObject> below = tree.floorEntry(kaddr + size - 1);
            if (below != null && Long.compareUnsigned(below.getValue().end(), kaddr) > 0) {
                log.printk("kmemleak: Cannot insert 0x%x into the object search tree (overlaps existing)", kaddr);
                dumpObjectInfo(below.getValue());
                disableLocked();
                return;
            }
            tree.put(kaddr, o);
            objects.put(kaddr, o);
            if (Long.compareUnsigned(kaddr, minAddr) < 0) {
                minAddr = kaddr;
            }
            if (Long.compareUnsigned(kaddr + size, maxAddr) > 0) {
                maxAddr = kaddr + size;
            }
        } finally {
            lock.unlock();
        }
    }

    /** {@code kmemleak_free(ptr)}: the block at {@code kaddr} was freed (an unknown pointer is ignored). */
    public void free(final long kaddr) {
        if (!freeEnabled || kaddr == 0) {
            return;
        }
        lock.lock();
        try {
            final KmemleakObject o = tree.remove(kaddr);
            if (o != null) {
                objects.remove(kaddr);
                o.flags &= ~OBJECT_ALLOCATED;
            }
        } finally {
            lock.unlock();
        }
    }

    /** {@code kmemleak_not_leak(ptr)}: never report the block at {@code kaddr} (painted grey, still scanned). */
    public void notLeak(final long kaddr) {
        paint(kaddr, KMEMLEAK_GREY);
    }

    /** {@code kmemleak_ignore(ptr)}: neither report nor scan the block at {@code kaddr} (painted black). */
    public void ignore(final long kaddr) {
        paint(kaddr, KMEMLEAK_BLACK);
    }

    private void paint(final long kaddr, final int color) {
        lock.lock();
        try {
            final KmemleakObject o = tree.get(kaddr);
            if (o == null) {
                throw new IllegalArgumentException("kmemleak: no object at 0x" + Long.toHexString(kaddr));
            }
            paintIt(o, color);
        } finally {
            lock.unlock();
        }
    }

    private static void paintIt(final KmemleakObject o, final int color) {
        o.minCount = color;
        if (color == KMEMLEAK_BLACK) {
            o.flags |= OBJECT_NO_SCAN;
        }
    }

    /**
     * Adds a root: {@code stack} roots stand for task stacks and are left out while {@code stack=off}.
     * {@code root} runs with kmemleak's lock held (on the scanning thread) and must not allocate slab memory.
     */
    public void addRoot(final String name, final boolean stack, final Root root) {
        roots.add(new RootEntry(name, stack, root));
    }

    /** Whether kmemleak still tracks allocations (false after {@code off}). */
    public boolean enabled() {
        return enabled;
    }

    /** The number of blocks tracked. */
    public int objectCount() {
        lock.lock();
        try {
            return objects.size();
        } finally {
            lock.unlock();
        }
    }

    /** The model's clock kmemleak ages objects by. */
    public Jiffies clock() {
        return clock;
    }

    // ------------------------------------------------------------------ colours

    private static boolean colorWhite(final KmemleakObject o) {
        return o.count != KMEMLEAK_BLACK && o.count < o.minCount;
    }

    private static boolean colorGray(final KmemleakObject o) {
        return o.minCount != KMEMLEAK_BLACK && o.count >= o.minCount;
    }

    /** White, allocated and at least MSECS_MIN_AGE old at the last scan. */
    private boolean unreferenced(final KmemleakObject o) {
        return colorWhite(o) && (o.flags & OBJECT_ALLOCATED) != 0 && o.jiffies + jiffiesMinAge - jiffiesLastScan <= 0;
    }

    // ------------------------------------------------------------------ scanning

    /** {@code kmemleak_scan}: one full scan; returns the number of new suspected leaks. */
    public int scan() {
        lock.lock();
        try {
            return scanLocked();
        } finally {
            lock.unlock();
        }
    }

    private int scanLocked() {
        assert lock.isHeldByCurrentThread();
        jiffiesLastScan = clock.get();
        final ArrayDeque<KmemleakObject> gray = new ArrayDeque<>();
        for (final KmemleakObject o : objects.values()) {
            o.count = 0;  // whiten
            if (colorGray(o)) {
                gray.add(o);
            }
        }
        final Scanner rootScanner = new Scanner() {
            @Override
            public void word(final long value) {
                reference(value, null, gray);
            }

            @Override
            public void block(final long kaddr, final long len) {
                scanBlock(kaddr, kaddr + len, null, gray);
            }
        };
        for (final RootEntry r : roots) {
            if (!r.stack() || stackScan) {
                r.root().scan(rootScanner);
            }
        }
        scanGrayList(gray);
        // objects modified since the previous scan are not reported this time
        for (final KmemleakObject o : objects.values()) {
            if (colorWhite(o) && (o.flags & OBJECT_ALLOCATED) != 0 && updateChecksum(o)) {
                o.count = o.minCount;
                gray.add(o);
            }
        }
        scanGrayList(gray);
        int newLeaks = 0;
        for (final KmemleakObject o : objects.values()) {
            if (unreferenced(o) && (o.flags & OBJECT_REPORTED) == 0) {
                o.flags |= OBJECT_REPORTED;
                if (verbose) {
                    log.printk(printUnreferenced(new StringBuilder(), o, "kmemleak: ").toString());
                }
                newLeaks++;
            }
        }
        if (newLeaks > 0) {
            foundLeaks = true;
            log.printk("kmemleak: %d new suspected memory leaks (see %s)", newLeaks, DEBUGFS);
        }
        return newLeaks;
    }

    private void scanGrayList(final ArrayDeque<KmemleakObject> gray) {
        KmemleakObject o;
        while ((o = gray.poll()) != null) {
            if ((o.flags & (OBJECT_NO_SCAN | OBJECT_ALLOCATED)) == OBJECT_ALLOCATED) {
                scanBlock(o.pointer, o.end(), o, gray);
            }
        }
    }

    /** {@code scan_block}: every aligned word of {@code [start, end)} that points into an object references it. */
    private void scanBlock(final long start, final long end, final KmemleakObject scanned,
                           final ArrayDeque<KmemleakObject> gray) {
        final long p = (start + 7) & ~7L;
        if (!mem.validVirt(p) || Long.compareUnsigned(end - PhysicalMemory.PAGE_OFFSET, mem.totalBytes()) > 0) {
            return;
        }
        final long phys = PhysicalMemory.virtToPhys(p);
        for (long off = 0; Long.compareUnsigned(p + off + 8, end) <= 0; off += 8) {
            reference(mem.getLong(phys + off), scanned, gray);
        }
    }

    /** One word found: {@code lookup_object(pointer, 1)} then {@code update_refs}. */
    private void reference(final long value, final KmemleakObject scanned, final ArrayDeque<KmemleakObject> gray) {
        if (Long.compareUnsigned(value, minAddr) < 0 || Long.compareUnsigned(value, maxAddr) >= 0) {
            return;
        }
        final Map.Entry<Long, KmemleakObject> e = tree.floorEntry(value);
        if (e == null) {
            return;
        }
        final KmemleakObject o = e.getValue();
        if (Long.compareUnsigned(value, o.pointer) < 0 || Long.compareUnsigned(value, o.end()) >= 0
            || o == scanned || !colorWhite(o)) {
            return;  // outside, self-referenced, or already grey/black
        }
        o.count++;
        if (colorGray(o)) {
            gray.add(o);
        }
    }

    private static final int[] CRC_TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int c = i;
            for (int k = 0; k < 8; k++) {
                c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
            }
            CRC_TABLE[i] = c;
        }
    }

    /** {@code crc32(0, object, size)}: the kernel's crc32_le with seed 0, no pre- or post-inversion. */
    int crc32(final long kaddr, final long size) {
        final long phys = PhysicalMemory.virtToPhys(kaddr);
        int crc = 0;
        for (long i = 0; i < size; i++) {
            crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ mem.getByte(phys + i)) & 0xff];
        }
        return crc;
    }

    /** {@code update_checksum}: true when the contents changed since the last scan. */
    private boolean updateChecksum(final KmemleakObject o) {
        final int old = o.checksum;
        o.checksum = crc32(o.pointer, o.size);
        return old != o.checksum;
    }

    // ------------------------------------------------------------------ automatic scanning (no thread)

    private void startScanThread() {
        if (scanThread) {
            return;
        }
        scanThread = true;
        log.printk("kmemleak: Automatic memory scanning thread started");
        nextScan = clock.get() + (firstRun ? clock.msecsToJiffies(SECS_FIRST_SCAN * 1000L) : 0);
        firstRun = false;
    }

    private void stopScanThread() {
        if (scanThread) {
            scanThread = false;
            log.printk("kmemleak: Automatic memory scanning thread ended");
        }
    }

    /** Runs the automatic scan if it fell due on the model's clock. */
    void scanIfDue() {
        lock.lock();
        try {
            if (scanThread && enabled && clock.get() - nextScan >= 0) {
                scanLocked();
                nextScan = clock.get() + jiffiesScanWait;
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ debugfs

    /** Reading {@code /sys/kernel/debug/kmemleak}: the reported objects still unreferenced, oldest first. */
    public String show() {
        scanIfDue();
        lock.lock();
        try {
            final StringBuilder sb = new StringBuilder();
            for (final KmemleakObject o : objects.values()) {
                if ((o.flags & OBJECT_REPORTED) != 0 && unreferenced(o)) {
                    printUnreferenced(sb, o, "");
                }
            }
            return sb.toString();
        } finally {
            lock.unlock();
        }
    }

    /** {@code print_unreferenced}: each line starts with {@code prefix} ("" in the file, "kmemleak: " in dmesg). */
    private StringBuilder printUnreferenced(final StringBuilder sb, final KmemleakObject o, final String prefix) {
        sb.append(prefix).append(String.format("unreferenced object 0x%08x (size %d):\n", o.pointer, o.size));
        sb.append(prefix).append(String.format("  comm \"%s\", pid %d, jiffies %d\n", o.comm, o.pid, o.jiffies));
        final int len = (int) Math.min(o.size, HEX_MAX_LINES * HEX_ROW_SIZE);
        sb.append(prefix).append(String.format("  hex dump (first %d bytes):\n", len));
        final long phys = PhysicalMemory.virtToPhys(o.pointer);
        for (int row = 0; row < len; row += HEX_ROW_SIZE) {
            sb.append(prefix).append("    ");
            hexDumpLine(sb, phys + row, Math.min(HEX_ROW_SIZE, len - row));
        }
        sb.append(prefix).append(String.format("  backtrace (crc %x):\n", o.checksum));
        final List<StackDepot.Frame> frames = depot.frames(o.trace);
        for (int i = 0; i < frames.size(); i++) {
            sb.append(prefix).append(String.format("    [<%016x>] %s\n",
                hashedPointer(depot.frameId(o.trace, i)), frames.get(i).symbol()));
        }
        return sb;
    }

    /** {@code hex_dump_to_buffer(buf, n, 16, 1, ..., true)}: bytes, padded to the ASCII column 49, then ASCII. */
    private void hexDumpLine(final StringBuilder sb, final long phys, final int n) {
        final int start = sb.length();
        for (int i = 0; i < n; i++) {
            final int b = mem.getByte(phys + i) & 0xff;
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(Character.forDigit(b >> 4, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        while (sb.length() - start < HEX_ROW_SIZE * 2 + HEX_ROW_SIZE + 1) {
            sb.append(' ');
        }
        for (int i = 0; i < n; i++) {
            final int b = mem.getByte(phys + i) & 0xff;
            sb.append(b >= 0x20 && b < 0x7f ? (char) b : '.');
        }
        sb.append('\n');
    }

    /**
     * {@code %pK} with {@code kptr_restrict} 0 prints a hashed pointer (32 bits of a keyed hash, zero-extended);
     * the model's "address" of a frame is its depot id, hashed the same way for the same frame.
     */
    private static long hashedPointer(final int frameId) {
        long z = (frameId + 1) * 0x9e3779b97f4a7c15L;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return (z ^ (z >>> 31)) & 0xffffffffL;
    }

    /** Writing {@code /sys/kernel/debug/kmemleak} ({@code kmemleak_write}). */
    public void write(final String value) {
        scanIfDue();
        final String buf = value.strip();
        lock.lock();
        try {
            if (buf.startsWith("clear")) {
                if (enabled) {
                    clearLocked();
                } else {
                    cleanupLocked();
                }
                return;
            }
            if (!enabled) {
                throw new ProcFs.ProcFsException(DEBUGFS + ": Operation not permitted");
            }
            if (buf.startsWith("off")) {
                disableLocked();
            } else if (buf.startsWith("stack=on")) {
                stackScan = true;
            } else if (buf.startsWith("stack=off")) {
                stackScan = false;
            } else if (buf.startsWith("scan=on")) {
                startScanThread();
            } else if (buf.startsWith("scan=off")) {
                stopScanThread();
            } else if (buf.startsWith("scan=")) {
                final long secs = parseUnsigned(buf.substring(5));
                stopScanThread();
                if (secs > 0) {
                    jiffiesScanWait = clock.msecsToJiffies(Math.min(secs * 1000L, 0xffffffffL));
                    startScanThread();
                }
            } else if (buf.startsWith("scan")) {
                scanLocked();
            } else if (buf.startsWith("dump=")) {
                dumpStrObjectInfo(buf.substring(5));
            } else {
                throw new ProcFs.ProcFsException(DEBUGFS + ": Invalid argument");
            }
        } finally {
            lock.unlock();
        }
    }

    /** {@code kstrtoul(s, 0, ...)}: 0x hex, 0 octal or decimal; Invalid argument otherwise. */
    private static long parseUnsigned(final String s) {
        try {
            if (s.startsWith("0x") || s.startsWith("0X")) {
                return Long.parseUnsignedLong(s.substring(2), 16);
            }
            if (s.length() > 1 && s.startsWith("0")) {
                return Long.parseUnsignedLong(s.substring(1), 8);
            }
            return Long.parseUnsignedLong(s);
        } catch (final NumberFormatException e) {
            throw new ProcFs.ProcFsException(DEBUGFS + ": Invalid argument");
        }
    }

    /** {@code kmemleak_clear}: reported objects are painted grey (never reported again). */
    public void clear() {
        lock.lock();
        try {
            clearLocked();
        } finally {
            lock.unlock();
        }
    }

    private void clearLocked() {
        for (final KmemleakObject o : objects.values()) {
            if ((o.flags & OBJECT_REPORTED) != 0 && unreferenced(o)) {
                paintIt(o, KMEMLEAK_GREY);
            }
        }
        foundLeaks = false;
    }

    /** {@code kmemleak_disable} with its cleanup work: tracking stops; the data goes unless leaks were found. */
    private void disableLocked() {
        if (!enabled) {
            return;
        }
        enabled = false;
        log.printk("kmemleak: Kernel memory leak detector disabled");
        stopScanThread();
        if (!foundLeaks) {
            cleanupLocked();
        } else {
            log.printk("kmemleak: Kmemleak disabled without freeing internal data. Reclaim the memory with "
                + "\"echo clear > %s\".", DEBUGFS);
        }
    }

    /** {@code __kmemleak_do_cleanup}: frees all metadata. */
    private void cleanupLocked() {
        freeEnabled = false;
        tree.clear();
        objects.clear();
    }

    /** {@code dump=<addr>}: the object starting at the address, in dmesg; Invalid argument when there is none. */
    private void dumpStrObjectInfo(final String str) {
        final long addr = parseUnsigned(str);
        final KmemleakObject o = tree.get(addr);
        if (o == null) {
            log.printk("kmemleak: Unknown object at 0x%08x", addr);
            throw new ProcFs.ProcFsException(DEBUGFS + ": Invalid argument");
        }
        dumpObjectInfo(o);
    }

    /** {@code dump_object_info}. */
    private void dumpObjectInfo(final KmemleakObject o) {
        log.printk("kmemleak: Object 0x%08x (size %d):", o.pointer, o.size);
        log.printk("kmemleak:   comm \"%s\", pid %d, jiffies %d", o.comm, o.pid, o.jiffies);
        log.printk("kmemleak:   min_count = %d", o.minCount);
        log.printk("kmemleak:   count = %d", o.count);
        log.printk("kmemleak:   flags = 0x%x", o.flags);
        log.printk("kmemleak:   checksum = %d", o.checksum & 0xffffffffL);
        log.printk("kmemleak:   backtrace:");
        final StringBuilder sb = new StringBuilder();
        depot.print(sb, o.trace);
        if (!sb.isEmpty()) {
            log.printk(sb.toString());
        }
    }
}
