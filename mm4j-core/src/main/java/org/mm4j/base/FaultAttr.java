package org.mm4j.base;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * {@code struct fault_attr} and {@code should_fail_ex()} of lib/fault-inject.c (Linux 6.18): one fault-injection
 * capability ({@code failslab}, {@code fail_page_alloc}) with its knobs, the boot parameter
 * {@code NAME=<interval>,<probability>,<space>,<times>} ({@link #setup}), the debugfs directory
 * {@code /sys/kernel/debug/NAME/} ({@link #registerDebugfs}) and the report {@code fail_dump()} prints.
 *
 * <p>{@link #shouldFail} decides, in the kernel's order: first the current task's {@code fail_nth}
 * ({@link TaskFaultInject}, {@code /proc/<pid>/fail-nth}): when armed, it counts down and the call that brings it to
 * 0 fails, whatever the knobs below say (the others pass); then no failure when {@code probability} is 0; none with
 * {@code task-filter} set unless the current task has {@code make_it_fail} ({@code /proc/<pid>/make-it-fail});
 * none when {@code times} is 0; while {@code space} exceeds the request's size, the size is taken from it and there is
 * no failure; with {@code interval > 1}, only every interval-th call that got this far may fail; then it fails
 * with {@code probability} percent. A failure prints (unless the caller passes {@link #FAULT_NOWARN} for
 * {@code __GFP_NOWARN}) "FAULT_INJECTION: forcing a failure." and the knobs' values when {@code verbose >= 1}, and
 * a {@code dump_stack()} when {@code verbose >= 2}, rate-limited by {@code verbose_ratelimit_interval_ms} /
 * {@code verbose_ratelimit_burst} (as in the kernel, off until an interval is written); then {@code times} is
 * decremented unless it is -1 (no limit).
 *
 * <p>Defaults ({@code FAULT_ATTR_INITIALIZER}): probability 0, interval 1, times 1, space 0, verbose 2,
 * task-filter N, ratelimit interval 0 (not limited), burst 10.
 *
 * <p>The callers' gate: failslab and fail_page_alloc sit behind static keys that follow {@code probability}
 * (Linux 6.11+: {@code should_failslab_active}, {@code should_fail_alloc_page}'s key), so they call this only while
 * their probability is not 0 ({@link #active()}); a task's {@code fail-nth} therefore reaches them only then, as on
 * a 6.18 kernel (set probability 100 with {@code times} 0 or {@code task-filter} Y to get the N-th failure alone).
 * {@code CONFIG_FAULT_INJECTION_STACKTRACE_FILTER} is not set in the reference config and not modelled. {@code verbose_ratelimit_interval_ms} holds jiffies as in the kernel
 * (the debugfs file writes {@code ratelimit_state.interval}); the model's HZ is the reference config's 250. The
 * random draw ({@code get_random_u32_below(100)}) comes from a generator seeded with {@code mm4j.random_seed}, so
 * runs are reproducible.
 *
 * <p>Threads: the knobs are volatile and may be changed from any thread; the decision after the probability test
 * runs under this object's monitor (the kernel uses atomics for times/space and a racy count; one lock keeps
 * "fail the next N" exact under concurrency). Only armed capabilities reach the lock.
 */
public final class FaultAttr {
    /** {@code FAULT_NOWARN}: the caller asked for no report ({@code __GFP_NOWARN}). */
    public static final int FAULT_NOWARN = 1;
    /** {@code CONFIG_HZ} of the reference config: the unit of {@code verbose_ratelimit_interval_ms}. */
    public static final int HZ = 250;

    /** One debugfs file of a capability: what {@code cat} shows and what {@code echo} stores. */
    public record Knob(Supplier<String> show, Consumer<String> store) {
    }

    private final String name;
    private final KernelLog log;
    private final CpuSlots cpus;
    private final Current current;
    private volatile long probability;
    private volatile long interval = 1;
    private final AtomicInteger times = new AtomicInteger(1);
    private final AtomicInteger space = new AtomicInteger();
    private volatile long verbose = 2;
    private volatile boolean taskFilter;
    private volatile int ratelimitInterval;
    private volatile int ratelimitBurst = RateLimit.DEFAULT_BURST;
    /** Guarded by this: {@code attr->count}, the random source and the rate limiter. */
    private long count;
    private final SplittableRandom random;
    private RateLimit ratelimit;
    private volatile Runnable onActiveChange = () -> { };

    /**
     * @param name    the capability, as its debugfs directory is named ({@code attr->dname})
     * @param seed    the seed of the random draw ({@code mm4j.random_seed})
     * @param current whose pid and comm the {@code dump_stack} of a report names
     */
    public FaultAttr(final String name, final KernelLog log, final CpuSlots cpus, final Current current,
                     final long seed) {
        this.name = name;
        this.log = log;
        this.cpus = cpus;
        this.current = current;
        this.random = new SplittableRandom(seed ^ name.hashCode());
        this.ratelimit = new RateLimit("fail_dump", 0, RateLimit.DEFAULT_BURST);
    }

    public String name() {
        return name;
    }

    /** The kernel this capability belongs to ({@link KernelLog#kernelId()}), for its JFR events. */
    public int kernelId() {
        return log.kernelId();
    }

    /**
     * True when failures may be injected ({@code probability != 0}): what a hot path tests first (the kernel's
     * {@code should_fail_ex} returns at once when probability is 0).
     */
    public boolean active() {
        return probability != 0;
    }

    /** Runs {@code r} (on the writing thread) each time {@link #active()} changes, like the kernel's static key. */
    public void onActiveChange(final Runnable r) {
        this.onActiveChange = r;
    }

    // ------------------------------------------------------------------ knobs (the debugfs files, in Java)

    public long probability() {
        return probability;
    }

    /** {@code probability}: percent of the calls that pass every other test which fail (above 100 = all). */
    public FaultAttr probability(final long percent) {
        if (percent < 0) {
            throw new IllegalArgumentException(name + ": probability=" + percent + " (expected: >= 0 percent)");
        }
        final boolean was = probability != 0;
        probability = percent;
        if (was != (percent != 0)) {
            onActiveChange.run();
        }
        return this;
    }

    public long interval() {
        return interval;
    }

    /** {@code interval}: only every interval-th eligible call may fail (0 and 1: every call). */
    public FaultAttr interval(final long calls) {
        if (calls < 0) {
            throw new IllegalArgumentException(name + ": interval=" + calls + " (expected: >= 0)");
        }
        interval = calls;
        return this;
    }

    public int times() {
        return times.get();
    }

    /** {@code times}: how many failures may still be injected; -1 = no limit. */
    public FaultAttr times(final int n) {
        if (n < -1) {
            throw new IllegalArgumentException(name + ": times=" + n + " (expected: -1 for no limit, or >= 0)");
        }
        times.set(n);
        return this;
    }

    public int space() {
        return space.get();
    }

    /** {@code space}: a budget of bytes (or pages) that calls consume before failures may be injected. */
    public FaultAttr space(final int bytes) {
        space.set(bytes);
        return this;
    }

    public long verbose() {
        return verbose;
    }

    /** {@code verbose}: 0 no report, 1 the two report lines, 2 also a stack. */
    public FaultAttr verbose(final long level) {
        if (level < 0) {
            throw new IllegalArgumentException(name + ": verbose=" + level + " (expected: 0, 1 or 2)");
        }
        verbose = level;
        return this;
    }

    public boolean taskFilter() {
        return taskFilter;
    }

    /** {@code task-filter}: only tasks with {@code make_it_fail} ({@code /proc/<pid>/make-it-fail}) may fail. */
    public FaultAttr taskFilter(final boolean on) {
        taskFilter = on;
        return this;
    }

    /** {@code verbose_ratelimit_interval_ms} (jiffies at {@link #HZ}) and {@code verbose_ratelimit_burst}. */
    public synchronized FaultAttr ratelimit(final int intervalJiffies, final int burst) {
        if (intervalJiffies < 0 || burst < 0) {
            throw new IllegalArgumentException(name + ": ratelimit interval=" + intervalJiffies + " burst=" + burst
                + " (expected: >= 0)");
        }
        ratelimitInterval = intervalJiffies;
        ratelimitBurst = burst;
        ratelimit = new RateLimit("fail_dump", intervalJiffies * (1_000_000_000L / HZ), burst);
        return this;
    }

    // ------------------------------------------------------------------ should_fail

    /**
     * {@code should_fail_ex(attr, size, flags)}: whether this call fails. {@code trace} names the kernel
     * functions on the failing path, innermost first, for the report's {@code dump_stack}; the Java callers
     * outside the model follow them.
     */
    public boolean shouldFail(final long size, final int flags, final List<String> trace) {
        final TaskFaultInject task = current.get().faultInject();
        final int nth = task.countDown();
        if (nth == 0) {
            return false;
        }
        if (nth < 0) {
            if (probability == 0) {
                return false;
            }
            if (taskFilter && !task.makeItFail()) {
                return false;
            }
        }
        final String report;
        synchronized (this) {
            if (nth < 0 && !passesAttrLocked(size)) {
                return false;
            }
            report = (flags & FAULT_NOWARN) == 0 ? failDump(trace) : null;
            if (times.get() != -1) {
                times.updateAndGet(t -> t == 0 ? 0 : t - 1);
            }
        }
        if (report != null) {
            log.printk(report);
        }
        return true;
    }

    /** The tests of {@code should_fail_ex} after the task's: times, space, interval, then the random draw. */
    private boolean passesAttrLocked(final long size) {
        assert Thread.holdsLock(this);
        if (times.get() == 0) {
            return false;
        }
        if (space.get() > size) {
            space.addAndGet((int) -Math.min(size, Integer.MAX_VALUE));
            return false;
        }
        if (interval > 1) {
            count++;
            if (count % interval != 0) {
                return false;
            }
        }
        return probability > random.nextInt(100);
    }

    /** {@code fail_dump()}: the report text, or null when verbose is 0 or the rate limit holds it back. */
    private String failDump(final List<String> trace) {
        if (verbose <= 0 || !ratelimit.ok(log)) {
            return null;
        }
        final StringBuilder sb = new StringBuilder(512);
        sb.append("FAULT_INJECTION: forcing a failure.\n");
        sb.append(String.format("name %s, interval %d, probability %d, space %d, times %d%n", name, interval,
            probability, space.get(), times.get()));
        if (verbose > 1) {
            final List<String> frames = new ArrayList<>(trace);
            frames.addAll(StackDepot.callers(FaultAttr::inModel, 8));
            final Current.Task t = current.get();
            DumpStack.append(sb, cpus.current(), t.pid(), t.comm(), frames);
        }
        sb.setLength(sb.length() - 1);
        return sb.toString();
    }

    private static final java.security.CodeSource CORE = FaultAttr.class.getProtectionDomain().getCodeSource();
    /**
     * The model's allocator classes (and the JDK's): what the report's Java frames leave out, so that they start
     * at the caller (the shell, a replayer, the user's code; tests in the model's packages are callers too).
     */
    private static final ClassValue<Boolean> IN_MODEL = new ClassValue<>() {
        @Override
        protected Boolean computeValue(final Class<?> c) {
            final String n = c.getName();
            if (n.startsWith("java.") || n.startsWith("jdk.")) {
                return true;
            }
            if (!(n.startsWith("org.mm4j.base.") || n.startsWith("org.mm4j.page.") || n.startsWith("org.mm4j.slab.")
                || n.startsWith("org.mm4j.boot."))) {
                return false;
            }
            final java.security.CodeSource cs = c.getProtectionDomain().getCodeSource();
            return CORE == null || cs == null || java.util.Objects.equals(cs.getLocation(), CORE.getLocation());
        }
    };

    private static boolean inModel(final Class<?> c) {
        return IN_MODEL.get(c);
    }

    // ------------------------------------------------------------------ boot parameter and debugfs

    /**
     * {@code setup_fault_attr()}: the boot parameter's {@code <interval>,<probability>,<space>,<times>}. On a
     * malformed value the kernel's "FAULT_INJECTION: failed to parse arguments" is logged and false returned
     * (nothing changes).
     */
    public boolean setup(final String value) {
        final String[] f = value == null ? new String[0] : value.split(",", -1);
        try {
            if (f.length >= 4) {
                final long iv = Long.parseLong(f[0].strip());
                final long prob = Long.parseLong(f[1].strip());
                final int sp = Integer.parseInt(f[2].strip());
                final int tm = Integer.parseInt(f[3].strip());
                if (iv >= 0 && prob >= 0 && tm >= -1) {
                    interval(iv);
                    space(sp);
                    times(tm);
                    probability(prob);
                    return true;
                }
            }
        } catch (final NumberFormatException e) {
            // falls through to the kernel's warning
        }
        log.printk("FAULT_INJECTION: failed to parse arguments");
        return false;
    }

    /**
     * {@code fault_create_debugfs_attr(name, NULL, attr)}: {@code /sys/kernel/debug/NAME/} with probability,
     * interval, times, space, verbose, verbose_ratelimit_interval_ms, verbose_ratelimit_burst and task-filter,
     * then the capability's own {@code extra} files.
     */
    public void registerDebugfs(final ProcFs procfs, final Map<String, Knob> extra) {
        final Map<String, Knob> files = new LinkedHashMap<>();
        final String dir = "/sys/kernel/debug/" + name;
        files.put("probability", new Knob(() -> probability + "\n", v -> probability(unsigned(dir, v))));
        files.put("interval", new Knob(() -> interval + "\n", v -> interval(unsigned(dir, v))));
        files.put("times", new Knob(() -> times.get() + "\n", v -> times(signedInt(dir, v, -1))));
        files.put("space", new Knob(() -> space.get() + "\n", v -> space(signedInt(dir, v, Integer.MIN_VALUE))));
        files.put("verbose", new Knob(() -> verbose + "\n", v -> verbose(unsigned(dir, v))));
        files.put("verbose_ratelimit_interval_ms", new Knob(() -> ratelimitInterval + "\n",
            v -> ratelimit(u32(dir, v), ratelimitBurst)));
        files.put("verbose_ratelimit_burst", new Knob(() -> ratelimitBurst + "\n",
            v -> ratelimit(ratelimitInterval, u32(dir, v))));
        files.put("task-filter", new Knob(() -> yn(taskFilter), v -> taskFilter(bool(dir, v))));
        files.putAll(extra);
        procfs.registerDir(dir, new ProcFs.Dir() {
            @Override
            public String read(final String rest) {
                final Knob k = files.get(rest);
                return k == null ? null : k.show().get();
            }

            @Override
            public boolean write(final String rest, final String value) {
                final Knob k = files.get(rest);
                if (k == null) {
                    return false;
                }
                try {
                    k.store().accept(value.strip());
                } catch (final IllegalArgumentException | ProcFs.ProcFsException e) {
                    throw new ProcFs.ProcFsException(dir + "/" + rest + ": Invalid argument");
                }
                return true;
            }

            @Override
            public List<String> list(final String rest) {
                return rest.isEmpty() ? new ArrayList<>(files.keySet()) : List.of();
            }
        });
    }

    /** A debugfs bool as {@code cat} shows it: "Y" or "N". */
    public static String yn(final boolean b) {
        return b ? "Y\n" : "N\n";
    }

    /** {@code kstrtobool} of a debugfs bool file: Y/y/1/on or N/n/0/off. */
    public static boolean bool(final String dir, final String v) {
        if (!v.isEmpty()) {
            switch (v.charAt(0)) {
                case 'y', 'Y', '1' -> {
                    return true;
                }
                case 'n', 'N', '0' -> {
                    return false;
                }
                case 'o', 'O' -> {
                    if (v.equalsIgnoreCase("on")) {
                        return true;
                    }
                    if (v.equalsIgnoreCase("off")) {
                        return false;
                    }
                }
                default -> {
                }
            }
        }
        throw invalid(dir);
    }

    /** {@code kstrtoull(buf, 0)}: decimal, 0x hex or 0 octal. */
    public static long unsigned(final String dir, final String v) {
        try {
            final long n = Long.decode(v);
            if (n < 0 || v.startsWith("-")) {
                throw invalid(dir);
            }
            return n;
        } catch (final NumberFormatException e) {
            throw invalid(dir);
        }
    }

    /** A {@code u32} debugfs file. */
    public static int u32(final String dir, final String v) {
        final long n = unsigned(dir, v);
        if (n > 0xffffffffL) {
            throw invalid(dir);
        }
        return (int) Math.min(n, Integer.MAX_VALUE);
    }

    private static int signedInt(final String dir, final String v, final int min) {
        try {
            final long n = Long.decode(v);
            if (n < min || n > Integer.MAX_VALUE) {
                throw invalid(dir);
            }
            return (int) n;
        } catch (final NumberFormatException e) {
            throw invalid(dir);
        }
    }

    private static ProcFs.ProcFsException invalid(final String dir) {
        return new ProcFs.ProcFsException(dir + ": Invalid argument");
    }

    @Override
    public String toString() {
        return String.format("%s: probability=%d interval=%d times=%d space=%d verbose=%d", name, probability,
            interval, times.get(), space.get(), verbose);
    }
}
