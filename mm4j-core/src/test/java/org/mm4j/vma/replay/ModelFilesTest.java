package org.mm4j.vma.replay;

import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.vma.MmStruct;
import org.mm4j.vma.VmFile;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** File mappings are backed by model files only: the machine's own files are never read. */
class ModelFilesTest {
    private static long addr(final String result) {
        return Long.parseUnsignedLong(result.substring(2), 16);
    }

    private static String readUser(final MmStruct mm, final long addr, final int n) {
        final byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = mm.readUser(addr + i);
        }
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @Test
    void aHostPathIsAnEmptyModelFileNeverTheHostsFile() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final MmStruct mm = k.processes().currentMm();
            final StraceSyscall sys = new StraceSyscall();
            assertEquals("-1 ENOENT (No such file or directory)",
                sys.execute(mm, "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY)"));
            final String r = sys.execute(mm, "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3</etc/passwd>, 0)");
            assertEquals("\0".repeat(16), readUser(mm, addr(r), 16), "zeros, not the host's root:x:0:0");
            assertEquals(VmFile.Inode.SIZE_UNKNOWN, sys.inode("/etc/passwd").size(),
                "a trace's fd whose open was not seen: a model file of unknown size (no SIGBUS past an EOF)");
        }
    }

    @Test
    void aModelFileHasTheBytesTheModelGaveItAndOpenatFindsIt() {
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2")) {
            final MmStruct mm = k.processes().currentMm();
            final Map<String, VmFile.Inode> files = new HashMap<>();
            files.put("/etc/passwd", VmFile.Inode.of(k.processes().inodeNumbers(), "/etc/passwd", 8192,
                "model:x:0:0".getBytes(StandardCharsets.US_ASCII)));
            final StraceSyscall sys = new StraceSyscall(files, k.processes().inodeNumbers());
            assertEquals("3", sys.execute(mm, "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC)"));
            assertEquals("4", sys.execute(mm, "openat(AT_FDCWD, \"/tmp/new\", O_RDWR|O_CREAT, 0600)"));
            final long a = addr(sys.execute(mm, "mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, 3, 0)"));
            assertEquals("model:x:0:0\0\0", readUser(mm, a, 13));
            assertEquals("\0\0\0\0", readUser(mm, a + 4096, 4), "past the given bytes: zeros");
            assertEquals("0", sys.execute(mm, "close(3)"));
            assertEquals("-1 EBADF (Bad file descriptor)", sys.execute(mm, "close(3)"));
            assertEquals("3", sys.execute(mm, "openat(AT_FDCWD, \"/tmp/new\", O_RDONLY)"), "the lowest free fd");
        }
    }
}
