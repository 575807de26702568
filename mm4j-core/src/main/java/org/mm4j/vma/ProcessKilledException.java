package org.mm4j.vma;

/**
 * The process whose call this was got {@code SIGKILL}: the OOM killer chose it as its victim. Its memory is already
 * freed (rss pages, page tables and VMAs went back, as {@code exit_mmap} does) and it is gone from the process
 * table; the call that was running in it does not complete (in the kernel it never returns to user space).
 */
public final class ProcessKilledException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** {@code SIGKILL}. */
    public static final int SIGKILL = 9;

    private final int pid;

    public ProcessKilledException(final int pid, final String comm) {
        super(String.format("Killed (pid %d (%s) got SIGKILL from the OOM killer; see dmesg)", pid, comm));
        this.pid = pid;
    }

    /** The killed process. */
    public int pid() {
        return pid;
    }

    /** The signal, always {@link #SIGKILL}. */
    public int signal() {
        return SIGKILL;
    }
}
