package org.mm4j.cli.shell;

import org.mm4j.kernel.ProcFs;
import org.mm4j.vma.MmStruct;
import org.mm4j.vma.replay.StraceSyscall;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The process side of the shell: system-call lines in strace syntax, {@code touch}, {@code ps}, {@code pid}, and
 * {@code /proc/self/maps}, {@code /proc/PID/maps}. The shell starts with one process (pid 1) whose address space
 * is empty; {@code mmap(...)} and friends build it.
 */
final class VmaCommands {
    /** A process of the shell: its address space and its open files. */
    static final class Proc {
        final int pid;
        final MmStruct mm;
        final StraceSyscall syscalls = new StraceSyscall();

        Proc(final int pid, final MmStruct mm) {
            this.pid = pid;
            this.mm = mm;
        }
    }

    /** The shell's processes and the current one. */
    static final class Procs {
        final TreeMap<Integer, Proc> all = new TreeMap<>();
        int current = 1;

        Proc current() {
            return all.get(current);
        }
    }

    private VmaCommands() {
    }

    static Procs procs(final Shell sh) {
        return sh.state(Procs.class, () -> {
            final Procs p = new Procs();
            add(sh, p, new Proc(1, new MmStruct()));
            final ProcFs fs = sh.kernel().procfs();
            fs.registerDir("/proc/self", new ProcFs.Dir() {
                @Override
                public String read(final String rest) {
                    return file(p.current(), rest);
                }

                @Override
                public List<String> list(final String rest) {
                    return rest.isEmpty() ? List.of("maps") : List.of();
                }
            });
            return p;
        });
    }

    private static void add(final Shell sh, final Procs p, final Proc proc) {
        p.all.put(proc.pid, proc);
        sh.kernel().procfs().registerDir("/proc/" + proc.pid, new ProcFs.Dir() {
            @Override
            public String read(final String rest) {
                return file(proc, rest);
            }

            @Override
            public List<String> list(final String rest) {
                return rest.isEmpty() ? List.of("maps") : List.of();
            }
        });
    }

    private static String file(final Proc proc, final String rest) {
        return rest.equals("maps") ? proc.mm.maps() : null;
    }

    static void register(final Shell sh) {
        // the /proc/self files exist from the start
        sh.registerInit(VmaCommands::procs);
        sh.syscallHandler(VmaCommands::syscall);
        sh.helpTopic("syscalls", """
            System calls in strace syntax, on the current process's address space: mmap munmap mprotect
            pkey_mprotect mremap brk madvise mlock mlock2 munlock prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, ...).
            Write the line as strace prints it; a trailing "= result" is accepted and ignored. mm4j prints its own
            result in strace's style: "= 0x7f1234560000", "= 0", "= -1 ENOMEM (Cannot allocate memory)".
            Arguments may hold $NAME and expressions: p = mmap(NULL, 8192, PROT_READ|PROT_WRITE,
            MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) stores the address; munmap($p+4096, 4096) unmaps its second page.
            cat /proc/self/maps shows the result.
            """);
        sh.register(new Cmd("touch", "touch ADDR [r|w|x]", "a user-space access in the current process",
            """
            Reads (r, the default), writes (w) or executes (x) the page at ADDR as the CPU would: a fault maps it
            (anonymous read: the zero page; write: a new zeroed page; copy-on-write after fork). An access outside
            any VMA or against its protection is an error: 'Segmentation fault (SEGV_MAPERR|SEGV_ACCERR) at ADDR'.""",
            VmaCommands::touch));
        sh.register(new Cmd("ps", "ps", "list the shell's processes",
            "One line per process: PID, VMAs, and a '*' on the current one.",
            (s, a, out) -> {
                a.end();
                final Procs p = procs(s);
                out.append("  PID  VMAS\n");
                for (final Proc proc : p.all.values()) {
                    out.append(String.format("%s%4d %5d%n", proc.pid == p.current ? "*" : " ", proc.pid,
                        proc.mm.mapCount()));
                }
            }));
        sh.register(new Cmd("pid", "pid [N]", "switch to process N (or print the current pid)",
            "Later syscall lines, touch and /proc/self go to process N.",
            (s, a, out) -> {
                final Procs p = procs(s);
                if (a.atEnd()) {
                    out.append(p.current).append('\n');
                    return;
                }
                final int n = a.intArg("N", 1, Integer.MAX_VALUE);
                a.end();
                if (!p.all.containsKey(n)) {
                    throw new ShellException("pid: no process " + n + " (ps lists them)");
                }
                p.current = n;
            }));
    }

    private static void touch(final Shell sh, final ArgReader a, final StringBuilder out) {
        final long addr = a.expr("ADDR");
        final String acc = a.atEnd() ? "r" : a.word("r|w|x");
        a.end();
        if (!acc.equals("r") && !acc.equals("w") && !acc.equals("x")) {
            throw new ShellException("touch: access '" + acc + "' (expected: r, w or x)");
        }
        procs(sh).current().mm.touch(addr, acc.charAt(0));
    }

    private static String syscall(final Shell sh, final String line) {
        final Proc proc = procs(sh).current();
        final String result = proc.syscalls.execute(proc.mm, evaluateArgs(line));
        return result.startsWith("=") ? result + "\n" : "= " + result + "\n";
    }

    /**
     * Replaces each top-level argument that is an expression with an operator ({@code $p+4096} after
     * substitution) by its value, so strace's parser sees plain numbers; flags (PROT_READ|PROT_WRITE), strings
     * and plain numbers stay as written.
     */
    static String evaluateArgs(final String line) {
        final int open = line.indexOf('(');
        final int close = matchingClose(line, open);
        if (open < 0 || close < 0) {
            return line;
        }
        final List<String> args = new ArrayList<>();
        int depth = 0;
        char quote = 0;
        int start = open + 1;
        for (int i = open + 1; i < close; i++) {
            final char c = line.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"') {
                quote = c;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (c == ',' && depth == 0) {
                args.add(line.substring(start, i));
                start = i + 1;
            }
        }
        args.add(line.substring(start, close));
        final StringBuilder sb = new StringBuilder(line.substring(0, open + 1));
        for (int i = 0; i < args.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(evaluateArg(args.get(i)));
        }
        return sb.append(line.substring(close)).toString();
    }

    private static String evaluateArg(final String arg) {
        final String t = arg.strip();
        if (t.isEmpty() || !t.matches(".*[0-9)]\\s*([-+*/%&|^]|<<|>>)\\s*[-~(0-9].*")
            || t.matches(".*[A-Za-z_]{2,}.*") && !t.matches(".*0x[0-9a-fA-F]+.*")) {
            return arg;
        }
        try {
            return " " + Shell.formatHex(Expr.eval(t));
        } catch (final ShellException e) {
            return arg;
        }
    }

    private static int matchingClose(final String s, final int open) {
        if (open < 0) {
            return -1;
        }
        int depth = 0;
        char quote = 0;
        for (int i = open; i < s.length(); i++) {
            final char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"') {
                quote = c;
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        return -1;
    }
}
