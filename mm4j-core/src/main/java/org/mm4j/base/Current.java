package org.mm4j.base;

import java.util.function.Supplier;

/**
 * The model's {@code current}: the task a report or a record names ({@code current->pid}, {@code ->tgid},
 * {@code ->comm}). Until the process table exists (early boot) it is the idle task, pid 0 "swapper/0", as in the
 * kernel; the composition root then installs the process table's current process ({@link #install}).
 *
 * <p>Threads: any thread; the source is a volatile reference, read once per call. Called only on reporting and
 * debugging paths (fault reports, page_owner records), never on an allocation fast path.
 */
public final class Current {
    /** One task as {@code current} shows it; {@code comm} is at most 15 characters ({@code TASK_COMM_LEN - 1}). */
    public record Task(int pid, int tgid, String comm, TaskFaultInject faultInject) {
        /** {@code TASK_COMM_LEN}: 16 bytes with the terminating NUL. */
        public static final int TASK_COMM_LEN = 16;

        public Task {
            if (comm.length() >= TASK_COMM_LEN) {
                comm = comm.substring(0, TASK_COMM_LEN - 1);
            }
        }

        /** A task whose fault-injection fields are its own and unset (the idle task, tests). */
        public Task(final int pid, final int tgid, final String comm) {
            this(pid, tgid, comm, new TaskFaultInject());
        }
    }

    /** {@code init_task}: what runs before the first process exists. */
    public static final Task SWAPPER = new Task(0, 0, "swapper/0");

    private volatile Supplier<Task> source = () -> SWAPPER;

    /** The current task. */
    public Task get() {
        return source.get();
    }

    /** Makes {@code source} (the process table's current process) what {@link #get()} returns from now on. */
    @InternalApi("org.mm4j")
    public void install(final Supplier<Task> source) {
        this.source = source;
    }
}
