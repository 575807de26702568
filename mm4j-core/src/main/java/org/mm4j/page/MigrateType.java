package org.mm4j.page;

/** Page migrate types ({@code enum migratetype}); the first {@link #PCPTYPES} have per-CPU lists and merge. */
public final class MigrateType {
    public static final int UNMOVABLE = 0;
    public static final int MOVABLE = 1;
    public static final int RECLAIMABLE = 2;
    public static final int PCPTYPES = 3;
    public static final int HIGHATOMIC = 3;
    public static final int ISOLATE = 4;
    public static final int TYPES = 5;

    private static final String[] NAMES = {"Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"};

    private MigrateType() {
    }

    /** The name {@code /proc/pagetypeinfo} prints. */
    public static String name(final int mt) {
        return NAMES[mt];
    }
}
