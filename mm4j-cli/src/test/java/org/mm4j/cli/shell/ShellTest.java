package org.mm4j.cli.shell;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Script in, exact stdout / stderr / exit status out. */
class ShellTest {
    private static final String ADDR = "0xffff888[0-9a-f]{9}";

    @Test
    void printAndExpressions() {
        final ShellRun r = ShellRun.run("""
            print 1 + 2 * 3
            print (1 + 2) * 3   # a comment
            # a whole-line comment

            print 0xffff888000123440 & ~4095
            n = 4096 * 2
            print $n / 2
            print ${n} + $(print 40 + 2)
            vars
            """);
        assertEquals("7\n9\n0xffff888000123000\n8192\n4096\n8234\nn=8192\n", r.out());
        assertEquals("", r.err());
        assertEquals(0, r.status());
    }

    @Test
    void errorsNameTheLineAndTheShellGoesOn() {
        final ShellRun r = ShellRun.run("""
            print 1
            frobnicate 3
            print $nosuch
            print 4 / 0
            alloc_pages 11
            print 2
            """);
        assertEquals("1\n2\n", r.out());
        assertEquals("""
            mm4j: 2: unknown command 'frobnicate' (try: help)
            mm4j: 3: undefined variable $nosuch
            mm4j: 4: division by zero in '4 / 0'
            mm4j: 5: ORDER 11 out of range (expected: 0 to 10)
            """, r.err());
        assertEquals(1, r.status());
    }

    @Test
    void allocPagesStoresTheAddressAndFreesIt() {
        final ShellRun r = ShellRun.run("""
            p = alloc_pages 3
            print $p & 0x7fff
            __free_pages $p 3
            __free_pages $p 3
            __free_pages $p+1 0
            __free_pages 0x1000 0
            """);
        final String[] out = r.out().split("\n");
        assertTrue(out[0].matches(ADDR), out[0]);
        assertEquals("0", out[1]);
        final String[] err = r.err().split("\n");
        // line 4 frees the block a second time: Linux 6.18 without CONFIG_DEBUG_VM (the reference config) only
        // takes the refcount below zero in put_page_testzero, without a word
        assertEquals(2, err.length, r.err());
        assertTrue(err[0].matches("mm4j: 5: __free_pages: " + ADDR + " is not page-aligned"), err[0]);
        assertEquals("mm4j: 6: __free_pages: 0x0000000000001000 is outside the model's memory "
            + "(0xffff888000000000-0xffff888003ffffff)", err[1]);
        assertEquals(1, r.status());
    }

    @Test
    void doubleFreePagesWithDebugVmIsAKernelBug() {
        // CONFIG_DEBUG_VM: put_page_testzero's VM_BUG_ON_PAGE(page_ref_count(page) == 0) oopses
        final ShellRun r = ShellRun.run("mem=64M nr_cpus=2 mm4j.config.DEBUG_VM=y", """
            p = alloc_pages 3
            __free_pages $p 3
            __free_pages $p 3
            dmesg
            """);
        final String[] err = r.err().split("\n");
        assertEquals(1, err.length, r.err());
        assertTrue(err[0].matches("mm4j: 3: __free_pages: kernel BUG at pfn 0x[0-9a-f]+, order 3: "
            + "VM_BUG_ON_PAGE\\(page_ref_count\\(page\\) == 0\\) \\(CONFIG_DEBUG_VM; see dmesg; nothing was freed\\)"),
            err[0]);
        assertTrue(r.out().contains("page dumped because: VM_BUG_ON_PAGE(page_ref_count(page) == 0)\n"), r.out());
        assertTrue(r.out().contains("kernel BUG at include/linux/mm.h:"), r.out());
    }

    @Test
    void rawMemoryReadWriteFill() {
        final ShellRun r = ShellRun.run("""
            p = alloc_pages 0
            fill $p 32 0x6b
            write $p+15 a5
            write $p + 16 de ad be ef
            write ($p & ~4095) + 20 0x41424344
            read $p 24
            read $p+4096-4 4
            """);
        final String[] out = r.out().split("\n", 2);
        final String p = out[0].substring(2);
        final String q = String.format("%016x", Long.parseUnsignedLong(p, 16) + 16);
        final String last = String.format("%016x", Long.parseUnsignedLong(p, 16) + 4092);
        assertEquals(p + ": 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b a5  kkkkkkkkkkkkkkk.\n"
            + q + ": de ad be ef 41 42 43 44                          ....ABCD\n"
            + last + ": 00 00 00 00                                      ....\n", out[1]);
        assertEquals("", r.err());
    }

    @Test
    void rawMemoryIsBoundsChecked() {
        final ShellRun r = ShellRun.run("""
            read 0xffff888004000000 1
            write 0xffff888003ffffff 0102
            fill 0x10 1 0
            write 0xffff888000001000 xyz
            fill 0xffff888000001000 1 256
            read 0xffff888000001000 2000000
            """);
        assertEquals("", r.out());
        assertEquals("""
            mm4j: 1: read: address 0xffff888004000000 is outside the model's memory (0xffff888000000000-0xffff888003ffffff)
            mm4j: 2: write: 2 bytes at 0xffff888003ffffff run past the end of the model's memory (0xffff888003ffffff)
            mm4j: 3: fill: address 0x0000000000000010 is outside the model's memory (0xffff888000000000-0xffff888003ffffff)
            mm4j: 4: write: bad HEXBYTES 'xyz' (expected: pairs of hex digits, e.g. 12 or deadbeef)
            mm4j: 5: fill: BYTE 256 out of range (expected: 0 to 255)
            mm4j: 6: read: LEN 2000000 out of range (expected: 0 to 1048576)
            """, r.err());
    }

    @Test
    void procfsAndDmesg() {
        final ShellRun r = ShellRun.run("""
            cat /proc/nosuch
            echo hello world
            echo 1 > /proc/nosuch
            dmesg -C
            dmesg
            alloc_pages 10 GFP_KERNEL|__GFP_BOGUS
            dmesg -c
            """);
        assertEquals("hello world\n", r.out());
        assertEquals("""
            mm4j: 1: cat: /proc/nosuch: No such file or directory
            mm4j: 3: echo: write error: /proc/nosuch: No such file or directory
            mm4j: 6: unknown gfp flag '__GFP_BOGUS' in GFP_KERNEL|__GFP_BOGUS
            """, r.err());
    }

    @Test
    void configGzShowsTheBuildConfigurationWithBootOverrides() {
        final ShellRun r = ShellRun.run("mem=16M nr_cpus=1 mm4j.config.SLAB_FREELIST_RANDOM=n", """
            cat /proc/config.gz
            zcat /proc/config.gz
            zcat /proc/meminfo
            """);
        final String text = org.mm4j.boot.KernelConfig.defaults().text()
            .replace("CONFIG_SLAB_FREELIST_RANDOM=y", "# CONFIG_SLAB_FREELIST_RANDOM is not set");
        assertEquals(text + text, r.out());
        assertTrue(r.out().contains("\nCONFIG_SLAB_FREELIST_HARDENED=y\n"));
        assertEquals("mm4j: 3: zcat: /proc/meminfo: not in gzip format\n", r.err());
    }

    @Test
    void allocationFailurePrintsNullAndWarns() {
        final StringBuilder script = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            script.append("alloc_pages 10\n");
        }
        script.append("dmesg\n");
        final ShellRun r = ShellRun.run("mem=16M nr_cpus=1", script.toString());
        assertTrue(r.out().contains("0x0000000000000000\n"), r.out());
        assertTrue(r.out().contains("page allocation failure: order:10"), r.out());
        assertEquals(0, r.status());
    }

    @Test
    void assignmentNeedsOutput() {
        final ShellRun r = ShellRun.run("""
            x = dmesg -C
            x =
            """);
        assertEquals("""
            mm4j: 1: $x: 'dmesg -C' printed nothing to store
            mm4j: 2: nothing to store in $x
            """, r.err());
    }

    @Test
    void substitutionAndQuotes() {
        final ShellRun r = ShellRun.run("""
            a = print 5
            echo '$a' "$a" $a
            echo $(echo one two) three
            echo $(print $(print 2) * 3)
            echo "a # not a comment" # a comment
            echo $(nosuch)
            echo 'unterminated
            """);
        assertEquals("5\n$a 5 5\none two three\n6\na # not a comment\n", r.out());
        assertEquals("""
            mm4j: 6: unknown command 'nosuch' (try: help)
            mm4j: 7: unterminated ' quote
            """, r.err());
    }

    @Test
    void helpCoversEveryCommand() {
        final ShellRun r = ShellRun.run("help\nhelp alloc_pages\nhelp values\nhelp nosuch\n");
        for (final String c : new String[] {"alloc_pages", "__free_pages", "cat", "echo", "dmesg", "read", "write",
            "fill", "help", "print", "exit", "ls"}) {
            assertTrue(r.out().contains("  " + c), c);
        }
        assertTrue(r.out().contains("usage: alloc_pages ORDER [GFP]\n"));
        assertTrue(r.out().contains("NAME = COMMAND"));
        assertEquals("mm4j: 4: no command 'nosuch' (try: help)\n", r.err());
    }

    @Test
    void everyCommandHasHelpText() {
        final ShellRun r = ShellRun.run("help\n");
        for (final String line : r.out().split("\n")) {
            if (line.startsWith("  ") && !line.isBlank() && !line.startsWith("   ")) {
                final String name = line.strip().split(" ")[0];
                final ShellRun one = ShellRun.run("help " + name + "\n");
                assertEquals("", one.err(), name);
                assertTrue(one.out().startsWith("usage: " + name), name);
            }
        }
    }

    @Test
    void exitEndsTheScript() {
        final ShellRun r = ShellRun.run("print 1\nexit 3\nprint 2\n");
        assertEquals("1\n", r.out());
        assertEquals(3, r.status());
        assertEquals(1, ShellRun.run("nosuch\nexit\n").status());
        assertEquals(0, ShellRun.run("print 1\nexit\n").status());
    }

    @Test
    void lsListsWhatIsThereNotPerTaskFilesEverywhere() {
        final ShellRun vm = ShellRun.run("ls /proc/sys/vm\n");
        assertEquals("", vm.err());
        final String[] names = vm.out().split("\n");
        assertTrue(java.util.List.of(names).contains("max_map_count"), vm.out());
        for (final String task : new String[] {"maps", "smaps", "status", "oom_score"}) {
            assertTrue(!java.util.List.of(names).contains(task), task + " listed in /proc/sys/vm: " + vm.out());
        }
        // every entry listed is a file cat reads without error
        final StringBuilder cats = new StringBuilder();
        for (final String n : names) {
            cats.append("cat /proc/sys/vm/").append(n).append('\n');
        }
        assertEquals("", ShellRun.run(cats.toString()).err());
        final ShellRun sys = ShellRun.run("ls /proc/sys\nls /proc/self\nls /proc/999999\n");
        assertTrue(sys.out().startsWith("kernel\nvm\n"), sys.out());
        assertTrue(sys.out().contains("maps\n") && sys.out().contains("smaps\n"), "/proc/self: " + sys.out());
        assertEquals("mm4j: 3: ls: cannot access '/proc/999999': No such file or directory\n", sys.err());
    }
}
