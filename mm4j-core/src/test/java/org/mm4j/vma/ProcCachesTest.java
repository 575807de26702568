package org.mm4j.vma;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mm4j.Kernel;
import org.mm4j.slab.KmemCache;
import org.mm4j.slab.Kmemleak;
import org.mm4j.slab.SlabFlags;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.mm4j.testing.Prerequisite.requireOrSkip;

/**
 * Processes built from the 6.18 slab caches (issue 15): the caches' geometry against the real 6.18 trace, and the
 * objects every address-space operation allocates and frees, counted by the kernel's rules (mm/vma.c, mm/rmap.c,
 * kernel/fork.c). Counts are {@link KmemCache#activeObjects()}: the objects callers hold (slabinfo's active_objs
 * also counts the free objects of CPU slabs and sheaves, as SLUB's does).
 */
class ProcCachesTest {
    static final int RW = Mman.PROT_READ | Mman.PROT_WRITE;
    static final int ANON_FIXED = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED;
    static final long A = 0x10000000L;
    static final String[] CACHES = {"vm_area_struct", "maple_node", "mm_struct", "task_struct", "anon_vma",
        "anon_vma_chain", "pid", "files_cache", "signal_cache", "sighand_cache"};
    private Kernel k;
    private Processes ps;

    @BeforeEach
    void boot() {
        k = Kernel.boot("mem=64M nr_cpus=2 norandmaps");
        ps = k.processes();
    }

    @AfterEach
    void close() {
        k.close();
    }

    private KmemCache cache(final String name) {
        final KmemCache c = k.slab().findCache(name);
        assertNotNull(c, name);
        return c;
    }

    private long held(final String name) {
        return cache(name).activeObjects();
    }

    private Map<String, Long> snapshot() {
        final Map<String, Long> m = new LinkedHashMap<>();
        for (final String n : CACHES) {
            m.put(n, held(n));
        }
        return m;
    }

    /** Every VMA of every process is one vm_area_struct; every maple node one maple_node object. */
    private void assertObjectsMatchTheProcesses() {
        long vmas = 0;
        for (final Processes.Task t : ps.tasks()) {
            vmas += t.mm().mapCount();
        }
        assertEquals(vmas, held("vm_area_struct"), "vm_area_struct objects = VMAs of all processes");
        assertEquals(ps.mapleNodesInUse(), held("maple_node"), "maple_node objects = nodes of all maple trees");
        assertEquals(ps.tasks().size(), held("task_struct"));
        assertEquals(ps.tasks().size(), held("mm_struct"));
    }

    /** The fixture: name, bytes_req, bytes_alloc of the trace's kmem_cache_alloc events. */
    private static Map<String, int[]> fixture() throws IOException {
        final Map<String, int[]> m = new TreeMap<>();
        try (InputStream in = ProcCachesTest.class.getResourceAsStream("proc-caches-6.18.tsv");
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String l = r.readLine(); l != null; l = r.readLine()) {
                if (!l.startsWith("#")) {
                    final String[] f = l.split("\t");
                    m.put(f[0], new int[] {Integer.parseInt(f[1]), Integer.parseInt(f[2])});
                }
            }
        }
        return m;
    }

    @Test
    void everyCacheHasTheObjectSizeAndSizeOfTheRealTrace() throws IOException {
        final Map<String, int[]> fx = fixture();
        assertEquals(CACHES.length, fx.size());
        for (final Map.Entry<String, int[]> e : fx.entrySet()) {
            final KmemCache c = cache(e.getKey());
            assertEquals(e.getValue()[0], c.objectSize(), e.getKey() + " object_size (bytes_req)");
            assertEquals(e.getValue()[1], c.size(), e.getKey() + " size (bytes_alloc)");
        }
        // the trace names prepare_creds' and copy_fs_struct's objects "pid" and "anon_vma_chain": merged caches
        assertSame(cache("pid"), cache("cred_jar"));
        assertSame(cache("anon_vma_chain"), cache("fs_cache"));
        assertEquals(32, cache("vm_area_struct").sheafCapacity());
        assertEquals(32, cache("maple_node").sheafCapacity());
        assertEquals(256, cache("maple_node").align());
        assertTrue((cache("vm_area_struct").flags() & SlabFlags.SLAB_TYPESAFE_BY_RCU) != 0);
        assertEquals(0, cache("vm_area_struct").offset(), "free pointer at vm_freeptr, inside the object");
        assertTrue((cache("anon_vma").flags() & SlabFlags.SLAB_TYPESAFE_BY_RCU) != 0);
        assertNotNull(cache("anon_vma").ctor());
        assertNotNull(cache("sighand_cache").ctor());
        assertTrue(cache("mm_struct").usersize() > 0 && cache("task_struct").usersize() > 0);
        for (final String n : CACHES) {
            assertTrue((cache(n).flags() & SlabFlags.SLAB_PANIC) != 0, n);
            assertTrue(k.procfs().read("/proc/slabinfo").contains("\n" + String.format("%-17s", n)), n);
        }
        assertEquals("32\n", k.procfs().read("/sys/kernel/slab/vm_area_struct/sheaf_capacity"));
    }

    private static final Pattern ALLOC = Pattern.compile(
        "kmem_cache_alloc: .* name=(\\S+) bytes_req=(\\d+) bytes_alloc=(\\d+)");

    @Test
    void theFixtureIsWhatTheSharedTraceSays() throws IOException {
        final Path p = Path.of("../../shared/samples/slab/kmem-sample.trace.gz");
        final Path q = Path.of("../shared/samples/slab/kmem-sample.trace.gz");
        final Path f = Files.exists(p) ? p : q;
        requireOrSkip(Files.exists(f), f + " absent");
        final Map<String, int[]> fx = fixture();
        final Map<String, int[]> seen = new TreeMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(f)),
            StandardCharsets.ISO_8859_1))) {
            for (String l = r.readLine(); l != null; l = r.readLine()) {
                final Matcher m = ALLOC.matcher(l);
                if (m.find() && fx.containsKey(m.group(1))) {
                    final int[] v = {Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))};
                    final int[] old = seen.putIfAbsent(m.group(1), v);
                    assertTrue(old == null || (old[0] == v[0] && old[1] == v[1]), l);
                }
            }
        }
        assertEquals(fx.keySet(), seen.keySet());
        fx.forEach((n, v) -> assertEquals(v[0] + "/" + v[1], seen.get(n)[0] + "/" + seen.get(n)[1], n));
    }

    @Test
    void splitAllocatesAVmaAndMergeFreesOne() {
        final MmStruct mm = ps.currentMm();
        assertObjectsMatchTheProcesses();
        final long v0 = held("vm_area_struct");
        assertEquals(A, mm.mmap(A, 3 * 4096, Mman.PROT_READ, ANON_FIXED, null, 0));
        assertEquals(v0 + 1, held("vm_area_struct"), "vm_area_alloc");
        assertEquals(0, mm.mprotect(A + 4096, 4096, RW));
        assertEquals(v0 + 3, held("vm_area_struct"), "two __split_vma: two vm_area_dup");
        assertObjectsMatchTheProcesses();
        assertEquals(0, mm.mprotect(A + 4096, 4096, Mman.PROT_READ));
        assertEquals(v0 + 1, held("vm_area_struct"), "a three-way merge frees middle and next");
        assertEquals(0, mm.munmap(A + 4096, 4096));
        assertEquals(v0 + 2, held("vm_area_struct"), "munmap of the middle: one split");
        assertEquals(0, mm.munmap(A, 3 * 4096));
        assertEquals(v0, held("vm_area_struct"));
        assertObjectsMatchTheProcesses();
    }

    @Test
    void aFirstWriteFaultMakesAnAnonVmaAndAChainAndSplitsCloneTheChain() {
        final MmStruct mm = ps.currentMm();
        final Map<String, Long> s0 = snapshot();
        assertEquals(A, mm.mmap(A, 3 * 4096, RW, ANON_FIXED, null, 0));
        mm.writeUser(A, (byte) 1);
        assertEquals(s0.get("anon_vma") + 1, held("anon_vma"), "__anon_vma_prepare: anon_vma_alloc");
        assertEquals(s0.get("anon_vma_chain") + 1, held("anon_vma_chain"), "__anon_vma_prepare: one chain");
        mm.writeUser(A + 4096, (byte) 1);
        assertEquals(s0.get("anon_vma") + 1, held("anon_vma"), "the VMA has its anon_vma already");
        assertEquals(0, mm.mprotect(A + 4096, 4096, Mman.PROT_READ));
        assertEquals(s0.get("anon_vma_chain") + 3, held("anon_vma_chain"), "anon_vma_clone per split");
        assertEquals(s0.get("anon_vma") + 1, held("anon_vma"), "the pieces share the anon_vma");
        assertEquals(0, mm.munmap(A, 3 * 4096));
        assertEquals(s0, snapshot(), "unlink_anon_vmas: the last chain puts the anon_vma");
    }

    @Test
    void mremapMovesByCopyVmaAndBrkAllocatesOnceThenExpands() {
        final MmStruct mm = ps.currentMm();
        assertEquals(A, mm.mmap(A, 4096, RW, ANON_FIXED, null, 0));
        mm.writeUser(A, (byte) 3);
        final Map<String, Long> s0 = snapshot();
        final long to = A + 0x100000;
        assertEquals(to, mm.mremap(A, 4096, 4096, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, to));
        assertEquals(s0, snapshot(), "copy_vma: vm_area_dup + anon_vma_clone, then the source's VMA and chain go");
        assertEquals(3, mm.readUser(to));
        k.slab().failslab().failNext(cache("vm_area_struct"), 1);
        final String maps = mm.maps();
        assertEquals(-Errno.ENOMEM, mm.mremap(to, 4096, 4096, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, A));
        assertEquals(maps, mm.maps(), "copy_vma failed: nothing moved");
        assertEquals(s0, snapshot());
        final long brk0 = mm.brkValue();
        assertEquals(brk0 + 4096, mm.brk(brk0 + 4096));
        assertEquals(s0.get("vm_area_struct") + 1, held("vm_area_struct"), "do_brk_flags: a new heap VMA");
        assertEquals(brk0 + 8192, mm.brk(brk0 + 8192));
        assertEquals(s0.get("vm_area_struct") + 1, held("vm_area_struct"), "then vma_expand");
        assertObjectsMatchTheProcesses();
    }

    @Test
    void forkAllocatesWhatCopyProcessAllocatesAndExitReturnsIt() {
        final MmStruct mm = ps.currentMm();
        assertEquals(A, mm.mmap(A, 2 * 4096, RW, ANON_FIXED, null, 0));
        mm.writeUser(A, (byte) 7);
        final Map<String, Long> s0 = snapshot();
        long anonVmas = 0;
        long chains = 0;
        for (final Vma v : mm.vmas()) {
            if (v.anonVma != null) {
                anonVmas++;                  // anon_vma_fork: a new anon_vma per VMA
                chains += v.avcs.size() + 1; // anon_vma_clone of the parent's chains, then one more
            }
        }
        assertTrue(anonVmas >= 2, "the stack and the written mapping");
        final int child = ps.fork();
        assertTrue(child > 1);
        final Map<String, Long> s1 = snapshot();
        assertEquals(s0.get("task_struct") + 1, s1.get("task_struct"));
        assertEquals(s0.get("mm_struct") + 1, s1.get("mm_struct"));
        assertEquals(s0.get("signal_cache") + 1, s1.get("signal_cache"));
        assertEquals(s0.get("sighand_cache") + 1, s1.get("sighand_cache"));
        assertEquals(s0.get("files_cache") + 1, s1.get("files_cache"));
        assertEquals(s0.get("pid") + 2, s1.get("pid"), "alloc_pid and prepare_creds (cred_jar merged into pid)");
        assertEquals(s0.get("anon_vma") + anonVmas, s1.get("anon_vma"));
        assertEquals(s0.get("anon_vma_chain") + chains + 1, s1.get("anon_vma_chain"), "+1: copy_fs_struct");
        assertEquals(s0.get("vm_area_struct") + ps.get(child).mm().mapCount(), s1.get("vm_area_struct"));
        assertObjectsMatchTheProcesses();
        ps.exit(child);
        assertEquals(s0, snapshot(), "exit returns every object");
        assertObjectsMatchTheProcesses();
    }

    @Test
    void aFailedAnonVmaPrepareIsVmFaultOomAndTheAccessIsRetried() {
        final MmStruct mm = ps.currentMm();
        assertEquals(A, mm.mmap(A, 4096, RW, ANON_FIXED, null, 0));
        final Map<String, Long> s0 = snapshot();
        k.slab().failslab().failNext(cache("anon_vma"), 1);
        mm.writeUser(A, (byte) 9); // anon_vma_alloc fails once: pagefault_out_of_memory, then the retry succeeds
        assertEquals(9, mm.readUser(A));
        assertTrue(k.log().lines().stream().anyMatch(
            l -> l.contains("Huh VM_FAULT_OOM leaked out to the #PF handler. Retrying PF")), k.log().lines().toString());
        assertEquals(s0.get("anon_vma") + 1, held("anon_vma"), "one anon_vma, the failed attempt gave its chain back");
        assertEquals(s0.get("anon_vma_chain") + 1, held("anon_vma_chain"));
    }

    @Test
    void anOomKilledChildGivesItsObjectsBack() {
        k.procfs().write("/proc/sys/vm/overcommit_memory", "1"); // map more than RAM, as OOM tests on Linux do
        final MmStruct init = ps.currentMm();
        final Map<String, Long> s0 = snapshot();
        final int child = ps.fork();
        assertTrue(child > 1);
        ps.switchTo(child);
        assertTrue(ps.currentMm().mmap(0, 8L << 20, RW, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_POPULATE,
            null, 0) > 0);
        ps.switchTo(1);
        assertTrue(init.mmap(0, 128L << 20, RW, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_POPULATE, null, 0)
            > 0, "MAP_POPULATE is best effort");
        assertEquals(null, ps.get(child), "the OOM killer took the child");
        for (final String n : new String[] {"task_struct", "mm_struct", "pid", "files_cache", "signal_cache",
            "sighand_cache"}) {
            assertEquals(s0.get(n), held(n), n + ": the victim's objects went back");
        }
        assertObjectsMatchTheProcesses();
    }

    @Test
    void failslabOnVmAreaStructIsEnomemWithTheAddressSpaceUnchanged() {
        final MmStruct mm = ps.currentMm();
        assertEquals(A, mm.mmap(A, 3 * 4096, Mman.PROT_READ, ANON_FIXED, null, 0));
        final String maps = mm.maps();
        final Map<String, Long> s0 = snapshot();
        final KmemCache vmas = cache("vm_area_struct");
        k.slab().failslab().failNext(vmas, 1);
        assertEquals(-Errno.ENOMEM, mm.mmap(A + 0x100000, 4096, RW, ANON_FIXED, null, 0), "vm_area_alloc failed");
        k.slab().failslab().failNext(vmas, 1);
        assertEquals(-Errno.ENOMEM, mm.mprotect(A + 4096, 4096, RW), "__split_vma: vm_area_dup failed");
        k.slab().failslab().failNext(vmas, 1);
        assertEquals(-Errno.ENOMEM, mm.mmap(A + 4096, 4096, RW, ANON_FIXED, null, 0), "MAP_FIXED over the middle");
        k.slab().failslab().failNext(vmas, 1);
        assertEquals(-Errno.ENOMEM, mm.munmap(A + 4096, 4096), "munmap's split");
        k.slab().failslab().failNext(vmas, 1);
        assertEquals(-Errno.ENOMEM, ps.fork(), "dup_mmap: vm_area_dup failed");
        k.slab().failslab().failNext(cache("task_struct"), 1);
        assertEquals(-Errno.ENOMEM, ps.fork(), "dup_task_struct failed");
        assertEquals(maps, mm.maps());
        mm.validate();
        assertEquals(1, ps.tasks().size());
        assertEquals(s0, snapshot(), "every failed call gave back what it had");
        assertObjectsMatchTheProcesses();
    }

    @Test
    void maplePreallocationFailingIsEnomemBeforeAnythingChanges() {
        final MmStruct mm = ps.currentMm();
        assumeTrue(mm.vmaStore() == VmaStore.Kind.MAPLE, "the rbtree store has no nodes to preallocate");
        assertEquals(A, mm.mmap(A, 3 * 4096, Mman.PROT_READ, ANON_FIXED, null, 0));
        final String maps = mm.maps();
        final Map<String, Long> s0 = snapshot();
        final KmemCache nodes = cache("maple_node");
        k.slab().failslab().failNext(nodes, 1);
        assertEquals(-Errno.ENOMEM, mm.mmap(A + 0x100000, 4096, RW, ANON_FIXED, null, 0), "mas_preallocate failed");
        k.slab().failslab().failNext(nodes, 1);
        assertEquals(-Errno.ENOMEM, mm.mprotect(A + 4096, 4096, RW));
        k.slab().failslab().failNext(nodes, 1);
        assertEquals(-Errno.ENOMEM, mm.munmap(A, 4096));
        final long brk = mm.brkValue();
        k.slab().failslab().failNext(nodes, 1);
        assertEquals(brk, mm.brk(brk + 4096), "brk's failure: the break stays");
        assertEquals(maps, mm.maps());
        assertEquals(s0, snapshot());
        // a later failure in the middle of the reserve gives back the nodes already taken
        k.slab().failslab().failNext(nodes, 0);
        assertEquals(0, mm.mprotect(A + 4096, 4096, RW));
        assertObjectsMatchTheProcesses();
    }

    @Test
    void aCleanProcessTreeIsNoLeakToKmemleak() {
        k.close();
        k = Kernel.boot("mem=64M nr_cpus=2 norandmaps kmemleak=on");
        ps = k.processes();
        final MmStruct mm = ps.currentMm();
        assertEquals(A, mm.mmap(A, 3 * 4096, RW, ANON_FIXED, null, 0));
        mm.writeUser(A, (byte) 1);
        assertEquals(0, mm.mprotect(A + 4096, 4096, Mman.PROT_READ));
        final int child = ps.fork();
        assertTrue(child > 1);
        final Kmemleak kl = k.slab().kmemleak();
        k.jiffies().sleep(Kmemleak.MSECS_MIN_AGE);
        assertEquals(0, kl.scan());
        assertEquals(0, kl.scan());
        assertEquals("", kl.show());
        ps.exit(child);
        assertEquals(0, kl.scan());
        assertEquals("", kl.show());
    }
}
