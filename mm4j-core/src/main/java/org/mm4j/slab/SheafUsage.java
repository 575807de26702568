package org.mm4j.slab;

/**
 * Objects of one cache parked in sheaves, where they are, and the bound on each place ({@link
 * KmemCache#sheafUsage()}, sysfs {@code /sys/kernel/slab/<cache>/mm4j_sheaves}).
 *
 * <p>Bound: {@code objects() <= bound()} at every quiet point, where {@code bound() = threads x perThreadLimit
 * + cpuLimit + barnLimit}: each platform thread holding sheaves of the cache keeps at most its main and spare
 * sheaf (twice the cache's thread sheaf capacity) until it ends (then they go back: {@link ThreadSheafRegistry});
 * per-CPU sheaves (caches created with {@code sheaf_capacity}) at most two per CPU slot; each node's barn at most
 * its full-sheaf limit. Virtual threads hold none.
 *
 * @param threadObjects  objects in platform threads' sheaves (live threads, and ended ones not yet reaped)
 * @param threads        platform threads holding sheaves of the cache
 * @param perThreadLimit most objects one thread's sheaves hold (twice the cache's thread sheaf capacity)
 * @param cpuObjects     objects in the per-CPU sheaves
 * @param cpuLimit       most objects the per-CPU sheaves hold ({@code 2 x nr_cpus x sheaf_capacity})
 * @param barnObjects    objects in the barns' full sheaves
 * @param barnLimit      most objects the barns park (full-sheaf limit x sheaf capacity, summed over nodes)
 */
public record SheafUsage(long threadObjects, int threads, long perThreadLimit, long cpuObjects, long cpuLimit,
                         long barnObjects, long barnLimit) {
    /** Every object parked in sheaves of the cache. */
    public long objects() {
        return threadObjects + cpuObjects + barnObjects;
    }

    /** The bound {@link #objects()} stays within, given the threads holding sheaves now. */
    public long bound() {
        return threads * perThreadLimit + cpuLimit + barnLimit;
    }

    /** The sysfs line: {@code objects bound threads=.. thread_objects=.. cpu_objects=.. barn_objects=..}. */
    public String sysfs() {
        return objects() + " " + bound() + " threads=" + threads + " thread_objects=" + threadObjects
            + " cpu_objects=" + cpuObjects + " barn_objects=" + barnObjects + "\n";
    }
}
