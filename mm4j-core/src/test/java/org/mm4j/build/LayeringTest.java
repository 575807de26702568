package org.mm4j.build;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.Architectures;
import com.tngtech.archunit.library.dependencies.SlicesRuleDefinition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The core's layers, checked on the compiled classes so the next change cannot undo them (issue 12).
 *
 * <pre>
 *   org.mm4j            the composition root: Kernel boots every subsystem and hands each what it needs
 *     management        JMX MBeans and the periodic JFR event     (uses slab, page)
 *     vma, vma.replay   address spaces                      (uses slab, page: processes are built from slab caches)
 *     trace.kmem        kmem trace decode and replay        (uses slab, page)
 *       slab            SLUB                                (uses page)
 *         page          buddy allocator, struct page        (uses the leaves)
 *           base, boot, io   leaves: log, CPU slots, /proc registry, flag names; boot parameters; line input
 *             (base.jfr: the JFR event classes, importing nothing of mm4j, so every layer may emit them)
 * </pre>
 * A layer may use the layers below it, never one above or beside it; no package cycle anywhere. The vma -> slab
 * edge is deliberate (issue 15): a VMA, mm, task and maple node is an object of its 6.18 slab cache, so the
 * order is page &lt;- slab &lt;- vma, and slab must never use vma.
 */
class LayeringTest {
    private static JavaClasses core;

    @BeforeAll
    static void importCore() {
        core = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("org.mm4j");
        // the rules below must see the real core, not an empty class path
        assertFalse(core.getPackage("org.mm4j.slab").getClasses().isEmpty(), "core classes imported");
    }

    @Test
    void layersOnlyUseLayersBelow() {
        Architectures.layeredArchitecture()
            .consideringOnlyDependenciesInLayers()
            .layer("root").definedBy("org.mm4j")
            .layer("management").definedBy("org.mm4j.management..")
            .layer("vma").definedBy("org.mm4j.vma..")
            .layer("trace").definedBy("org.mm4j.trace..")
            .layer("slab").definedBy("org.mm4j.slab..")
            .layer("page").definedBy("org.mm4j.page..")
            .layer("leaves").definedBy("org.mm4j.base..", "org.mm4j.boot..", "org.mm4j.io..")
            .whereLayer("root").mayNotBeAccessedByAnyLayer()
            .whereLayer("management").mayOnlyBeAccessedByLayers("root")
            .whereLayer("vma").mayOnlyBeAccessedByLayers("root")
            .whereLayer("trace").mayOnlyBeAccessedByLayers("root")
            .whereLayer("slab").mayOnlyBeAccessedByLayers("root", "management", "trace", "vma")
            .whereLayer("page").mayOnlyBeAccessedByLayers("root", "management", "trace", "slab", "vma")
            .whereLayer("leaves").mayOnlyBeAccessedByLayers("root", "management", "trace", "slab", "vma", "page")
            .check(core);
    }

    @Test
    void leavesUseNoOtherLeaf() {
        // base, boot and io are independent leaves: none imports another (boot's parameters are plain values)
        noClasses().that().resideInAPackage("org.mm4j.base..")
            .should().dependOnClassesThat().resideInAnyPackage("org.mm4j.boot..", "org.mm4j.io..")
            .check(core);
        noClasses().that().resideInAPackage("org.mm4j.io..")
            .should().dependOnClassesThat().resideInAnyPackage("org.mm4j.boot..", "org.mm4j.base..")
            .check(core);
    }

    @Test
    void jfrEventsAreALeaf() {
        // every layer emits the events, so they may use nothing of mm4j (not even base: base -> base.jfr is allowed)
        noClasses().that().resideInAPackage("org.mm4j.base.jfr..")
            .should().dependOnClassesThat().resideInAnyPackage("org.mm4j.base", "org.mm4j.boot..", "org.mm4j.io..",
                "org.mm4j.page..", "org.mm4j.slab..", "org.mm4j.vma..", "org.mm4j.trace..", "org.mm4j.management..",
                "org.mm4j")
            .check(core);
    }

    @Test
    void noPackageCycles() {
        SlicesRuleDefinition.slices().matching("org.mm4j.(**)").should().beFreeOfCycles().check(core);
    }
}
