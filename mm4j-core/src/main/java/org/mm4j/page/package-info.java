/**
 * Physical memory and the buddy page allocator of Linux 6.18 ({@code mm/page_alloc.c}, {@code mm/mm_init.c},
 * {@code mm/vmstat.c}, {@code fs/proc/meminfo.c}).
 *
 * <p>What users call: {@link org.mm4j.page.BuddyAllocator} (allocation, free, references, drains, sysctls,
 * validation), {@link org.mm4j.page.Gfp}, {@link org.mm4j.page.MigrateType}, {@link org.mm4j.page.Zone} (read-only
 * views), {@link org.mm4j.page.VmStat}, {@link org.mm4j.page.PhysicalMemory}, the read side of
 * {@link org.mm4j.page.MemMap} (flags, refcount, mapcount, order, compound head) and {@link org.mm4j.page.PageProc}.
 * Everything else is package-private; members of {@code MemMap} marked "internal: for org.mm4j.slab/vma" are
 * public only because those packages keep their own fields in {@code struct page}.
 *
 * <p>Error convention, the kernel's inside the model: an allocation with no page returns -1 (the NULL pfn: pfn 0
 * is a real, reserved page) or kernel address 0 ({@code __get_free_pages}) and, unless {@code __GFP_NOWARN}, logs
 * {@code warn_alloc}'s "page allocation failure" with {@code show_mem}; misuse (double free, a tail page, a wrong
 * order, a page someone still owns) logs "BUG: Bad page state" with a {@code dump_page} and is refused before any
 * state changes (false, or -1 from {@code get_page}). Nothing in this package throws for exhaustion, least of all
 * a JVM {@link java.lang.Error} such as {@link java.lang.OutOfMemoryError}. At the Java API boundary, bad
 * arguments (a sysctl value, {@code split_page} of something else, boot options) throw
 * {@link java.lang.IllegalArgumentException} naming the value at fault ({@code "name=value (expected: ...)"}); a
 * host that cannot reserve the memory throws {@link org.mm4j.page.Reservation.ReservationException} at boot.
 *
 * <p>Naming: the kernel's {@code __foo} becomes {@code fooLocked} when the caller holds the lock
 * ({@code __rmqueue} is {@code rmqueueLocked}: zone lock) and {@code fooUnchecked} when it skips checks
 * ({@code linkFreeUnchecked} skips the deferred-tail check). Where the kernel's {@code __} only names the inner
 * function of an API ({@code __free_pages}, {@code __get_free_pages}, {@code __alloc_pages_slowpath},
 * {@code __zone_watermark_ok}, {@code __show_mem}), the Java name drops it. Locks a method needs are asserted
 * ({@code assert z.lock.isHeldByCurrentThread()}, {@code assert pcp.isHeldByCurrentThread()},
 * {@code assert Thread.holdsLock(buddy)} for the setup lock; tests run with {@code -ea}); lock order: pcp lock,
 * then zone lock, never two of either.
 *
 * <p>Java names and the kernel symbols they model:
 * <pre>
 *  PhysicalMemory.pageAddress / virtToPfn        page_address / virt_to_pfn (PAGE_OFFSET 0xffff888000000000)
 *  Reservation.reserve                           (host) mmap(MAP_NORESERVE): lazily committed memory
 *  Reservation.adviseHugePages                   (host) madvise(MADV_HUGEPAGE / MADV_NOHUGEPAGE), mm4j.thp=
 *  PhysicalMemory.HugePages                      (host) THP for the model's memory; Linux maps the direct map
 *                                                with 2M/1G pages (probe_page_size_mask, split_mem_range)
 *  MemMap                                        mem_map, struct page (64 bytes per page, off heap)
 *  MemMap.flags / test / setFlag / clearFlag     page->flags, PageFoo / SetPageFoo / ClearPageFoo (set_bit)
 *  MemMap.refcount / casRefcount / soRefcount    page_ref_count, page_ref_inc / put_page_testzero, set_page_count
 *  MemMap.mapcount                               page_mapcount (_mapcount)
 *  MemMap.compoundHead / compoundOrder           compound_head / compound_order
 *  MemMap.privateWord                            page->private (buddy order; tail: the head pfn)
 *  MemMap.lruNext / lruPrev                      page->lru (buddy_list, pcp_list)
 *  PageList.addHead / addTail / unlink           list_add / list_add_tail / list_del
 *  Gfp, Gfp.migratetype                          gfp_t (___GFP_*), gfp_migratetype
 *  MigrateType, MigrateType.FALLBACKS            enum migratetype, fallbacks[]
 *  Zone, Zone.freeHead/freeTail/nrFree           struct zone, free_area[order].free_list[mt] / nr_free
 *  Zone.pageblockMigratetype                     get_pfnblock_migratetype (pageblock_order 9)
 *  Zone.lock                                     zone->lock
 *  Pcp, Pcp.tryLock / lock / unlock              struct per_cpu_pages, pcp_spin_trylock / pcp_spin_lock
 *  Pcp.pindex / pindexToOrder                    order_to_pindex / pindex_to_order
 *  BuddyAllocator                                the allocator's state and entry points (one per machine)
 *  BuddyAllocator.allocPages / allocPagesNode    alloc_pages / alloc_pages_node
 *  BuddyAllocator.getFreePages                   __get_free_pages
 *  BuddyAllocator.freePages / freePage           __free_pages / __free_page
 *  BuddyAllocator.freePagesAddr                  free_pages
 *  BuddyAllocator.freePagesUnwritten             (mm4j) __free_pages by an owner that never wrote the block
 *  BuddyAllocator.getPage / putPage / pageCount  get_page / put_page / page_count
 *  BuddyAllocator.splitPage                      split_page
 *  BuddyAllocator.drainPagesZone / drainAllPages drain_pages_zone / drain_all_pages
 *  BuddyAllocator.drainLocalPages                drain_local_pages
 *  BuddyAllocator.statRefresh                    vm.stat_refresh (refresh_cpu_vm_stats)
 *  BuddyAllocator.zoneOf / cpuToNode             page_zone / cpu_to_node
 *  BuddyAllocator.mobilityDisabled               page_group_by_mobility_disabled
 *  BuddyAllocator.setOomHandler                  out_of_memory (the hook __alloc_pages_may_oom calls)
 *  BuddyAllocator.zoneEvents / foldVmstat        the zone's vm events, fold_vm_zone_numa_events
 *  MmInit.createZones                            free_area_init with zone_sizes_init's max_zone_pfns
 *                                                (ZONE_DMA &lt; MAX_DMA_PFN, ZONE_DMA32 &lt; MAX_DMA32_PFN, ZONE_NORMAL)
 *  MmInit.printZoneRanges                        free_area_init's "Zone ranges:" lines
 *  MmInit.buildZonelists                         build_zonelists
 *  MmInit.freeAllMemory                          memblock_free_all (__free_pages_core)
 *  MmInit.initDeferred / initDeferredLocked      deferred_init_memmap (CONFIG_DEFERRED_STRUCT_PAGE_INIT)
 *  Watermarks.initPerZoneWmarkMin                init_per_zone_wmark_min
 *  Watermarks.setMinFreeKbytes ...               min_free_kbytes_sysctl_handler, watermark_scale_factor_...,
 *                                                percpu_pagelist_high_fraction_sysctl_handler
 *  Watermarks.setupPerZoneWmarks                 setup_per_zone_wmarks (__setup_per_zone_wmarks)
 *  Watermarks.setupPerZoneLowmemReserve          setup_per_zone_lowmem_reserve, calculate_totalreserve_pages
 *  Watermarks.setLowmemReserveRatio              lowmem_reserve_ratio_sysctl_handler (sysctl_lowmem_reserve_ratio)
 *  Watermarks.zoneBatchsize / zoneHighsize       zone_batchsize / zone_highsize
 *  Watermarks.zoneSetPagesetHighAndBatch         zone_set_pageset_high_and_batch
 *  Watermarks.zoneWatermarkOk / Fast             __zone_watermark_ok / zone_watermark_fast
 *  Watermarks.ALLOC_*                            ALLOC_* of mm/internal.h
 *  PageAlloc.allocPagesNode                      __alloc_pages (__alloc_frozen_pages)
 *  PageAlloc.gfpZone / GFP_ZONE_TABLE            gfp_zone / GFP_ZONE_TABLE (include/linux/gfp.h)
 *  PageAlloc.allocFlagsNofragment                alloc_flags_nofragment
 *  PageAlloc.getPageFromFreelist                 get_page_from_freelist
 *  PageAlloc.allocPagesSlowpath                  __alloc_pages_slowpath (no LRU: only the drain-and-retry part)
 *  PageAlloc.gfpToAllocFlags / mayOom            gfp_to_alloc_flags / __alloc_pages_may_oom's conditions
 *  PageAlloc.prepNewPage                         prep_new_page
 *  PageAlloc.reserve/unreserveHighatomicPageblock  reserve_highatomic_pageblock / unreserve_highatomic_pageblock
 *  Rmqueue.rmqueue / rmqueueBuddy                rmqueue / rmqueue_buddy
 *  Rmqueue.rmqueuePcplist / rmqueueBulk          rmqueue_pcplist / rmqueue_bulk, nr_pcp_alloc
 *  Rmqueue.rmqueueLocked                         __rmqueue (smallest, claim, steal)
 *  Rmqueue.rmqueueSmallestLocked                 __rmqueue_smallest
 *  Rmqueue.rmqueueClaimLocked / StealLocked      __rmqueue_claim / __rmqueue_steal
 *  Rmqueue.tryToClaimBlock                       try_to_claim_block, find_suitable_fallback
 *  FreePages.freePages / putPage                 __free_pages / put_page, free_pages_prepare
 *  FreePages.putPageTestzeroFreed                put_page_testzero on a free page (VM_BUG_ON_PAGE with DEBUG_VM)
 *  FreePages.freeFrozenPages                     __free_frozen_pages
 *  FreePages.freeFrozenPageCommit                free_frozen_page_commit, nr_pcp_high, nr_pcp_free
 *  FreePages.freePcppagesBulk                    free_pcppages_bulk
 *  FreePages.freeOnePage / splitLargeBuddyLocked free_one_page / split_large_buddy
 *  FreePages.freeOnePageLocked                   __free_one_page (buddy = pfn ^ (1 &lt;&lt; order))
 *  FreePages.decayPcpHigh                        decay_pcp_high
 *  BuddyAllocator.vmstatNow / startTraceClock    vmstat_update's clock (jiffies; a trace's clock in a replay)
 *  FreeArea.linkFree / unlinkFree                __add_to_free_list + set_buddy_order / __del_page_from_free_list
 *  FreeArea.delFromFreeList / moveToFreeList     del_page_from_free_list / move_to_free_list
 *  FreeArea.accountFreepages                     account_freepages
 *  FreeArea.expand / pageDelAndExpand            expand / page_del_and_expand
 *  FreeArea.moveFreepagesBlockLocked             __move_freepages_block
 *  FreeArea.setPageblockMigratetype              set_pageblock_migratetype, change_pageblock_range
 *  FreeArea.isBuddy                              page_is_buddy
 *  ShowMem.warnAlloc                             warn_alloc (nopage_rs rate limit)
 *  ShowMem.showMem                               __show_mem / show_free_areas
 *  PageDebug.badPage / dumpPage                  bad_page / dump_page
 *  PageDebug.vmBugOnPage                         VM_BUG_ON_PAGE (CONFIG_DEBUG_VM): dump_page, then BUG()
 *  PageDebug.freePageBadReason                   page_bad_reason (PAGE_FLAGS_CHECK_AT_FREE)
 *  BuddyValidate.validate                        (the model's CONFIG_DEBUG_VM checks, all invariants at once)
 *  BuddyAllocator.failPageAlloc / pageOwner      the debugging hooks, null when compiled out or off
 *  FailPageAlloc.shouldFailAllocPage            should_fail_alloc_page (mm/fail_page_alloc.c), from prepare_alloc_pages
 *  FailPageAlloc.registerDebugfs                 fail_page_alloc_debugfs (/sys/kernel/debug/fail_page_alloc/)
 *  PageOwner.setPageOwner / resetPageOwner       __set_page_owner / __reset_page_owner (mm/page_owner.c)
 *  PageOwner.splitPageOwner                      __split_page_owner
 *  PageOwner.read / showStacks                   read_page_owner + print_page_owner / stack_print (debugfs)
 *  VmStat                                        vm_event_states, vm_node_stat (/proc/vmstat)
 *  PageProc                                      frag_show, pagetypeinfo_show, zoneinfo_show, meminfo_proc_show
 * </pre>
 *
 * <p>Accessor prefixes of the packed words (JCTools): {@code lp/sp} plain load/store, {@code lv/sv} volatile,
 * {@code so} release ("ordered") store, {@code cas} compare-and-set, {@code xadd} get-and-add. {@link
 * org.mm4j.page.MemMap} names them so for every field ({@code lpLong}, {@code casLong}, {@code soFlags},
 * {@code casRefcount}); the flags word's {@code flags()} is its {@code lv} read, {@code setFlag}/{@code clearFlag}
 * are the kernel's atomic {@code set_bit}/{@code clear_bit}. {@code Pcp}'s lock word is worked through
 * {@code casLocked}/{@code soLocked}/{@code lvLocked}; {@code PageAlloc}'s zeroed-page bitmap through
 * {@code lpZeroed} and atomic OR/AND.
 */
package org.mm4j.page;
