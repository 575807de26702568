package org.mm4j.slab;

import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

/**
 * A cache constructor ({@code void (*ctor)(void *)}): run once on every object when its slab is created, never on
 * allocation. Objects keep their constructed state across free and reallocation (the free pointer lives outside
 * the object in such caches).
 */
@FunctionalInterface
public interface Ctor {
    /** Initializes one object; {@code object} is bounded to {@code object_size} bytes. */
    void construct(MemorySegment object);

    /** The symbol name sysfs {@code ctor} prints ({@code %pS}). */
    default String name() {
        return "ctor+0x0/0x10";
    }

    /** A named constructor. */
    static Ctor named(final String name, final Consumer<MemorySegment> body) {
        return new Ctor() {
            @Override
            public void construct(final MemorySegment object) {
                body.accept(object);
            }

            @Override
            public String name() {
                return name;
            }
        };
    }
}
