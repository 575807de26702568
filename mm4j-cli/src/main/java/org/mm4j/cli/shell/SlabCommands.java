package org.mm4j.cli.shell;

import org.mm4j.page.Gfp;
import org.mm4j.slab.Ctor;
import org.mm4j.slab.KmemCache;
import org.mm4j.slab.KmemCacheArgs;
import org.mm4j.slab.SlabFlags;
import org.mm4j.slab.Slub;

import java.util.Map;

/** SLUB's commands: kmem_cache_* and the kmalloc family, over {@code kernel.slab()}. */
final class SlabCommands {
    private SlabCommands() {
    }

    static void register(final Shell sh) {
        sh.register(new Cmd("kmem_cache_create",
            "kmem_cache_create NAME SIZE [align=N] [flags=A|B] [ctor=NAME[:BYTE]] [freeptr_offset=N] "
                + "[sheaf_capacity=N]",
            "create a slab cache",
            """
            Creates cache NAME of SIZE-byte objects, laid out as the kernel's calculate_sizes does (see
            /sys/kernel/slab/NAME/). Options:
              align=N             minimum object alignment (a power of two)
              flags=A|B           SLAB_HWCACHE_ALIGN, SLAB_RED_ZONE, SLAB_POISON, SLAB_STORE_USER,
                                  SLAB_CONSISTENCY_CHECKS, SLAB_TRACE, SLAB_TYPESAFE_BY_RCU, SLAB_ACCOUNT,
                                  SLAB_RECLAIM_ACCOUNT, SLAB_NO_MERGE ... (SLAB_ may be left out)
              ctor=NAME[:BYTE]    a constructor, run on every object when its slab is made: sets each byte to
                                  BYTE (default 0); objects keep that state across free and reuse
              freeptr_offset=N    keep the free pointer inside the object at N (RCU caches, kmem_cache_args)
              sheaf_capacity=N    per-CPU sheaves of N objects in front of the slabs (6.18)
            Compatible caches are merged unless slab_nomerge is on the command line or a flag forbids it;
            the alias then shows in /sys/kernel/slab/NAME/aliases. Prints nothing.""",
            SlabCommands::create));
        sh.register(new Cmd("kmem_cache_alloc", "kmem_cache_alloc NAME [GFP]", "allocate an object from a cache",
            "Prints the object's address (0x%016x), or 0x0000000000000000 when the allocation fails.",
            (s, a, out) -> {
                final KmemCache c = cache(s, a.word("NAME"));
                final int gfp = a.atEnd() ? Gfp.KERNEL : PageCommands.gfp(a.word("GFP"));
                a.end();
                out.append(addr(c.alloc(gfp)));
            }));
        sh.register(new Cmd("kmem_cache_free", "kmem_cache_free NAME ADDR", "free an object to its cache",
            "Frees ADDR to cache NAME. Freeing to the wrong cache, twice, or an address that is no object is\n"
                + "reported as the kernel does (dmesg) when debugging is on.",
            (s, a, out) -> {
                final KmemCache c = cache(s, a.word("NAME"));
                final long p = a.expr("ADDR");
                a.end();
                c.free(p);
            }));
        sh.register(new Cmd("kmem_cache_shrink", "kmem_cache_shrink NAME", "release a cache's free slabs",
            "Flushes the per-CPU slabs and sheaves and gives empty slabs back to the buddy allocator.",
            (s, a, out) -> {
                final KmemCache c = cache(s, a.word("NAME"));
                a.end();
                c.shrink();
            }));
        sh.register(new Cmd("kmem_cache_destroy", "kmem_cache_destroy NAME", "destroy a cache",
            "Destroys NAME (a cache or an alias: that name only, once); the last name of a cache shuts it down,\n"
                + "and objects still allocated are reported in dmesg ('Objects remaining in NAME on\n"
                + "__kmem_cache_shutdown()') as the kernel does.",
            (s, a, out) -> {
                final String name = a.word("NAME");
                a.end();
                slub(s).kmemCacheDestroy(name);
            }));
        sh.register(new Cmd("kmalloc", "kmalloc SIZE [GFP]", "allocate SIZE bytes",
            "Prints the address. kmalloc 0 returns ZERO_SIZE_PTR (0x0000000000000010); above 8 KiB the pages\n"
                + "come straight from the buddy allocator. GFP defaults to GFP_KERNEL (GFP_KERNEL_ACCOUNT picks\n"
                + "kmalloc-cg-*, __GFP_RECLAIMABLE kmalloc-rcl-*).",
            (s, a, out) -> {
                final long size = a.expr("SIZE");
                final int gfp = gfpArg(a);
                out.append(addr(slub(s).kmalloc(size, gfp)));
            }));
        sh.register(new Cmd("kzalloc", "kzalloc SIZE [GFP]", "allocate SIZE zeroed bytes",
            "kmalloc with __GFP_ZERO.",
            (s, a, out) -> {
                final long size = a.expr("SIZE");
                final int gfp = gfpArg(a);
                out.append(addr(slub(s).kzalloc(size, gfp)));
            }));
        sh.register(new Cmd("kcalloc", "kcalloc N SIZE [GFP]", "allocate a zeroed array of N x SIZE bytes",
            "Fails (prints 0x0000000000000000) when N x SIZE overflows, as kmalloc_array does.",
            (s, a, out) -> {
                final long n = a.expr("N");
                final long size = a.expr("SIZE");
                final int gfp = gfpArg(a);
                out.append(addr(slub(s).kcalloc(n, size, gfp)));
            }));
        sh.register(new Cmd("krealloc", "krealloc ADDR SIZE [GFP]", "resize an allocation",
            "Prints the new address (the same one when the object is large enough); the contents up to the\n"
                + "smaller size are kept.",
            (s, a, out) -> {
                final long p = a.expr("ADDR");
                final long size = a.expr("SIZE");
                final int gfp = gfpArg(a);
                out.append(addr(slub(s).krealloc(p, size, gfp)));
            }));
        sh.register(new Cmd("kfree", "kfree ADDR", "free a kmalloc'd (or any slab) object",
            "kfree of 0 (NULL) or of ZERO_SIZE_PTR does nothing.",
            (s, a, out) -> {
                final long p = a.expr("ADDR");
                a.end();
                slub(s).kfree(p);
            }));
        sh.register(new Cmd("ksize", "ksize ADDR", "usable size of an allocation",
            "Prints the bytes usable at ADDR (the object size of its cache, or the page size of a large one).",
            (s, a, out) -> {
                final long p = a.expr("ADDR");
                a.end();
                out.append(slub(s).ksize(p)).append('\n');
            }));
    }

    private static Slub slub(final Shell s) {
        return s.kernel().slab();
    }

    private static int gfpArg(final ArgReader a) {
        final int gfp = a.atEnd() ? Gfp.KERNEL : PageCommands.gfp(a.word("GFP"));
        a.end();
        return gfp;
    }

    private static String addr(final long kaddr) {
        return String.format("0x%016x%n", kaddr);
    }

    static KmemCache cache(final Shell s, final String name) {
        final KmemCache c = slub(s).findCache(name);
        if (c == null) {
            throw new ShellException("no cache named '" + name + "' (cat /proc/slabinfo lists them)");
        }
        return c;
    }

    private static void create(final Shell s, final ArgReader a, final StringBuilder out) {
        final String name = a.word("NAME");
        final long size = a.expr("SIZE");
        final Map<String, String> o = a.options("align", "flags", "ctor", "freeptr_offset", "sheaf_capacity");
        if (size <= 0 || size > Slub.KMALLOC_MAX_SIZE) {
            throw new ShellException("kmem_cache_create: SIZE " + ArgReader.show(size) + " out of range (expected: 1 to "
                + Slub.KMALLOC_MAX_SIZE + ")");
        }
        KmemCacheArgs args = KmemCacheArgs.DEFAULT;
        if (o.containsKey("align")) {
            args = args.withAlign((int) number(o.get("align"), "align", 0, 1 << 16));
        }
        if (o.containsKey("flags")) {
            try {
                args = args.withFlags(SlabFlags.parse(o.get("flags")));
            } catch (final IllegalArgumentException e) {
                throw new ShellException("kmem_cache_create: " + e.getMessage());
            }
        }
        if (o.containsKey("ctor")) {
            final String spec = o.get("ctor");
            final int colon = spec.indexOf(':');
            final String cname = colon < 0 ? spec : spec.substring(0, colon);
            final byte fill = colon < 0 ? 0 : (byte) number(spec.substring(colon + 1), "ctor BYTE", -128, 255);
            if (cname.isEmpty()) {
                throw new ShellException("kmem_cache_create: ctor= needs a NAME");
            }
            args = args.withCtor(Ctor.named(cname + "+0x0/0x10", seg -> seg.fill(fill)));
        }
        if (o.containsKey("freeptr_offset")) {
            args = args.withFreeptrOffset((int) number(o.get("freeptr_offset"), "freeptr_offset", 0, size - 8));
        }
        if (o.containsKey("sheaf_capacity")) {
            args = args.withSheafCapacity((int) number(o.get("sheaf_capacity"), "sheaf_capacity", 0, 1 << 16));
        }
        slub(s).kmemCacheCreate(name, (int) size, args);
    }

    private static long number(final String text, final String what, final long min, final long max) {
        final long v = Expr.eval(text);
        if (v < min || v > max) {
            throw new ShellException("kmem_cache_create: " + what + "=" + text + " out of range (expected: " + min
                + " to " + max + ")");
        }
        return v;
    }
}
