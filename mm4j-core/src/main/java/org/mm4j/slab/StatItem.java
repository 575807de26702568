package org.mm4j.slab;

/**
 * SLUB's {@code enum stat_item} of Linux 6.18 ({@code mm/slub.c}): the per-CPU slab items of 5.x/6.x plus the
 * percpu sheaf and barn items added with sheaves in 6.18. Each is counted per cache and per CPU slot and shown as
 * {@code /sys/kernel/slab/<cache>/<sysfsName>} ("total C0=n C1=m"; writing 0 clears it).
 */
public enum StatItem {
    ALLOC_PCS("alloc_cpu_sheaf"),
    ALLOC_FASTPATH("alloc_fastpath"),
    ALLOC_SLOWPATH("alloc_slowpath"),
    FREE_PCS("free_cpu_sheaf"),
    FREE_RCU_SHEAF("free_rcu_sheaf"),
    FREE_RCU_SHEAF_FAIL("free_rcu_sheaf_fail"),
    FREE_FASTPATH("free_fastpath"),
    FREE_SLOWPATH("free_slowpath"),
    FREE_FROZEN("free_frozen"),
    FREE_ADD_PARTIAL("free_add_partial"),
    FREE_REMOVE_PARTIAL("free_remove_partial"),
    ALLOC_FROM_PARTIAL("alloc_from_partial"),
    ALLOC_SLAB("alloc_slab"),
    ALLOC_REFILL("alloc_refill"),
    ALLOC_NODE_MISMATCH("alloc_node_mismatch"),
    FREE_SLAB("free_slab"),
    CPUSLAB_FLUSH("cpuslab_flush"),
    DEACTIVATE_FULL("deactivate_full"),
    DEACTIVATE_EMPTY("deactivate_empty"),
    DEACTIVATE_TO_HEAD("deactivate_to_head"),
    DEACTIVATE_TO_TAIL("deactivate_to_tail"),
    DEACTIVATE_REMOTE_FREES("deactivate_remote_frees"),
    DEACTIVATE_BYPASS("deactivate_bypass"),
    ORDER_FALLBACK("order_fallback"),
    CMPXCHG_DOUBLE_CPU_FAIL("cmpxchg_double_cpu_fail"),
    CMPXCHG_DOUBLE_FAIL("cmpxchg_double_fail"),
    CPU_PARTIAL_ALLOC("cpu_partial_alloc"),
    CPU_PARTIAL_FREE("cpu_partial_free"),
    CPU_PARTIAL_NODE("cpu_partial_node"),
    CPU_PARTIAL_DRAIN("cpu_partial_drain"),
    SHEAF_FLUSH("sheaf_flush"),
    SHEAF_REFILL("sheaf_refill"),
    SHEAF_ALLOC("sheaf_alloc"),
    SHEAF_FREE("sheaf_free"),
    BARN_GET("barn_get"),
    BARN_GET_FAIL("barn_get_fail"),
    BARN_PUT("barn_put"),
    BARN_PUT_FAIL("barn_put_fail"),
    SHEAF_PREFILL_FAST("sheaf_prefill_fast"),
    SHEAF_PREFILL_SLOW("sheaf_prefill_slow"),
    SHEAF_PREFILL_OVERSIZE("sheaf_prefill_oversize"),
    SHEAF_RETURN_FAST("sheaf_return_fast"),
    SHEAF_RETURN_SLOW("sheaf_return_slow");

    /** {@code NR_SLUB_STAT_ITEMS}. */
    public static final int COUNT = values().length;

    private static final StatItem[] VALUES = values();

    private final String sysfsName;

    StatItem(final String sysfsName) {
        this.sysfsName = sysfsName;
    }

    /** The file name under {@code /sys/kernel/slab/<cache>/}. */
    public String sysfsName() {
        return sysfsName;
    }

    /** The item whose sysfs file is {@code name}, or null. */
    public static StatItem ofSysfsName(final String name) {
        for (final StatItem s : VALUES) {
            if (s.sysfsName.equals(name)) {
                return s;
            }
        }
        return null;
    }
}
