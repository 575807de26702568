package org.mm4j.base;

import java.util.List;

/**
 * The model's stand-in for {@code dump_stack()} (lib/dump_stack.c): the CPU line, the hardware line and a
 * {@code Call Trace} of the kernel functions on the failing path, by name only (the model has no addresses or
 * offsets to print). The OOM report ({@code dump_header}) and the allocator's {@code warn_alloc} both print it.
 *
 * <p>Stateless; any thread.
 */
public final class DumpStack {
    private DumpStack() {
    }

    /**
     * Appends the {@code dump_stack} lines to {@code sb}: "CPU: cpu UID: 0 PID: pid Comm: comm Not tainted ...",
     * "Hardware name: ...", "Call Trace:", " &lt;TASK&gt;", one line per frame (innermost first) and
     * " &lt;/TASK&gt;", each ending in a newline.
     */
    public static StringBuilder append(final StringBuilder sb, final int cpu, final int pid, final String comm,
                                       final List<String> frames) {
        sb.append(String.format("CPU: %d UID: 0 PID: %d Comm: %s Not tainted %s #1%n", cpu, pid, comm,
            Uts.RELEASE));
        sb.append("Hardware name: mm4j (a model of the Linux mm, no firmware)\n");
        sb.append("Call Trace:\n <TASK>\n");
        for (final String f : frames) {
            sb.append(' ').append(f).append('\n');
        }
        return sb.append(" </TASK>\n");
    }
}
