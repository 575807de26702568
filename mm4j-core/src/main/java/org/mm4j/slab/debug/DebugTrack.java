package org.mm4j.slab.debug;

import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.mm4j.base.StackDepot;
import org.mm4j.page.PhysicalMemory;

/**
 * SLAB_STORE_USER tracking: the {@code struct track} records that {@code calculate_sizes} reserves after each
 * object (alloc track, then free track), the Java call sites they point to, and the {@code alloc_traces} /
 * {@code free_traces} aggregation ({@code add_location}).
 *
 * <p>Layout of one track (32 bytes, x86-64 with CONFIG_STACKDEPOT, as {@code struct track}):
 * <pre>
 *   +0  addr   u64   call site: TEXT_BASE + 16 * site id (0 = never set)
 *   +8  handle u32   stack depot handle: 1 + index into the stack table (0 = no stack)
 *   +12 cpu    s32   CPU slot
 *   +16 pid    s32   current->pid (the model's current task)
 *   +24 when   u64   jiffies (milliseconds since the kernel's debug clock started, HZ=1000, never 0)
 * </pre>
 * The bytes live off-heap in the object's metadata, exactly where the kernel keeps them; the side tables map the
 * {@code addr} and {@code handle} numbers back to Java frames, as kallsyms and the stack depot do for the kernel.
 * A call site is the first frame outside the allocator's own classes (mm4j-core's kernel, page and slab code, not
 * its tests; the Java caller, like {@code _RET_IP_}); the
 * stack is that frame and up to {@link #stackDepth()} - 1 more callers.
 *
 * <p>Threads: {@link #record} and the readers may run concurrently from any thread; the tables only grow
 * (interning through concurrent maps, append-only lists). Not on a fast path: debug caches only.
 */
public final class DebugTrack {
    /** sizeof(struct track). */
    public static final int TRACK_SIZE = 32;
    /** TRACK_ADDRS_COUNT: default stack depth. */
    public static final int TRACK_ADDRS_COUNT = 16;
    static final int ADDR = 0;
    static final int HANDLE = 8;
    static final int CPU = 12;
    static final int PID = 16;
    static final int WHEN = 24;
    /** Where the model's "kernel text" starts: call-site addresses are TEXT_BASE + 16 * id. */
    static final long TEXT_BASE = 0xffffffff81000000L;

    /** One Java frame, printed as {@code %pS}: {@code class.method+0x<bci>/0x0 [File.java:line]}. */
    public record CallSite(String className, String methodName, String fileName, int line, int bci) {
        /** The {@code %pS} form ({@link StackDepot.Frame#symbol()}). */
        public String symbol() {
            return new StackDepot.Frame(className, methodName, fileName, line, bci).symbol();
        }
    }

    /** A decoded track: {@code site} null when the track was never set. */
    public record Track(CallSite site, List<CallSite> stack, int cpu, int pid, long when) {
    }

    private static final CodeSource CORE = DebugTrack.class.getProtectionDomain().getCodeSource();
    private static final ClassValue<Boolean> INTERNAL = new ClassValue<>() {
        @Override
        protected Boolean computeValue(final Class<?> type) {
            if (type.getName().startsWith("java.") || type.getName().startsWith("jdk.")) {
                return true;
            }
            final String pkg = type.getPackageName();
            if (!(pkg.equals("org.mm4j.slab") || pkg.equals("org.mm4j.slab.debug") || pkg.equals("org.mm4j.base")
                || pkg.equals("org.mm4j.page") || pkg.equals("org.mm4j.boot"))) {
                return false;  // callers: user code, mm4j's shell and replayers (even when packed in one jar)
            }
            final CodeSource cs = type.getProtectionDomain().getCodeSource();
            return CORE == null || cs == null || Objects.equals(cs.getLocation(), CORE.getLocation());
        }
    };

    private final long epochNanos = System.nanoTime();
    /** The call sites and stacks ({@code kallsyms} and the stack depot): ids and handles as stored in tracks. */
    private final StackDepot depot = new StackDepot();
    private volatile int stackDepth = TRACK_ADDRS_COUNT;

    /** The number of frames kept per track (1..64, default 16). */
    public int stackDepth() {
        return stackDepth;
    }

    public void stackDepth(final int depth) {
        if (depth < 1 || depth > 64) {
            throw new IllegalArgumentException("stackDepth=" + depth + " (expected: 1 to 64)");
        }
        this.stackDepth = depth;
    }

    /** The debug clock in jiffies (HZ=1000), never 0. */
    public long jiffies() {
        return (System.nanoTime() - epochNanos) / 1_000_000L + 1;
    }

    /**
     * {@code set_track}: fills the track at {@code trackKaddr} with the calling thread's Java caller, {@code cpu} and
     * {@code pid} ({@code current->pid}).
     */
    public void record(final PhysicalMemory mem, final long trackKaddr, final int cpu, final int pid) {
        final int handle = depot.saveExact(INTERNAL::get, stackDepth);
        final long addr = TEXT_BASE + (handle == 0 ? 0 : 16L * (depot.frameId(handle, 0) + 1));
        final long phys = PhysicalMemory.virtToPhys(trackKaddr);
        mem.putLong(phys + ADDR, addr);
        final long handleCpu = (handle & 0xffffffffL) | ((long) cpu << 32);
        mem.putLong(phys + HANDLE, handleCpu);
        mem.putLong(phys + PID, pid & 0xffffffffL);
        mem.putLong(phys + WHEN, jiffies());
    }

    private static CallSite callSite(final StackDepot.Frame f) {
        return new CallSite(f.className(), f.methodName(), f.fileName(), f.line(), f.bci());
    }

    /** Clears a track ({@code init_tracking}). */
    static void clear(final PhysicalMemory mem, final long trackKaddr) {
        mem.fill(PhysicalMemory.virtToPhys(trackKaddr), TRACK_SIZE, (byte) 0);
    }

    /** The call site of a track address ({@code %pS}), or null for 0 / unknown. */
    public CallSite site(final long addr) {
        if (addr == 0) {
            return null;
        }
        final long id = (addr - TEXT_BASE) >>> 4;
        if (id < 1 || id > depot.frameCount()) {
            return id == 0 ? new CallSite("<unknown>", "<unknown>", null, 0, 0) : null;
        }
        return callSite(depot.frame((int) id - 1));
    }

    /** The fields of a track as stored. */
    private record Raw(long addr, int handle, int cpu, int pid, long when) {
        static Raw of(final PhysicalMemory mem, final long trackKaddr) {
            final long phys = PhysicalMemory.virtToPhys(trackKaddr);
            final long handleCpu = mem.getLong(phys + HANDLE);
            return new Raw(mem.getLong(phys + ADDR), (int) handleCpu, (int) (handleCpu >>> 32),
                (int) mem.getLong(phys + PID), mem.getLong(phys + WHEN));
        }
    }

    /** Decodes the track at {@code trackKaddr}. */
    public Track read(final PhysicalMemory mem, final long trackKaddr) {
        final Raw r = Raw.of(mem, trackKaddr);
        final List<CallSite> stack = new ArrayList<>();
        for (final StackDepot.Frame f : depot.frames(r.handle())) {
            stack.add(callSite(f));
        }
        return new Track(site(r.addr()), stack, r.cpu(), r.pid(), r.when());
    }

    /** Raw {@code addr} field of the track (0 when never set). */
    static long addr(final PhysicalMemory mem, final long trackKaddr) {
        return mem.getLong(PhysicalMemory.virtToPhys(trackKaddr) + ADDR);
    }

    /**
     * {@code print_track}: "Allocated in SYM age=N cpu=N pid=N" and the stack depot lines (" SYM" each), or
     * "object allocation/free stack trace missing" when the track has an address but no stack.
     */
    void print(final List<String> out, final String what, final PhysicalMemory mem, final long trackKaddr,
               final long now) {
        final long phys = PhysicalMemory.virtToPhys(trackKaddr);
        final long addr = mem.getLong(phys + ADDR);
        if (addr == 0) {
            return;
        }
        final Track t = read(mem, trackKaddr);
        final String sym = t.site() == null ? "0x" + Long.toHexString(addr) : t.site().symbol();
        out.add(what + " in " + sym + " age=" + (now - t.when()) + " cpu=" + t.cpu() + " pid=" + t.pid());
        if (t.stack().isEmpty()) {
            out.add("object allocation/free stack trace missing");
        } else {
            for (final CallSite s : t.stack()) {
                out.add(" " + s.symbol());
            }
        }
    }

    /**
     * One aggregated call site of {@code alloc_traces}/{@code free_traces} ({@code struct location}), keyed by
     * (addr, handle, waste).
     */
    static final class Location {
        final long addr;
        final int handle;
        final long waste;
        long count;
        long sumTime;
        long minTime = Long.MAX_VALUE;
        long maxTime;
        long minPid = Long.MAX_VALUE;
        long maxPid = Long.MIN_VALUE;
        long cpus;
        long nodes;

        Location(final long addr, final int handle, final long waste) {
            this.addr = addr;
            this.handle = handle;
            this.waste = waste;
        }
    }

    /** Collects {@code add_location} records for one cache walk. Not thread-safe: one walker. */
    final class Locations {
        private final Map<List<Long>, Location> byKey = new java.util.HashMap<>();
        private final long now = jiffies();

        /** {@code add_location(t, s, track, orig_size)}: {@code waste} is object_size - orig_size. */
        void add(final PhysicalMemory mem, final long trackKaddr, final long waste, final int nid) {
            final Raw r = Raw.of(mem, trackKaddr);
            final long addr = r.addr();
            final int handle = r.handle();
            final int cpu = r.cpu();
            final long pid = r.pid();
            final long when = r.when();
            final long age = now - when;
            final Location l = byKey.computeIfAbsent(List.of(addr, (long) handle, waste),
                k -> new Location(addr, handle, waste));
            l.count++;
            if (when != 0 || l.count == 1) {
                l.sumTime += age;
                l.minTime = Math.min(l.minTime, age);
                l.maxTime = Math.max(l.maxTime, age);
                l.minPid = Math.min(l.minPid, pid);
                l.maxPid = Math.max(l.maxPid, pid);
                if (cpu >= 0 && cpu < 64) {
                    l.cpus |= 1L << cpu;
                }
            }
            if (nid >= 0 && nid < 64) {
                l.nodes |= 1L << nid;
            }
        }

        /**
         * The file text: one line per site, most frequent first ({@code slab_debugfs_show}); with
         * {@code withStacks} each line is followed by the stack, 8 spaces deep, and an empty line. "No data" when
         * there is none.
         */
        String format(final boolean withStacks, final int onlineCpus, final int onlineNodes) {
            final List<Location> all = new ArrayList<>(byKey.values());
            all.sort((a, b) -> Long.compare(b.count, a.count));
            final StringBuilder sb = new StringBuilder();
            for (final Location l : all) {
                sb.append(String.format("%7d ", l.count));
                final CallSite s = l.addr == 0 ? null : site(l.addr);
                sb.append(s == null ? "<not-available>" : s.symbol());
                if (l.waste != 0) {
                    sb.append(" waste=").append(l.count * l.waste).append('/').append(l.waste);
                }
                if (l.sumTime != l.minTime) {
                    sb.append(" age=").append(l.minTime).append('/').append(l.sumTime / l.count).append('/')
                        .append(l.maxTime);
                } else {
                    sb.append(" age=").append(l.minTime);
                }
                if (l.minPid != l.maxPid) {
                    sb.append(" pid=").append(l.minPid).append('-').append(l.maxPid);
                } else {
                    sb.append(" pid=").append(l.minPid);
                }
                if (onlineCpus > 1 && l.cpus != 0) {
                    sb.append(" cpus=").append(bitList(l.cpus));
                }
                if (onlineNodes > 1 && l.nodes != 0) {
                    sb.append(" nodes=").append(bitList(l.nodes));
                }
                final List<StackDepot.Frame> stack = withStacks ? depot.frames(l.handle) : List.of();
                if (!stack.isEmpty()) {
                    sb.append('\n');
                    for (final StackDepot.Frame f : stack) {
                        sb.append("        ").append(f.symbol()).append('\n');
                    }
                }
                sb.append('\n');
            }
            if (all.isEmpty()) {
                sb.append("No data\n");
            }
            return sb.toString();
        }
    }

    Locations locations() {
        return new Locations();
    }

    /** {@code %*pbl}: a bitmap as ranges, "0-1,3". */
    static String bitList(final long bits) {
        final StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < 64) {
            if ((bits & (1L << i)) == 0) {
                i++;
                continue;
            }
            int j = i;
            while (j + 1 < 64 && (bits & (1L << (j + 1))) != 0) {
                j++;
            }
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(i);
            if (j > i) {
                sb.append('-').append(j);
            }
            i = j + 1;
        }
        return sb.toString();
    }
}
