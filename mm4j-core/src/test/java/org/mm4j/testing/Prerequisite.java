package org.mm4j.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A test's outside prerequisite (a program, a native library, a file of ../shared/samples): when it is missing
 * the test skips, except under {@code CI=true}, where CI must provide it (.ci/run installs the packages) and a
 * skip would hide a test that never ran, so it fails. One class for every module: mm4j-core's test-jar carries
 * it to the others.
 */
public final class Prerequisite {
    private Prerequisite() {
    }

    /** Returns when {@code present}; otherwise skips the calling test, or fails it under {@code CI=true}. */
    public static void requireOrSkip(final boolean present, final String what) {
        requireOrSkip(present, what, System.getenv("CI"));
    }

    static void requireOrSkip(final boolean present, final String what, final String ci) {
        if (present) {
            return;
        }
        if ("true".equals(ci)) {
            Assertions.fail("CI=true and " + what + ": CI must provide it (see .ci/run), a skip is a failure");
        }
        Assumptions.abort(what);
    }
}
