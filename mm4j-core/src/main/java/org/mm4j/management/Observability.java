package org.mm4j.management;

import jdk.jfr.FlightRecorder;
import org.mm4j.base.InternalApi;
import org.mm4j.base.ProcFs;
import org.mm4j.base.jfr.KmemCacheStatisticsEvent;
import org.mm4j.base.jfr.MmEvents;
import org.mm4j.page.BuddyAllocator;
import org.mm4j.slab.KmemCache;
import org.mm4j.slab.Slub;

import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The JDK observability of one booted kernel (issue 16): its MBeans on the platform MBean server and its periodic
 * JFR event {@code org.mm4j.KmemCacheStatistics}. The other JFR events come from the subsystems themselves
 * ({@link MmEvents}).
 *
 * <p>MBeans, registered by {@link #registerMBeans()} ({@code Kernel.registerMBeans()} or the boot parameter
 * {@code mm4j.jmx=on}) and unregistered by {@link #unregisterMBeans()} and {@link #close()}:
 * <pre>
 *   org.mm4j:type=Kernel,kernel=ID                    {@link KernelMXBean}: release, cmdline, meminfo
 *   org.mm4j:type=BuddyAllocator,kernel=ID            {@link BuddyAllocatorMXBean}: buddyinfo, watermarks, vmstat
 *   org.mm4j:type=KmemCache,kernel=ID,name=CACHE      {@link KmemCacheMXBean}: /sys/kernel/slab/CACHE/, shrink, validate
 * </pre>
 * While registered, a cache created later gets its MBean and a destroyed cache loses it (where the kernel adds
 * and removes the cache's sysfs directory). A cache name with a character JMX reserves ({@code , = : " * ?}) is
 * quoted ({@link ObjectName#quote}).
 *
 * <p>JFR: nothing is registered with the Flight Recorder until the JVM initializes it (a recording starts); then
 * one periodic hook is added for the whole JVM, which emits the statistics of every kernel not yet closed. A
 * kernel joins that set when it boots and leaves it in {@link #close()}; the set holds kernels weakly, so a
 * kernel dropped without {@code close()} is not kept alive by JFR. A JVM that never records pays nothing.
 *
 * <p>Threads: registration and unregistration of the MBeans run under the slab allocator's cache-list lock (the
 * {@link Slub} monitor, {@code slab_mutex}), as the cache listener does, so the set of cache MBeans follows the
 * cache list exactly. The MBeans' getters take whatever locks the sysfs files take. The set of live kernels is
 * guarded by its own monitor, held only to add, remove or copy (never while calling into a kernel or JFR).
 */
public final class Observability implements AutoCloseable {
    /** The JMX domain of every mm4j MBean. */
    public static final String DOMAIN = "org.mm4j";

    private final int kernelId;
    private final String release;
    private final String cmdline;
    private final Slub slub;
    private final BuddyAllocator buddy;
    private final ProcFs procfs;
    /**
     * The platform MBean server, looked up when the first MBean is registered: creating it registers every JDK
     * MXBean (tens of milliseconds of start-up), which a kernel that never registers its MBeans does not pay.
     */
    private static MBeanServer server() {
        return ManagementFactory.getPlatformMBeanServer();
    }
    /** Registered cache MBeans by cache. Changed under the Slub monitor. */
    private final Map<KmemCache, ObjectName> cacheNames = new ConcurrentHashMap<>();
    private final Slub.CacheListener cacheListener = new Slub.CacheListener() {
        @Override
        public void created(final KmemCache s) {
            registerCache(s);
        }

        @Override
        public void destroyed(final KmemCache s) {
            unregisterCache(s);
        }
    };
    /** Guarded by the Slub monitor. */
    private boolean registered;
    private volatile boolean closed;
    /** Kernels not yet closed, weakly held: what the periodic JFR hook reports on. */
    private static final Set<Observability> LIVE = Collections.synchronizedSet(
        Collections.newSetFromMap(new WeakHashMap<>()));
    /** Whether the one periodic hook of the JVM is (to be) added once the Flight Recorder is initialized. */
    private static final AtomicBoolean PERIODIC = new AtomicBoolean();

    @InternalApi("org.mm4j")
    public Observability(final int kernelId, final String release, final String cmdline, final Slub slub,
                         final BuddyAllocator buddy, final ProcFs procfs) {
        this.kernelId = kernelId;
        this.release = release;
        this.cmdline = cmdline;
        this.slub = slub;
        this.buddy = buddy;
        this.procfs = procfs;
        LIVE.add(this);
        if (PERIODIC.compareAndSet(false, true)) {
            MmEvents.whenRecorderInitialized(
                () -> FlightRecorder.addPeriodicEvent(KmemCacheStatisticsEvent.class, Observability::emitAll));
        }
    }

    // ------------------------------------------------------------------ names

    /** {@code org.mm4j:type=Kernel,kernel=ID}. */
    public static ObjectName kernelName(final int kernelId) {
        return name("type=Kernel,kernel=" + kernelId);
    }

    /** {@code org.mm4j:type=BuddyAllocator,kernel=ID}. */
    public static ObjectName buddyName(final int kernelId) {
        return name("type=BuddyAllocator,kernel=" + kernelId);
    }

    /** {@code org.mm4j:type=KmemCache,kernel=ID,name=CACHE} (CACHE quoted when JMX reserves one of its chars). */
    public static ObjectName cacheName(final int kernelId, final String cache) {
        final boolean plain = cache.chars().noneMatch(c -> ",=:\"*?\\\n".indexOf(c) >= 0);
        return name("type=KmemCache,kernel=" + kernelId + ",name=" + (plain ? cache : ObjectName.quote(cache)));
    }

    private static ObjectName name(final String keys) {
        try {
            return new ObjectName(DOMAIN + ":" + keys);
        } catch (final MalformedObjectNameException e) {
            throw new IllegalArgumentException("bad MBean name " + DOMAIN + ":" + keys, e);
        }
    }

    // ------------------------------------------------------------------ MBeans

    /**
     * Registers the kernel's, the buddy allocator's and every cache's MBean on the platform MBean server, and
     * keeps the cache MBeans in step with cache creation and destruction. A second call does nothing.
     *
     * @throws IllegalStateException when the kernel is closed, or an MBean of that name is registered already
     */
    public void registerMBeans() {
        synchronized (slub) {
            if (closed) {
                throw new IllegalStateException("registerMBeans: kernel " + kernelId + " is closed");
            }
            if (registered) {
                return;
            }
            register(new KernelBean(), kernelName(kernelId));
            register(new BuddyBean(), buddyName(kernelId));
            registered = true;
            slub.addCacheListener(cacheListener);
            for (final KmemCache s : slub.caches()) {
                registerCache(s);
            }
        }
    }

    /** Unregisters every MBean of this kernel; nothing when none is registered. */
    public void unregisterMBeans() {
        synchronized (slub) {
            if (!registered) {
                return;
            }
            registered = false;
            slub.removeCacheListener(cacheListener);
            for (final KmemCache s : cacheNames.keySet()) {
                unregisterCache(s);
            }
            unregister(buddyName(kernelId));
            unregister(kernelName(kernelId));
        }
    }

    /** Whether {@link #registerMBeans()} is in effect. */
    public boolean mbeansRegistered() {
        synchronized (slub) {
            return registered;
        }
    }

    private void registerCache(final KmemCache s) {
        assert Thread.holdsLock(slub);
        final ObjectName n = cacheName(kernelId, s.name());
        register(new CacheBean(s), n);
        cacheNames.put(s, n);
    }

    private void unregisterCache(final KmemCache s) {
        assert Thread.holdsLock(slub);
        final ObjectName n = cacheNames.remove(s);
        if (n != null) {
            unregister(n);
        }
    }

    private void register(final Object bean, final ObjectName n) {
        try {
            server().registerMBean(bean, n);
        } catch (final JMException e) {
            throw new IllegalStateException("cannot register MBean " + n + ": " + e, e);
        }
    }

    private void unregister(final ObjectName n) {
        try {
            server().unregisterMBean(n);
        } catch (final InstanceNotFoundException e) {
            // unregistered by someone else: nothing left to do
        } catch (final JMException e) {
            throw new IllegalStateException("cannot unregister MBean " + n + ": " + e, e);
        }
    }

    // ------------------------------------------------------------------ JFR

    /** The periodic hook of the JVM: the statistics of every kernel not yet closed. */
    private static void emitAll() {
        final List<Observability> live;
        synchronized (LIVE) {
            live = new ArrayList<>(LIVE);
        }
        for (final Observability o : live) {
            o.emitStatistics();
        }
    }

    /** One {@code org.mm4j.KmemCacheStatistics} event per cache of this kernel. */
    private void emitStatistics() {
        if (closed) {
            return;
        }
        try {
            for (final KmemCache s : slub.caches()) {
                final KmemCacheStatisticsEvent e = new KmemCacheStatisticsEvent();
                if (!e.shouldCommit() || closed) {
                    return;
                }
                final SlabFigures f = SlabFigures.read(procfs, s);
                if (f == null) {
                    continue;  // destroyed meanwhile
                }
                e.kernel = kernelId;
                e.cache = s.name();
                e.objectSize = s.objectSize();
                e.slabSize = s.size();
                e.order = s.order();
                e.activeObjects = f.objects();
                e.totalObjects = f.totalObjects();
                e.slabs = f.slabs();
                e.partial = f.partial();
                e.cpuSlabs = f.cpuSlabs();
                e.sheafObjects = f.sheafObjects();
                e.commit();
            }
        } catch (final IllegalStateException e) {
            // the kernel closed under the hook (its memory is gone): nothing more to report
        }
    }

    /**
     * Unregisters the MBeans and leaves the periodic JFR hook's set. Called by {@code Kernel.close()} before the
     * memory goes (a hook already running sees {@code closed}, or fails on the closed memory and stops).
     */
    @Override
    public void close() {
        unregisterMBeans();
        synchronized (slub) {
            closed = true;
        }
        LIVE.remove(this);
    }

    // ------------------------------------------------------------------ the beans

    private final class KernelBean implements KernelMXBean {
        @Override
        public int getId() {
            return kernelId;
        }

        @Override
        public String getRelease() {
            return release;
        }

        @Override
        public String getCmdline() {
            return cmdline;
        }

        @Override
        public Map<String, Long> getMeminfo() {
            return ProcText.keyValues(procfs.read("/proc/meminfo"));
        }

        @Override
        public int getCaches() {
            return slub.caches().size();
        }
    }

    private final class BuddyBean implements BuddyAllocatorMXBean {
        @Override
        public String getBuddyinfo() {
            return procfs.read("/proc/buddyinfo");
        }

        @Override
        public Map<String, long[]> getFreeBlocks() {
            return ProcText.buddyinfo(procfs.read("/proc/buddyinfo"));
        }

        @Override
        public Map<String, long[]> getWatermarks() {
            return ProcText.watermarks(procfs.read("/proc/zoneinfo"));
        }

        @Override
        public long getFreePages() {
            return buddy.freePages();
        }

        @Override
        public long getPcpPages() {
            return buddy.pcpPages();
        }

        @Override
        public long getTotalramPages() {
            return buddy.totalramPages();
        }

        @Override
        public int getMinFreeKbytes() {
            return buddy.minFreeKbytes();
        }

        @Override
        public void setMinFreeKbytes(final int kbytes) {
            procfs.write("/proc/sys/vm/min_free_kbytes", Integer.toString(kbytes));  // the sysctl's checks
        }

        @Override
        public Map<String, Long> getVmstat() {
            return ProcText.keyValues(procfs.read("/proc/vmstat"));
        }
    }

    private final class CacheBean implements KmemCacheMXBean {
        private final KmemCache s;

        CacheBean(final KmemCache s) {
            this.s = s;
        }

        private long sysfs(final String attr) {
            return ProcText.firstNumber(procfs.read(SlabFigures.SYS + s.name() + "/" + attr));
        }

        @Override
        public String getName() {
            return s.name();
        }

        @Override
        public String[] getAliasNames() {
            return s.aliasNames().toArray(new String[0]);
        }

        @Override
        public int getAliases() {
            return s.aliases();
        }

        @Override
        public int getObjectSize() {
            return s.objectSize();
        }

        @Override
        public int getSlabSize() {
            return s.size();
        }

        @Override
        public int getAlign() {
            return s.align();
        }

        @Override
        public int getObjsPerSlab() {
            return s.objsPerSlab();
        }

        @Override
        public int getOrder() {
            return s.order();
        }

        @Override
        public long getObjects() {
            return sysfs("objects");
        }

        @Override
        public long getTotalObjects() {
            return sysfs("total_objects");
        }

        @Override
        public long getObjectsPartial() {
            return sysfs("objects_partial");
        }

        @Override
        public long getSlabs() {
            return sysfs("slabs");
        }

        @Override
        public long getPartial() {
            return sysfs("partial");
        }

        @Override
        public long getCpuSlabs() {
            return sysfs("cpu_slabs");
        }

        @Override
        public int getMinPartial() {
            return s.minPartial();
        }

        @Override
        public int getCpuPartial() {
            return s.cpuPartial();
        }

        @Override
        public int getSheafCapacity() {
            return s.sheafCapacity();
        }

        @Override
        public long getSheafObjects() {
            return s.sheafUsage().objects();
        }

        @Override
        public long getSheafBound() {
            return s.sheafUsage().bound();
        }

        @Override
        public boolean isDebug() {
            return s.isDebug();
        }

        @Override
        public void shrink() {
            s.shrink();
        }

        @Override
        public int validate() {
            return s.validate();
        }
    }
}
