/**
 * Process address spaces (Linux 6.18 behaviour; the VMAs in 6.18's maple tree, or in the 5.x rbtree + vmacache
 * with {@code mm4j.vma_store=rbtree}). Java names and the kernel symbols they stand for:
 *
 * <pre>
 * MmStruct                 struct mm_struct; its syscalls: do_mmap/mmap_region, do_vmi_munmap,
 *                          do_mprotect_pkey/mprotect_fixup, do_mremap (remap_move, mremap_to, move_vma,
 *                          expand_vma), brk/do_brk_flags, madvise_walk_vmas, apply_vma_lock_flags,
 *                          madvise_set_anon_name
 * MmStruct.findVma         find_vma: mt_find (maple), or vmacache_find, the rbtree walk, vmacache_update (5.x)
 * MmStruct.mergeNewRange   vma_merge_new_range       MmStruct.mergeExistingRange  vma_merge_existing_range
 * MmStruct.vmaModify       vma_modify                MmStruct.splitVma            split_vma / __split_vma
 * MmStruct.copyVma         copy_vma                  MmStruct.getUnmappedArea     __get_unmapped_area
 * MmStruct.thpGetUnmappedArea  __thp_get_unmapped_area
 * MmStruct.anonVmaPrepare  __anon_vma_prepare / find_mergeable_anon_vma
 * MmStruct.handleMmFault   handle_mm_fault (access checks, expand_downwards)
 * MmStruct.dupMmap         dup_mmap (fork)           MmStruct.exitMmap            exit_mmap
 * Vma                      struct vm_area_struct     AnonVma                      struct anon_vma
 * VmaStore                 where an mm keeps its VMAs (mm4j.vma_store=); count = mm->map_count
 * MapleVmaStore            mm->mm_mt through vma_iterator: insert = vma_iter_store_new, erase = vma_iter_clear,
 *                          adjusted = vma_expand/vma_shrink, highestGap = unmapped_area_topdown (maple_tree.c
 *                          itself is org.mm4j.vma.maple)
 * VmaTree                  mm->mm_rb + vm_prev/vm_next, rb_subtree_gap; highestGap = unmapped_area_topdown
 * VmaCache                 current->vmacache (mm/vmacache.c)
 * VmFile / VmFile.Inode    struct file (one per open) / struct inode + its page cache
 * PageTables               pgd/pud/pmd/pte tables; fault = do_anonymous_page, do_fault, do_wp_page
 * Pager                    ZERO_PAGE, the page cache, user pages from alloc_pages
 * Processes                the task list; fork, /proc/PID/{maps,smaps,status}
 * </pre>
 */
package org.mm4j.vma;
