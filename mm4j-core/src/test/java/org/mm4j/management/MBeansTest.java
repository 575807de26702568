package org.mm4j.management;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.slab.KmemCache;
import org.mm4j.slab.SlabFlags;

import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MBeans of issue 16 read through the platform MBean server as JConsole/JMC read them (attribute names,
 * open types), compared with the /proc and /sys files of the same kernel; shrink and validate invoked as
 * operations; registration and unregistration following cache creation, destruction and {@code Kernel.close()}.
 */
class MBeansTest {
    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();

    private static long sysfs(final Kernel k, final String cache, final String attr) {
        return Long.parseLong(k.procfs().read("/sys/kernel/slab/" + cache + "/" + attr).split("\\s")[0]);
    }

    private static Set<ObjectName> mine(final Kernel k) throws Exception {
        return SERVER.queryNames(new ObjectName("org.mm4j:kernel=" + k.id() + ",*"), null);
    }

    @Test
    void cacheAttributesAreTheSysfsFilesAndOperationsWork() throws Exception {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2").registerMBeans()) {
            final KmemCache s = k.slab().kmemCacheCreate("jmx_cache", 200, 0, SlabFlags.SLAB_NO_MERGE, null);
            final long[] objs = new long[s.objsPerSlab() * 3];
            for (int i = 0; i < objs.length; i++) {
                objs[i] = s.alloc();
            }
            for (int i = 0; i < objs.length; i += 2) {
                s.free(objs[i]);
            }
            final ObjectName n = Observability.cacheName(k.id(), "jmx_cache");
            assertEquals("org.mm4j:type=KmemCache,kernel=" + k.id() + ",name=jmx_cache", n.toString());
            assertTrue(SERVER.isRegistered(n), "a cache created after registerMBeans gets its MBean");
            for (final String[] a : new String[][] {{"Objects", "objects"}, {"TotalObjects", "total_objects"},
                {"Slabs", "slabs"}, {"Partial", "partial"}, {"CpuSlabs", "cpu_slabs"},
                {"ObjectsPartial", "objects_partial"}}) {
                assertEquals(sysfs(k, "jmx_cache", a[1]), SERVER.getAttribute(n, a[0]), a[0]);
            }
            for (final String[] a : new String[][] {{"ObjectSize", "object_size"}, {"SlabSize", "slab_size"},
                {"ObjsPerSlab", "objs_per_slab"}, {"Order", "order"}}) {
                assertEquals((int) sysfs(k, "jmx_cache", a[1]), SERVER.getAttribute(n, a[0]), a[0]);
            }
            assertEquals(200, SERVER.getAttribute(n, "ObjectSize"));
            assertEquals(Boolean.FALSE, SERVER.getAttribute(n, "Debug"));
            // shrink as an operation: the half-empty slabs stay, the CPU slab is flushed to the lists
            final long slabsBefore = (Long) SERVER.getAttribute(n, "Slabs");
            for (int i = 1; i < objs.length; i += 2) {
                s.free(objs[i]);
            }
            SERVER.invoke(n, "shrink", new Object[0], new String[0]);
            final long slabsAfter = (Long) SERVER.getAttribute(n, "Slabs");
            assertEquals(sysfs(k, "jmx_cache", "slabs"), slabsAfter);
            assertTrue(slabsAfter < slabsBefore, "shrink freed the empty slabs: " + slabsBefore + " -> " + slabsAfter);
            assertEquals(0L, SERVER.getAttribute(n, "Objects"));
            // the typed proxy a Java client uses
            final KmemCacheMXBean proxy = JMX.newMXBeanProxy(SERVER, n, KmemCacheMXBean.class);
            assertEquals("jmx_cache", proxy.getName());
            assertEquals(0, proxy.validate(), "a clean cache validates without errors");
        }
    }

    @Test
    void validateCountsErrorsOfACorruptedCache() throws Exception {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2 mm4j.jmx=on")) {
            final KmemCache d = k.slab().kmemCacheCreate("jmx_poison", 64, 0,
                SlabFlags.SLAB_CONSISTENCY_CHECKS | SlabFlags.SLAB_POISON, null);
            final ObjectName n = Observability.cacheName(k.id(), "jmx_poison");
            assertEquals(Boolean.TRUE, SERVER.getAttribute(n, "Debug"));
            final long p = d.alloc();
            d.free(p);
            k.slab().segment(p + 5, 1).set(ValueLayout.JAVA_BYTE, 0, (byte) 0x11);
            k.log().clear();
            final int errors = (Integer) SERVER.invoke(n, "validate", new Object[0], new String[0]);
            assertTrue(errors > 0, "the overwritten poison is an error");
            assertTrue(String.join("\n", k.log().messages()).contains("Poison overwritten"), k.log().messages()
                .toString());
        }
    }

    @Test
    void buddyAndKernelBeansShowProcFiles() throws Exception {
        try (Kernel k = Kernel.boot("mem=32M nr_cpus=2").registerMBeans()) {
            final ObjectName b = Observability.buddyName(k.id());
            final ObjectName kn = Observability.kernelName(k.id());
            k.buddy().drainAllPages();
            assertEquals(k.procfs().read("/proc/buddyinfo"), SERVER.getAttribute(b, "Buddyinfo"));
            final TabularData free = (TabularData) SERVER.getAttribute(b, "FreeBlocks");
            // mem=32M on x86-64: ZONE_DMA below 16 MiB, ZONE_DMA32 above, Normal empty (not in buddyinfo)
            final CompositeData normal = free.get(new Object[] {"Node 0, zone DMA32"});
            final String line = k.procfs().read("/proc/buddyinfo").lines()
                .filter(l -> l.contains("DMA32")).findFirst().orElseThrow();
            final String[] f = line.strip().split("\\s+");
            final long[] expected = new long[f.length - 4];
            for (int i = 4; i < f.length; i++) {
                expected[i - 4] = Long.parseLong(f[i]);
            }
            assertArrayEquals(expected, (long[]) normal.get("value"));
            final CompositeData wm = ((TabularData) SERVER.getAttribute(b, "Watermarks"))
                .get(new Object[] {"Node 0, zone DMA32"});
            final long[] w = (long[]) wm.get("value");
            assertTrue(w[0] > 0 && w[0] < w[1] && w[1] < w[2], "min < low < high: " + java.util.Arrays.toString(w));
            assertTrue(k.procfs().read("/proc/zoneinfo").contains("        min      " + w[0] + "\n"));
            // a writable attribute goes through the sysctl: the watermarks follow
            SERVER.setAttribute(b, new javax.management.Attribute("MinFreeKbytes", 2048));
            assertEquals("2048\n", k.procfs().read("/proc/sys/vm/min_free_kbytes"));
            final long[] w2 = (long[]) ((TabularData) SERVER.getAttribute(b, "Watermarks"))
                .get(new Object[] {"Node 0, zone DMA32"}).get("value");
            assertTrue(w2[0] > w[0], "a larger min_free_kbytes raises min: " + w[0] + " -> " + w2[0]);
            final TabularData vmstat = (TabularData) SERVER.getAttribute(b, "Vmstat");
            assertEquals(k.buddy().freePages(), vmstat.get(new Object[] {"nr_free_pages"}).get("value"));
            assertEquals(k.id(), SERVER.getAttribute(kn, "Id"));
            assertEquals(Kernel.VERSION, SERVER.getAttribute(kn, "Release"));
            final TabularData meminfo = (TabularData) SERVER.getAttribute(kn, "Meminfo");
            assertEquals(k.buddy().totalramPages() * 4, meminfo.get(new Object[] {"MemTotal"}).get("value"));
            assertEquals(k.slab().caches().size(), SERVER.getAttribute(kn, "Caches"));
        }
    }

    @Test
    void unregisteredOnDestroyAndOnClose() throws Exception {
        final Kernel k = Kernel.boot("mem=32M nr_cpus=2");
        assertTrue(mine(k).isEmpty(), "nothing registered until asked");
        k.registerMBeans();
        k.registerMBeans();  // a second call does nothing
        final KmemCache s = k.slab().kmemCacheCreate("jmx_gone", 72, 0, SlabFlags.SLAB_NO_MERGE, null);
        final ObjectName n = Observability.cacheName(k.id(), "jmx_gone");
        assertTrue(SERVER.isRegistered(n));
        assertEquals(k.slab().caches().size() + 2, mine(k).size(), "one per cache, the buddy allocator, the kernel");
        k.slab().destroy(s);
        assertFalse(SERVER.isRegistered(n), "a destroyed cache's MBean goes with its sysfs directory");
        k.unregisterMBeans();
        assertTrue(mine(k).isEmpty());
        k.registerMBeans();
        assertFalse(mine(k).isEmpty());
        k.close();
        assertTrue(mine(k).isEmpty(), "close unregisters everything: " + mine(k));
        assertThrows(IllegalStateException.class, k::registerMBeans);
    }

    @Test
    void cacheNamesJmxReservesAreQuoted() throws Exception {
        final ObjectName n = Observability.cacheName(3, "a:b,c=d");
        assertEquals("a:b,c=d", ObjectName.unquote(n.getKeyProperty("name")));
        assertEquals("kmalloc-64", Observability.cacheName(3, "kmalloc-64").getKeyProperty("name"));
    }
}
