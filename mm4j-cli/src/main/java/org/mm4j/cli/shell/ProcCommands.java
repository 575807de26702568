package org.mm4j.cli.shell;

import org.mm4j.base.ProcFs;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/** The files of /proc and /sys ({@code cat}, {@code echo VALUE > PATH}, {@code ls}) and the kernel log. */
public final class ProcCommands {
    private ProcCommands() {
    }

    static void register(final Shell sh) {
        sh.register(new Cmd("cat", "cat PATH...", "print a /proc or /sys file",
            """
            Prints the file exactly as the kernel would: /proc/buddyinfo, /proc/pagetypeinfo, /proc/meminfo,
            /proc/vmstat, /proc/slabinfo, /sys/kernel/slab/CACHE/ATTR, /proc/PID/maps|smaps|status (self = the
            current process) ... 'ls /proc', 'ls /sys/kernel/slab' list what exists.
            /sys/kernel/debug/maple_tree/PID (mm4j's debugfs file) is mt_dump of the process's maple tree: each
            node's range, address, type (1 = leaf_64, 3 = arange_64), its gaps, pivots and slots, then its
            children indented; the VMAs are the leaf entries (absent with mm4j.vma_store=rbtree).""",
            ProcCommands::cat));
        sh.register(new Cmd("zcat", "zcat PATH...", "print a compressed /proc file (/proc/config.gz)",
            """
            zcat /proc/config.gz prints the model kernel's build configuration (CONFIG_X=y lines and
            '# CONFIG_X is not set'), the reference 6.18.44 config with the mm4j.config.NAME= boot overrides.
            'cat /proc/config.gz' prints the same text.""",
            ProcCommands::zcat));
        sh.register(new Cmd("echo", "echo VALUE [> PATH]", "write a value to a /sys or /proc file, or print it",
            """
            echo 1 > /sys/kernel/slab/CACHE/validate   walks every slab of CACHE and reports to dmesg
            echo 1 > /sys/kernel/slab/CACHE/shrink     kmem_cache_shrink
            echo N > /proc/sys/vm/max_map_count        the per-process VMA limit
            Without '> PATH' the value is printed.""",
            ProcCommands::echo));
        sh.register(new Cmd("ls", "ls [PATH]", "list a /proc or /sys directory",
            "Lists the entries directly below PATH (default /), one a line, sorted.",
            ProcCommands::ls));
        sh.register(new Cmd("dmesg", "dmesg [-c|-C]", "print the kernel log",
            """
            Prints the kernel log ring with time stamps ([    1.234567] text): boot messages, allocation
            failures, 'BUG: Bad page state', SLUB debug reports (BUG/INFO/FIX) ...
              -c   print, then clear the ring
              -C   clear the ring without printing""",
            ProcCommands::dmesg));
    }

    private static void cat(final Shell sh, final ArgReader a, final StringBuilder out) {
        final List<String> paths = a.rest();
        if (paths.isEmpty()) {
            throw a.missing("PATH");
        }
        for (final String p : paths) {
            final String text;
            try {
                text = sh.kernel().procfs().read(p);
            } catch (final ProcFs.ProcFsException e) {
                throw new ShellException("cat: " + e.getMessage());
            }
            out.append(text);
            if (!text.isEmpty() && !text.endsWith("\n")) {
                out.append('\n');
            }
        }
    }

    private static void zcat(final Shell sh, final ArgReader a, final StringBuilder out) {
        final List<String> paths = a.rest();
        if (paths.isEmpty()) {
            throw a.missing("PATH");
        }
        for (final String p : paths) {
            if (!p.endsWith(".gz")) {
                throw new ShellException("zcat: " + p + ": not in gzip format");
            }
        }
        final StringBuilder sb = new StringBuilder();
        for (final String p : paths) {
            try {
                sb.append(sh.kernel().procfs().read(p));
            } catch (final ProcFs.ProcFsException e) {
                throw new ShellException("zcat: " + e.getMessage());
            }
        }
        out.append(sb);
    }

    private static void echo(final Shell sh, final ArgReader a, final StringBuilder out) {
        final List<String> words = a.rest();
        final List<String> value = new ArrayList<>();
        String path = null;
        for (int i = 0; i < words.size(); i++) {
            final String w = words.get(i);
            if (w.equals(">")) {
                if (i + 1 >= words.size()) {
                    throw new ShellException("echo: missing PATH after '>'");
                }
                path = words.get(++i);
            } else if (w.startsWith(">") && path == null) {
                path = w.substring(1);
            } else if (path != null) {
                throw new ShellException("echo: unexpected '" + w + "' after the path");
            } else {
                value.add(w);
            }
        }
        final String v = String.join(" ", value);
        if (path == null) {
            out.append(v).append('\n');
            return;
        }
        try {
            sh.kernel().procfs().write(path, v);
        } catch (final ProcFs.ProcFsException e) {
            throw new ShellException("echo: write error: " + e.getMessage());
        }
    }

    /** The entries below {@code path}: a registered directory's list, plus fixed paths below it. */
    public static List<String> entries(final ProcFs fs, final String path) {
        String p = path.strip();
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        final TreeSet<String> out = new TreeSet<>(fs.list(p));
        final String prefix = p.equals("/") ? "/" : p + "/";
        for (final String f : fs.paths()) {
            if (f.startsWith(prefix) && f.length() > prefix.length()) {
                final String rest = f.substring(prefix.length());
                final int slash = rest.indexOf('/');
                out.add(slash < 0 ? rest : rest.substring(0, slash));
            }
        }
        return new ArrayList<>(out);
    }

    private static void ls(final Shell sh, final ArgReader a, final StringBuilder out) {
        final String path = a.atEnd() ? "/" : a.word("PATH");
        a.end();
        final List<String> es = entries(sh.kernel().procfs(), path);
        if (es.isEmpty()) {
            throw new ShellException("ls: cannot access '" + path + "': No such file or directory");
        }
        for (final String e : es) {
            out.append(e).append('\n');
        }
    }

    private static void dmesg(final Shell sh, final ArgReader a, final StringBuilder out) {
        final String opt = a.optWord();
        a.end();
        final List<String> lines;
        if (opt == null) {
            lines = sh.kernel().log().lines();
        } else if (opt.equals("-c")) {
            lines = sh.kernel().log().readAndClear();
        } else if (opt.equals("-C")) {
            sh.kernel().log().clear();
            return;
        } else {
            throw new ShellException("dmesg: unknown option '" + opt + "'; usage: dmesg [-c|-C]");
        }
        for (final String l : lines) {
            out.append(l).append('\n');
        }
    }
}
