/**
 * SLUB, the slab allocator of Linux 6.18 ({@code mm/slub.c}, {@code mm/slab_common.c}, {@code mm/slab.h}), over
 * the model's physical memory, and the JVM allocator built on it. The SLUB debugging code
 * ({@code CONFIG_SLUB_DEBUG}) is the package {@code org.mm4j.slab.debug}: this package uses it, it never uses this
 * one.
 *
 * <p>Java names and the kernel symbols they model:
 * <pre>
 *  Slub                                 slab_caches, slab_mutex, kmalloc_caches (the SLUB instance of a kernel)
 *  Slub.kmemCacheCreate / Destroy       kmem_cache_create (__kmem_cache_alias, do_kmem_cache_create) / _destroy
 *  Slub.kmalloc / kfree / ksize / krealloc   __kmalloc, kfree, ksize (__ksize), krealloc (__do_krealloc)
 *  Slub.kmallocIndex / kmallocType      kmalloc_index, kmalloc_type
 *  SlabAllocator.kmallocSizeRoundup     kmalloc_size_roundup (KmallocSizeRoundup; mm/slab_common.c)
 *  SlabMerge.findMergeable / uniqueId  find_mergeable (slab_unmergeable) / create_unique_id
 *  KmemCache                            struct kmem_cache
 *  KmemCache.alloc / allocNode / free   kmem_cache_alloc / kmem_cache_alloc_node / kmem_cache_free
 *  KmemCache.slabAllocNode              slab_alloc_node (slab_pre_alloc_hook: failslab)
 *  KmemCache.allocCpuSlab               __slab_alloc_node: the lockless per-CPU freelist fast path
 *  KmemCache.postAlloc                  slab_post_alloc_hook (slab_want_init_on_alloc, maybe_wipe_obj_freeptr)
 *  KmemCache.slabFree / doSlabFree      slab_free / do_slab_free (the lockless free fast path)
 *  KmemCache.getFp / setFp              get_freepointer / set_freepointer (freelist_ptr_decode / _encode)
 *  KmemCache.lvFreelistTid ...          c->freelist + c->tid, this_cpu_cmpxchg_double (packed in one long)
 *  KmemCache.validObject                check_valid_pointer (the object-start test)
 *  KmemCache.pcpu, STRIDE, W_*          struct kmem_cache_cpu (one block per CPU slot)
 *  KmemCacheNode                        struct kmem_cache_node (list_lock, partial, full, nr_slabs)
 *  KmemCacheNode.addPartial / remove..  add_partial / remove_partial, add_full / remove_full
 *  SlabPage                             struct slab (as org.mm4j.slab.debug.DebugSlab)
 *  KmemCacheDebugView                   struct kmem_cache as the debug code reads it (DebugCache)
 *  SlubSlowPath.slabAllocSlow           __slab_alloc
 *  SlubSlowPath.slabAllocLocked         ___slab_alloc (slot lock held, word seized)
 *  SlubSlowPath.getFreelist / freezeSlab   get_freelist / freeze_slab
 *  SlubSlowPath.slabFreeSlow            __slab_free
 *  SlubPartial.getPartial / Node        get_partial / get_partial_node
 *  SlubPartial.putCpuPartial / Partials put_cpu_partial / __put_partials
 *  SlubPartial.deactivateSlab           deactivate_slab
 *  SlabPages.newSlab                    new_slab / allocate_slab (setup_slab_debug, setup_object)
 *  SlabPages.initCacheRandomSeq         init_cache_random_seq; shuffleFreelist: shuffle_freelist
 *  SlabPages.discardSlab / freeSlab     discard_slab / free_slab; incSlabsNode / decSlabsNode: inc/dec_slabs_node
 *  PcsSheaves.allocFromPcs / freeToPcs  alloc_from_pcs / free_to_pcs (barn_replace_*_sheaf)
 *  PcsSheaves.refillSheaf               refill_sheaf; flushSheafToSlabs: sheaf_flush_unused; pcsFlush: pcs_flush_all
 *  CpuSheaves                           struct slub_percpu_sheaves (main, spare, local_trylock)
 *  Sheaf                                struct slab_sheaf; barnNext: barn_list
 *  Barn                                 struct node_barn (sheaves_full / sheaves_empty as intrusive stacks)
 *  SlabAllocator.sheafCapacityFor       calculate_sheaf_capacity (x2, at least 32: the JVM threads' departure)
 *  SlubBulk.allocBulk / freeBulk        kmem_cache_alloc_bulk / kmem_cache_free_bulk
 *  SlubBulk.allocBulkUnchecked          __kmem_cache_alloc_bulk (phys addresses, no checks, no hooks)
 *  SlubBulk.freeBulkUnchecked           __kmem_cache_free_bulk (build_detached_freelist)
 *  SlubShrink.flushAll / flushCpuSlab   flush_all / __flush_cpu_slab
 *  SlubShrink.doShrink / shutdown       __kmem_cache_do_shrink / __kmem_cache_shutdown (list_slab_objects)
 *  SlubValidate.validate                validate_slab_cache (validate_slab, validate_slab_node)
 *  SlabCounters.stat / countPartial     stat_item sums (CONFIG_SLUB_STATS), count_partial, cpu_slabs
 *  StatItem                             enum stat_item
 *  DoubleFreeGuard.doubleFree           set_freepointer's BUG_ON(object == fp); the rest is mm4j's refusal
 *  SlubDebugSupport                     alloc_single_from_partial, alloc_single_from_new_slab,
 *                                       free_to_partial_list, alloc_traces / free_traces, get_orig_size users
 *  SlubDebugOptions                     slub_debug= (setup_slub_debug), kmem_cache_flags, slab_want_init_on_*
 *  Geometry                             calculate_sizes / calculate_order / oo_make
 *  KmemCacheArgs, Ctor                  struct kmem_cache_args, the constructor (ctor)
 *  SlabFlags                            slab_flags_t (SLAB_*)
 *  SlabRandom                           get_random_* for SLAB_FREELIST_RANDOM / _HARDENED
 *  SlubSysfs                            /sys/kernel/slab/CACHE/*, /proc/slabinfo
 *  Failslab.failNext                    (mm4j) the next N allocations of a cache fail (failslab's knobs set)
 *  KmemCache.failslab                   SLAB_FAILSLAB (/sys/kernel/slab/CACHE/failslab, slub_debug=A)
 *  Failslab                             mm/failslab.c (should_failslab)
 *  Kmemleak                             mm/kmemleak.c (kmemleak_alloc/_free, kmemleak_scan, debugfs file)
 *  Kmemleak.KmemleakObject              struct kmemleak_object
 *  Kmemleak.alloc / free                kmemleak_alloc / kmemleak_free (slab_post_alloc_hook, slab_free_hook)
 *  Kmemleak.notLeak / ignore            kmemleak_not_leak / kmemleak_ignore (paint grey / black)
 *  Kmemleak.scanIfDue                   (mm4j) kmemleak_scan_thread's wait, on the model's clock
 *  SlabAllocator, ThreadSheafRegistry   (mm4j) the JVM allocator: per-thread sheaves over the caches
 *  SheafUsage                           (mm4j) objects parked in sheaves and their bound
 *  SlabIndex                            (mm4j) per-pfn cache id, objects and head offset for the JVM allocator's
 *                                       free fast path (the kernel reads compound_head and the slab's page)
 *  FreeMarks                            (mm4j) a byte per object beside mem_map: free or not, the state of
 *                                       DoubleFreeGuard (the kernel keeps no such state without slub_debug)
 * </pre>
 *
 * <p>Naming: the kernel's {@code __foo} is {@code fooLocked} when the caller must hold a lock (asserted), and
 * {@code fooUnchecked} when it skips the plain function's checks. The two slow-path entries the kernel spells
 * {@code __slab_alloc} and {@code __slab_free} (they take their own locks) are {@code slabAllocSlow} and
 * {@code slabFreeSlow}; {@code ___slab_alloc}, which runs with the slot lock held, is {@code slabAllocLocked}.
 * Accessors of packed words use JCTools' prefixes: {@code lv} volatile load, {@code sv} volatile store,
 * {@code cas}, {@code la} acquire load ({@link org.mm4j.page.MemMap} for the slab word, {@code KmemCache} for
 * the per-CPU word). Helper classes of {@code KmemCache} are package-private and take the cache as their first
 * argument, as the kernel's functions take {@code struct kmem_cache *s}.
 *
 * <p>Threads and locks. Lock order: 1. {@code slab_mutex} (the {@code Slub} monitor), 2. a CPU slot's lock
 * ({@code local_lock} of {@code kmem_cache_cpu}), 3. a node's {@code list_lock}, 4. a barn's lock; the per-CPU
 * sheaves' try-lock is taken before 2. The fast paths take no lock: they read the slot's {freelist, tid} word
 * and {@code c->slab} and finish with one CAS on the word. Several Java threads share a CPU slot
 * ({@link org.mm4j.base.CpuSlots}), so a slow path holding the slot lock seizes the word (LOCKED bit) and
 * publishes it again when done; fast frees that meet LOCKED take {@code __slab_free}. A slab's word
 * ({@code freelist | inuse | objects | frozen}) changes by CAS only; node lists and {@code ON_PARTIAL} only under
 * {@code list_lock}; a CPU partial list only under its slot lock. Debug caches use no lockless path: everything
 * happens under {@code list_lock}. Each lock a method assumes is asserted ({@code assert
 * lock.isHeldByCurrentThread()}, as the kernel's {@code lockdep_assert_held}; tests run with {@code -ea}).
 *
 * <p>The ABA window of the per-CPU word. Linux compares {freelist, tid} with a double-word cmpxchg and a full
 * {@code unsigned long} tid; Java has no 128-bit CAS, so mm4j packs both into one long and trades tid bits for
 * reference bits as {@code mem=} grows (T tid bits, {@code KmemCache.tidBits}). Every operation on a slot
 * advances its tid by {@code TID_STEP} (a seize/release pair too), so the counter has T-1 bits and repeats after
 * 2^(T-1) operations on that slot. A stale CAS succeeds wrongly only if its thread stalls between reading the
 * word and its CAS while that very slot runs exactly a multiple of 2^(T-1) operations and ends on the same
 * freelist head: at the 1 TiB maximum (T = 27) that is 2^26 (67 million) operations, 2^28 at 256 GiB, at least
 * 2^31 up to 32 GiB (today's default keeps more). A 32-bit Linux kernel with CONFIG_PREEMPTION accepts less: its
 * 32-bit tid advances by {@code TID_STEP = roundup_pow_of_two(NR_CPUS)} (256 with the reference config), wrapping
 * after 2^24 operations per CPU. {@code KmemCache.MIN_TID_BITS} holds the floor, and {@code BootParams.MAX_MEM}
 * stays within it.
 *
 * <p>Errors. Inside the model the kernel's conventions hold: an allocation that finds no memory returns 0 (NULL)
 * after the kernel's "SLUB: Unable to allocate memory" report (none with {@code __GFP_NOWARN}); corruption found
 * on the way (a corrupt free pointer, a slab whose counts do not add up, a double free) is reported in dmesg as
 * {@code slab_err}/{@code object_err} would, with the kernel's repairs. At the Java API boundary a call that
 * cannot be carried out throws: {@link java.lang.IllegalArgumentException} for bad arguments and for pointers
 * that are not an object of the cache ("kmem_cache_free(CACHE, 0x...): not in a slab page", "CACHE: invalid
 * object pointer 0x..."), {@link java.lang.IllegalStateException} for a refused double free or a use after
 * {@code kmem_cache_destroy} (naming the cache and the address), {@code SlubDebugException} in strict debug
 * mode, and {@link org.mm4j.base.ModelOutOfMemoryException} (never a JVM {@code Error}) when the JVM allocator's
 * {@code allocate} finds the model's memory exhausted.
 */
package org.mm4j.slab;
