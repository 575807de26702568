package org.mm4j.vma;

import static org.mm4j.vma.VmFlags.VM_EXEC;
import static org.mm4j.vma.VmFlags.VM_GROWSDOWN;
import static org.mm4j.vma.VmFlags.VM_LOCKED;
import static org.mm4j.vma.VmFlags.VM_MAYSHARE;
import static org.mm4j.vma.VmFlags.VM_READ;
import static org.mm4j.vma.VmFlags.VM_SHARED;
import static org.mm4j.vma.VmFlags.VM_WRITE;

/**
 * The /proc/PID views of one address space, as {@code fs/proc/task_mmu.c} formats them: {@code maps}
 * ({@code show_map_vma}, names from {@code get_vma_name}), {@code smaps} ({@code show_smap}), the memory lines of
 * {@code status} ({@code task_mem}) and the {@code total_vm}/{@code data_vm}/... counters behind them.
 *
 * <p>Threads: every method runs under the mm's mmap lock (asserted), as the kernel's readers take
 * {@code mmap_read_lock} in {@code m_start}; {@link MmStruct}'s public {@code maps()}, {@code smaps()},
 * {@code statusVm()} and {@code vmCounters()} take it. Nothing here changes the mm.
 */
final class TaskMmu {
    private TaskMmu() {
    }

    /** {@code get_vma_name}: the name show_map_vma prints for {@code v}, or null. */
    static String vmaName(final MmStruct mm, final Vma v) {
        if (v.file != null) {
            if (v.anonName != null && v.file.isShmem()) {
                return "[anon_shmem:" + v.anonName + "]";
            }
            return v.file.mapsName();
        }
        if (v.specialName != null) {
            return v.specialName;
        }
        if (v.start < mm.brk && v.end > mm.startBrk) {
            return "[heap]";
        }
        if (v.start <= mm.startStack && v.end >= mm.startStack) {
            return "[stack]";
        }
        if (v.anonName != null) {
            return "[anon:" + v.anonName + "]";
        }
        return null;
    }

    private static void hex8(final StringBuilder sb, final long x) {
        final String h = Long.toHexString(x);
        for (int i = h.length(); i < 8; i++) {
            sb.append('0');
        }
        sb.append(h);
    }

    /** One /proc/PID/maps line (with its newline) appended to {@code sb}, as {@code show_map_vma} formats it. */
    static void mapsLine(final MmStruct mm, final Vma v, final StringBuilder sb) {
        final int lineStart = sb.length();
        hex8(sb, v.start);
        sb.append('-');
        hex8(sb, v.end);
        sb.append(' ');
        sb.append((v.flags & VM_READ) != 0 ? 'r' : '-');
        sb.append((v.flags & VM_WRITE) != 0 ? 'w' : '-');
        sb.append((v.flags & VM_EXEC) != 0 ? 'x' : '-');
        sb.append((v.flags & VM_MAYSHARE) != 0 ? 's' : 'p');
        sb.append(' ');
        hex8(sb, v.file != null ? v.pgoff << 12 : 0);
        final int major = v.file != null ? v.file.inode.devMajor : 0;
        final int minor = v.file != null ? v.file.inode.devMinor : 0;
        sb.append(String.format(" %02x:%02x %d ", major, minor, v.file != null ? v.file.inode.ino : 0));
        appendName(sb, lineStart, vmaName(mm, v));
    }

    private static void appendName(final StringBuilder sb, final int lineStart, final String name) {
        if (name != null) {
            final int width = 25 + 6 * 8 - 1;
            while (sb.length() - lineStart < width) {
                sb.append(' ');
            }
            sb.append(' ').append(name);
        }
        sb.append('\n');
    }

    /** /proc/PID/maps ({@code show_map}), ending with the {@code [vsyscall]} gate VMA when the mm has one. */
    static String maps(final MmStruct mm) {
        assert mm.mmapAssertLocked();
        final StringBuilder sb = new StringBuilder();
        for (Vma v = mm.tree.first; v != null; v = v.next) {
            mapsLine(mm, v, sb);
        }
        if (mm.gateVma) {
            final int ls = sb.length();
            sb.append("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 ");
            appendName(sb, ls, "[vsyscall]");
        }
        return sb.toString();
    }

    private static void kb(final StringBuilder sb, final String name, final long kb) {
        sb.append(name);
        for (int i = name.length(); i < 16; i++) {
            sb.append(' ');
        }
        final String v = Long.toString(kb);
        for (int i = v.length(); i < 8; i++) {
            sb.append(' ');
        }
        sb.append(v).append(" kB\n");
    }

    /** /proc/PID/smaps ({@code show_smap}): each maps line followed by its memory counters and VmFlags. */
    static String smaps(final MmStruct mm) {
        assert mm.mmapAssertLocked();
        final PageTables pageTables = mm.pageTables;
        final StringBuilder sb = new StringBuilder();
        for (Vma v = mm.tree.first; v != null; v = v.next) {
            mapsLine(mm, v, sb);
            final long[] c = pageTables == null ? new long[9] : pageTables.smapsCounts(v.start, v.end);
            kb(sb, "Size:", (v.end - v.start) >>> 10);
            kb(sb, "KernelPageSize:", 4);
            kb(sb, "MMUPageSize:", 4);
            kb(sb, "Rss:", c[0] >>> 10);
            kb(sb, "Pss:", c[1] >>> 10);
            kb(sb, "Pss_Dirty:", c[7] >>> 10);
            kb(sb, "Shared_Clean:", c[2] >>> 10);
            kb(sb, "Shared_Dirty:", c[3] >>> 10);
            kb(sb, "Private_Clean:", c[4] >>> 10);
            kb(sb, "Private_Dirty:", c[5] >>> 10);
            kb(sb, "Referenced:", c[0] >>> 10);
            kb(sb, "Anonymous:", c[6] >>> 10);
            kb(sb, "KSM:", 0);
            kb(sb, "LazyFree:", c[8] >>> 10);
            kb(sb, "AnonHugePages:", 0);
            kb(sb, "ShmemPmdMapped:", 0);
            kb(sb, "FilePmdMapped:", 0);
            kb(sb, "Shared_Hugetlb:", 0);
            kb(sb, "Private_Hugetlb:", 0);
            kb(sb, "Swap:", 0);
            kb(sb, "SwapPss:", 0);
            kb(sb, "Locked:", (v.flags & VM_LOCKED) != 0 ? c[1] >>> 10 : 0);
            // fs/proc/task_mmu.c prints "THPeligible:    %8u"; the model has no transparent huge pages, so 0
            sb.append("THPeligible:    ").append(" ".repeat(7)).append("0\n");
            sb.append("VmFlags: ");
            for (final String f : VmFlags.toString(v.flags).split(" ")) {
                if (!f.isEmpty()) {
                    sb.append(f).append(' ');
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /**
     * {@code total_vm}, {@code data_vm}, {@code stack_vm}, {@code exec_vm}, {@code locked_vm} in pages (indices 0
     * to 4), counted from the VMAs as {@code vm_stat_account} keeps them.
     */
    static long[] vmCounters(final MmStruct mm) {
        assert mm.mmapAssertLocked();
        final long[] n = new long[5];
        for (Vma v = mm.tree.first; v != null; v = v.next) {
            final long pages = v.pages();
            n[0] += pages;
            if ((v.flags & VM_GROWSDOWN) != 0) {
                n[2] += pages;
            } else if ((v.flags & (VM_WRITE | VM_SHARED)) == VM_WRITE) {
                n[1] += pages;
            } else if ((v.flags & (VM_EXEC | VM_WRITE)) == VM_EXEC) {
                n[3] += pages;
            }
            if ((v.flags & VM_LOCKED) != 0) {
                n[4] += pages;
            }
        }
        return n;
    }

    /** {@code task_mem}: the memory lines of /proc/PID/status (VmPeak ... VmSwap). */
    static String statusVm(final MmStruct mm) {
        assert mm.mmapAssertLocked();
        final long[] vm = vmCounters(mm);
        final long[] rss = mm.rss();
        final long rssAll = rss[0] + rss[1] + rss[2];
        final StringBuilder sb = new StringBuilder();
        final String[] names = {"VmPeak", "VmSize", "VmLck", "VmPin", "VmHWM", "VmRSS", "RssAnon", "RssFile",
            "RssShmem", "VmData", "VmStk", "VmExe", "VmLib", "VmPTE", "VmSwap"};
        final long pte = mm.pageTables == null ? 0 : mm.pageTables.tablePages * 4;
        final long[] vals = {vm[0] * 4, vm[0] * 4, vm[4] * 4, 0, rssAll * 4, rssAll * 4, rss[0] * 4, rss[1] * 4,
            rss[2] * 4, vm[1] * 4, vm[2] * 4, vm[3] * 4, 0, pte, 0};
        for (int i = 0; i < names.length; i++) {
            final String v = Long.toString(vals[i]);
            sb.append(names[i]).append(":\t");
            for (int k = v.length(); k < 8; k++) {
                sb.append(' ');
            }
            sb.append(v).append(" kB\n");
        }
        return sb.toString();
    }
}
