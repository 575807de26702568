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
 *     vma, vma.replay   address spaces                      (uses page)
 *     trace.kmem        kmem trace decode and replay        (uses slab, page)
 *       slab            SLUB                                (uses page)
 *         page          buddy allocator, struct page        (uses the leaves)
 *           base, boot, io   leaves: log, CPU slots, /proc registry, flag names; boot parameters; line input
 * </pre>
 * A layer may use the layers below it, never one above or beside it; no package cycle anywhere.
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
            .layer("vma").definedBy("org.mm4j.vma..")
            .layer("trace").definedBy("org.mm4j.trace..")
            .layer("slab").definedBy("org.mm4j.slab..")
            .layer("page").definedBy("org.mm4j.page..")
            .layer("leaves").definedBy("org.mm4j.base..", "org.mm4j.boot..", "org.mm4j.io..")
            .whereLayer("root").mayNotBeAccessedByAnyLayer()
            .whereLayer("vma").mayOnlyBeAccessedByLayers("root")
            .whereLayer("trace").mayOnlyBeAccessedByLayers("root")
            .whereLayer("slab").mayOnlyBeAccessedByLayers("root", "trace")
            .whereLayer("page").mayOnlyBeAccessedByLayers("root", "trace", "slab", "vma")
            .whereLayer("leaves").mayOnlyBeAccessedByLayers("root", "trace", "slab", "vma", "page")
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
    void noPackageCycles() {
        SlicesRuleDefinition.slices().matching("org.mm4j.(**)").should().beFreeOfCycles().check(core);
    }
}
