package org.mm4j.cli.shell;

import org.mm4j.page.PhysicalMemory;
import org.mm4j.vma.MmStruct;

/**
 * What a kmemleak session needs besides {@code cat} and {@code echo} on {@code /sys/kernel/debug/kmemleak}:
 * {@code sleep} (moves the model's clock, so objects pass kmemleak's minimum age at once), {@code unset} (drops a
 * variable, the shell's way to lose a pointer) and {@code store64} (writes a pointer into an object or into the
 * current process's memory, to make a reference). With {@code kmemleak=on} the shell's variables are one of
 * kmemleak's roots, as a task's stack is for the kernel's ({@code stack=off} leaves them out).
 */
final class KmemleakCommands {
    /** {@code TASK_SIZE} of x86-64 with 4-level paging: user addresses are below. */
    private static final long TASK_SIZE = 0x00007ffffffff000L;

    private KmemleakCommands() {
    }

    static void register(final Shell sh) {
        sh.register(new Cmd("sleep", "sleep NUMBER[s|m|h|d]", "move the model's clock (jiffies) forward",
            """
            Moves the model's clock forward by NUMBER seconds (a fraction, or a suffix m, h, d, as coreutils
            sleep takes) at once, without waiting: jiffies jump by NUMBER * HZ, and what fell due meanwhile (a
            kmemleak automatic scan) runs. Example: kmalloc 64, then sleep 5 to pass kmemleak's minimum age.""",
            KmemleakCommands::sleep));
        sh.register(new Cmd("unset", "unset NAME...", "forget variables",
            "Drops each variable NAME; with kmemleak=on, an object only a variable pointed to is then unreferenced.",
            (s, a, out) -> {
                for (final String name : a.rest()) {
                    s.unsetVariable(name.startsWith("$") ? name.substring(1) : name);
                }
            }));
        sh.register(new Cmd("store64", "store64 ADDR VALUE", "write a 64-bit value (little-endian) at ADDR",
            """
            Writes VALUE as 8 bytes, least significant first, at ADDR: a kernel address writes kernel memory (no
            checks, like write); a user address writes the current process's memory as a store would (faulting the
            page in). Example: store64 $a $b puts the pointer $b into the object $a.""",
            KmemleakCommands::store64));
        if (sh.kernel().slab().kmemleakEnabled()) {
            sh.kernel().slab().kmemleak().addRoot("shell variables", true, s -> {
                for (final String v : sh.variables().values()) {
                    final long value = parse(v);
                    if (value != 0) {
                        s.word(value);
                    }
                }
            });
        }
    }

    /** A variable's value as a number (0x hex or decimal), or 0 when it is no number. */
    private static long parse(final String v) {
        try {
            if (v.startsWith("0x") || v.startsWith("0X")) {
                return Long.parseUnsignedLong(v.substring(2), 16);
            }
            return Long.parseLong(v);
        } catch (final NumberFormatException e) {
            return 0;
        }
    }

    private static void sleep(final Shell sh, final ArgReader a, final StringBuilder out) {
        final String arg = a.word("NUMBER");
        a.end();
        long unitMs = 1000;
        String num = arg;
        final char last = arg.isEmpty() ? ' ' : arg.charAt(arg.length() - 1);
        if ("smhd".indexOf(last) >= 0) {
            unitMs = switch (last) {
                case 'm' -> 60_000L;
                case 'h' -> 3_600_000L;
                case 'd' -> 86_400_000L;
                default -> 1000L;
            };
            num = arg.substring(0, arg.length() - 1);
        }
        final double n;
        try {
            n = Double.parseDouble(num);
        } catch (final NumberFormatException e) {
            throw new ShellException("sleep: invalid time interval '" + arg + "' (expected: NUMBER[s|m|h|d])");
        }
        if (!(n >= 0) || n * unitMs > 365L * 86_400_000L * 100) {
            throw new ShellException("sleep: invalid time interval '" + arg + "' (expected: 0 to 100 years)");
        }
        sh.kernel().jiffies().sleep(Math.round(n * unitMs));
    }

    private static void store64(final Shell sh, final ArgReader a, final StringBuilder out) {
        final long addr = a.expr("ADDR");
        final long value = a.expr("VALUE");
        a.end();
        if (Long.compareUnsigned(addr, TASK_SIZE) < 0) {
            final MmStruct mm = sh.kernel().processes().currentMm();
            for (int i = 0; i < 8; i++) {
                mm.writeUser(addr + i, (byte) (value >>> (8 * i)));
            }
            return;
        }
        final long phys = MemoryCommands.checkRange(sh, "store64", addr, 8);
        final PhysicalMemory mem = sh.kernel().memory();
        for (int i = 0; i < 8; i++) {
            mem.putByte(phys + i, (byte) (value >>> (8 * i)));
        }
    }
}
