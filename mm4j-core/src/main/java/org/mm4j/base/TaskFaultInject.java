package org.mm4j.base;

/**
 * The two fault-injection fields of a {@code task_struct} ({@code CONFIG_FAULT_INJECTION}): {@code make_it_fail}
 * ({@code /proc/<pid>/make-it-fail}: with a capability's {@code task-filter} set, only tasks with it set may get
 * random failures) and {@code fail_nth} ({@code /proc/<pid>/fail-nth}: writing N makes the task's N-th call of
 * {@code should_fail_ex} fail, whatever the capability's probability, interval, space or times say; the count
 * runs down by one per call and the file reads 0 once the failure was injected).
 *
 * <p>At fork the child gets {@code make_it_fail} (the task struct is copied) and a {@code fail_nth} of 0
 * ({@code dup_task_struct}).
 *
 * <p>Threads: both fields are volatile; {@code fail_nth} is counted down by the task's own calls
 * ({@code READ_ONCE}/{@code WRITE_ONCE} in the kernel, which never races with itself for one task). In the model
 * several Java threads may act as one task (the JVM allocator's callers all run as the current process), so the
 * count-down is an atomic decrement: exactly one call sees it reach 0.
 */
public final class TaskFaultInject {
    private static final java.lang.invoke.VarHandle FAIL_NTH;

    static {
        try {
            FAIL_NTH = java.lang.invoke.MethodHandles.lookup().findVarHandle(TaskFaultInject.class, "failNth",
                int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private volatile int failNth;
    private volatile boolean makeItFail;

    /** {@code task->fail_nth}, as {@code /proc/<pid>/fail-nth} prints it ({@code %u}). */
    public long failNth() {
        return Integer.toUnsignedLong(failNth);
    }

    /** Sets {@code task->fail_nth} (an unsigned int: 0 disarms). */
    public void setFailNth(final long n) {
        if (n < 0 || n > 0xffff_ffffL) {
            throw new IllegalArgumentException("fail-nth=" + n + " (expected: 0 to 4294967295)");
        }
        failNth = (int) n;
    }

    /** {@code task->make_it_fail}. */
    public boolean makeItFail() {
        return makeItFail;
    }

    public void setMakeItFail(final boolean on) {
        makeItFail = on;
    }

    /**
     * The {@code fail_nth} step of {@code should_fail_ex}: -1 when the task has no {@code fail_nth} armed (the
     * capability decides), else 1 when this call is the N-th and fails, 0 when it counts down and passes.
     */
    int countDown() {
        int n;
        do {
            n = failNth;
            if (n == 0) {
                return -1;
            }
        } while (!FAIL_NTH.compareAndSet(this, n, n - 1));
        return n == 1 ? 1 : 0;
    }

    /** The state a forked child starts with: the parent's {@code make_it_fail}, no {@code fail_nth}. */
    public TaskFaultInject forkChild() {
        final TaskFaultInject c = new TaskFaultInject();
        c.makeItFail = makeItFail;
        return c;
    }
}
