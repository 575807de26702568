package org.mm4j.slab.debug;

/**
 * Strict mode's exception: the first SLUB debug report of an operation, thrown to the caller once the allocator
 * has finished that operation (its repairs done, its locks released), so the cache stays usable after the catch.
 */
public final class SlubDebugException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient DebugReport report;

    public SlubDebugException(final DebugReport report) {
        super(report.summary());
        this.report = report;
    }

    /** The report that triggered the exception. */
    public DebugReport report() {
        return report;
    }
}
