package org.mm4j.slab;

import java.util.ArrayList;
import java.util.List;

import org.mm4j.base.ProcFs;
import org.mm4j.page.MemMap;
import org.mm4j.page.PhysicalMemory;
import org.mm4j.slab.debug.SlubDebug;

/**
 * Where SLUB debugging meets the SLUB core's structures: the {@code alloc_calls}/{@code free_calls} sysfs files
 * and the {@code /sys/kernel/debug/slab/<cache>/{alloc_traces,free_traces}} debugfs files (walks of the node
 * lists under their locks), and the part of {@code __do_krealloc} that depends on the tracked orig_size.
 *
 * <p>Threads: each walk takes every node's list lock of the cache, in node order (the lock order of
 * {@link KmemCache}), so it sees no slab move; the krealloc helpers touch only the caller's own object.
 */
final class SlubDebugSupport {
    static final String DEBUGFS = "/sys/kernel/debug/slab";

    private SlubDebugSupport() {
    }

    /** Registers the debugfs directory ({@code debugfs_slab_add} for every SLAB_STORE_USER cache). */
    static void register(final Slub slub, final ProcFs procfs) {
        procfs.registerDir(DEBUGFS, new ProcFs.Dir() {
            @Override
            public String read(final String rest) {
                final int slash = rest.indexOf('/');
                if (slash < 0) {
                    return null;
                }
                final KmemCache s = slub.findCache(rest.substring(0, slash));
                final String file = rest.substring(slash + 1);
                if (s == null || s.isDestroyed() || !(file.equals("alloc_traces") || file.equals("free_traces"))) {
                    return null;
                }
                return traces(s, file.equals("alloc_traces"), true);
            }

            @Override
            public List<String> list(final String rest) {
                if (rest.isEmpty()) {
                    final List<String> out = new ArrayList<>();
                    for (final KmemCache s : slub.caches()) {
                        if ((s.flags & SlabFlags.SLAB_STORE_USER) != 0) {
                            out.add(s.name());
                        }
                    }
                    return out;
                }
                return List.of("alloc_traces", "free_traces");
            }
        });
    }

    /**
     * The {@code alloc_traces}/{@code free_traces} text of a SLAB_STORE_USER cache from its partial and full
     * slabs (as {@code slab_debug_trace_open}); {@code withStacks} adds the stack lines (debugfs), the sysfs
     * {@code alloc_calls}/{@code free_calls} files of older kernels had none. Null for caches without U.
     */
    static String traces(final KmemCache s, final boolean alloc, final boolean withStacks) {
        if ((s.flags & SlabFlags.SLAB_STORE_USER) == 0) {
            return null;
        }
        final MemMap mm = s.slub.memMap;
        final List<SlabPage> slabs = new ArrayList<>();
        for (final KmemCacheNode n : s.nodes) {
            n.listLock.lock();
        }
        try {
            for (final KmemCacheNode n : s.nodes) {
                for (long slab = n.partialHead; slab >= 0; slab = mm.lruNext(slab)) {
                    slabs.add(new SlabPage(s.slub, slab));
                }
                for (long slab = n.fullHead; slab >= 0; slab = mm.lruNext(slab)) {
                    slabs.add(new SlabPage(s.slub, slab));
                }
            }
            return s.slub.debug().traces(s, slabs, alloc, withStacks, s.slub.mem.nrNodes());
        } finally {
            for (final KmemCacheNode n : s.nodes) {
                n.listLock.unlock();
            }
        }
    }

    /**
     * {@code validate_slab_cache} of a debug cache: for each node, under its list lock, {@code validate_slab} on
     * every partial slab and (SLAB_STORE_USER) every full slab, and the list counts against the node's counters
     * ({@code validate_slab_node}). Debug caches have no per-CPU slabs, so nothing needs flushing; slabs on no
     * list (full ones without U, or one being set up) are not walked, as in the kernel. Returns the number of
     * errors found; in strict mode the first one is thrown once every lock is released.
     */
    static int validate(final KmemCache s) {
        final SlubDebug debug = s.slub.debug();
        final MemMap mm = s.slub.memMap;
        final int before = debug.errorEvents();
        for (final KmemCacheNode n : s.nodes) {
            n.listLock.lock();
            try {
                final List<SlabPage> partial = new ArrayList<>();
                for (long slab = n.partialHead; slab >= 0; slab = mm.lruNext(slab)) {
                    partial.add(new SlabPage(s.slub, slab));
                }
                final List<SlabPage> full = new ArrayList<>();
                for (long slab = n.fullHead; slab >= 0; slab = mm.lruNext(slab)) {
                    full.add(new SlabPage(s.slub, slab));
                }
                debug.validateSlabNode(s, partial, n.nrPartial, full, n.nrSlabs.get());
            } finally {
                n.listLock.unlock();
            }
        }
        debug.checkpoint();
        return debug.errorEvents() - before;
    }

    /** The cache of a slab object whose orig_size is tracked (SLAB_KMALLOC with SLAB_STORE_USER), or null. */
    private static KmemCache trackedCache(final Slub slub, final long kaddr) {
        final long slab = slub.virtToSlab(kaddr - PhysicalMemory.PAGE_OFFSET);
        if (slab < 0) {
            return null;
        }
        final KmemCache s = slub.cacheById(slub.memMap.lpInt(slab, MemMap.SLAB_CACHE));
        final long both = SlabFlags.SLAB_KMALLOC | SlabFlags.SLAB_STORE_USER;
        return s == null || (s.flags & both) != both ? null : s;
    }

    /**
     * {@code __do_krealloc} in place for an object whose cache tracks orig_size, when {@code newSize} fits the
     * object: zero the new bytes ({@code zero}: {@code __GFP_ZERO} or init_on_alloc) precisely from the old
     * orig_size, record the new orig_size, and red-zone (0xcc) the rest of the object. False = not handled.
     */
    static boolean kreallocInPlace(final Slub slub, final long kaddr, final long newSize, final boolean zero) {
        final KmemCache s = trackedCache(slub, kaddr);
        if (s == null || newSize > s.objectSize()) {
            return false;
        }
        final SlubDebug debug = slub.debug();
        final long ks = s.objectSize();
        final long orig = debug.getOrigSize(s, kaddr);
        final long p = kaddr - PhysicalMemory.PAGE_OFFSET;
        if (zero) {
            if (orig != 0 && orig < newSize) {
                slub.mem.fill(p + orig, newSize - orig, (byte) 0);
            } else {
                slub.mem.fill(p + newSize, ks - newSize, (byte) 0);
            }
        }
        debug.setOrigSize(s, kaddr, newSize);
        if ((s.flags & SlabFlags.SLAB_RED_ZONE) != 0 && newSize < ks) {
            slub.mem.fill(p + newSize, ks - newSize, (byte) SlubDebug.SLUB_RED_ACTIVE);
        }
        return true;
    }

    /** How many bytes krealloc copies to a new object: orig_size when tracked, else {@code ks}. */
    static long copySize(final Slub slub, final long kaddr, final long ks) {
        final KmemCache s = trackedCache(slub, kaddr);
        return s == null ? ks : Math.min(ks, slub.debug().getOrigSize(s, kaddr));
    }
}
