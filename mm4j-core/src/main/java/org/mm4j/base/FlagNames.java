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
}
