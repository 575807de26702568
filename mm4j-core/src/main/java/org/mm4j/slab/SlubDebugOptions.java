package org.mm4j.slab;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code slub_debug=} / {@code slab_debug=} boot option, parsed as Linux 6.18's {@code setup_slub_debug} and
 * applied at cache creation as {@code kmem_cache_flags} (mm/slub.c).
 *
 * <p>Grammar: {@code slub_debug[=options[,cache[,cache...]][;options[,cache...]]...]}. Options are single letters,
 * case-insensitive: {@code F} sanity checks, {@code Z} red zones, {@code P} poisoning, {@code U} user tracking,
 * {@code T} trace, {@code A} failslab, {@code O} skip caches whose order would grow, {@code -} switches everything
 * off (it clears the letters before it). A bare {@code slub_debug}, an empty value, or a block that starts with
 * {@code ,} means {@code FZPU}. A block without a cache list sets the global flags; blocks with a list apply only to
 * the caches named there; a name may end in {@code *} to match a prefix. If only listed blocks are given, the
 * global flags stay off. Unknown letters are skipped with the kernel's message ("slab_debug option 'x' unknown.
 * skipped"), collected in {@link #messages()} for the boot log.
 *
 * <p>Flag values are those of {@code SlabFlags} (the SLUB core's {@code slab_flags_t} bits); the constants here
 * name the ones the debug code tests. Instances are immutable and thread-safe; {@link #kmemCacheFlags} is
 * called once per cache creation.
 */
public final class SlubDebugOptions {
    /** {@code DEBUG_METADATA_FLAGS}: dropped by {@code O} when they would raise the order. */
    public static final long DEBUG_METADATA_FLAGS = SlabFlags.SLAB_RED_ZONE | SlabFlags.SLAB_POISON
        | SlabFlags.SLAB_STORE_USER;

    /** One {@code ;}-separated block that names caches. */
    private record Block(long flags, List<String> caches) { }

    /** No slub_debug on the command line. */
    public static final SlubDebugOptions NONE = new SlubDebugOptions(0, List.of(), false, List.of(), null);

    private final long globalFlags;
    private final List<Block> blocks;
    private final boolean disableHigherOrderDebug;
    private final List<String> messages;
    private final String text;

    private SlubDebugOptions(final long globalFlags, final List<Block> blocks, final boolean higherOrder,
                             final List<String> messages, final String text) {
        this.globalFlags = globalFlags;
        this.blocks = List.copyOf(blocks);
        this.disableHigherOrderDebug = higherOrder;
        this.messages = List.copyOf(messages);
        this.text = text;
    }

    /**
     * Parses the value of {@code slub_debug=}: {@code null} means the option was absent (nothing on), "" means
     * given bare (FZPU for every cache).
     */
    public static SlubDebugOptions parse(final String value) {
        if (value == null) {
            return NONE;
        }
        if (value.isEmpty()) {
            return new SlubDebugOptions(SlabFlags.DEBUG_DEFAULT_FLAGS, List.of(), false, List.of(), value);
        }
        final List<String> msgs = new ArrayList<>();
        final List<Block> listed = new ArrayList<>();
        long global = 0;
        boolean globalChanged = false;
        boolean higherOrder = false;
        int i = 0;
        final int n = value.length();
        while (i < n) {
            while (i < n && value.charAt(i) == ';') {
                i++;
            }
            if (i >= n) {
                break;
            }
            long flags;
            if (value.charAt(i) == ',') {
                flags = SlabFlags.DEBUG_DEFAULT_FLAGS;
            } else {
                flags = 0;
                for (; i < n && value.charAt(i) != ',' && value.charAt(i) != ';'; i++) {
                    final char c = value.charAt(i);
                    switch (Character.toLowerCase(c)) {
                        case '-' -> flags = 0;
                        case 'f' -> flags |= SlabFlags.SLAB_CONSISTENCY_CHECKS;
                        case 'z' -> flags |= SlabFlags.SLAB_RED_ZONE;
                        case 'p' -> flags |= SlabFlags.SLAB_POISON;
                        case 'u' -> flags |= SlabFlags.SLAB_STORE_USER;
                        case 't' -> flags |= SlabFlags.SLAB_TRACE;
                        case 'a' -> flags |= SlabFlags.SLAB_FAILSLAB;
                        case 'o' -> higherOrder = true;
                        default -> msgs.add("slab_debug option '" + c + "' unknown. skipped");
                    }
                }
            }
            if (i < n && value.charAt(i) == ',') {
                i++;
                final int end = indexOf(value, ';', i);
                final List<String> caches = new ArrayList<>();
                for (final String name : value.substring(i, end).split(",", -1)) {
                    if (!name.isEmpty()) {
                        caches.add(name);
                    }
                }
                listed.add(new Block(flags, caches));
                i = end;
            } else {
                global = flags;
                globalChanged = true;
            }
        }
        // a single list of flags with caches changes only those caches: the global flags stay off
        if (!listed.isEmpty() && !globalChanged) {
            global = 0;
        }
        return new SlubDebugOptions(global, listed, higherOrder, msgs, value);
    }

    private static int indexOf(final String s, final char c, final int from) {
        final int k = s.indexOf(c, from);
        return k < 0 ? s.length() : k;
    }

    /**
     * {@code kmem_cache_flags(flags, name)}: the flags a new cache gets. The first block whose list matches the
     * name adds its flags; otherwise the global flags are added ({@code U} not, for SLAB_NOLEAKTRACE caches).
     * Caches created with SLAB_NO_USER_FLAGS keep their flags as they are.
     */
    public long kmemCacheFlags(final long flags, final String name) {
        if ((flags & SlabFlags.SLAB_NO_USER_FLAGS) != 0) {
            return flags;
        }
        long global = globalFlags;
        if ((flags & SlabFlags.SLAB_NOLEAKTRACE) != 0) {
            global &= ~SlabFlags.SLAB_STORE_USER;
        }
        for (final Block b : blocks) {
            for (final String pattern : b.caches()) {
                if (matches(pattern, name)) {
                    return flags | b.flags();
                }
            }
        }
        return flags | global;
    }

    /** The kernel's match: {@code *} ends a prefix; otherwise the whole name must be equal. */
    static boolean matches(final String pattern, final String name) {
        final int star = pattern.indexOf('*');
        if (star >= 0) {
            return name.startsWith(pattern.substring(0, star));
        }
        return pattern.equals(name);
    }

    /**
     * The {@code O} rule of {@code do_kmem_cache_create}: with {@code O} given, a cache whose slab order grows
     * because of the debug metadata ({@code get_order(size) > get_order(object_size)}) loses the metadata flags
     * and is laid out again without them. Returns the flags to use.
     */
    public long applyHigherOrderRule(final long flags, final int sizeWithDebug, final int objectSize) {
        if (disableHigherOrderDebug && getOrder(sizeWithDebug) > getOrder(objectSize)) {
            return flags & ~DEBUG_METADATA_FLAGS;
        }
        return flags;
    }

    /** {@code get_order(size)} for 4 KiB pages. */
    static int getOrder(final long size) {
        int order = 0;
        long pages = (size - 1) >> 12;
        while (pages > 0) {
            order++;
            pages >>= 1;
        }
        return order;
    }

    /** Same as {@link #kmemCacheFlags(long, String)} (the name the SLUB core uses). */
    public long cacheFlags(final long flags, final String name) {
        return kmemCacheFlags(flags, name);
    }

    /** Same as {@link #disableHigherOrderDebug()}. */
    public boolean higherOrderDisable() {
        return disableHigherOrderDebug;
    }

    /** The unknown option letters, one string each. */
    public List<String> unknownLetters() {
        final List<String> out = new ArrayList<>();
        for (final String m : messages) {
            out.add(m.substring(m.indexOf('\'') + 1, m.lastIndexOf('\'')));
        }
        return out;
    }

    /** Whether the boot option turns debugging on anywhere ({@code slub_debug_enabled}). */
    public boolean enabled() {
        return globalFlags != 0 || !blocks.isEmpty();
    }

    public long globalFlags() {
        return globalFlags;
    }

    /** {@code O} was given. */
    public boolean disableHigherOrderDebug() {
        return disableHigherOrderDebug;
    }

    /** Whether caches that would otherwise merge must stay apart ({@code sysfs_slab_add} with O). */
    public boolean keepsCachesApart() {
        return disableHigherOrderDebug && (globalFlags & DEBUG_METADATA_FLAGS) != 0;
    }

    /** Boot-log lines from parsing (unknown letters). */
    public List<String> messages() {
        return messages;
    }

    /**
     * {@code slab_want_init_on_alloc}: with init_on_alloc=1 new objects are zeroed, except in caches with a
     * constructor, and in RCU or poisoning caches only on {@code __GFP_ZERO} (POISON takes precedence).
     */
    public static boolean wantInitOnAlloc(final boolean initOnAlloc, final long cacheFlags, final boolean hasCtor,
                                          final boolean gfpZero) {
        if (!initOnAlloc) {
            return gfpZero;
        }
        if (hasCtor) {
            return false;
        }
        if ((cacheFlags & (SlabFlags.SLAB_TYPESAFE_BY_RCU | SlabFlags.SLAB_POISON)) != 0) {
            return gfpZero;
        }
        return true;
    }

    /** {@code slab_want_init_on_free}: init_on_free=1 zeroes freed objects, not in poisoning, RCU or ctor caches. */
    public static boolean wantInitOnFree(final boolean initOnFree, final long cacheFlags, final boolean hasCtor) {
        return initOnFree && !hasCtor && (cacheFlags & (SlabFlags.SLAB_POISON
            | SlabFlags.SLAB_TYPESAFE_BY_RCU)) == 0;
    }

    /** The boot message the kernel prints when POISON and init_on_* are both on, or null. */
    public String initOnMessage(final boolean initOnAlloc, final boolean initOnFree) {
        if ((initOnAlloc || initOnFree) && (globalFlags & SlabFlags.SLAB_POISON) != 0) {
            return "mem auto-init: SLAB_POISON will take precedence over init_on_alloc/init_on_free";
        }
        return null;
    }

    /** The letters of {@code flags} in slub_debug order (for messages and tests). */
    public static String letters(final long flags) {
        final StringBuilder sb = new StringBuilder();
        if ((flags & SlabFlags.SLAB_CONSISTENCY_CHECKS) != 0) {
            sb.append('F');
        }
        if ((flags & SlabFlags.SLAB_RED_ZONE) != 0) {
            sb.append('Z');
        }
        if ((flags & SlabFlags.SLAB_POISON) != 0) {
            sb.append('P');
        }
        if ((flags & SlabFlags.SLAB_STORE_USER) != 0) {
            sb.append('U');
        }
        if ((flags & SlabFlags.SLAB_TRACE) != 0) {
            sb.append('T');
        }
        if ((flags & SlabFlags.SLAB_FAILSLAB) != 0) {
            sb.append('A');
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return text == null ? "(none)" : "slub_debug=" + text;
    }
}
