package org.mm4j.vma;

/** The errno values the memory syscalls return, with glibc's {@code strerror} text (strace prints both). */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int ETXTBSY = 26;
    public static final int EFBIG = 27;
    public static final int E2BIG = 7;
    public static final int EOVERFLOW = 75;
    public static final int EOPNOTSUPP = 95;

    private static final String[][] TABLE = {
        {"1", "EPERM", "Operation not permitted"}, {"2", "ENOENT", "No such file or directory"},
        {"4", "EINTR", "Interrupted system call"}, {"7", "E2BIG", "Argument list too long"},
        {"9", "EBADF", "Bad file descriptor"}, {"11", "EAGAIN", "Resource temporarily unavailable"},
        {"12", "ENOMEM", "Cannot allocate memory"}, {"13", "EACCES", "Permission denied"},
        {"14", "EFAULT", "Bad address"}, {"16", "EBUSY", "Device or resource busy"},
        {"17", "EEXIST", "File exists"}, {"19", "ENODEV", "No such device"},
        {"22", "EINVAL", "Invalid argument"}, {"26", "ETXTBSY", "Text file busy"},
        {"27", "EFBIG", "File too large"}, {"75", "EOVERFLOW", "Value too large for defined data type"},
        {"95", "EOPNOTSUPP", "Operation not supported"},
        {"24", "EMFILE", "Too many open files"},
    };

    private Errno() {
    }

    /** "ENOMEM" for 12 (or "E12" when unknown). */
    public static String name(final int errno) {
        for (final String[] e : TABLE) {
            if (Integer.parseInt(e[0]) == errno) {
                return e[1];
            }
        }
        return "E" + errno;
    }

    public static String message(final int errno) {
        for (final String[] e : TABLE) {
            if (Integer.parseInt(e[0]) == errno) {
                return e[2];
            }
        }
        return "Unknown error " + errno;
    }

    /** The errno named {@code name}, or -1. */
    public static int byName(final String name) {
        for (final String[] e : TABLE) {
            if (e[1].equals(name)) {
                return Integer.parseInt(e[0]);
            }
        }
        return -1;
    }

    /** True when a syscall's long result is an error ({@code IS_ERR_VALUE}: -4095..-1). */
    public static boolean isError(final long result) {
        return result < 0 && result >= -4095;
    }

    /** A result in strace's style: "0x7f...", "0", or "-1 ENOMEM (Cannot allocate memory)". */
    public static String strace(final long result, final boolean hex) {
        if (isError(result)) {
            final int e = (int) -result;
            return "-1 " + name(e) + " (" + message(e) + ")";
        }
        return hex ? "0x" + Long.toHexString(result) : Long.toString(result);
    }
}
