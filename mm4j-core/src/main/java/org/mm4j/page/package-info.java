/**
 * Physical memory and the buddy page allocator of Linux 6.18 ({@code mm/page_alloc.c}, {@code mm/vmstat.c},
 * {@code fs/proc/meminfo.c}).
 *
 * <p>Java names and the kernel symbols they model:
 * <pre>
 *  PhysicalMemory.pageAddress / virtToPfn    page_address / virt_to_pfn (PAGE_OFFSET 0xffff888000000000)
 *  MemMap                                    mem_map, struct page (64 bytes per page, off heap)
 *  Zone, Zone.freeHead/freeTail/nrFree       struct zone, free_area[order].free_list[mt] / nr_free
 *  Zone.pageblockMt                          pageblock_flags (migratetype per pageblock_order 9)
 *  Pcp, Pcp.tryLock                          struct per_cpu_pages, pcp_spin_trylock
 *  BuddyAllocator.allocPages / allocPagesNode alloc_pages / alloc_pages_node (__alloc_pages)
 *  BuddyAllocator.getPageFromFreelist        get_page_from_freelist
 *  BuddyAllocator.allocPagesSlowpath         __alloc_pages_slowpath (no LRU: only the drain-and-retry part)
 *  BuddyAllocator.rmqueuePcplist / Bulk      rmqueue_pcplist / rmqueue_bulk, nr_pcp_alloc
 *  BuddyAllocator.rmqueueLocked              __rmqueue (smallest, claim, steal)
 *  BuddyAllocator.tryToClaimBlock            try_to_claim_block, __move_freepages_block
 *  BuddyAllocator.freePages / putPage        __free_pages / put_page, free_pages_prepare
 *  BuddyAllocator.freeFrozenPageCommit       free_frozen_page_commit, nr_pcp_high, nr_pcp_free
 *  BuddyAllocator.freeOneLocked              __free_one_page (buddy = pfn ^ (1 &lt;&lt; order))
 *  BuddyAllocator.zoneWatermarkOk            __zone_watermark_ok (ALLOC_MIN_RESERVE, ALLOC_NON_BLOCK ...)
 *  BuddyAllocator.setupPerZoneWmarks         __setup_per_zone_wmarks, setup_per_zone_lowmem_reserve
 *  BuddyAllocator.badPage / dumpPage         bad_page / dump_page
 *  VmStat                                    vm_event_states, vm_node_stat (/proc/vmstat)
 *  PageProc                                  frag_show, pagetypeinfo_show, zoneinfo_show, meminfo_proc_show
 * </pre>
 *
 * <p>Accessor prefixes on {@link org.mm4j.page.MemMap} follow JCTools: {@code lp/sp} plain, {@code lv/sv}
 * volatile, {@code so} release store, {@code cas}, {@code xadd}.
 */
package org.mm4j.page;
