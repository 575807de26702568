package org.mm4j.testing;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PrerequisiteTest {
    @Test
    void missingSkipsOutsideCiAndFailsUnderCi() {
        assertDoesNotThrow(() -> Prerequisite.requireOrSkip(true, "x present", "true"));
        assertEquals("no zstd program",
            assertThrows(TestAbortedException.class, () -> Prerequisite.requireOrSkip(false, "no zstd program", null))
                .getMessage().replaceFirst("^Assumption failed: ", ""));
        assertThrows(TestAbortedException.class, () -> Prerequisite.requireOrSkip(false, "no zstd program", "false"));
        assertEquals("CI=true and no zstd program: CI must provide it (see .ci/run), a skip is a failure",
            assertThrows(AssertionFailedError.class, () -> Prerequisite.requireOrSkip(false, "no zstd program", "true"))
                .getMessage());
    }
}
