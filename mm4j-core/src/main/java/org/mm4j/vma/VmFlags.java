package org.mm4j.vma;

/** {@code vm_flags} bits (include/linux/mm.h, x86-64) and their smaps mnemonics. */
public final class VmFlags {
    public static final long VM_READ = 0x1;
    public static final long VM_WRITE = 0x2;
    public static final long VM_EXEC = 0x4;
    public static final long VM_SHARED = 0x8;
    public static final long VM_MAYREAD = 0x10;
    public static final long VM_MAYWRITE = 0x20;
    public static final long VM_MAYEXEC = 0x40;
    public static final long VM_MAYSHARE = 0x80;
    public static final long VM_GROWSDOWN = 0x100;
    public static final long VM_PFNMAP = 0x400;
    public static final long VM_LOCKED = 0x2000;
    public static final long VM_IO = 0x4000;
    public static final long VM_SEQ_READ = 0x8000;
    public static final long VM_RAND_READ = 0x10000;
    public static final long VM_DONTCOPY = 0x20000;
    public static final long VM_DONTEXPAND = 0x40000;
    public static final long VM_LOCKONFAULT = 0x80000;
    public static final long VM_ACCOUNT = 0x100000;
    public static final long VM_NORESERVE = 0x200000;
    public static final long VM_HUGETLB = 0x400000;
    public static final long VM_WIPEONFORK = 0x2000000L;
    public static final long VM_DONTDUMP = 0x4000000L;
    public static final long VM_SOFTDIRTY = 0x8000000L;
    public static final long VM_MIXEDMAP = 0x10000000L;
    public static final long VM_HUGEPAGE = 0x20000000L;
    public static final long VM_NOHUGEPAGE = 0x40000000L;
    public static final long VM_MERGEABLE = 0x80000000L;

    public static final long VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
    public static final long VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
    public static final long VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;

    private static final String[] MNEMONICS = new String[64];

    static {
        final String[][] m = {{"0", "rd"}, {"1", "wr"}, {"2", "ex"}, {"3", "sh"}, {"4", "mr"}, {"5", "mw"},
            {"6", "me"}, {"7", "ms"}, {"8", "gd"}, {"10", "pf"}, {"13", "lo"}, {"14", "io"}, {"15", "sr"},
            {"16", "rr"}, {"17", "dc"}, {"18", "de"}, {"19", "lf"}, {"20", "ac"}, {"21", "nr"}, {"22", "ht"},
            {"25", "wf"}, {"26", "dd"}, {"27", "sd"}, {"28", "mm"}, {"29", "hg"}, {"30", "nh"}, {"31", "mg"}};
        for (final String[] e : m) {
            MNEMONICS[Integer.parseInt(e[0])] = e[1];
        }
    }

    private VmFlags() {
    }

    /** The smaps {@code VmFlags:} value ("rd wr mr mw me ac"). */
    public static String toString(final long flags) {
        final StringBuilder sb = new StringBuilder();
        for (int bit = 0; bit < 64; bit++) {
            if ((flags & (1L << bit)) != 0 && MNEMONICS[bit] != null) {
                if (!sb.isEmpty()) {
                    sb.append(' ');
                }
                sb.append(MNEMONICS[bit]);
            }
        }
        return sb.toString();
    }

    /** {@code calc_vm_prot_bits}. */
    static long protToFlags(final int prot) {
        return ((prot & Mman.PROT_READ) != 0 ? VM_READ : 0)
            | ((prot & Mman.PROT_WRITE) != 0 ? VM_WRITE : 0)
            | ((prot & Mman.PROT_EXEC) != 0 ? VM_EXEC : 0);
    }
}
