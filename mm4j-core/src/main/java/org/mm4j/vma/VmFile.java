package org.mm4j.vma;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@code struct file}: one open of a file (VMAs merge only within one struct file). It names its
 * {@link Inode} (path, size, device and inode numbers, content) and its open mode.
 *
 * <p>Kinds: a regular file on ext4 (THP-aligned placement of large mappings, {@code thp_get_unmapped_area}),
 * a shmem object (each shared anonymous mmap: "/dev/zero (deleted)"), or another file without a
 * {@code get_unmapped_area} of its own.
 */
public final class VmFile {
    /**
     * The backing object: the model's inode. Content comes from the bytes the model was given (a shell
     * {@code mkfile}), or reads as zeros; never from a file of the machine mm4j runs on (what the model writes
     * through a shared mapping stays in its page cache).
     */
    public static final class Inode {
        /**
         * The inode number of pid 1's program ({@code /usr/bin/mm4j}): the same in every kernel, so its maps do not
         * depend on what else the JVM did. Other model files take numbers from their kernel's {@link InodeNumbers},
         * above it.
         */
        public static final long INIT_PROGRAM_INO = 1_000_000;
        /**
         * The size of a file the model knows only from a trace (a mapping in a {@code /proc/PID/maps} snapshot, an
         * fd whose open was not seen): it has no end of file, so none of its pages raises SIGBUS.
         */
        public static final long SIZE_UNKNOWN = -1;
        final String path;
        final long size;
        final int devMajor;
        final int devMinor;
        final long ino;
        final boolean deleted;
        private final byte[] bytes;

        public Inode(final String path, final long size, final int devMajor, final int devMinor, final long ino,
                     final boolean deleted, final byte[] bytes) {
            this.path = path;
            this.size = size;
            this.devMajor = devMajor;
            this.devMinor = devMinor;
            this.ino = ino;
            this.deleted = deleted;
            if (bytes != null && (size < 0 || bytes.length > size)) {
                throw new IllegalArgumentException("content of " + bytes.length + " bytes is larger than the file ("
                    + size + " bytes)");
            }
            this.bytes = bytes;
        }

        /**
         * A file of {@code size} bytes on the model's root device (fe:00) with inode number {@code ino}, whose first
         * bytes are {@code content} (null: zeros throughout; copied).
         */
        static Inode onRootDevice(final String path, final long size, final long ino, final byte[] content) {
            return new Inode(path, size, 0xfe, 0, ino, false, content == null ? null : content.clone());
        }

        /**
         * A file of {@code size} bytes reading as zeros, on the model's root device (fe:00), numbered by {@code inos}
         * (its kernel's).
         */
        public static Inode of(final InodeNumbers inos, final String path, final long size) {
            return onRootDevice(path, size, inos.next(), null);
        }

        /** A file holding {@code content}, numbered by {@code inos}. */
        public static Inode ofBytes(final InodeNumbers inos, final String path, final byte[] content) {
            return onRootDevice(path, content.length, inos.next(), content);
        }

        /** A file of {@code size} bytes whose first bytes are {@code content} (zeros after it). */
        public static Inode of(final InodeNumbers inos, final String path, final long size, final byte[] content) {
            return onRootDevice(path, size, inos.next(), content);
        }

        public String path() {
            return path;
        }

        /**
         * Whether page {@code pgoff} lies wholly past the end of the file ({@code pgoff >= DIV_ROUND_UP(i_size,
         * PAGE_SIZE)}, the test of {@code filemap_fault} and {@code shmem_get_folio_gfp}); never for
         * {@link #SIZE_UNKNOWN}.
         */
        boolean beyondEof(final long pgoff) {
            return size != SIZE_UNKNOWN && Long.compareUnsigned(pgoff, (size + 4095) >>> 12) >= 0;
        }

        public long size() {
            return size;
        }

        public long ino() {
            return ino;
        }

        /** Copies the file's bytes at {@code offset} into {@code dst} (zeros past EOF or with no content). */
        public void read(final long offset, final byte[] dst) {
            java.util.Arrays.fill(dst, (byte) 0);
            if (offset >= size) {
                return;
            }
            final int n = (int) Math.min(dst.length, size - offset);
            if (bytes != null && offset < bytes.length) {
                System.arraycopy(bytes, (int) offset, dst, 0, (int) Math.min(n, bytes.length - offset));
            }
        }
    }

    /**
     * The inode numbers of one kernel ({@code get_next_ino}, and shmem's per-boot numbers): each booted kernel (its
     * {@link Processes}, shared by every mm of it) and each lone mm has its own, so what {@code /proc/PID/maps}
     * shows depends only on what ran in that kernel. Numbers start above {@link Inode#INIT_PROGRAM_INO}.
     * Thread-safe (an atomic counter).
     */
    public static final class InodeNumbers {
        private final AtomicLong next = new AtomicLong(Inode.INIT_PROGRAM_INO + 1);

        /** {@code get_next_ino()}: a number no other inode of this kernel has. */
        public long next() {
            return next.getAndIncrement();
        }
    }

    public enum Kind { EXT4, SHMEM, OTHER }

    private static final AtomicLong IDS = new AtomicLong();
    private final long id = IDS.incrementAndGet();
    final Inode inode;
    final boolean readable;
    final boolean writable;
    final Kind kind;

    public VmFile(final Inode inode, final boolean readable, final boolean writable, final Kind kind) {
        this.inode = inode;
        this.readable = readable;
        this.writable = writable;
        this.kind = kind;
    }

    /**
     * The file system kind of {@code path} on the machine the samples come from: tmpfs / memfd objects are shmem
     * (no THP placement with shmem_enabled=never), procfs/sysfs/devices have no get_unmapped_area of their own,
     * everything else is on the ext4 root.
     */
    public static Kind kindFor(final String path) {
        if (path.startsWith("/dev/shm/") || path.startsWith("/run/") || path.startsWith("/memfd:")) {
            return Kind.SHMEM;
        }
        if (path.startsWith("/proc/") || path.startsWith("/sys/") || path.startsWith("/dev/")) {
            return Kind.OTHER;
        }
        return Kind.EXT4;
    }

    /** Opens a file: {@code mode} "O_RDONLY", "O_WRONLY" or "O_RDWR"; the kind follows {@link #kindFor}. */
    public static VmFile open(final Inode inode, final String mode) {
        final Kind kind = kindFor(inode.path);
        return switch (mode) {
            case "O_RDONLY" -> new VmFile(inode, true, false, kind);
            case "O_WRONLY" -> new VmFile(inode, false, true, kind);
            case "O_RDWR" -> new VmFile(inode, true, true, kind);
            default -> throw new IllegalArgumentException("unknown open mode '" + mode
                + "' (expected: O_RDONLY, O_WRONLY or O_RDWR)");
        };
    }

    /** {@code shmem_zero_setup}: the object behind one shared anonymous mapping. */
    static VmFile shmemZero(final InodeNumbers inos, final long size) {
        return new VmFile(new Inode("/dev/zero", size, 0, 1, inos.next(), true, null),
            true, true, Kind.SHMEM);
    }

    public Inode inode() {
        return inode;
    }

    public String path() {
        return inode.path;
    }

    public long id() {
        return id;
    }

    public boolean isShmem() {
        return kind == Kind.SHMEM;
    }

    /** The name /proc/PID/maps prints. */
    String mapsName() {
        return inode.deleted ? inode.path + " (deleted)" : inode.path;
    }
}
