package org.mm4j.slab.debug;

import java.util.List;

import org.mm4j.page.PhysicalMemory;

/**
 * Text helpers for SLUB debug reports, each the Java twin of a kernel printing routine: {@code %p} of a kernel
 * address ({@link #ptr}), {@code print_hex_dump(..., DUMP_PREFIX_ADDRESS, 16, 1, ..., true)} as
 * {@code print_section} uses it ({@link #hexDump}), and {@code print_tainted()} ({@link #tainted}).
 *
 * <p>Departure from Linux, named: the kernel hashes {@code %p} unless debugging was enabled on the command line
 * ({@code hash_pointers_finalize}); mm4j always prints the real direct-map address, so a report can be matched
 * against the addresses the shell and the library hand out. Stateless and thread-safe.
 */
final class DebugFormat {
    /** Taint letters in {@code taint_flags[]} order (6.18, 20 flags); index = taint bit. */
    private static final char[] TAINT_TRUE = "PFSRMBUDAWCIOELKXTNJ".toCharArray();
    /** TAINT_BAD_PAGE. */
    static final int TAINT_BAD_PAGE = 5;
    /** TAINT_WARN. */
    static final int TAINT_WARN = 9;

    private DebugFormat() {
    }

    /** {@code %p} of a 64-bit address: 16 lower-case hex digits, zero padded ({@code NULL} = 0000000000000000). */
    static String ptr(final long address) {
        final String hex = Long.toHexString(address);
        return "0".repeat(16 - hex.length()) + hex;
    }

    /** {@code print_tainted()}: "Not tainted", or "Tainted: " and one column per flag ('G' for an unset P). */
    static String tainted(final int mask) {
        if (mask == 0) {
            return "Not tainted";
        }
        final StringBuilder sb = new StringBuilder("Tainted: ");
        for (int i = 0; i < TAINT_TRUE.length; i++) {
            final boolean set = (mask & (1 << i)) != 0;
            sb.append(set ? TAINT_TRUE[i] : (i == 0 ? 'G' : ' '));
        }
        return sb.toString();
    }

    /**
     * {@code print_section(level, text, addr, length)}: one line per 16 bytes, {@code text} then the address, the
     * bytes as two-digit hex separated by spaces, and from column 49 the printable ASCII ('.' for the rest).
     */
    static void hexDump(final List<String> out, final String text, final PhysicalMemory mem, final long kaddr,
                        final long length) {
        final StringBuilder line = new StringBuilder(100);
        for (long i = 0; i < length; i += 16) {
            final int len = (int) Math.min(16, length - i);
            line.setLength(0);
            line.append(text).append(ptr(kaddr + i)).append(": ");
            final int hexStart = line.length();
            final byte[] bytes = new byte[len];
            for (int j = 0; j < len; j++) {
                bytes[j] = mem.getByte(PhysicalMemory.virtToPhys(kaddr + i + j));
                if (j > 0) {
                    line.append(' ');
                }
                line.append(Character.forDigit((bytes[j] >> 4) & 0xf, 16))
                    .append(Character.forDigit(bytes[j] & 0xf, 16));
            }
            final int asciiColumn = hexStart + 16 * 2 + 16 + 1;
            while (line.length() < asciiColumn) {
                line.append(' ');
            }
            for (int j = 0; j < len; j++) {
                final int c = bytes[j] & 0xff;
                line.append(c >= 0x20 && c < 0x7f ? (char) c : '.');
            }
            out.add(line.toString());
        }
    }

    /** {@code 0x%x} of a byte value, as the kernel prints "First byte 0x12 instead of 0xcc". */
    static String hexByte(final int value) {
        return "0x" + Integer.toHexString(value & 0xff);
    }

    /**
     * {@code dump_stack()} of a SLUB report: "CPU: cpu UID: 0 PID: pid Comm: comm ..." ({@code pid} and
     * {@code comm}: the model's {@code current}, as the tracks' {@code pid=}), then the Java call trace above the
     * reporting frames, at most {@code depth} entries.
     */
    static void dumpStack(final List<String> out, final int cpu, final int pid, final String comm, final int taint,
                          final int depth) {
        out.add("CPU: " + cpu + " UID: 0 PID: " + pid + " Comm: " + comm + " "
            + tainted(taint) + " " + org.mm4j.base.Uts.RELEASE + " #1");
        out.add("Call Trace:");
        out.add(" <TASK>");
        StackWalker.getInstance().walk(s -> s
            .dropWhile(f -> f.getClassName().equals(DebugFormat.class.getName())
                || f.getClassName().equals(SlubDebug.class.getName()))
            .limit(depth).toList()).forEach(f -> out.add(" " + new DebugTrack.CallSite(f.getClassName(),
            f.getMethodName(), f.getFileName(), f.getLineNumber(), f.getByteCodeIndex()).symbol()));
        out.add(" </TASK>");
    }
}
