package org.mm4j.vma;

/**
 * A user access the kernel answers with a signal ({@code force_sig_fault}): the signal, the faulting address and
 * the {@code si_code}, as a process's handler would find them in its {@code siginfo_t}.
 */
public abstract sealed class UserFault extends RuntimeException permits SegmentationFault, BusError {
    private static final long serialVersionUID = 1L;

    private final int signal;
    private final long address;
    private final int code;

    UserFault(final int signal, final String what, final long address, final int code, final String codeName) {
        super(String.format("%s at 0x%x (%s)", what, address, codeName));
        this.signal = signal;
        this.address = address;
        this.code = code;
    }

    /** The signal number: 11 (SIGSEGV) or 7 (SIGBUS). */
    public int signal() {
        return signal;
    }

    /** The faulting user address ({@code si_addr}). */
    public long address() {
        return address;
    }

    /** The {@code si_code}. */
    public int code() {
        return code;
    }
}
