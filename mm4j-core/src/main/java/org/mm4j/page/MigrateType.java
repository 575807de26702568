package org.mm4j.page;

/**
 * Page migrate types ({@code enum migratetype}, x86-64 with CONFIG_CMA and CONFIG_MEMORY_ISOLATION, so
 * {@code /proc/pagetypeinfo} has the same six columns as a distribution kernel). The first {@link #PCPTYPES} have
 * per-CPU lists and fall back to each other ({@link #FALLBACKS}); only they merge across pageblocks.
 */
public final class MigrateType {
    public static final int UNMOVABLE = 0;
    public static final int MOVABLE = 1;
    public static final int RECLAIMABLE = 2;
    public static final int PCPTYPES = 3;
    public static final int HIGHATOMIC = 3;
    public static final int CMA = 4;
    public static final int ISOLATE = 5;
    public static final int TYPES = 6;

    /** {@code fallbacks[]} of mm/page_alloc.c: the order in which other types' free lists are raided. */
    static final int[][] FALLBACKS = {
        {RECLAIMABLE, MOVABLE},     // UNMOVABLE
        {RECLAIMABLE, UNMOVABLE},   // MOVABLE
        {UNMOVABLE, MOVABLE},       // RECLAIMABLE
    };

    private static final String[] NAMES = {"Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate"};

    private MigrateType() {
    }

    /** The name {@code /proc/pagetypeinfo} prints ({@code migratetype_names[]}). */
    static String name(final int mt) {
        return NAMES[mt];
    }

    /** {@code migratetype_is_mergeable}: blocks of these types may merge with blocks of another such type. */
    static boolean isMergeable(final int mt) {
        return mt < PCPTYPES;
    }
}
