package org.mm4j.cli;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mm4j.Kernel;
import org.mm4j.slab.KmemCache;
import org.mm4j.trace.kmem.KmemEvent;
import org.mm4j.trace.kmem.KmemReplayer;
import org.mm4j.trace.kmem.KmemTraceReader;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bundled real trace replayed with full SLUB debugging (consistency checks, red zones, poisoning, owner
 * tracking) on every cache: the replay never frees what it did not allocate, never frees twice, never writes
 * outside an object (kmalloc red zones past orig_size included), and leaves every cache and the buddy allocator
 * consistent.
 */
class ReplayIntegrityTest {
    @ParameterizedTest
    @ValueSource(strings = {"slub_debug=FZPU",
        "slub_debug=FZPU,buffer_head,dentry,vm_area_struct,maple_node,filp,names_cache,anon_vma_chain"})
    void bundledTraceUnderSlubDebugLeavesNoReport(final String debug) throws IOException {
        try (Kernel k = Kernel.boot("mem=512M nr_cpus=2 slab_nomerge " + debug);
             KmemTraceReader r = new KmemTraceReader(ReplayKmemCommand.open(null).stream(), (line, msg) -> {
                 throw new AssertionError(line + ": " + msg);
             })) {
            final KmemReplayer rp = new KmemReplayer(k.params(), k.buddy(), k.slab(), k.cpus());
            final KmemEvent ev = new KmemEvent();
            while (r.next(ev)) {
                rp.replay(ev);
            }
            assertEquals(100_000, rp.events());
            // the debug options really applied to the caches the trace made
            assertEquals("1", k.procfs().read("/sys/kernel/slab/dentry/poison").strip());
            assertEquals(debug.contains("Z") ? "1" : "0", k.procfs().read("/sys/kernel/slab/dentry/red_zone").strip());
            assertTrue(rp.liveObjects() > 0);
            final List<String> bugs = k.log().messages().stream().filter(m -> m.contains("BUG")).toList();
            assertEquals(List.of(), bugs);
            for (final KmemCache c : k.slab().caches()) {
                assertEquals(0, c.validate(), c.name());
            }
            assertEquals(List.of(), k.buddy().validate());
        }
    }
}
