package org.mm4j.bench;

/**
 * mm4j's SLUB through kmalloc/kfree on a booted model kernel: {@code mm4j} with sheaves (the JVM-facing
 * default), {@code mm4j-cpu-slab} on the kernel-faithful per-CPU slab path without sheaves.
 */
final class Mm4jSlab {
    private Mm4jSlab() {
    }

    static Allocator open(final String name, final boolean sheaves) {
        throw new Allocators.Unavailable("org.mm4j.slab (SLUB) has not landed on main yet");
    }
}
