package org.mm4j.slab;

import org.mm4j.base.ProcFs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code /proc/slabinfo} (mm/slab_common.c, "slabinfo - version: 2.1") and {@code /sys/kernel/slab/<cache>/<attr>}
 * (mm/slub.c sysfs attributes, and the CONFIG_SLUB_STATS files when the config has it: boot with
 * {@code mm4j.config.SLUB_STATS=y}; the Java API's {@code stat()} counts either way) in the kernel's formats. Alias names and the
 * ":[flags-]size" names of mergeable caches resolve to the same directory, as the kernel's symlinks do.
 *
 * <p>{@code validate} accepts "1" on debug caches only and is -EINVAL otherwise, as 6.18's
 * {@code validate_store}; the 5.x {@code alloc_calls}/{@code free_calls} files are gone (debugfs
 * {@code alloc_traces}/{@code free_traces} hold the data since 5.14). Departure: {@code mm4j_sheaves} is mm4j's own attribute: the objects parked in sheaves (per-thread, per-CPU, barns), their
 * bound, then where they are ({@link SheafUsage#sysfs()}). /proc/slabinfo counts those objects as active, as the
 * kernel counts its per-CPU sheaves.
 */
final class SlubSysfs {
    static final String SYS = "/sys/kernel/slab";
    // No alloc_calls/free_calls: 5.14 moved them to debugfs (alloc_traces/free_traces, SlubDebugSupport).
    private static final String[] ATTRS = {"aliases", "align", "cache_dma", "cpu_partial",
        "cpu_slabs", "ctor", "destroy_by_rcu", "failslab", "hwcache_align", "min_partial",
        "mm4j_sheaves",
        "object_size", "objects", "objects_partial",
        "objs_per_slab", "order", "partial", "poison", "reclaim_account", "red_zone", "remote_node_defrag_ratio",
        "sanity_checks", "sheaf_capacity", "shrink", "slab_size", "slabs", "slabs_cpu_partial", "store_user",
        "total_objects", "trace", "usersize", "validate"};

    private SlubSysfs() {
    }

    static void register(final Slub slub) {
        final ProcFs procfs = slub.procfs();
        if (procfs == null) {
            return;
        }
        procfs.registerFile("/proc/slabinfo", () -> slabinfo(slub));
        SlubDebugSupport.register(slub, procfs);
        procfs.registerDir(SYS, new ProcFs.Dir() {
            @Override
            public String read(final String rest) {
                final int slash = rest.indexOf('/');
                if (slash < 0) {
                    return null;
                }
                final KmemCache s = slub.sysfsEntries().get(rest.substring(0, slash));
                return s == null || s.isDestroyed() ? null : show(s, rest.substring(slash + 1));
            }

            @Override
            public boolean write(final String rest, final String value) {
                final int slash = rest.indexOf('/');
                if (slash < 0) {
                    return false;
                }
                final KmemCache s = slub.sysfsEntries().get(rest.substring(0, slash));
                return s != null && !s.isDestroyed() && store(s, rest.substring(slash + 1), value.strip(),
                    SYS + "/" + rest);
            }

            @Override
            public List<String> list(final String rest) {
                if (rest.isEmpty()) {
                    return new ArrayList<>(slub.sysfsEntries().keySet());
                }
                final KmemCache s = slub.sysfsEntries().get(rest);
                if (s == null) {
                    return List.of();
                }
                final List<String> out = new ArrayList<>(List.of(ATTRS));
                if (!slub.failslabBuilt()) {
                    out.remove("failslab");
                }
                if (slub.slubStats) {
                    for (final StatItem i : StatItem.values()) {
                        out.add(i.sysfsName());
                    }
                }
                out.sort(null);
                return out;
            }
        });
    }

    /** /proc/slabinfo as SLUB prints it (newest cache first; tunables and sharedavail are 0). */
    static String slabinfo(final Slub slub) {
        final StringBuilder sb = new StringBuilder();
        sb.append("slabinfo - version: 2.1\n");
        sb.append("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>");
        sb.append(" : tunables <limit> <batchcount> <sharedfactor>");
        sb.append(" : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
        for (final KmemCache s : slub.caches()) {
            long slabs = 0;
            long objs = 0;
            long free = 0;
            for (final KmemCacheNode n : s.nodes) {
                slabs += n.nrSlabs.get();
                objs += n.totalObjects.get();
                free += SlabCounters.countPartialFree(s, n);
            }
            sb.append(String.format("%-17s %6d %6d %6d %4d %4d : tunables %4d %4d %4d : slabdata %6d %6d %6d%n",
                s.name(), objs - free, objs, s.size(), s.objsPerSlab(), 1 << s.order(), 0, 0, 0, slabs, slabs, 0));
        }
        return sb.toString();
    }

    private static String flag(final KmemCache s, final long f) {
        return ((s.flags & f) != 0 ? "1" : "0") + "\n";
    }

    /** {@code show_slab_objects}: total, then " N<node>=<n>" for each node with a non-zero count. */
    private static String perNode(final long[] perNode) {
        long total = 0;
        for (final long v : perNode) {
            total += v;
        }
        final StringBuilder sb = new StringBuilder().append(total);
        for (int n = 0; n < perNode.length; n++) {
            if (perNode[n] != 0) {
                sb.append(" N").append(n).append('=').append(perNode[n]);
            }
        }
        return sb.append('\n').toString();
    }

    static String show(final KmemCache s, final String attr) {
        final int nn = s.nodes.length;
        final long[] v = new long[nn];
        switch (attr) {
            case "slab_size": return s.size() + "\n";
            case "object_size": return s.objectSize() + "\n";
            case "objs_per_slab": return s.objsPerSlab() + "\n";
            case "order": return s.order() + "\n";
            case "align": return s.align() + "\n";
            case "min_partial": return s.minPartial() + "\n";
            case "cpu_partial": return s.cpuPartial() + "\n";
            case "sheaf_capacity": return s.sheafCapacity() + "\n";
            case "mm4j_sheaves": return s.sheafUsage().sysfs();
            case "aliases": return s.aliases() + "\n";
            case "ctor": return s.ctor() == null ? "" : s.ctor().name() + "\n";
            case "usersize": return s.usersize() + "\n";
            case "remote_node_defrag_ratio": return "100\n";
            case "hwcache_align": return flag(s, SlabFlags.SLAB_HWCACHE_ALIGN);
            case "reclaim_account": return flag(s, SlabFlags.SLAB_RECLAIM_ACCOUNT);
            case "destroy_by_rcu": return flag(s, SlabFlags.SLAB_TYPESAFE_BY_RCU);
            case "cache_dma": return flag(s, SlabFlags.SLAB_CACHE_DMA);
            case "sanity_checks": return flag(s, SlabFlags.SLAB_CONSISTENCY_CHECKS);
            case "trace": return flag(s, SlabFlags.SLAB_TRACE);
            case "failslab": return !s.slub.failslabBuilt() ? null : s.failslab() ? "1\n" : "0\n";
            case "red_zone": return flag(s, SlabFlags.SLAB_RED_ZONE);
            case "poison": return flag(s, SlabFlags.SLAB_POISON);
            case "store_user": return flag(s, SlabFlags.SLAB_STORE_USER);
            case "shrink", "validate": return "";
            case "partial":
                for (final KmemCacheNode n : s.nodes) {
                    v[n.nid] = SlabCounters.countPartial(s, n, 0);
                }
                return perNode(v);
            case "objects_partial":
                for (final KmemCacheNode n : s.nodes) {
                    v[n.nid] = SlabCounters.countPartial(s, n, 1);
                }
                return perNode(v);
            case "cpu_slabs": return perNode(SlabCounters.cpuSlabs(s));
            case "slabs":
                for (final KmemCacheNode n : s.nodes) {
                    v[n.nid] = n.nrSlabs.get();
                }
                return perNode(v);
            case "total_objects":
                for (final KmemCacheNode n : s.nodes) {
                    v[n.nid] = n.totalObjects.get();
                }
                return perNode(v);
            case "objects":
                for (final KmemCacheNode n : s.nodes) {
                    v[n.nid] = n.totalObjects.get() - SlabCounters.countPartialFree(s, n);
                }
                return perNode(v);
            case "slabs_cpu_partial": {
                int slabs = 0;
                final StringBuilder per = new StringBuilder();
                for (int c = 0; c < s.nrCpus(); c++) {
                    final int sl = SlabCounters.cpuPartialSlabsOf(s, c);
                    slabs += sl;
                    if (sl != 0) {
                        per.append(" C").append(c).append('=').append(sl * s.objsPerSlab() / 2).append('(')
                            .append(sl).append(')');
                    }
                }
                return slabs * s.objsPerSlab() / 2 + "(" + slabs + ")" + per + "\n";
            }
            default: {
                final StatItem item = StatItem.ofSysfsName(attr);
                if (item == null || !s.slub.slubStats) {
                    return null;  // the stat files exist only with CONFIG_SLUB_STATS
                }
                final StringBuilder sb = new StringBuilder().append(s.stat(item));
                for (int c = 0; c < s.nrCpus(); c++) {
                    final long x = s.stat(item, c);
                    if (x != 0) {
                        sb.append(" C").append(c).append('=').append(x);
                    }
                }
                return sb.append('\n').toString();
            }
        }
    }

    static boolean store(final KmemCache s, final String attr, final String value, final String path) {
        switch (attr) {
            case "shrink" -> {
                if (!value.startsWith("1")) {
                    throw invalid(path);
                }
                s.shrink();
            }
            case "validate" -> {
                // validate_store (mm/slub.c, 6.18): only "1" on a cache with a debug flag
                // (kmem_cache_debug: SLAB_DEBUG_FLAGS) runs the walk; anything else is -EINVAL
                if (!value.startsWith("1") || !s.isDebug()) {
                    throw invalid(path);
                }
                s.validate();
            }
            case "failslab" -> {
                if (!s.slub.failslabBuilt()) {
                    return false;
                }
                if (s.refcount > 1) {
                    throw invalid(path);  // a merged cache: the flag would change its aliases too
                }
                s.failslab(value.startsWith("1"));
            }
            case "min_partial" -> s.minPartial = parse(value, path);
            case "cpu_partial" -> {
                final int objects = parse(value, path);
                if (objects != 0 && s.isDebug()) {
                    throw invalid(path);
                }
                s.cpuPartial = objects;
                s.cpuPartialSlabs = (objects * 2 + s.objsPerSlab() - 1) / s.objsPerSlab();
                s.flushAll();
            }
            default -> {
                final StatItem item = StatItem.ofSysfsName(attr);
                if (item == null || !s.slub.slubStats) {
                    return false;
                }
                if (!value.startsWith("0")) {
                    throw invalid(path);
                }
                s.clearStat(item);
            }
        }
        return true;
    }

    private static int parse(final String value, final String path) {
        try {
            final int n = Integer.parseInt(value);
            if (n < 0) {
                throw invalid(path);
            }
            return n;
        } catch (final NumberFormatException e) {
            throw invalid(path);
        }
    }

    private static ProcFs.ProcFsException invalid(final String path) {
        return new ProcFs.ProcFsException(path + ": Invalid argument");
    }

    static Map<String, KmemCache> entries(final Slub slub) {
        return slub.sysfsEntries();
    }
}
