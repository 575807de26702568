package org.mm4j.vma;

/**
 * A user access the kernel answers with SIGBUS: the faulting address and {@code si_code}. The model raises it for
 * a file page wholly past the end of its file ({@code filemap_fault}/{@code shmem_fault}: {@code VM_FAULT_SIGBUS}
 * when the page index is at or beyond {@code DIV_ROUND_UP(i_size, PAGE_SIZE)}).
 */
public final class BusError extends UserFault {
    private static final long serialVersionUID = 1L;
    /** Nonexistent physical address: what {@code do_sigbus} reports for {@code VM_FAULT_SIGBUS}. */
    public static final int BUS_ADRERR = 2;

    public BusError(final long address, final int code) {
        super(7, "Bus error", address, code, code == BUS_ADRERR ? "BUS_ADRERR" : "si_code " + code);
    }
}
