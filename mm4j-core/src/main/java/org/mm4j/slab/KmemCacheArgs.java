package org.mm4j.slab;

/**
 * {@code struct kmem_cache_args} (Linux 6.18): the optional arguments of {@code kmem_cache_create()}.
 * Immutable; the {@code with*} methods return copies.
 *
 * @param align            alignment of objects (0 = none; a power of two)
 * @param flags            {@link SlabFlags} bits
 * @param ctor             constructor run on each object when its slab is made, or null
 * @param useFreeptrOffset whether {@code freeptrOffset} is used (SLAB_TYPESAFE_BY_RCU caches only)
 * @param freeptrOffset    where the free pointer lives inside the object
 * @param useroffset       hardened usercopy region start
 * @param usersize         hardened usercopy region size (a non-zero size makes the cache unmergeable)
 * @param sheafCapacity    per-CPU sheaf capacity (0 = no sheaves, Linux's default)
 */
public record KmemCacheArgs(int align, long flags, Ctor ctor, boolean useFreeptrOffset, int freeptrOffset,
                            int useroffset, int usersize, int sheafCapacity) {
    public static final KmemCacheArgs DEFAULT = new KmemCacheArgs(0, 0, null, false, 0, 0, 0, 0);

    public static KmemCacheArgs of(final int align, final long flags, final Ctor ctor) {
        return new KmemCacheArgs(align, flags, ctor, false, 0, 0, 0, 0);
    }

    public KmemCacheArgs withAlign(final int a) {
        return new KmemCacheArgs(a, flags, ctor, useFreeptrOffset, freeptrOffset, useroffset, usersize,
            sheafCapacity);
    }

    public KmemCacheArgs withFlags(final long f) {
        return new KmemCacheArgs(align, f, ctor, useFreeptrOffset, freeptrOffset, useroffset, usersize,
            sheafCapacity);
    }

    public KmemCacheArgs withCtor(final Ctor c) {
        return new KmemCacheArgs(align, flags, c, useFreeptrOffset, freeptrOffset, useroffset, usersize,
            sheafCapacity);
    }

    public KmemCacheArgs withFreeptrOffset(final int offset) {
        return new KmemCacheArgs(align, flags, ctor, true, offset, useroffset, usersize, sheafCapacity);
    }

    public KmemCacheArgs withUsercopy(final int offset, final int size) {
        return new KmemCacheArgs(align, flags, ctor, useFreeptrOffset, freeptrOffset, offset, size,
            sheafCapacity);
    }

    public KmemCacheArgs withSheafCapacity(final int capacity) {
        return new KmemCacheArgs(align, flags, ctor, useFreeptrOffset, freeptrOffset, useroffset, usersize,
            capacity);
    }
}
