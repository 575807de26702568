package org.mm4j.base;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The model's {@code /proc} and {@code /sys}: each subsystem registers the files it shows (a fixed path, or a
 * directory whose entries it resolves, such as {@code /sys/kernel/slab/<cache>/<attr>} or
 * {@code /proc/<pid>/maps}); the shell's {@code cat} and {@code echo VALUE > PATH} go through here.
 *
 * <p>Errors read like the shell's: {@link ProcFsException} with "No such file or directory", "Permission denied"
 * or "Invalid argument". Threads: registration happens at boot or cache creation; reads and writes may come
 * from any thread and call the subsystem's own (locked) code.
 */
public final class ProcFs {
    /** Resolves a path below a registered directory; returns null when there is no such file. */
    public interface Dir {
        /** The text of {@code rest} (the path below the directory), or null. */
        String read(String rest);

        /** Writes {@code value} to {@code rest}; returns false when the file is not writable or absent. */
        default boolean write(final String rest, final String value) {
            return false;
        }

        /** Entries directly below {@code rest} ("" = the directory itself), for listings and completion. */
        default List<String> list(final String rest) {
            return List.of();
        }
    }

    /** A read or write that failed, with the message {@code cat}/{@code echo} would print. */
    public static final class ProcFsException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public ProcFsException(final String message) {
            super(message);
        }
    }

    private final Map<String, Supplier<String>> files = new ConcurrentHashMap<>();
    private final Map<String, Consumer<String>> writers = new ConcurrentHashMap<>();
    private final Map<String, Dir> dirs = new ConcurrentHashMap<>();

    public void registerFile(final String path, final Supplier<String> reader) {
        files.put(path, reader);
    }

    /** A writable file; {@code writer} throws {@link ProcFsException} ("Invalid argument") on a bad value. */
    public void registerWriter(final String path, final Consumer<String> writer) {
        writers.put(path, writer);
    }

    /** A directory ({@code prefix} without a trailing slash) whose files {@code dir} resolves. */
    public void registerDir(final String prefix, final Dir dir) {
        dirs.put(prefix, dir);
    }

    public void unregister(final String path) {
        files.remove(path);
        writers.remove(path);
        dirs.remove(path);
    }

    /** The text of {@code path}, as {@code cat} prints it. */
    public String read(final String path) {
        final String p = normalize(path);
        final Supplier<String> f = files.get(p);
        if (f != null) {
            return f.get();
        }
        final Map.Entry<String, Dir> d = dirFor(p);
        if (d != null) {
            final String text = d.getValue().read(p.substring(Math.min(p.length(), d.getKey().length() + 1)));
            if (text != null) {
                return text;
            }
        }
        if (writers.containsKey(p)) {
            throw new ProcFsException(path + ": Permission denied");
        }
        throw new ProcFsException(path + ": No such file or directory");
    }

    /** {@code echo value > path}. */
    public void write(final String path, final String value) {
        final String p = normalize(path);
        final Consumer<String> w = writers.get(p);
        if (w != null) {
            w.accept(value);
            return;
        }
        final Map.Entry<String, Dir> d = dirFor(p);
        if (d != null && d.getValue().write(p.substring(Math.min(p.length(), d.getKey().length() + 1)), value)) {
            return;
        }
        if (files.containsKey(p) || (d != null && d.getValue().read(p.substring(d.getKey().length() + 1)) != null)) {
            throw new ProcFsException(path + ": Permission denied");
        }
        throw new ProcFsException(path + ": No such file or directory");
    }

    /** Every fixed path and directory prefix, sorted (for completion and {@code help}). */
    public List<String> paths() {
        final TreeMap<String, Boolean> all = new TreeMap<>();
        files.keySet().forEach(k -> all.put(k, true));
        writers.keySet().forEach(k -> all.put(k, true));
        dirs.keySet().forEach(k -> all.put(k + "/", true));
        return new ArrayList<>(all.keySet());
    }

    /** Entries directly below a registered directory path (empty when unknown). */
    public List<String> list(final String path) {
        final String p = normalize(path);
        final Dir d = dirs.get(p);
        if (d != null) {
            return d.list("");
        }
        final Map.Entry<String, Dir> e = dirFor(p);
        return e == null ? List.of() : e.getValue().list(p.substring(e.getKey().length() + 1));
    }

    private Map.Entry<String, Dir> dirFor(final String p) {
        Map.Entry<String, Dir> best = null;
        for (final Map.Entry<String, Dir> e : dirs.entrySet()) {
            final String k = e.getKey();
            if (p.startsWith(k + "/") && (best == null || k.length() > best.getKey().length())) {
                best = e;
            }
        }
        return best;
    }

    private static String normalize(final String path) {
        String p = path.strip();
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        // a path without "//" (every path the kernel registers and reads) is its own answer: no regex compiled
        return p.contains("//") ? p.replaceAll("/+", "/") : p;
    }

    /** Helper for subsystems: a function-backed {@link Dir}. */
    public static Dir dir(final Function<String, String> reader) {
        return reader::apply;
    }
}
