package org.mm4j.vma;

import static org.mm4j.slab.SlabFlags.SLAB_ACCOUNT;
import static org.mm4j.slab.SlabFlags.SLAB_HWCACHE_ALIGN;
import static org.mm4j.slab.SlabFlags.SLAB_PANIC;
import static org.mm4j.slab.SlabFlags.SLAB_TYPESAFE_BY_RCU;

import org.mm4j.base.InternalApi;
import org.mm4j.base.ModelOutOfMemoryException;
import org.mm4j.page.Gfp;
import org.mm4j.slab.Ctor;
import org.mm4j.slab.KmemCache;
import org.mm4j.slab.KmemCacheArgs;
import org.mm4j.slab.Slub;

/**
 * The slab caches a process is built from, created at boot as Linux 6.18 creates them, in {@code start_kernel}'s
 * order: {@code mm_cache_init} (from {@code mm_core_init}), {@code maple_tree_init}, {@code pid_idr_init},
 * {@code anon_vma_init}, {@code cred_init}, {@code fork_init}, {@code proc_caches_init} (which ends with
 * {@code vma_state_init}). Each cache is made with the size, alignment, flags, constructor, usercopy region and
 * sheaf capacity its source passes to {@code kmem_cache_create}; the geometry (slab size, objects per slab, order)
 * is then the slab allocator's own ({@code calculate_sizes}, {@code calculate_order}), never written here.
 *
 * <p>Object sizes are those the real 6.18 capture ({@code samples/slab/kmem-sample.trace.gz}) prints as
 * {@code bytes_req} (= {@code s->object_size}) with {@code bytes_alloc} (= {@code s->size}):
 * <pre>
 *  cache            object_size size  flags (6.18 source)                         extra
 *  mm_struct        1568        1600  HWCACHE_ALIGN PANIC ACCOUNT                 usercopy saved_auxv
 *  maple_node       256         256   PANIC, align 256                            sheaf_capacity 32
 *  pid              (160)       192   HWCACHE_ALIGN PANIC ACCOUNT                 cred_jar merges into it (184)
 *  anon_vma         96          104   TYPESAFE_BY_RCU PANIC ACCOUNT               ctor anon_vma_ctor
 *  anon_vma_chain   64          64    PANIC ACCOUNT (KMEM_CACHE: align 8)         fs_cache merges into it
 *  cred_jar         (184)       -     HWCACHE_ALIGN PANIC ACCOUNT                 an alias of pid
 *  task_struct      5824        5824  PANIC ACCOUNT, align L1_CACHE_BYTES         usercopy thread.fpu
 *  sighand_cache    2080        2112  HWCACHE_ALIGN PANIC TYPESAFE_BY_RCU ACCOUNT ctor sighand_ctor
 *  signal_cache     1152        1152  HWCACHE_ALIGN PANIC ACCOUNT
 *  files_cache      704         704   HWCACHE_ALIGN PANIC ACCOUNT
 *  fs_cache         (56)        -     HWCACHE_ALIGN PANIC ACCOUNT                 an alias of anon_vma_chain
 *  vm_area_struct   192         192   HWCACHE_ALIGN PANIC TYPESAFE_BY_RCU ACCOUNT freeptr at vm_freeptr (0),
 *                                                                                 sheaf_capacity 32
 * </pre>
 * The trace names the merged caches by their first name: {@code prepare_creds} allocates from "pid" and
 * {@code copy_fs_struct} from "anon_vma_chain", which is how 6.18's {@code find_mergeable} folds {@code cred_jar}
 * and {@code fs_cache} into the caches created before them. The sizes in parentheses are not in the trace under
 * their own name and come from the 6.18 headers (x86-64, no lock debugging): {@code struct pid} with one
 * {@code upid} 160 bytes, {@code struct cred} 184 (the trace's object size of the merged "pid" cache, which the
 * alias raises to the larger of the two), {@code struct fs_struct} 56. The usercopy regions (hardened usercopy's
 * {@code useroffset}/{@code usersize}) are approximations of the 6.18 layout: {@code mm_struct.saved_auxv}
 * (AT_VECTOR_SIZE words) and the FPU register area of {@code task_struct.thread}; they only make these caches
 * unmergeable and appear in sysfs.
 *
 * <p>Allocation: {@link #alloc} is {@code kmem_cache_alloc(cache, GFP_KERNEL)} and returns 0 on failure (failslab,
 * memory exhausted), which callers turn into the kernel's -ENOMEM path. Boot-time objects (pid 1) use
 * {@code __GFP_NOFAIL}, as the kernel's init task needs no allocation to fail ({@link #allocNoFail}).
 *
 * <p>Threads: the caches are created once, at boot, before any process exists; the fields are final and the
 * caches are thread safe.
 */
public final class ProcCaches {
    /** {@code sizeof(struct mm_struct)} + cpumask + mm_cid (the trace's object_size). */
    static final int MM_STRUCT_SIZE = 1568;
    /** {@code sizeof(struct maple_node)}. */
    static final int MAPLE_NODE_SIZE = 256;
    /** {@code struct_size_t(struct pid, numbers, 1)} (6.18 headers; see the class comment). */
    static final int PID_SIZE = 160;
    /** {@code sizeof(struct anon_vma)} (trace). */
    static final int ANON_VMA_SIZE = 96;
    /** {@code sizeof(struct anon_vma_chain)} (trace). */
    static final int ANON_VMA_CHAIN_SIZE = 64;
    /** {@code sizeof(struct cred)} (the merged "pid" cache's object size in the trace). */
    static final int CRED_SIZE = 184;
    /** {@code arch_task_struct_size} on the capture machine (trace; includes the FPU state). */
    static final int TASK_STRUCT_SIZE = 5824;
    /** {@code L1_CACHE_BYTES} on x86-64: task_struct's alignment. */
    static final int L1_CACHE_BYTES = 64;
    static final int SIGHAND_SIZE = 2080;
    static final int SIGNAL_SIZE = 1152;
    static final int FILES_SIZE = 704;
    /** {@code sizeof(struct fs_struct)} (6.18 headers). */
    static final int FS_SIZE = 56;
    /** {@code sizeof(struct vm_area_struct)} (trace). */
    static final int VM_AREA_SIZE = 192;
    /** {@code sheaf_capacity} of vm_area_struct and maple_node in 6.18 ({@code vma_state_init}, maple_tree_init). */
    static final int SHEAF_CAPACITY = 32;

    final KmemCache mmStruct;
    final KmemCache mapleNode;
    final KmemCache pid;
    final KmemCache anonVma;
    final KmemCache anonVmaChain;
    final KmemCache credJar;
    final KmemCache taskStruct;
    final KmemCache sighand;
    final KmemCache signal;
    final KmemCache files;
    final KmemCache fs;
    final KmemCache vmArea;

    private ProcCaches(final Slub slab) {
        // mm_cache_init: usercopy of saved_auxv (AT_VECTOR_SIZE = 2 * (3 + 24 + 1) words)
        mmStruct = slab.kmemCacheCreate("mm_struct", MM_STRUCT_SIZE, KmemCacheArgs.DEFAULT
            .withFlags(SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT).withUsercopy(312, 448));
        // maple_tree_init: 256-byte aligned nodes, per-CPU sheaves of 32
        mapleNode = slab.kmemCacheCreate("maple_node", MAPLE_NODE_SIZE, KmemCacheArgs.DEFAULT
            .withAlign(MAPLE_NODE_SIZE).withFlags(SLAB_PANIC).withSheafCapacity(SHEAF_CAPACITY));
        // pid_idr_init: align __alignof__(struct pid)
        pid = slab.kmemCacheCreate("pid", PID_SIZE, KmemCacheArgs.DEFAULT.withAlign(8)
            .withFlags(SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT));
        // anon_vma_init
        anonVma = slab.kmemCacheCreate("anon_vma", ANON_VMA_SIZE, KmemCacheArgs.DEFAULT
            .withFlags(SLAB_TYPESAFE_BY_RCU | SLAB_PANIC | SLAB_ACCOUNT).withCtor(ANON_VMA_CTOR));
        anonVmaChain = slab.kmemCacheCreate("anon_vma_chain", ANON_VMA_CHAIN_SIZE, KmemCacheArgs.DEFAULT
            .withAlign(8).withFlags(SLAB_PANIC | SLAB_ACCOUNT));
        // cred_init
        credJar = slab.kmemCacheCreate("cred_jar", CRED_SIZE, KmemCacheArgs.DEFAULT
            .withFlags(SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT));
        // fork_init: task_struct_whitelist gives thread.fpu's register area
        taskStruct = slab.kmemCacheCreate("task_struct", TASK_STRUCT_SIZE, KmemCacheArgs.DEFAULT
            .withAlign(L1_CACHE_BYTES).withFlags(SLAB_PANIC | SLAB_ACCOUNT).withUsercopy(3264, 2560));
        // proc_caches_init
        sighand = slab.kmemCacheCreate("sighand_cache", SIGHAND_SIZE, KmemCacheArgs.DEFAULT
            .withFlags(SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_TYPESAFE_BY_RCU | SLAB_ACCOUNT).withCtor(SIGHAND_CTOR));
        signal = slab.kmemCacheCreate("signal_cache", SIGNAL_SIZE, KmemCacheArgs.DEFAULT
            .withFlags(SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT));
        files = slab.kmemCacheCreate("files_cache", FILES_SIZE, KmemCacheArgs.DEFAULT
            .withFlags(SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT));
        fs = slab.kmemCacheCreate("fs_cache", FS_SIZE, KmemCacheArgs.DEFAULT
            .withFlags(SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT));
        // vma_state_init: the free pointer stays inside the object, at vm_freeptr (offset 0)
        vmArea = slab.kmemCacheCreate("vm_area_struct", VM_AREA_SIZE, KmemCacheArgs.DEFAULT
            .withFlags(SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_TYPESAFE_BY_RCU | SLAB_ACCOUNT)
            .withFreeptrOffset(0).withSheafCapacity(SHEAF_CAPACITY));
    }

    /** {@code anon_vma_ctor}: the lock, refcount 0 and an empty interval tree (a zeroed object in the model). */
    private static final Ctor ANON_VMA_CTOR = Ctor.named("anon_vma_ctor+0x0/0x50", seg -> seg.fill((byte) 0));
    /** {@code sighand_ctor}: the siglock and the signalfd wait queue (a zeroed object in the model). */
    private static final Ctor SIGHAND_CTOR = Ctor.named("sighand_ctor+0x0/0x30", seg -> seg.fill((byte) 0));

    /**
     * Creates the process caches on {@code slab}, as boot does (the composition root calls this once, right after
     * the slab allocator is up and before the first process).
     */
    @InternalApi("org.mm4j")
    public static ProcCaches create(final Slub slab) {
        return new ProcCaches(slab);
    }

    /** {@code kmem_cache_alloc(c, GFP_KERNEL)}: the object's address, or 0 (the caller's -ENOMEM path). */
    static long alloc(final KmemCache c) {
        return c.alloc(Gfp.KERNEL);
    }

    /**
     * {@code kmem_cache_alloc(c, GFP_KERNEL | __GFP_NOFAIL)}: for what the kernel never lets fail (boot's init
     * task); the model's memory exhausted anyway is a {@link ModelOutOfMemoryException} naming the cache.
     */
    static long allocNoFail(final KmemCache c) {
        final long p = c.alloc(Gfp.KERNEL | Gfp.NOFAIL);
        if (p == 0) {
            throw new ModelOutOfMemoryException("kmem_cache_alloc(" + c.name() + ", GFP_KERNEL|__GFP_NOFAIL): "
                + "no memory for a " + c.objectSize() + "-byte object");
        }
        return p;
    }

    /** {@code kmem_cache_free(c, p)}; 0 (never allocated) is ignored. */
    static void free(final KmemCache c, final long p) {
        if (p != 0) {
            c.free(p);
        }
    }
}
