package org.mm4j.page;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * GFP flags ({@code include/linux/gfp_types.h}), with the kernel's names. Bit positions follow the order of the
 * kernel's {@code ___GFP_*_BIT} enum in 6.x (without the config-dependent ones); only the names are a contract.
 */
public final class Gfp {
    public static final int DMA = 1;
    public static final int HIGHMEM = 1 << 1;
    public static final int DMA32 = 1 << 2;
    public static final int MOVABLE = 1 << 3;
    public static final int RECLAIMABLE = 1 << 4;
    public static final int HIGH = 1 << 5;
    public static final int IO = 1 << 6;
    public static final int FS = 1 << 7;
    public static final int ZERO = 1 << 8;
    public static final int DIRECT_RECLAIM = 1 << 10;
    public static final int KSWAPD_RECLAIM = 1 << 11;
    public static final int WRITE = 1 << 12;
    public static final int NOWARN = 1 << 13;
    public static final int RETRY_MAYFAIL = 1 << 14;
    public static final int NOFAIL = 1 << 15;
    public static final int NORETRY = 1 << 16;
    public static final int MEMALLOC = 1 << 17;
    public static final int COMP = 1 << 18;
    public static final int NOMEMALLOC = 1 << 19;
    public static final int HARDWALL = 1 << 20;
    public static final int THISNODE = 1 << 21;
    public static final int ACCOUNT = 1 << 22;
    public static final int ZEROTAGS = 1 << 23;

    public static final int RECLAIM = DIRECT_RECLAIM | KSWAPD_RECLAIM;
    public static final int ATOMIC = HIGH | KSWAPD_RECLAIM;
    public static final int KERNEL = RECLAIM | IO | FS;
    public static final int KERNEL_ACCOUNT = KERNEL | ACCOUNT;
    public static final int NOWAIT = KSWAPD_RECLAIM | NOWARN;
    public static final int NOIO = RECLAIM;
    public static final int NOFS = RECLAIM | IO;
    public static final int USER = RECLAIM | IO | FS | HARDWALL;
    public static final int HIGHUSER = USER | HIGHMEM;
    public static final int HIGHUSER_MOVABLE = HIGHUSER | MOVABLE;

    private static final Map<String, Integer> NAMES = new LinkedHashMap<>();

    static {
        // composite names first: the printer tries them in this order, as show_gfp_flags does
        NAMES.put("GFP_HIGHUSER_MOVABLE", HIGHUSER_MOVABLE);
        NAMES.put("GFP_HIGHUSER", HIGHUSER);
        NAMES.put("GFP_USER", USER);
        NAMES.put("GFP_KERNEL_ACCOUNT", KERNEL_ACCOUNT);
        NAMES.put("GFP_KERNEL", KERNEL);
        NAMES.put("GFP_NOFS", NOFS);
        NAMES.put("GFP_ATOMIC", ATOMIC);
        NAMES.put("GFP_NOIO", NOIO);
        NAMES.put("GFP_NOWAIT", NOWAIT);
        NAMES.put("GFP_DMA", DMA);
        NAMES.put("__GFP_HIGHMEM", HIGHMEM);
        NAMES.put("GFP_DMA32", DMA32);
        NAMES.put("__GFP_HIGH", HIGH);
        NAMES.put("__GFP_IO", IO);
        NAMES.put("__GFP_FS", FS);
        NAMES.put("__GFP_NOWARN", NOWARN);
        NAMES.put("__GFP_RETRY_MAYFAIL", RETRY_MAYFAIL);
        NAMES.put("__GFP_NOFAIL", NOFAIL);
        NAMES.put("__GFP_NORETRY", NORETRY);
        NAMES.put("__GFP_COMP", COMP);
        NAMES.put("__GFP_ZERO", ZERO);
        NAMES.put("__GFP_NOMEMALLOC", NOMEMALLOC);
        NAMES.put("__GFP_MEMALLOC", MEMALLOC);
        NAMES.put("__GFP_HARDWALL", HARDWALL);
        NAMES.put("__GFP_THISNODE", THISNODE);
        NAMES.put("__GFP_RECLAIMABLE", RECLAIMABLE);
        NAMES.put("__GFP_MOVABLE", MOVABLE);
        NAMES.put("__GFP_ACCOUNT", ACCOUNT);
        NAMES.put("__GFP_WRITE", WRITE);
        NAMES.put("__GFP_RECLAIM", RECLAIM);
        NAMES.put("__GFP_DIRECT_RECLAIM", DIRECT_RECLAIM);
        NAMES.put("__GFP_KSWAPD_RECLAIM", KSWAPD_RECLAIM);
        NAMES.put("__GFP_ZEROTAGS", ZEROTAGS);
        NAMES.put("GFP_NOWAIT", NOWAIT);
    }

    private Gfp() {
    }

    /** The migratetype a request of these flags asks for ({@code gfp_migratetype}). */
    static int migratetype(final int gfp) {
        if ((gfp & MOVABLE) != 0) {
            return MigrateType.MOVABLE;
        }
        return (gfp & RECLAIMABLE) != 0 ? MigrateType.RECLAIMABLE : MigrateType.UNMOVABLE;
    }

    /** {@code gfp_zone(gfp)}: the highest zone type ({@link Zone#ZONE_DMA} ...) a request with these flags may use. */
    public static int zone(final int gfp) {
        return PageAlloc.gfpZone(gfp);
    }

    /**
     * Parses flags as ftrace prints them ({@code GFP_KERNEL|__GFP_ZERO}), or a number. Unknown names are an
     * {@link IllegalArgumentException} naming them.
     */
    public static int parse(final String text) {
        final String t = text.strip();
        if (t.isEmpty() || t.equals("0")) {
            return 0;
        }
        if (t.startsWith("0x")) {
            return Integer.parseUnsignedInt(t.substring(2), 16);
        }
        int flags = 0;
        for (final String part : t.split("\\|")) {
            final Integer v = NAMES.get(part.strip());
            if (v == null) {
                throw new IllegalArgumentException("unknown gfp flag '" + part.strip() + "' in " + text);
            }
            flags |= v;
        }
        return flags;
    }

    /** Whether {@code name} is a flag name {@link #parse(String)} knows. */
    public static boolean isKnown(final String name) {
        return NAMES.containsKey(name);
    }

    /** A gfp mask as the kernel's reports print it: {@code %#x(%pGg)}, e.g. {@code 0xcc0(GFP_KERNEL)}. */
    public static String describe(final int gfp) {
        return String.format("%#x(%s)", gfp, toString(gfp));
    }

    /** Prints flags as ftrace's {@code show_gfp_flags} does: composites first, then single bits. */
    public static String toString(final int gfp) {
        return org.mm4j.base.FlagNames.format(gfp & 0xffffffffL, NAMES, false);
    }
}
