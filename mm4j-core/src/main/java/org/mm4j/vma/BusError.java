package org.mm4j.vma;

/**
 * A user access the kernel answers with SIGBUS: the faulting address and {@code si_code}. The model raises it for
 * a file page wholly past the end of its file ({@code filemap_fault}/{@code shmem_fault}: {@code VM_FAULT_SIGBUS}
 * when the page index is at or beyond {@code DIV_ROUND_UP(i_size, PAGE_SIZE)}).
 */
public final class BusError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** Nonexistent physical address: what {@code do_sigbus} reports for {@code VM_FAULT_SIGBUS}. */
    public static final int BUS_ADRERR = 2;

    private final long address;
    private final int code;

    public BusError(final long address, final int code) {
        super(String.format("Bus error at 0x%x (%s)", address, code == BUS_ADRERR ? "BUS_ADRERR" : "si_code " + code));
        this.address = address;
        this.code = code;
    }

    public long address() {
        return address;
    }

    /** {@link #BUS_ADRERR}. */
    public int code() {
        return code;
    }
}
