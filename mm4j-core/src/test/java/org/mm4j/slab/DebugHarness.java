package org.mm4j.slab;

import java.util.ArrayList;
import java.util.List;

import org.mm4j.kernel.CpuSlots;
import org.mm4j.kernel.KernelLog;
import org.mm4j.page.PhysicalMemory;

/**
 * A minimal debug-only slab allocator for testing {@link SlubDebug} on its own: the layout of calculate_sizes
 * (order-0 slabs), alloc_single_from_new_slab / alloc_single_from_partial, free_to_partial_list with its full
 * list, validate_slab_cache and the shutdown report, wired to the debug hooks the way mm/slub.c calls them.
 */
final class DebugHarness implements AutoCloseable {
    final PhysicalMemory mem = new PhysicalMemory(4L << 20, 1);
    final KernelLog log = new KernelLog();
    final CpuSlots cpus = new CpuSlots(2);
    final SlubDebug debug;
    private long nextPfn = 16;

    DebugHarness(final String slubDebug) {
        debug = new SlubDebug(mem, log, cpus, SlubDebugOptions.parse(slubDebug));
    }

    DebugHarness() {
        this(null);
    }

    Cache create(final String name, final int objectSize, final long flags) {
        return new Cache(name, objectSize, debug.options().kmemCacheFlags(flags, name));
    }

    final class Cache implements DebugCache {
        final String name;
        final int objectSize;
        final long flags;
        final int size;
        final int inuse;
        final int offset;
        final int redLeftPad;
        final List<Slab> partial = new ArrayList<>();
        final List<Slab> full = new ArrayList<>();
        int nrSlabs;

        Cache(final String name, final int objectSize, final long flags) {
            this.name = name;
            this.objectSize = objectSize;
            this.flags = flags;
            int sz = (objectSize + 7) & ~7;
            if (has(SlabFlags.SLAB_RED_ZONE) && sz == objectSize) {
                sz += 8;
            }
            inuse = sz;
            final boolean origSize = has(SlabFlags.SLAB_STORE_USER) && has(SlabFlags.SLAB_KMALLOC);
            if (has(SlabFlags.SLAB_POISON)
                || (has(SlabFlags.SLAB_RED_ZONE) && (objectSize < 8 || origSize))) {
                offset = sz;
                sz += 8;
            } else {
                offset = (objectSize / 2) & ~7;
            }
            if (has(SlabFlags.SLAB_STORE_USER)) {
                sz += 2 * DebugTrack.TRACK_SIZE;
                if (has(SlabFlags.SLAB_KMALLOC)) {
                    sz += 4;
                }
            }
            if (has(SlabFlags.SLAB_RED_ZONE)) {
                sz += 8;
                redLeftPad = 8;
                sz += redLeftPad;
            } else {
                redLeftPad = 0;
            }
            size = (sz + 7) & ~7;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public long flags() {
            return flags;
        }

        @Override
        public boolean objectPoison() {
            return has(SlabFlags.SLAB_POISON);
        }

        @Override
        public int objectSize() {
            return objectSize;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public int inuse() {
            return inuse;
        }

        @Override
        public int offset() {
            return offset;
        }

        @Override
        public int redLeftPad() {
            return redLeftPad;
        }

        @Override
        public long getFreePointer(final long object) {
            return mem.getLong(PhysicalMemory.virtToPhys(object + offset));
        }

        @Override
        public void setFreePointer(final long object, final long fp) {
            mem.putLong(PhysicalMemory.virtToPhys(object + offset), fp);
        }

        int objectsPerSlab() {
            return 4096 / size;
        }

        /** ___slab_alloc for a debug cache. */
        long alloc(final long origSize) {
            for (final Slab slab : new ArrayList<>(partial)) {
                final long object = slab.freelist;
                slab.freelist = getFreePointer(object);
                slab.inuse++;
                if (!debug.allocDebugProcessing(this, slab, object, origSize)) {
                    partial.remove(slab);
                    continue;
                }
                if (slab.inuse == slab.objects) {
                    partial.remove(slab);
                    if (has(SlabFlags.SLAB_STORE_USER)) {
                        full.add(0, slab);
                    }
                }
                debug.setTrack(this, object, true);
                return object;
            }
            final Slab slab = newSlab();
            final long object = slab.freelist;
            slab.freelist = getFreePointer(object);
            slab.inuse = 1;
            if (!debug.allocDebugProcessing(this, slab, object, origSize)) {
                return 0;
            }
            if (slab.inuse == slab.objects) {
                if (has(SlabFlags.SLAB_STORE_USER)) {
                    full.add(0, slab);
                }
            } else {
                partial.add(0, slab);
            }
            nrSlabs++;
            debug.setTrack(this, object, true);
            return object;
        }

        long alloc() {
            return alloc(objectSize);
        }

        private Slab newSlab() {
            final Slab slab = new Slab(this, nextPfn++);
            debug.setupSlabDebug(this, slab.address(), 4096);
            final long first = slab.address() + redLeftPad;
            for (int i = 0; i < slab.objects; i++) {
                final long p = first + (long) i * size;
                debug.setupObjectDebug(this, p);
                setFreePointer(p, i + 1 < slab.objects ? p + size : 0);
            }
            slab.freelist = first;
            return slab;
        }

        Slab slabOf(final long object) {
            for (final Slab s : all()) {
                if (object >= s.address() && object < s.address() + 4096) {
                    return s;
                }
            }
            return null;
        }

        List<Slab> all() {
            final List<Slab> l = new ArrayList<>(partial);
            l.addAll(full);
            return l;
        }

        /** free_to_partial_list. */
        void free(final long object) {
            final Slab slab = slabOf(object);
            final int[] cnt = {1};
            if (debug.freeDebugProcessing(this, slab, object, object, cnt)) {
                final long prior = slab.freelist;
                slab.inuse -= cnt[0];
                setFreePointer(object, prior);
                slab.freelist = object;
                if (prior == 0) {
                    full.remove(slab);
                    partial.add(slab);
                }
            }
            debug.checkpoint();
        }

        /** validate_slab_cache. */
        long validate() {
            final long n = debug.validateSlabNode(this, partial, partial.size(), full, nrSlabs);
            debug.checkpoint();
            return n;
        }

        /** kmem_cache_destroy: false when objects remain. */
        boolean destroy() {
            boolean busy = false;
            for (final Slab slab : new ArrayList<>(partial)) {
                if (slab.inuse == 0) {
                    partial.remove(slab);
                    nrSlabs--;
                } else {
                    debug.listSlabObjects(this, slab);
                }
            }
            if (!partial.isEmpty() || nrSlabs != 0) {
                busy = true;
            }
            return !busy;
        }
    }

    static final class Slab implements DebugSlab {
        final Cache cache;
        final long pfn;
        int objects;
        int inuse;
        long freelist;

        Slab(final Cache cache, final long pfn) {
            this.cache = cache;
            this.pfn = pfn;
            this.objects = cache.objectsPerSlab();
        }

        @Override
        public long address() {
            return PhysicalMemory.pageAddress(pfn);
        }

        @Override
        public long structAddress() {
            return 0xffffea0000000000L + pfn * 64;
        }

        @Override
        public String flagsText() {
            return "0x0(zone=1)";
        }

        @Override
        public int order() {
            return 0;
        }

        @Override
        public boolean isSlab() {
            return true;
        }

        @Override
        public int objects() {
            return objects;
        }

        @Override
        public void objects(final int n) {
            objects = n;
        }

        @Override
        public int inuse() {
            return inuse;
        }

        @Override
        public void inuse(final int n) {
            inuse = n;
        }

        @Override
        public long freelist() {
            return freelist;
        }

        @Override
        public void freelist(final long object) {
            freelist = object;
        }

        @Override
        public DebugCache cache() {
            return cache;
        }
    }

    void write(final long kaddr, final int value) {
        mem.putByte(PhysicalMemory.virtToPhys(kaddr), (byte) value);
    }

    int read(final long kaddr) {
        return mem.getByte(PhysicalMemory.virtToPhys(kaddr)) & 0xff;
    }

    long readLong(final long kaddr) {
        return mem.getLong(PhysicalMemory.virtToPhys(kaddr));
    }

    void writeLong(final long kaddr, final long v) {
        mem.putLong(PhysicalMemory.virtToPhys(kaddr), v);
    }

    List<String> dmesg() {
        return log.messages();
    }

    /** BUG banners plus FIX lines in dmesg. */
    int bugsAndFixes() {
        int n = 0;
        for (final String l : log.messages()) {
            if (l.startsWith("BUG ") || l.startsWith("FIX ")) {
                n++;
            }
        }
        return n;
    }

    @Override
    public void close() {
        mem.close();
    }
}
