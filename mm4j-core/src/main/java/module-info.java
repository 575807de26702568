/**
 * mm4j core: the Linux memory-management core (buddy page allocator, SLUB, process address spaces, trace
 * replay) over off-heap memory. No runtime dependencies; only {@code java.lang.foreign} and {@code VarHandle}.
 */
module org.mm4j.core {
    exports org.mm4j;
    exports org.mm4j.base;
    exports org.mm4j.boot;
    exports org.mm4j.page;
    exports org.mm4j.trace.kmem;
    exports org.mm4j.slab;
    exports org.mm4j.slab.debug;
    exports org.mm4j.vma;
    exports org.mm4j.vma.replay;
    exports org.mm4j.io;
}
