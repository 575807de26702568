/**
 * mm4j core: the Linux memory-management core (buddy page allocator, SLUB, process address spaces, trace
 * replay) over off-heap memory. No third-party runtime dependencies: the JDK's {@code java.lang.foreign},
 * {@code VarHandle}, and the JDK modules {@code jdk.jfr} (JFR events) and {@code java.management} (MBeans).
 */
module org.mm4j.core {
    requires jdk.jfr;
    requires java.management;

    exports org.mm4j;
    exports org.mm4j.base;
    exports org.mm4j.base.jfr;
    exports org.mm4j.boot;
    exports org.mm4j.page;
    exports org.mm4j.trace.kmem;
    exports org.mm4j.slab;
    exports org.mm4j.slab.debug;
    exports org.mm4j.vma;
    exports org.mm4j.vma.replay;
    exports org.mm4j.io;
    exports org.mm4j.management;
}
