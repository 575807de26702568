package org.mm4j.cli.shell;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple3;
import org.mm4j.Kernel;
import org.mm4j.slab.KmemCache;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A random sequence of shell commands (cache creation with debug flags, object and kmalloc traffic, page traffic,
 * shrink, destroy, validate) that never writes into memory by itself can never break an allocator invariant: every
 * line succeeds, SLUB's validate finds nothing in any cache, no BUG appears in dmesg, and the buddy allocator's
 * invariants hold.
 */
class ShellInvariantProperties {
    private static final String[] CACHE_SPECS = {
        "c0 24", "c1 100 align=64", "c2 512 flags=SLAB_HWCACHE_ALIGN", "c3 64 flags=SLAB_RED_ZONE|SLAB_POISON",
        "c4 200 flags=SLAB_STORE_USER ctor=init:0x11", "c5 3000 sheaf_capacity=8"};

    @Provide
    Arbitrary<List<Tuple3<Integer, Integer, Integer>>> ops() {
        return Arbitraries.integers().between(0, 14).flatMap(op -> Arbitraries.integers().between(0, 1000)
                .flatMap(a -> Arbitraries.integers().between(0, 1000).map(b -> Tuple.of(op, a, b))))
            .list().ofMaxSize(120);
    }

    @Property(tries = 40)
    void randomScriptsKeepEveryInvariant(@ForAll("ops") final List<Tuple3<Integer, Integer, Integer>> ops) {
        final StringBuilder script = new StringBuilder();
        final List<String> live = new ArrayList<>();      // "kfree $vN" or "kmem_cache_free cK $vN" or pages
        final boolean[] created = new boolean[CACHE_SPECS.length];
        final List<Integer> maps = new ArrayList<>();
        int v = 0;
        for (final Tuple3<Integer, Integer, Integer> t : ops) {
            final int a = t.get2();
            final int b = t.get3();
            final int c = a % CACHE_SPECS.length;
            switch (t.get1()) {
                case 0 -> {
                    if (!created[c]) {
                        script.append("kmem_cache_create ").append(CACHE_SPECS[c]).append('\n');
                        created[c] = true;
                    }
                }
                case 1, 2 -> {
                    if (created[c]) {
                        script.append("v").append(v).append(" = kmem_cache_alloc c").append(c).append('\n');
                        live.add("kmem_cache_free c" + c + " $v" + v++);
                    }
                }
                case 3, 4 -> {
                    script.append("v").append(v).append(" = kmalloc ").append(1 + b * 9).append('\n');
                    live.add("kfree $v" + v++);
                }
                case 5 -> {
                    script.append("v").append(v).append(" = kcalloc ").append(1 + a % 8).append(' ').append(1 + b)
                        .append('\n');
                    live.add("kfree $v" + v++);
                }
                case 6 -> {
                    final int order = a % 4;
                    script.append("v").append(v).append(" = alloc_pages ").append(order).append('\n');
                    live.add("__free_pages $v" + v++ + " " + order);
                }
                case 7, 8 -> {
                    if (!live.isEmpty()) {
                        script.append(live.remove(a % live.size())).append('\n');
                    }
                }
                case 9 -> {
                    if (created[c]) {
                        script.append("kmem_cache_shrink c").append(c).append('\n');
                    }
                }
                case 10 -> {
                    if (created[c] && live.stream().noneMatch(l -> l.startsWith("kmem_cache_free c" + c + " "))) {
                        script.append("kmem_cache_destroy c").append(c).append('\n');
                        created[c] = false;
                    }
                }
                case 12 -> {
                    script.append("m").append(v).append(" = mmap(NULL, ").append(4096 * (1 + a % 8))
                        .append(", PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\n")
                        .append("touch $m").append(v).append(" w\n");
                    maps.add(v++);
                }
                case 13 -> {
                    if (!maps.isEmpty()) {
                        final int m = maps.get(a % maps.size());
                        script.append("touch $m").append(m).append(" + 4096 * 0 r\n")
                            .append("munmap($m").append(m).append(", 4096)\n");
                        maps.remove(Integer.valueOf(m));
                    }
                }
                case 14 -> {
                    if (b % 4 == 0) {
                        script.append("fork\n");
                    }
                }
                default -> {
                    // krealloc a live kmalloc object in place of the old one
                    for (int i = 0; i < live.size(); i++) {
                        final String l = live.get(i);
                        if (l.startsWith("kfree ")) {
                            script.append("v").append(v).append(" = krealloc ").append(l.substring(6)).append(' ')
                                .append(1 + b * 5).append('\n');
                            live.set(i, "kfree $v" + v++);
                            break;
                        }
                    }
                }
            }
        }
        for (int c = 0; c < CACHE_SPECS.length; c++) {
            // validate_store (6.18) accepts only debug caches; the others are validated through the API below
            if (created[c] && CACHE_SPECS[c].matches(".*SLAB_(RED_ZONE|POISON|STORE_USER).*")) {
                script.append("echo 1 > /sys/kernel/slab/c").append(c).append("/validate\n");
            }
        }
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (Kernel k = Kernel.boot("mem=64M nr_cpus=2 slab_nomerge")) {
            final Shell sh = new Shell(k, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
            final int status = sh.runScript(new BufferedReader(new StringReader(script.toString())));
            final String errors = err.toString(StandardCharsets.UTF_8);
            assertEquals("", errors, script::toString);
            assertEquals(0, status);
            for (final KmemCache cache : k.slab().caches()) {
                assertEquals(0, cache.validate(), cache.name());
            }
            assertTrue(k.log().messages().stream().noneMatch(m -> m.contains("BUG")),
                () -> String.join("\n", k.log().messages()));
            assertEquals(List.of(), k.buddy().validate());
            for (final org.mm4j.vma.Processes.Task t : k.processes().tasks()) {
                t.mm().validate();
            }
        }
    }
}
