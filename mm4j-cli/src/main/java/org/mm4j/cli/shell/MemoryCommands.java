package org.mm4j.cli.shell;

import org.mm4j.page.PhysicalMemory;

/**
 * Raw access to the model's memory by kernel virtual address: {@code read}, {@code write}, {@code fill}. Only the
 * bounds of the model's memory are checked, nothing else: this is how a script plays a buggy writer (a write past
 * an object, into a red zone, onto a free object) for SLUB debugging to catch.
 */
final class MemoryCommands {
    /** The most bytes one {@code read} dumps. */
    static final long MAX_READ = 1 << 20;

    private MemoryCommands() {
    }

    static void register(final Shell sh) {
        sh.register(new Cmd("read", "read ADDR LEN", "hex dump of kernel memory",
            """
            Prints LEN bytes (at most 1 MiB) from ADDR as print_hex_dump does, 16 bytes a line:
              ffff888000123440: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  kkkkkkkkkkkkkkk.""",
            MemoryCommands::read));
        sh.register(new Cmd("write", "write ADDR HEXBYTES...", "write bytes into kernel memory (no checks)",
            """
            Writes the bytes given in hex, in memory order, at ADDR: 'write $p+64 12' writes 0x12 at $p+64,
            'write $p deadbeef' or 'write $p de ad be ef' four bytes. No slab checks: a write past an object or
            onto a free one is what SLUB debugging then reports.""",
            MemoryCommands::write));
        sh.register(new Cmd("fill", "fill ADDR LEN BYTE", "fill kernel memory with one byte value (no checks)",
            "Sets LEN bytes from ADDR to BYTE (0 to 255, or -128 to -1), e.g. fill $p 16 0x6b.",
            MemoryCommands::fill));
    }

    /** Checks that {@code [addr, addr + len)} is inside the model's memory; returns the physical address. */
    static long checkRange(final Shell sh, final String cmd, final long addr, final long len) {
        final PhysicalMemory mem = sh.kernel().memory();
        final long end = PhysicalMemory.PAGE_OFFSET + mem.totalBytes();
        if (!mem.validVirt(addr)) {
            throw new ShellException(String.format("%s: address 0x%016x is outside the model's memory "
                + "(0x%016x-0x%016x)", cmd, addr, PhysicalMemory.PAGE_OFFSET, end - 1));
        }
        if (len < 0 || len > end - addr) {
            throw new ShellException(String.format("%s: %d bytes at 0x%016x run past the end of the model's "
                + "memory (0x%016x)", cmd, len, addr, end - 1));
        }
        return PhysicalMemory.virtToPhys(addr);
    }

    private static void read(final Shell sh, final ArgReader a, final StringBuilder out) {
        final long addr = a.expr("ADDR");
        final long len = a.expr("LEN");
        a.end();
        if (len < 0 || len > MAX_READ) {
            throw new ShellException("read: LEN " + ArgReader.show(len) + " out of range (expected: 0 to "
                + MAX_READ + ")");
        }
        final long phys = checkRange(sh, "read", addr, len);
        final PhysicalMemory mem = sh.kernel().memory();
        final byte[] row = new byte[16];
        for (long off = 0; off < len; off += 16) {
            final int n = (int) Math.min(16, len - off);
            for (int i = 0; i < n; i++) {
                row[i] = mem.getByte(phys + off + i);
            }
            hexLine(out, addr + off, row, n);
        }
    }

    /** One line of {@code print_hex_dump(..., DUMP_PREFIX_ADDRESS, 16, 1, ..., true)}. */
    static void hexLine(final StringBuilder out, final long addr, final byte[] row, final int n) {
        out.append(String.format("%016x: ", addr));
        final int start = out.length();
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                out.append(' ');
            }
            out.append(Character.forDigit((row[i] >> 4) & 0xf, 16)).append(Character.forDigit(row[i] & 0xf, 16));
        }
        // the ASCII column starts at rowsize * 2 + rowsize / groupsize + 1 = 49, as hex_dump_to_buffer pads
        while (out.length() - start < 49) {
            out.append(' ');
        }
        for (int i = 0; i < n; i++) {
            final int c = row[i] & 0xff;
            out.append(c >= 0x20 && c < 0x7f ? (char) c : '.');
        }
        out.append('\n');
    }

    private static void write(final Shell sh, final ArgReader a, final StringBuilder out) {
        final long addr = a.expr("ADDR");
        final StringBuilder hex = new StringBuilder();
        for (final String w : a.rest()) {
            final String h = w.startsWith("0x") || w.startsWith("0X") ? w.substring(2) : w;
            if (h.isEmpty() || h.length() % 2 != 0 || !h.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                throw new ShellException("write: bad HEXBYTES '" + w + "' (expected: pairs of hex digits, e.g. 12 "
                    + "or deadbeef)");
            }
            hex.append(h);
        }
        if (hex.isEmpty()) {
            throw a.missing("HEXBYTES");
        }
        final int n = hex.length() / 2;
        final long phys = checkRange(sh, "write", addr, n);
        final PhysicalMemory mem = sh.kernel().memory();
        for (int i = 0; i < n; i++) {
            mem.putByte(phys + i, (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16));
        }
    }

    private static void fill(final Shell sh, final ArgReader a, final StringBuilder out) {
        final long addr = a.expr("ADDR");
        final long len = a.expr("LEN");
        final long b = a.expr("BYTE");
        a.end();
        if (b < -128 || b > 255) {
            throw new ShellException("fill: BYTE " + ArgReader.show(b) + " out of range (expected: 0 to 255)");
        }
        final long phys = checkRange(sh, "fill", addr, len);
        final PhysicalMemory mem = sh.kernel().memory();
        long p = phys;
        long left = len;
        while (left > 0) {
            // one node at a time: a slice never crosses a node boundary
            final long nodeLeft = mem.nodeBytes() - p % mem.nodeBytes();
            final long n = Math.min(left, nodeLeft);
            mem.fill(p, n, (byte) b);
            p += n;
            left -= n;
        }
    }
}
