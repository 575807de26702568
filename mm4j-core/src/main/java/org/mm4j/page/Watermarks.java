package org.mm4j.page;

/**
 * Watermarks, lowmem reserves and per-CPU list sizes of {@code mm/page_alloc.c}, and the sysctls that set them:
 * {@code calculate_min_free_kbytes}, {@code __setup_per_zone_wmarks}, {@code setup_per_zone_lowmem_reserve},
 * {@code calculate_totalreserve_pages}, {@code zone_batchsize}, {@code zone_highsize},
 * {@code zone_set_pageset_high_and_batch}, and the checks {@code __zone_watermark_ok} / {@code zone_watermark_fast}.
 *
 * <p>State: {@code vm.min_free_kbytes} (and the value the user wrote), {@code vm.watermark_scale_factor},
 * {@code vm.percpu_pagelist_high_fraction}, {@code vm.lowmem_reserve_ratio} and {@code totalreserve_pages}.
 *
 * <p>Locks: recomputation runs under the setup lock (the allocator's monitor; asserted) and writes each zone's
 * watermarks under its zone lock and each list's sizes under its pcp lock. The watermark checks read the zone's
 * counters without the lock, racily, as the kernel does; they never write.
 */
final class Watermarks {
    // ALLOC_* of mm/internal.h
    static final int ALLOC_WMARK_MIN = Zone.WMARK_MIN;
    static final int ALLOC_WMARK_LOW = Zone.WMARK_LOW;
    static final int ALLOC_WMARK_HIGH = Zone.WMARK_HIGH;
    static final int ALLOC_NO_WATERMARKS = 0x04;
    static final int ALLOC_WMARK_MASK = ALLOC_NO_WATERMARKS - 1;
    static final int ALLOC_OOM = 0x08;
    static final int ALLOC_NON_BLOCK = 0x10;
    static final int ALLOC_MIN_RESERVE = 0x20;
    static final int ALLOC_CPUSET = 0x40;
    static final int ALLOC_CMA = 0x80;
    static final int ALLOC_NOFRAGMENT = 0x100;
    static final int ALLOC_HIGHATOMIC = 0x200;
    static final int ALLOC_KSWAPD = 0x800;
    static final int ALLOC_RESERVES = ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM;

    static final int WATERMARK_SCALE_FACTOR_DEFAULT = 10;
    static final int MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8;

    private final BuddyAllocator buddy;
    private final Zone[] zones;
    private int minFreeKbytes;
    private int userMinFreeKbytes = -1;
    private int watermarkScaleFactor = WATERMARK_SCALE_FACTOR_DEFAULT;
    private int percpuPagelistHighFraction;
    /** {@code sysctl_lowmem_reserve_ratio[MAX_NR_ZONES]}; written under the setup lock. */
    private final int[] lowmemReserveRatio = Zone.LOWMEM_RESERVE_RATIO.clone();
    private long totalreservePages;

    Watermarks(final BuddyAllocator buddy) {
        this.buddy = buddy;
        this.zones = buddy.zones;
    }

    int minFreeKbytes() {
        return minFreeKbytes;
    }

    int watermarkScaleFactor() {
        return watermarkScaleFactor;
    }

    int percpuPagelistHighFraction() {
        return percpuPagelistHighFraction;
    }

    long totalreservePages() {
        return totalreservePages;
    }

    /** {@code vm.lowmem_reserve_ratio}: a copy, one value per zone type. */
    int[] lowmemReserveRatio() {
        synchronized (buddy) {
            return lowmemReserveRatio.clone();
        }
    }

    // ------------------------------------------------------------------ sysctls

    /** {@code min_free_kbytes_sysctl_handler}. */
    void setMinFreeKbytes(final int kbytes) {
        if (kbytes < 0) {
            throw new IllegalArgumentException("min_free_kbytes=" + kbytes + " (expected: >= 0)");
        }
        synchronized (buddy) {
            minFreeKbytes = kbytes;
            userMinFreeKbytes = kbytes;
            setupPerZoneWmarks();
        }
    }

    /** {@code watermark_scale_factor_sysctl_handler}. */
    void setWatermarkScaleFactor(final int factor) {
        if (factor < 1 || factor > 3000) {
            throw new IllegalArgumentException("watermark_scale_factor=" + factor + " (expected: 1 to 3000)");
        }
        synchronized (buddy) {
            watermarkScaleFactor = factor;
            setupPerZoneWmarks();
        }
    }

    /** {@code percpu_pagelist_high_fraction_sysctl_handler}. */
    void setPercpuPagelistHighFraction(final int fraction) {
        if (fraction != 0 && fraction < MIN_PERCPU_PAGELIST_HIGH_FRACTION) {
            throw new IllegalArgumentException("percpu_pagelist_high_fraction=" + fraction + " (expected: 0 or >= "
                + MIN_PERCPU_PAGELIST_HIGH_FRACTION + ")");
        }
        synchronized (buddy) {
            percpuPagelistHighFraction = fraction;
            for (final Zone z : zones) {
                zoneSetPagesetHighAndBatch(z);
            }
        }
    }

    /**
     * {@code lowmem_reserve_ratio_sysctl_handler}: {@code proc_dointvec_minmax} stores the values given (the first
     * {@code ratios.length} zone types; more than MAX_NR_ZONES is an {@link IllegalArgumentException}), a ratio
     * below 1 becomes 0 (no reserve), then every zone's {@code lowmem_reserve} is recomputed.
     */
    void setLowmemReserveRatio(final int[] ratios) {
        if (ratios.length > Zone.MAX_NR_ZONES) {
            throw new IllegalArgumentException("lowmem_reserve_ratio: " + ratios.length + " values (expected: at most "
                + Zone.MAX_NR_ZONES + ", one per zone type)");
        }
        synchronized (buddy) {
            for (int i = 0; i < ratios.length; i++) {
                lowmemReserveRatio[i] = Math.max(ratios[i], 0);
            }
            setupPerZoneLowmemReserve();
        }
    }

    // ------------------------------------------------------------------ setup

    /** {@code init_per_zone_wmark_min} at boot: min_free_kbytes from memory size, then every watermark. */
    void initPerZoneWmarkMin() {
        synchronized (buddy) {
            calculateMinFreeKbytes();
            setupPerZoneWmarks();
        }
    }

    /** {@code calculate_min_free_kbytes}: {@code int_sqrt(lowmem_kbytes * 16)} clamped to [128, 262144]. */
    private void calculateMinFreeKbytes() {
        long lowmemKbytes = 0;
        for (final Zone z : zones) {
            if (z.type <= Zone.ZONE_NORMAL) {
                lowmemKbytes += Math.max(0, z.managedPages - z.watermark[Zone.WMARK_HIGH])
                    * (PhysicalMemory.PAGE_SIZE >> 10);
            }
        }
        final int v = (int) intSqrt(lowmemKbytes * 16);
        if (v > userMinFreeKbytes) {
            minFreeKbytes = clamp(v, 128, 262144);
        }
    }

    /** The kernel's {@code clamp()}: {@code min(max(v, lo), hi)} (hi wins when lo > hi). */
    static int clamp(final long v, final int lo, final int hi) {
        return (int) Math.min(Math.max(v, lo), hi);
    }

    /** {@code int_sqrt}: the largest {@code r} with {@code r * r <= x}. */
    static long intSqrt(final long x) {
        long r = (long) Math.sqrt((double) x);
        while (r * r > x) {
            r--;
        }
        while ((r + 1) * (r + 1) <= x) {
            r++;
        }
        return r;
    }

    /** {@code setup_per_zone_wmarks} (setup lock held): watermarks, lowmem reserves, totalreserve, pcp sizes. */
    private void setupPerZoneWmarks() {
        assert Thread.holdsLock(buddy) : "setup_per_zone_wmarks without the setup lock";
        final long pagesMin = minFreeKbytes >> (PhysicalMemory.PAGE_SHIFT - 10);
        long lowmemPages = 0;
        for (final Zone z : zones) {
            if (z.type != Zone.ZONE_MOVABLE) {
                lowmemPages += z.managedPages;
            }
        }
        for (final Zone z : zones) {
            z.lock.lock();
            try {
                long tmp = lowmemPages == 0 ? 0 : pagesMin * z.managedPages / lowmemPages;
                z.watermark[Zone.WMARK_MIN] = tmp;
                tmp = Math.max(tmp >> 2, z.managedPages * watermarkScaleFactor / 10000);
                z.watermark[Zone.WMARK_LOW] = z.watermark[Zone.WMARK_MIN] + tmp;
                z.watermark[Zone.WMARK_HIGH] = z.watermark[Zone.WMARK_LOW] + tmp;
                z.watermark[Zone.WMARK_PROMO] = z.watermark[Zone.WMARK_HIGH] + tmp;
            } finally {
                z.lock.unlock();
            }
        }
        setupPerZoneLowmemReserve();
        for (final Zone z : zones) {
            zoneSetPagesetHighAndBatch(z);
        }
    }

    /**
     * {@code setup_per_zone_lowmem_reserve} (setup lock held) and {@code calculate_totalreserve_pages}: zone
     * {@code i} keeps back {@code lowmem_reserve[j]} = (managed pages of the node's zones {@code i+1..j}) /
     * {@code lowmem_reserve_ratio[i]} from requests whose highest zone is {@code j}; 0 when the ratio is 0 or the
     * zone manages nothing. An absent zone (null) has all zeros, as an unpopulated one has in Linux.
     */
    private void setupPerZoneLowmemReserve() {
        assert Thread.holdsLock(buddy) : "setup_per_zone_lowmem_reserve without the setup lock";
        for (int nid = 0; nid < buddy.nrNodes; nid++) {
            for (int i = 0; i < Zone.MAX_NR_ZONES - 1; i++) {
                final Zone z = buddy.zoneAt(nid, i);
                if (z == null) {
                    continue;
                }
                final int ratio = lowmemReserveRatio[i];
                final boolean clear = ratio == 0 || z.managedPages == 0;
                long managed = 0;
                for (int j = i + 1; j < Zone.MAX_NR_ZONES; j++) {
                    final Zone upper = buddy.zoneAt(nid, j);
                    managed += upper == null ? 0 : upper.managedPages;
                    z.lowmemReserve[j] = clear ? 0 : managed / ratio;
                }
            }
        }
        long reserve = 0;
        for (final Zone z : zones) {
            long max = 0;
            for (int j = Zone.MAX_NR_ZONES - 1; j > z.type; j--) {
                if (z.lowmemReserve[j] != 0) {
                    max = z.lowmemReserve[j];
                    break;
                }
            }
            max += z.watermark[Zone.WMARK_HIGH];
            reserve += Math.min(max, z.managedPages);
        }
        totalreservePages = reserve;
    }

    /** {@code zone_batchsize}: ~0.025 % of the zone or 256 KiB, then {@code 2^n - 1}. */
    static int zoneBatchsize(final long managedPages) {
        final int batch = (int) Math.min(managedPages >> 12, (256 << 10) / PhysicalMemory.PAGE_SIZE);
        if (batch <= 1) {
            return 1;
        }
        return Integer.highestOneBit(batch + batch / 2) - 1;
    }

    /** {@code zone_highsize}: the low watermark (or managed / fraction) split over the node's CPUs. */
    private int zoneHighsize(final Zone z, final int batch, final int highFraction) {
        final long total = highFraction == 0 ? z.watermark[Zone.WMARK_LOW] : z.managedPages / highFraction;
        final int nrCpus = buddy.nrCpus;
        int nrSplitCpus = 0;
        for (int c = 0; c < nrCpus; c++) {
            if (buddy.cpuToNode(c) == z.nid) {
                nrSplitCpus++;
            }
        }
        if (nrSplitCpus == 0) {
            nrSplitCpus = nrCpus;
        }
        return (int) Math.max(total / nrSplitCpus, (long) batch << 2);
    }

    /** {@code zone_set_pageset_high_and_batch} (setup lock held). */
    private void zoneSetPagesetHighAndBatch(final Zone z) {
        assert Thread.holdsLock(buddy) : "zone_set_pageset_high_and_batch without the setup lock";
        final int batch = zoneBatchsize(z.managedPages);
        final int highMin;
        final int highMax;
        if (percpuPagelistHighFraction != 0) {
            // tuned by hand: no auto-tuning, high_min = high_max
            highMin = zoneHighsize(z, batch, percpuPagelistHighFraction);
            highMax = highMin;
        } else {
            highMin = zoneHighsize(z, batch, 0);
            highMax = zoneHighsize(z, batch, MIN_PERCPU_PAGELIST_HIGH_FRACTION);
        }
        z.pcpBatch = batch;
        z.pcpHighMin = highMin;
        z.pcpHighMax = highMax;
        for (final Pcp p : z.pcp) {
            p.lock();
            try {
                p.batch = batch;
                p.highMin = highMin;
                p.highMax = highMax;
                p.high = clamp(p.high, highMin, highMax);
                // PCPF_FREE_HIGH_BATCH: a CPU's share of the last-level cache holds more than 3 batches (typical x86)
                p.flags |= Pcp.PCPF_FREE_HIGH_BATCH;
            } finally {
                p.unlock();
            }
        }
    }

    // ------------------------------------------------------------------ checks

    /** {@code __zone_watermark_unusable_free}. */
    private static long unusableFree(final Zone z, final int order, final int allocFlags) {
        long unusable = (1L << order) - 1;
        if ((allocFlags & ALLOC_RESERVES) == 0) {
            unusable += z.nrFreeHighatomic;
        }
        return unusable;
    }

    /** {@code __zone_watermark_ok}: order-0 free pages above the (reserve-adjusted) mark, and a block of the order. */
    static boolean zoneWatermarkOk(final Zone z, final int order, final long mark, final int highest,
                                   final int allocFlags, final long freePagesArg) {
        long min = mark;
        final long freePages = freePagesArg - unusableFree(z, order, allocFlags);
        if ((allocFlags & ALLOC_RESERVES) != 0) {
            if ((allocFlags & ALLOC_MIN_RESERVE) != 0) {
                min -= min / 2;
                if ((allocFlags & ALLOC_NON_BLOCK) != 0) {
                    min -= min / 4;
                }
            }
            if ((allocFlags & ALLOC_OOM) != 0) {
                min -= min / 2;
            }
        }
        if (freePages <= min + z.lowmemReserve[highest]) {
            return false;
        }
        if (order == 0) {
            return true;
        }
        for (int o = order; o < Zone.NR_PAGE_ORDERS; o++) {
            if (z.nrFree[o] == 0) {
                continue;
            }
            for (int t = 0; t < MigrateType.PCPTYPES; t++) {
                if (z.freeHead[o][t] >= 0) {
                    return true;
                }
            }
            if ((allocFlags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) != 0 && z.freeHead[o][MigrateType.HIGHATOMIC] >= 0) {
                return true;
            }
        }
        return false;
    }

    /** {@code zone_watermark_fast}. */
    static boolean zoneWatermarkFast(final Zone z, final int order, final long mark, final int highest,
                                     final int allocFlags) {
        final long free = z.freePages;
        if (order == 0) {
            final long reserved = unusableFree(z, 0, allocFlags);
            final long usable = free - Math.min(free, reserved);
            if (usable > mark + z.lowmemReserve[highest]) {
                return true;
            }
        }
        return zoneWatermarkOk(z, order, mark, highest, allocFlags, free);
    }
}
