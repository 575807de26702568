package org.mm4j.slab;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code slab_flags_t} values with the kernel's names ({@code include/linux/slab.h} of Linux 6.18). Bit positions
 * follow the order of the kernel's {@code _SLAB_*} enum; only the names are a contract.
 *
 * <p>{@link #parse(String)} reads {@code SLAB_RED_ZONE|SLAB_POISON} (names with or without the {@code SLAB_}
 * prefix, or a hex/decimal number); {@link #toString(long)} prints them back.
 */
public final class SlabFlags {
    public static final long SLAB_CONSISTENCY_CHECKS = 1L;
    public static final long SLAB_RED_ZONE = 1L << 1;
    public static final long SLAB_POISON = 1L << 2;
    public static final long SLAB_KMALLOC = 1L << 3;
    public static final long SLAB_HWCACHE_ALIGN = 1L << 4;
    public static final long SLAB_CACHE_DMA = 1L << 5;
    public static final long SLAB_CACHE_DMA32 = 1L << 6;
    public static final long SLAB_STORE_USER = 1L << 7;
    public static final long SLAB_PANIC = 1L << 8;
    public static final long SLAB_TYPESAFE_BY_RCU = 1L << 9;
    public static final long SLAB_TRACE = 1L << 10;
    public static final long SLAB_NOLEAKTRACE = 1L << 11;
    public static final long SLAB_NO_MERGE = 1L << 12;
    public static final long SLAB_FAILSLAB = 1L << 13;
    public static final long SLAB_ACCOUNT = 1L << 14;
    public static final long SLAB_KASAN = 1L << 15;
    public static final long SLAB_NO_USER_FLAGS = 1L << 16;
    public static final long SLAB_SKIP_KFENCE = 1L << 17;
    public static final long SLAB_RECLAIM_ACCOUNT = 1L << 18;
    /** Internal: object poisoning is possible (POISON without RCU or ctor), set by calculate_sizes. */
    public static final long OBJECT_POISON = 1L << 19;
    /** Internal: the lockless cmpxchg paths are in use (no F, U or T debugging). */
    public static final long CMPXCHG_DOUBLE = 1L << 20;
    public static final long SLAB_NO_OBJ_EXT = 1L << 21;

    /** {@code SLAB_DEBUG_FLAGS}: any of these makes {@code kmem_cache_debug()} true (slow paths only). */
    public static final long SLAB_DEBUG_FLAGS = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE
        | SLAB_CONSISTENCY_CHECKS;
    /** {@code SLAB_NO_CMPXCHG}: debug flags that cannot use the lockless freelist update. */
    public static final long SLAB_NO_CMPXCHG = SLAB_CONSISTENCY_CHECKS | SLAB_STORE_USER | SLAB_TRACE;
    /** {@code DEBUG_DEFAULT_FLAGS}: what a bare {@code slub_debug} turns on (FZPU). */
    public static final long DEBUG_DEFAULT_FLAGS = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON
        | SLAB_STORE_USER;
    /** {@code SLAB_NEVER_MERGE} of mm/slab_common.c. */
    public static final long SLAB_NEVER_MERGE = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE
        | SLAB_TYPESAFE_BY_RCU | SLAB_NOLEAKTRACE | SLAB_FAILSLAB | SLAB_NO_MERGE;
    /** {@code SLAB_MERGE_SAME}: flags two caches must share to merge. */
    public static final long SLAB_MERGE_SAME = SLAB_RECLAIM_ACCOUNT | SLAB_CACHE_DMA | SLAB_CACHE_DMA32
        | SLAB_ACCOUNT;

    /**
     * The flags {@code kmem_cache_create} accepts ({@code SLAB_FLAGS_PERMITTED} of mm/slab.h in 6.18:
     * SLAB_CORE_FLAGS | SLAB_DEBUG_FLAGS); any other bit, known or not, is -EINVAL.
     */
    public static final long SLAB_FLAGS_PERMITTED = SLAB_HWCACHE_ALIGN | SLAB_CACHE_DMA | SLAB_CACHE_DMA32
        | SLAB_PANIC | SLAB_TYPESAFE_BY_RCU | SLAB_NOLEAKTRACE | SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT
        | SLAB_NO_USER_FLAGS | SLAB_KMALLOC | SLAB_NO_MERGE
        | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_CONSISTENCY_CHECKS;

    private static final Map<String, Long> NAMES = new LinkedHashMap<>();

    static {
        NAMES.put("SLAB_CONSISTENCY_CHECKS", SLAB_CONSISTENCY_CHECKS);
        NAMES.put("SLAB_RED_ZONE", SLAB_RED_ZONE);
        NAMES.put("SLAB_POISON", SLAB_POISON);
        NAMES.put("SLAB_KMALLOC", SLAB_KMALLOC);
        NAMES.put("SLAB_HWCACHE_ALIGN", SLAB_HWCACHE_ALIGN);
        NAMES.put("SLAB_CACHE_DMA", SLAB_CACHE_DMA);
        NAMES.put("SLAB_CACHE_DMA32", SLAB_CACHE_DMA32);
        NAMES.put("SLAB_STORE_USER", SLAB_STORE_USER);
        NAMES.put("SLAB_PANIC", SLAB_PANIC);
        NAMES.put("SLAB_TYPESAFE_BY_RCU", SLAB_TYPESAFE_BY_RCU);
        NAMES.put("SLAB_TRACE", SLAB_TRACE);
        NAMES.put("SLAB_NOLEAKTRACE", SLAB_NOLEAKTRACE);
        NAMES.put("SLAB_NO_MERGE", SLAB_NO_MERGE);
        NAMES.put("SLAB_FAILSLAB", SLAB_FAILSLAB);
        NAMES.put("SLAB_ACCOUNT", SLAB_ACCOUNT);
        NAMES.put("SLAB_KASAN", SLAB_KASAN);
        NAMES.put("SLAB_NO_USER_FLAGS", SLAB_NO_USER_FLAGS);
        NAMES.put("SLAB_SKIP_KFENCE", SLAB_SKIP_KFENCE);
        NAMES.put("SLAB_RECLAIM_ACCOUNT", SLAB_RECLAIM_ACCOUNT);
        NAMES.put("__OBJECT_POISON", OBJECT_POISON);
        NAMES.put("__CMPXCHG_DOUBLE", CMPXCHG_DOUBLE);
        NAMES.put("SLAB_NO_OBJ_EXT", SLAB_NO_OBJ_EXT);
        NAMES.put("SLAB_DEBUG_FLAGS", SLAB_DEBUG_FLAGS);
        NAMES.put("SLAB_MEM_SPREAD", 0L);  // a no-op since 6.8, still accepted
    }

    private SlabFlags() {
    }

    /**
     * Parses {@code SLAB_RED_ZONE|SLAB_POISON} (also {@code RED_ZONE}, comma or {@code |} separated, or a number).
     * An unknown name is an {@link IllegalArgumentException} naming it.
     */
    public static long parse(final String text) {
        if (text == null) {
            return 0;
        }
        final String t = text.strip();
        if (t.isEmpty() || t.equals("0")) {
            return 0;
        }
        if (t.startsWith("0x") || t.startsWith("0X")) {
            return Long.parseUnsignedLong(t.substring(2), 16);
        }
        if (Character.isDigit(t.charAt(0))) {
            try {
                return Long.parseLong(t);
            } catch (final NumberFormatException e) {
                throw new IllegalArgumentException("bad slab flags '" + text + "' (expected: SLAB_* names or a"
                    + " number)");
            }
        }
        long flags = 0;
        for (final String raw : t.split("[|,]")) {
            final String part = raw.strip().toUpperCase(java.util.Locale.ROOT);
            if (part.isEmpty()) {
                continue;
            }
            Long v = NAMES.get(part);
            if (v == null) {
                v = NAMES.get("SLAB_" + part);
            }
            if (v == null) {
                throw new IllegalArgumentException("unknown slab flag '" + raw.strip() + "' in " + text
                    + " (expected: one of " + String.join(", ", NAMES.keySet()) + ")");
            }
            flags |= v;
        }
        return flags;
    }

    /** The flags as {@code SLAB_A|SLAB_B} ("0" when none). */
    public static String toString(final long flags) {
        return org.mm4j.base.FlagNames.format(flags, NAMES, true);
    }
}
