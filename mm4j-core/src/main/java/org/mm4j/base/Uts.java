package org.mm4j.base;

/**
 * The model kernel's release string ({@code utsname()->release}, {@code init_uts_ns}): what {@code uname -r},
 * the boot banner, {@code dump_stack()} and the slab debug reports print. A leaf constant so subsystems name the
 * release without importing the composition root.
 */
public final class Uts {
    /** {@code UTS_RELEASE} of the model: Linux 6.18 as mm4j models it. */
    public static final String RELEASE = "6.18.0-mm4j";

    private Uts() {
    }
}
