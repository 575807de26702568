package org.mm4j.vma;

/** A user access the kernel answers with SIGSEGV: the faulting address and {@code si_code}. */
public final class SegmentationFault extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** No VMA maps the address. */
    public static final int SEGV_MAPERR = 1;
    /** A VMA maps it but forbids this access. */
    public static final int SEGV_ACCERR = 2;

    private final long address;
    private final int code;

    public SegmentationFault(final long address, final int code) {
        super(String.format("Segmentation fault at 0x%x (%s)", address,
            code == SEGV_MAPERR ? "SEGV_MAPERR" : "SEGV_ACCERR"));
        this.address = address;
        this.code = code;
    }

    public long address() {
        return address;
    }

    /** {@link #SEGV_MAPERR} or {@link #SEGV_ACCERR}. */
    public int code() {
        return code;
    }
}
