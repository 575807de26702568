package org.mm4j.vma.replay;

import org.mm4j.vma.Errno;
import org.mm4j.vma.MmStruct;
import org.mm4j.vma.Mman;
import org.mm4j.vma.VmFile;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs memory system call lines, written exactly as {@code strace -y} prints them, against an {@link MmStruct},
 * and prints mm4j's own result in strace's style ({@code = 0x7f...}, {@code = 0},
 * {@code = -1 ENOMEM (Cannot allocate memory)}). A trailing {@code = result} in the input is accepted and ignored.
 *
 * <p>Files: {@code FD<PATH>} arguments name open files. Each distinct open is one {@code struct file}
 * ({@link VmFile}); files registered with {@link #openFile} (a trace's {@code #file} lines, or strace's
 * {@code openat} results) are used as given, others are opened on first use. Every file is a model file: its
 * inode comes from the table of model files given to the constructor (the shell's {@code mkfile}), or is a new
 * empty one; no file of the machine mm4j runs on is ever opened or read. {@link #execute} also runs
 * {@code openat}/{@code open} (of a model file; {@code O_CREAT} creates an empty one, else {@code -ENOENT}) and
 * {@code close}, as the shell needs; the replayer takes both from the log's results instead.
 *
 * <p>Threads: not thread-safe; one instance per replay or shell.
 */
public final class StraceSyscall {
    private static final Map<String, Integer> PROT = Map.of("PROT_NONE", 0, "PROT_READ", Mman.PROT_READ,
        "PROT_WRITE", Mman.PROT_WRITE, "PROT_EXEC", Mman.PROT_EXEC, "PROT_SEM", Mman.PROT_SEM,
        "PROT_GROWSDOWN", Mman.PROT_GROWSDOWN, "PROT_GROWSUP", Mman.PROT_GROWSUP);
    private static final Map<String, Integer> MAP = new HashMap<>();
    private static final Map<String, Integer> MREMAP = Map.of("MREMAP_MAYMOVE", Mman.MREMAP_MAYMOVE,
        "MREMAP_FIXED", Mman.MREMAP_FIXED, "MREMAP_DONTUNMAP", Mman.MREMAP_DONTUNMAP);
    private static final Map<String, Integer> MADV = new HashMap<>();

    static {
        final Object[] m = {"MAP_SHARED", Mman.MAP_SHARED, "MAP_PRIVATE", Mman.MAP_PRIVATE,
            "MAP_SHARED_VALIDATE", Mman.MAP_SHARED_VALIDATE, "MAP_FIXED", Mman.MAP_FIXED,
            "MAP_ANONYMOUS", Mman.MAP_ANONYMOUS, "MAP_ANON", Mman.MAP_ANONYMOUS, "MAP_32BIT", Mman.MAP_32BIT,
            "MAP_GROWSDOWN", Mman.MAP_GROWSDOWN, "MAP_DENYWRITE", Mman.MAP_DENYWRITE,
            "MAP_EXECUTABLE", Mman.MAP_EXECUTABLE, "MAP_LOCKED", Mman.MAP_LOCKED,
            "MAP_NORESERVE", Mman.MAP_NORESERVE, "MAP_POPULATE", Mman.MAP_POPULATE,
            "MAP_NONBLOCK", Mman.MAP_NONBLOCK, "MAP_STACK", Mman.MAP_STACK, "MAP_HUGETLB", Mman.MAP_HUGETLB,
            "MAP_SYNC", Mman.MAP_SYNC, "MAP_FIXED_NOREPLACE", Mman.MAP_FIXED_NOREPLACE,
            "MAP_UNINITIALIZED", Mman.MAP_UNINITIALIZED, "MAP_FILE", 0};
        for (int i = 0; i < m.length; i += 2) {
            MAP.put((String) m[i], (Integer) m[i + 1]);
        }
        final Object[] a = {"MADV_NORMAL", 0, "MADV_RANDOM", 1, "MADV_SEQUENTIAL", 2, "MADV_WILLNEED", 3,
            "MADV_DONTNEED", 4, "MADV_FREE", 8, "MADV_REMOVE", 9, "MADV_DONTFORK", 10, "MADV_DOFORK", 11,
            "MADV_MERGEABLE", 12, "MADV_UNMERGEABLE", 13, "MADV_HUGEPAGE", 14, "MADV_NOHUGEPAGE", 15,
            "MADV_DONTDUMP", 16, "MADV_DODUMP", 17, "MADV_WIPEONFORK", 18, "MADV_KEEPONFORK", 19,
            "MADV_COLD", 20, "MADV_PAGEOUT", 21, "MADV_POPULATE_READ", 22, "MADV_POPULATE_WRITE", 23,
            "MADV_DONTNEED_LOCKED", 24, "MADV_COLLAPSE", 25, "MADV_HWPOISON", 100, "MADV_SOFT_OFFLINE", 101,
            "MADV_GUARD_INSTALL", 102, "MADV_GUARD_REMOVE", 103};
        for (int i = 0; i < a.length; i += 2) {
            MADV.put((String) a[i], (Integer) a[i + 1]);
        }
    }

    /** The syscalls this class runs (others in a log are memory-neutral or unsupported and are skipped). */
    public static final List<String> SUPPORTED = List.of("mmap", "munmap", "mprotect", "pkey_mprotect", "mremap",
        "brk", "madvise", "mlock", "mlock2", "munlock", "mlockall", "munlockall", "msync", "prctl");
    private static final Map<String, Integer> MCL = Map.of("MCL_CURRENT", MmStruct.MCL_CURRENT,
        "MCL_FUTURE", MmStruct.MCL_FUTURE, "MCL_ONFAULT", MmStruct.MCL_ONFAULT);
    private static final Map<String, Integer> MLOCK = Map.of("MLOCK_ONFAULT", MmStruct.MLOCK_ONFAULT);
    private static final Map<String, Integer> MS = Map.of("MS_ASYNC", 1, "MS_INVALIDATE", 2, "MS_SYNC", 4);

    /** The model's files by path (shared by every process of one shell). */
    private final Map<String, VmFile.Inode> inodes;
    /** Where new files get their inode numbers (the kernel's, or the replayed mm's). */
    private final VmFile.InodeNumbers inodeNumbers;

    /** An interpreter with its own, initially empty, table of model files and its own inode numbers. */
    public StraceSyscall() {
        this(new VmFile.InodeNumbers());
    }

    /** An interpreter with its own, initially empty, table of model files, numbered by {@code inos}. */
    public StraceSyscall(final VmFile.InodeNumbers inos) {
        this(new HashMap<>(), inos);
    }

    /**
     * An interpreter whose files are those of {@code modelFiles} (paths to inodes; new files are added to it,
     * numbered by {@code inos}, their kernel's: {@code Processes.inodeNumbers()} or a lone mm's).
     */
    public StraceSyscall(final Map<String, VmFile.Inode> modelFiles, final VmFile.InodeNumbers inos) {
        this.inodes = modelFiles;
        this.inodeNumbers = inos;
    }

    /** key "fd<path>" -> the open file. */
    private final Map<String, VmFile> files = new HashMap<>();
    /** fd -> path of the last file used through that fd (a new path on the fd means a new open). */
    private final Map<Integer, String> lastPathOfFd = new HashMap<>();

    /** Registers an open file under {@code fd} (a trace's {@code #file}, or an {@code openat} result). */
    public void openFile(final int fd, final VmFile file) {
        files.put(fd + "<" + file.path() + ">", file);
        lastPathOfFd.put(fd, file.path());
    }

    /** {@code close(fd)}: the next use of the fd is a new open. */
    public void closeFd(final int fd) {
        final String p = lastPathOfFd.remove(fd);
        if (p != null) {
            files.remove(fd + "<" + p + ">");
        }
    }

    public static boolean isSupported(final String name) {
        return SUPPORTED.contains(name);
    }

    /**
     * Runs one strace line on {@code mm}; returns the result as strace prints it. Throws
     * IllegalArgumentException naming the problem for a line it cannot read.
     */
    public String execute(final MmStruct mm, final String straceLine) {
        final StraceCall c = StraceCall.parse(straceLine);
        switch (c.name()) {
            case "openat", "open" -> {
                return Errno.strace(openat(c), false);
            }
            case "close" -> {
                need(c, 1);
                final long fd = num(c.args().get(0).replaceAll("<.*>$", ""));
                if (fd < 0 || fd > Integer.MAX_VALUE || !lastPathOfFd.containsKey((int) fd)) {
                    return Errno.strace(-Errno.EBADF, false);
                }
                closeFd((int) fd);
                return Errno.strace(0, false);
            }
            default -> {
                return format(c.name(), run(mm, c));
            }
        }
    }

    /** Most files one process may have open (RLIMIT_NOFILE's usual soft limit). */
    public static final int NR_OPEN = 1024;

    /** {@code openat(AT_FDCWD|dirfd, "PATH", FLAGS[, MODE])} of a model file: the lowest free fd (from 3). */
    private long openat(final StraceCall c) {
        final List<String> a = c.args();
        final boolean at = c.name().equals("openat");
        if (a.size() < (at ? 3 : 2) || a.size() > (at ? 4 : 3)) {
            throw new IllegalArgumentException(c.name() + " takes " + (at ? "3 or 4" : "2 or 3") + " arguments, found "
                + a.size());
        }
        final String pathArg = string(a.get(at ? 1 : 0));
        if (pathArg == null) {
            return -Errno.EFAULT;
        }
        if (pathArg.isEmpty()) {
            return -Errno.ENOENT;
        }
        if (at && !pathArg.startsWith("/") && !a.get(0).strip().equals("AT_FDCWD")) {
            throw new IllegalArgumentException("openat: only AT_FDCWD or an absolute path is supported");
        }
        final String path = java.nio.file.Path.of("/").resolve(pathArg).normalize().toString();
        final String flagText = a.get(at ? 2 : 1);
        String mode = "O_RDONLY";
        boolean create = false;
        for (final String part : flagText.split("\\|")) {
            switch (part.strip()) {
                case "O_RDONLY" -> mode = "O_RDONLY";
                case "O_WRONLY" -> mode = "O_WRONLY";
                case "O_RDWR" -> mode = "O_RDWR";
                case "O_CREAT" -> create = true;
                case "O_CLOEXEC", "O_NOFOLLOW", "O_NONBLOCK", "O_LARGEFILE", "O_NOATIME", "O_SYNC", "O_DSYNC",
                     "O_TRUNC", "O_APPEND", "O_EXCL", "O_NOCTTY", "O_DIRECT" -> {
                }
                default -> throw new IllegalArgumentException("unknown open flag '" + part.strip() + "'");
            }
        }
        VmFile.Inode ino = inodes.get(path);
        if (ino == null) {
            if (!create) {
                return -Errno.ENOENT;
            }
            ino = VmFile.Inode.of(inodeNumbers, path, 0);
            inodes.put(path, ino);
        }
        int fd = 3;
        while (lastPathOfFd.containsKey(fd)) {
            fd++;
        }
        if (fd >= NR_OPEN) {
            return -Errno.EMFILE;
        }
        openFile(fd, VmFile.open(ino, mode));
        return fd;
    }

    /** The strace text of {@code result} for {@code syscall} (addresses in hex for mmap, mremap and brk). */
    public static String format(final String syscall, final long result) {
        final boolean hex = syscall.equals("mmap") || syscall.equals("mremap") || syscall.equals("brk");
        return Errno.strace(result, hex);
    }

    /** Runs a parsed call; returns the kernel's result (address, 0 or -errno). */
    public long run(final MmStruct mm, final StraceCall c) {
        final List<String> a = c.args();
        switch (c.name()) {
            case "mmap", "mmap2" -> {
                need(c, 6);
                final int flags = (int) flags(a.get(3), MAP, "mmap flag");
                final VmFile f = (flags & Mman.MAP_ANONYMOUS) != 0 ? null : file(a.get(4));
                return mm.mmap(num(a.get(0)), num(a.get(1)), (int) flags(a.get(2), PROT, "protection"), flags, f,
                    num(a.get(5)));
            }
            case "munmap" -> {
                need(c, 2);
                return mm.munmap(num(a.get(0)), num(a.get(1)));
            }
            case "mprotect" -> {
                need(c, 3);
                return mm.mprotect(num(a.get(0)), num(a.get(1)), (int) flags(a.get(2), PROT, "protection"));
            }
            case "pkey_mprotect" -> {
                need(c, 4);
                return mm.mprotect(num(a.get(0)), num(a.get(1)), (int) flags(a.get(2), PROT, "protection"));
            }
            case "mremap" -> {
                if (a.size() != 4 && a.size() != 5) {
                    throw new IllegalArgumentException("mremap takes 4 or 5 arguments, found " + a.size());
                }
                final int flags = (int) flags(a.get(3), MREMAP, "mremap flag");
                return mm.mremap(num(a.get(0)), num(a.get(1)), num(a.get(2)), flags,
                    a.size() == 5 ? num(a.get(4)) : 0);
            }
            case "brk" -> {
                need(c, 1);
                return mm.brk(num(a.get(0)));
            }
            case "madvise" -> {
                need(c, 3);
                return mm.madvise(num(a.get(0)), num(a.get(1)), (int) flags(a.get(2), MADV, "madvise advice"));
            }
            case "mlock", "munlock" -> {
                need(c, 2);
                return c.name().equals("mlock") ? mm.mlock(num(a.get(0)), num(a.get(1)))
                    : mm.munlock(num(a.get(0)), num(a.get(1)));
            }
            case "mlock2" -> {
                need(c, 3);
                return mm.mlock2(num(a.get(0)), num(a.get(1)), (int) flags(a.get(2), MLOCK, "mlock2 flag"));
            }
            case "mlockall" -> {
                need(c, 1);
                return mm.mlockall((int) flags(a.get(0), MCL, "mlockall flag"));
            }
            case "munlockall" -> {
                return mm.munlockall();
            }
            case "msync" -> {
                need(c, 3);
                return mm.msync(num(a.get(0)), num(a.get(1)), (int) flags(a.get(2), MS, "msync flag"));
            }
            case "prctl" -> {
                if (a.size() < 5 || !a.get(0).equals("PR_SET_VMA")) {
                    throw new IllegalArgumentException("only prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, addr, len, "
                        + "name) is supported");
                }
                if (!a.get(1).equals("PR_SET_VMA_ANON_NAME") && !a.get(1).equals("0")) {
                    return -Errno.EINVAL;
                }
                return mm.setAnonName(num(a.get(2)), num(a.get(3)), string(a.get(4)));
            }
            default -> throw new IllegalArgumentException("unsupported system call '" + c.name()
                + "' (supported: " + String.join(", ", SUPPORTED) + ")");
        }
    }

    private static void need(final StraceCall c, final int n) {
        if (c.args().size() != n) {
            throw new IllegalArgumentException(c.name() + " takes " + n + " arguments, found " + c.args().size());
        }
    }

    /** A number as strace prints it: NULL, 0x hex, decimal (negative allowed). */
    public static long num(final String s) {
        final String t = s.strip();
        try {
            if (t.equals("NULL")) {
                return 0;
            }
            if (t.startsWith("0x") || t.startsWith("0X")) {
                return Long.parseUnsignedLong(t.substring(2), 16);
            }
            if (t.startsWith("-")) {
                return Long.parseLong(t);
            }
            return Long.parseUnsignedLong(t);
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException("bad number '" + s + "'");
        }
    }

    private static long flags(final String s, final Map<String, Integer> names, final String what) {
        long v = 0;
        for (final String part : s.split("\\|")) {
            final String p = part.strip();
            final Integer bit = names.get(p);
            if (bit != null) {
                v |= bit;
            } else if (!p.isEmpty() && (Character.isDigit(p.charAt(0)) || p.startsWith("-"))) {
                v |= num(p);
            } else {
                throw new IllegalArgumentException("unknown " + what + " '" + p + "'");
            }
        }
        return v;
    }

    private static String string(final String s) {
        final String t = s.strip();
        if (t.equals("NULL")) {
            return null;
        }
        if (t.length() < 2 || t.charAt(0) != '"' || !t.endsWith("\"")) {
            throw new IllegalArgumentException("expected a quoted string, found '" + s + "'");
        }
        return t.substring(1, t.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
    }

    /** The open file {@code FD<PATH>} names; a plain fd without a path is looked up by number. */
    private VmFile file(final String arg) {
        final String t = arg.strip();
        final int lt = t.indexOf('<');
        if (lt < 0) {
            final long fd = num(t);
            final String p = lastPathOfFd.get((int) fd);
            if (p == null) {
                return null; // EBADF
            }
            return files.get(fd + "<" + p + ">");
        }
        if (!t.endsWith(">")) {
            throw new IllegalArgumentException("bad file descriptor argument '" + arg + "'");
        }
        final int fd = (int) num(t.substring(0, lt));
        String path = t.substring(lt + 1, t.length() - 1);
        final int inner = path.indexOf('<');
        if (inner > 0 && path.endsWith(">")) {
            path = path.substring(0, inner); // strace -yy: /dev/zero<char 1:5>
        }
        final String key = fd + "<" + path + ">";
        VmFile f = files.get(key);
        final String last = lastPathOfFd.get(fd);
        if (f == null || (last != null && !last.equals(path))) {
            if (last != null && !last.equals(path)) {
                files.remove(fd + "<" + last + ">");
            }
            f = VmFile.open(inode(path), "O_RDWR");
            files.put(key, f);
            lastPathOfFd.put(fd, path);
        }
        return f;
    }

    /**
     * The model inode of {@code path}, shared by every open of it: when there is none, a new file of
     * {@link VmFile.Inode#SIZE_UNKNOWN unknown size} (a trace's fd whose open was not seen).
     */
    public VmFile.Inode inode(final String path) {
        return inodes.computeIfAbsent(path, p -> VmFile.Inode.of(inodeNumbers, p, VmFile.Inode.SIZE_UNKNOWN));
    }

    /** The inode numbers new files of this interpreter take. */
    public VmFile.InodeNumbers inodeNumbers() {
        return inodeNumbers;
    }

    /** Registers an inode (a trace's {@code #file} or {@code #BEFORE} file) so later opens share it. */
    public void putInode(final VmFile.Inode inode) {
        inodes.put(inode.path(), inode);
    }
}
