package org.mm4j.vma;

/** A user access the kernel answers with SIGSEGV: the faulting address and {@code si_code}. */
public final class SegmentationFault extends UserFault {
    private static final long serialVersionUID = 1L;
    /** No VMA maps the address. */
    public static final int SEGV_MAPERR = 1;
    /** A VMA maps it but forbids this access. */
    public static final int SEGV_ACCERR = 2;

    public SegmentationFault(final long address, final int code) {
        super(11, "Segmentation fault", address, code, code == SEGV_MAPERR ? "SEGV_MAPERR" : "SEGV_ACCERR");
    }
}
