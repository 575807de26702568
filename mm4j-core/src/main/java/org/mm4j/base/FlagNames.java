package org.mm4j.base;

import java.util.Map;

/**
 * Prints a flags word by names, the way the kernel's trace and sysfs printers do ({@code show_gfp_flags},
 * {@code %pGg}): names are tried in the map's order, a name is printed when all its bits are still set, its bits
 * are then taken away, and what no name covers is printed as {@code 0x..}. Stateless; any thread.
 */
public final class FlagNames {
    private FlagNames() {
    }

    /**
     * Prints {@code flags} by names: the names whose bits are all set, then what is left in hex.
     *
     * @param flags          the word (an {@code int} word is passed as {@code flags & 0xffffffffL})
     * @param names          name to value, in the order names are to be tried (composite values first)
     * @param singleBitsOnly only names of one bit are used (composites in the map are skipped)
     * @return {@code NAME_A|NAME_B|0x..}, or "0" when no bit is set
     */
    public static String format(final long flags, final Map<String, ? extends Number> names,
                                final boolean singleBitsOnly) {
        if (flags == 0) {
            return "0";
        }
        final StringBuilder sb = new StringBuilder();
        long rest = flags;
        for (final Map.Entry<String, ? extends Number> e : names.entrySet()) {
            final long v = e.getValue().longValue();
            if (v != 0 && (rest & v) == v && (!singleBitsOnly || Long.bitCount(v) == 1)) {
                if (!sb.isEmpty()) {
                    sb.append('|');
                }
                sb.append(e.getKey());
                rest &= ~v;
            }
        }
        if (rest != 0) {
            if (!sb.isEmpty()) {
                sb.append('|');
            }
            sb.append("0x").append(Long.toHexString(rest));
        }
        return sb.toString();
    }

    /** {@code NODES_PGSHIFT} of the reference x86-64 config: {@code CONFIG_NODES_SHIFT=10} at the top of the word. */
    public static final int NODES_PGSHIFT = 54;
    /** {@code ZONES_PGSHIFT}: 3 bits (DMA, DMA32, NORMAL, MOVABLE, DEVICE: {@code MAX_NR_ZONES} 5) below the node. */
    public static final int ZONES_PGSHIFT = 51;
    /**
     * {@code LAST_CPUPID_PGSHIFT}: {@code CONFIG_NUMA_BALANCING=y} keeps the last cpupid in the word, 16 bits
     * ({@code LAST__PID_SHIFT} 8 + {@code NR_CPUS_BITS} 8 for {@code CONFIG_NR_CPUS=256}) below the zone.
     */
    public static final int LAST_CPUPID_PGSHIFT = 35;
    /** {@code LAST_CPUPID_MASK}; {@code page_cpupid_reset_last} sets the field to all ones. */
    public static final long LAST_CPUPID_MASK = 0xffffL;

    /**
     * {@code %pGp} ({@code format_page_flags} of lib/vsprintf.c, 6.18) for the reference x86-64 config
     * (SPARSEMEM_VMEMMAP: no section field; no KASAN tag): the whole flags word in hex, then in parentheses the
     * names of the set flags and the fields {@code node} (decimal), {@code zone} (decimal) and {@code lastcpupid}
     * (hex), e.g. {@code 0xffff800000000(node=0|zone=1|lastcpupid=0xffff)}. The model keeps no last cpupid:
     * it is the reset value {@code page_cpupid_reset_last} leaves, as on a page no NUMA hinting fault touched.
     *
     * @param mainFlags the flags of the main area (below {@link #LAST_CPUPID_PGSHIFT}), in the kernel's bits
     * @param names     their names joined by '|' as {@code pageflag_names} prints them, "" when none
     * @param node      the node id
     * @param zone      the zone index (0 DMA, 1 DMA32, 2 Normal, 3 Movable)
     * @return the text {@code %pGp} prints
     */
    public static String pageFlags(final long mainFlags, final String names, final int node, final int zone) {
        final long word = mainFlags | (long) node << NODES_PGSHIFT | (long) zone << ZONES_PGSHIFT
            | LAST_CPUPID_MASK << LAST_CPUPID_PGSHIFT;
        return "0x" + Long.toHexString(word) + "(" + (names.isEmpty() ? "" : names + "|") + "node=" + node
            + "|zone=" + zone + "|lastcpupid=0x" + Long.toHexString(LAST_CPUPID_MASK) + ")";
    }
}
