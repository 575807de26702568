package org.mm4j.vma;

import static org.mm4j.vma.Errno.EBUSY;
import static org.mm4j.vma.Errno.EINVAL;
import static org.mm4j.vma.Errno.ENOMEM;
import static org.mm4j.vma.MmStruct.PAGE_MASK;
import static org.mm4j.vma.MmStruct.pageAlign;
import static org.mm4j.vma.VmFlags.VM_LOCKED;

/**
 * {@code msync(2)} ({@code mm/msync.c} of Linux 6.18): the argument and range checks and the MS_INVALIDATE refusal
 * of locked VMAs ({@code -EBUSY}); the model has no writeback, so a valid call changes nothing.
 *
 * <p>Threads: the caller holds the mm's mmap lock (asserted), which {@code msync} takes for read.
 */
final class Msync {
    private Msync() {
    }

    /** {@code msync( start, len, flags)}: checks the range (no writeback in the model); 0 or -errno. */
    static long msync(final MmStruct mm, final long start, final long lenIn, final int flags) {
        assert mm.mmapAssertLocked();
        final int msAsync = 1;
        final int msInvalidate = 2;
        final int msSync = 4;
        if ((flags & ~(msAsync | msInvalidate | msSync)) != 0 || (start & ~PAGE_MASK) != 0
            || (flags & msAsync) != 0 && (flags & msSync) != 0) {
            return -EINVAL;
        }
        final long end = start + pageAlign(lenIn);
        if (Long.compareUnsigned(end, start) < 0) {
            return -ENOMEM;
        }
        if (end == start) {
            return 0;
        }
        long s = start;
        Vma vma = mm.findVmaLocked(s);
        int unmapped = 0;
        while (true) {
            if (vma == null) {
                return -ENOMEM;
            }
            if (s < vma.start) {
                unmapped = -ENOMEM;
                s = vma.start;
                if (s >= end) {
                    return unmapped;
                }
            }
            if ((flags & msInvalidate) != 0 && (vma.flags & VM_LOCKED) != 0) {
                return -EBUSY;
            }
            s = vma.end;
            if (s >= end) {
                return unmapped;
            }
            vma = vma.next;
        }
    }
}
