package org.mm4j.management;

import org.mm4j.base.ProcFs;
import org.mm4j.slab.KmemCache;

/**
 * The counters of one cache as {@code /sys/kernel/slab/<cache>/} shows them (the first number of each file:
 * the sum over nodes), for the periodic JFR event.
 */
record SlabFigures(long objects, long totalObjects, long slabs, long partial, long cpuSlabs, long sheafObjects) {
    static final String SYS = "/sys/kernel/slab/";

    /** The figures of {@code s}, or null when its directory is gone (the cache was destroyed). */
    static SlabFigures read(final ProcFs procfs, final KmemCache s) {
        final String dir = SYS + s.name() + "/";
        try {
            return new SlabFigures(number(procfs, dir + "objects"), number(procfs, dir + "total_objects"),
                number(procfs, dir + "slabs"), number(procfs, dir + "partial"), number(procfs, dir + "cpu_slabs"),
                number(procfs, dir + "mm4j_sheaves"));
        } catch (final ProcFs.ProcFsException e) {
            return null;
        }
    }

    private static long number(final ProcFs procfs, final String path) {
        return ProcText.firstNumber(procfs.read(path));
    }
}
