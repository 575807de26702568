package org.mm4j.cli.shell;

import org.mm4j.vma.ProcessKilledException;
import org.mm4j.vma.Processes;
import org.mm4j.vma.VmFile;
import org.mm4j.vma.replay.StraceSyscall;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The process side of the shell, over {@code kernel.processes()}: system-call lines in strace syntax on the current
 * process, {@code touch}, {@code fork}, {@code ps}, {@code pid}. The /proc/PID and /proc/self files are the
 * process table's own. Each process keeps its own open-file table for file-backed mmap lines.
 */
final class VmaCommands {
    /**
     * The strace interpreters of the shell's processes (their fd tables), by pid, over one table of model files
     * (the model's tmpfs: {@code mkfile} and {@code openat(..., O_CREAT)} add to it; nothing of the host's file
     * system is ever read).
     */
    static final class Syscalls {
        final Map<Integer, StraceSyscall> byPid = new HashMap<>();
        final Map<String, VmFile.Inode> files = new TreeMap<>();

        StraceSyscall of(final int pid, final VmFile.InodeNumbers inos) {
            return byPid.computeIfAbsent(pid, p -> new StraceSyscall(files, inos));
        }
    }

    /** Largest model file {@code mkfile} makes (its pages read as zeros; only the given bytes take memory). */
    static final long MAX_FILE_SIZE = 1L << 40;

    private VmaCommands() {
    }

    static Processes procs(final Shell sh) {
        return sh.kernel().processes();
    }

    static void register(final Shell sh) {
        sh.syscallHandler(VmaCommands::syscall);
        sh.helpTopic("syscalls", """
            System calls in strace syntax, on the current process's address space: mmap munmap mprotect
            pkey_mprotect mremap brk madvise mlock mlock2 munlock prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, ...).
            Write the line as strace prints it; a trailing "= result" is accepted and ignored. mm4j prints its own
            result in strace's style: "= 0x7f1234560000", "= 0", "= -1 ENOMEM (Cannot allocate memory)".
            Arguments may hold $NAME and expressions: p = mmap(NULL, 8192, PROT_READ|PROT_WRITE,
            MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) stores the address; munmap($p+4096, 4096) unmaps its second page.
            cat /proc/self/maps shows the result.
            Files are the model's own, never the host's: openat(AT_FDCWD, "/f", O_RDWR) opens a model file made
            with mkfile (or O_CREAT makes an empty one; else -1 ENOENT) and returns the lowest free fd from 3;
            close(fd) closes it; mmap(..., fd, off) or mmap(..., 3</f>, off) maps it. Its pages hold the bytes
            mkfile gave, zeros elsewhere, and what the model writes through MAP_SHARED (the model's page cache).
            """);
        sh.register(new Cmd("mkfile", "mkfile PATH SIZE [HEXBYTES]", "make a file in the model's file system",
            """
            Creates (or replaces) the model file PATH (absolute) of SIZE bytes, starting with HEXBYTES (e.g.
            48656c6c6f for "Hello"), zeros after them. openat and mmap see only such model files: the shell never
            reads the host's files (openat of /etc/passwd is -1 ENOENT unless mkfile made it). 'mkfile' alone
            lists the model files.""",
            VmaCommands::mkfile));
        sh.register(new Cmd("touch", "touch ADDR [r|w|x]", "a user-space access in the current process",
            """
            Reads (r, the default), writes (w) or executes (x) the page at ADDR as the CPU would: a fault maps it
            (anonymous read: the zero page; write: a new zeroed page; copy-on-write after fork). An access outside
            any VMA or against its protection is an error: 'Segmentation fault (SEGV_MAPERR|SEGV_ACCERR) at ADDR';
            a file page wholly past the end of its file is 'Bus error at ADDR (BUS_ADRERR)' (SIGBUS).
            When no page is free the OOM killer runs (report in dmesg): it kills the process with the highest
            oom_score (never pid 1, nor oom_score_adj -1000) and the access goes on; when that is the current
            process the access ends with 'Killed' and the shell goes on in pid 1.""",
            VmaCommands::touch));
        sh.register(new Cmd("fork", "fork", "fork the current process (copy-on-write)",
            """
            Copies the current process as fork() does (dup_mmap: private pages shared copy-on-write, VM_DONTCOPY
            VMAs left out, VM_WIPEONFORK ones empty) and prints the child's pid; the parent stays current
            ('pid N' switches). Out of memory for the child's page tables runs the OOM killer; when nothing can be
            killed, fork fails with ENOMEM and no child remains.""",
            (s, a, out) -> {
                a.end();
                final int pid = killedGoesOn(s, () -> procs(s).fork());
                if (pid < 0) {
                    throw new ShellException("fork: Cannot allocate memory (ENOMEM: no page for the child's page "
                        + "tables, even after the OOM killer; see dmesg)");
                }
                out.append(pid).append('\n');
            }));
        sh.register(new Cmd("ps", "ps", "list the processes",
            "PID, PPID, VSZ and RSS in KiB and the command; '*' marks the current process.",
            (s, a, out) -> {
                a.end();
                out.append(procs(s).ps());
            }));
        sh.register(new Cmd("pid", "pid [N]", "switch to process N (or print the current pid)",
            "Later syscall lines, touch and /proc/self go to process N.",
            (s, a, out) -> {
                if (a.atEnd()) {
                    out.append(procs(s).current().pid()).append('\n');
                    return;
                }
                final int n = a.intArg("N", 1, Integer.MAX_VALUE);
                a.end();
                if (procs(s).get(n) == null) {
                    throw new ShellException("pid: no process " + n + " (ps lists them)");
                }
                procs(s).switchTo(n);
            }));
    }

    private static void mkfile(final Shell sh, final ArgReader a, final StringBuilder out) {
        final Map<String, VmFile.Inode> files = sh.state(Syscalls.class, Syscalls::new).files;
        if (a.atEnd()) {
            for (final VmFile.Inode i : files.values()) {
                out.append(String.format("%-40s %d bytes, inode %d%n", i.path(), i.size(), i.ino()));
            }
            return;
        }
        final String path = a.word("PATH");
        final long size = a.expr("SIZE");
        final String hex = a.atEnd() ? "" : a.word("HEXBYTES");
        a.end();
        if (!path.startsWith("/") || path.length() > 4096 || path.chars().anyMatch(c -> c < 0x20)
            || !java.nio.file.Path.of(path).normalize().toString().equals(path) || path.equals("/")) {
            throw new ShellException("mkfile: PATH '" + Expr.clip(path) + "' (expected: an absolute, normalized path"
                + " of a file, at most 4096 bytes)");
        }
        if (size < 0 || size > MAX_FILE_SIZE) {
            throw new ShellException("mkfile: SIZE " + Long.toUnsignedString(size) + " out of range (expected: 0 to "
                + MAX_FILE_SIZE + ")");
        }
        if (hex.length() % 2 != 0 || !hex.matches("[0-9a-fA-F]*")) {
            throw new ShellException("mkfile: HEXBYTES '" + Expr.clip(hex) + "' (expected: an even number of hex"
                + " digits, e.g. 48656c6c6f)");
        }
        if (hex.length() / 2 > size) {
            throw new ShellException("mkfile: " + hex.length() / 2 + " bytes of content do not fit SIZE " + size);
        }
        files.put(path, VmFile.Inode.of(procs(sh).inodeNumbers(), path, size,
            java.util.HexFormat.of().parseHex(hex)));
    }

    private static void touch(final Shell sh, final ArgReader a, final StringBuilder out) {
        final long addr = a.expr("ADDR");
        final String acc = a.atEnd() ? "r" : a.word("r|w|x");
        a.end();
        if (!acc.equals("r") && !acc.equals("w") && !acc.equals("x")) {
            throw new ShellException("touch: access '" + acc + "' (expected: r, w or x)");
        }
        killedGoesOn(sh, () -> {
            procs(sh).currentMm().touch(addr, acc.charAt(0));
            return 0;
        });
    }

    private static String syscall(final Shell sh, final String line) {
        final Processes.Task task = procs(sh).current();
        final StraceSyscall sys = sh.state(Syscalls.class, Syscalls::new).of(task.pid(), procs(sh).inodeNumbers());
        final String result = killedGoesOn(sh, () -> sys.execute(task.mm(), evaluateArgs(line)));
        return result.startsWith("=") ? result + "\n" : "= " + result + "\n";
    }

    /**
     * Runs {@code action} in the current process; when the OOM killer kills that process meanwhile, the error
     * says so ("Killed", as a shell reports SIGKILL) and names the process the shell goes on in.
     */
    private static <T> T killedGoesOn(final Shell sh, final java.util.function.Supplier<T> action) {
        try {
            return action.get();
        } catch (final ProcessKilledException e) {
            sh.state(Syscalls.class, Syscalls::new).byPid.remove(e.pid());
            throw new ShellException(e.getMessage() + "; the shell goes on in pid " + procs(sh).current().pid());
        }
    }

    /**
     * Replaces each top-level argument that is an expression with an operator ({@code $p+4096} after
     * substitution) by its value, so strace's parser sees plain numbers; flags (PROT_READ|PROT_WRITE), strings
     * and plain numbers stay as written.
     */
    static String evaluateArgs(final String line) {
        final int open = line.indexOf('(');
        if (open < 0) {
            return line;
        }
        // one scan: split at top-level commas until the ')' that closes the argument list
        final List<String> args = new ArrayList<>();
        int depth = 0;
        char quote = 0;
        int start = open + 1;
        int close = -1;
        for (int i = open + 1; i < line.length() && close < 0; i++) {
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
            } else if (c == ')' && depth == 0) {
                close = i;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (c == ',' && depth == 0) {
                args.add(line.substring(start, i));
                start = i + 1;
            }
        }
        if (close < 0) {
            return line;
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
}
