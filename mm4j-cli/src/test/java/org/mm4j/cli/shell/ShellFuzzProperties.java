package org.mm4j.cli.shell;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lines made of shell tokens in random order are run or refused with a clear message, never an internal error. */
class ShellFuzzProperties {
    private static final String[] TOKENS = {
        "kmalloc", "kfree", "ksize", "kcalloc", "krealloc", "kzalloc", "kmem_cache_create", "kmem_cache_alloc",
        "kmem_cache_free", "kmem_cache_destroy", "kmem_cache_shrink", "alloc_pages", "__free_pages", "read",
        "write", "fill", "cat", "echo", "ls", "dmesg", "print", "help", "vars", "touch", "fork", "ps", "pid",
        "report", "mmap(", "munmap(", "brk(", "mprotect(", ")", "(", ",", "$p", "$(", "${p}", "$", "=", "p =",
        "#", "'", "\"", "0", "1", "64", "4096", "-1", "0xffff888000000000", "0xffffffffffffffff", "+", "-", "*",
        "/", "%", "&", "|", "^", "~", "<<", ">>", ">", "/proc/buddyinfo", "/sys/kernel/slab/foo/validate",
        "foo", "flags=SLAB_POISON", "align=64", "ctor=c:1", "GFP_KERNEL", "PROT_READ", "MAP_PRIVATE|MAP_ANONYMOUS",
        "NULL", "99999999999999999999999", "\t", "\u0000", "é"};

    @Property(tries = 200)
    void noLineIsAnInternalError(@ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) final int seed) {
        final Random rnd = new Random(seed);
        final StringBuilder script = new StringBuilder("p = kmalloc 64\nkmem_cache_create foo 64\n");
        for (int l = 0; l < 30; l++) {
            final int n = 1 + rnd.nextInt(7);
            for (int i = 0; i < n; i++) {
                script.append(TOKENS[rnd.nextInt(TOKENS.length)]).append(rnd.nextBoolean() ? " " : "");
            }
            script.append('\n');
        }
        // report writes files: keep them out of the tree
        final String text = script.toString().replace("report", "report /tmp/mm4j-fuzz-report.html");
        final ShellRun r = ShellRun.run("mem=16M nr_cpus=2", text);
        assertTrue(!r.err().contains("internal error"), () -> text + "\n---\n" + r.err());
        assertTrue(r.err().lines().allMatch(e -> e.startsWith("mm4j: ")), r::err);
    }
}
