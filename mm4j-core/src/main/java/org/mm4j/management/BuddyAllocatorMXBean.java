package org.mm4j.management;

import java.util.Map;

/**
 * The buddy allocator as {@code /proc/buddyinfo}, {@code /proc/zoneinfo} and {@code /proc/vmstat} show it,
 * registered as {@code org.mm4j:type=BuddyAllocator,kernel=<id>}.
 */
public interface BuddyAllocatorMXBean {
    /** {@code /proc/buddyinfo} as text. */
    String getBuddyinfo();

    /** Free blocks per order (0..10), keyed {@code "Node N, zone NAME"}: the numbers of /proc/buddyinfo. */
    Map<String, long[]> getFreeBlocks();

    /** The watermarks {@code min, low, high, promo} in pages, keyed like {@link #getFreeBlocks()}. */
    Map<String, long[]> getWatermarks();

    /** {@code nr_free_pages}. */
    long getFreePages();

    /** Pages on the per-CPU lists. */
    long getPcpPages();

    /** {@code totalram_pages()}: managed pages. */
    long getTotalramPages();

    /** {@code /proc/sys/vm/min_free_kbytes}. */
    int getMinFreeKbytes();

    /** {@code echo N > /proc/sys/vm/min_free_kbytes}: recomputes the watermarks. */
    void setMinFreeKbytes(int kbytes);

    /** {@code /proc/vmstat}: every counter by name. */
    Map<String, Long> getVmstat();
}
