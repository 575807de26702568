/**
 * Process address spaces: Linux 6.18 behaviour of {@code mm/mmap.c}, {@code mm/vma.c}, {@code mm/mprotect.c},
 * {@code mm/mremap.c}, {@code mm/madvise.c}, {@code mm/mlock.c}, {@code mm/msync.c}, {@code mm/memory.c}'s faults,
 * {@code dup_mmap}, {@code mm/oom_kill.c}, the overcommit policy and {@code fs/proc/task_mmu.c}. The VMAs live in
 * 6.18's maple tree by default, or in the 5.x augmented rbtree with its per-thread vmacache
 * ({@code mm4j.vma_store=rbtree}); both keep the 5.x {@code vm_prev}/{@code vm_next} list.
 *
 * <p>What users call: {@link org.mm4j.vma.Processes} (the process table: fork, exit, /proc), {@link
 * org.mm4j.vma.MmStruct} (one address space: its system calls, user accesses and /proc views), the read side of
 * {@link org.mm4j.vma.Vma}, {@link org.mm4j.vma.VmFile}, {@link org.mm4j.vma.Mman} / {@link org.mm4j.vma.VmFlags} /
 * {@link org.mm4j.vma.Errno} (the constants), {@link org.mm4j.vma.Overcommit}, and the exceptions of a user access.
 * The per-file classes ({@code Mmap}, {@code VmaOps}, {@code Mprotect}, ...), the page tables, the vmacache and
 * the OOM killer are package-private.
 *
 * <p>Error convention, the kernel's inside the model:
 * <ul>
 *   <li>system calls return what the kernel returns: an address or 0, or {@code -errno} ({@link
 *       org.mm4j.vma.Errno#isError}); {@code brk} returns the (possibly unchanged) break; a failed call changes
 *       nothing except where the kernel keeps partial effects (mprotect, mlock, madvise over several VMAs);</li>
 *   <li>a user access ({@code handleMmFault}, {@code touch}, {@code readUser}, {@code writeUser}) throws what the
 *       kernel would signal: {@link org.mm4j.vma.SegmentationFault} (SIGSEGV, SEGV_MAPERR/SEGV_ACCERR), {@link
 *       org.mm4j.vma.BusError} (SIGBUS), {@link org.mm4j.vma.ProcessKilledException} (SIGKILL from the OOM
 *       killer);</li>
 *   <li>model exhaustion: a page or page table that cannot be had is {@code VM_FAULT_OOM} / {@code false} / -1
 *       inside ({@code PageTables}, {@link org.mm4j.vma.Pager}), which runs the OOM killer and then
 *       becomes -ENOMEM (or -EAGAIN for mlock) for a system call, {@code -ENOMEM} for {@code Processes.fork}, and
 *       {@link org.mm4j.base.ModelOutOfMemoryException} for a user access where the kernel would panic; nothing in
 *       this package throws {@link java.lang.OutOfMemoryError} or another JVM {@link java.lang.Error} for it; a
 *       slab object that cannot be had ({@link org.mm4j.vma.ProcCaches}: a VMA, anon_vma, chain, mm or task
 *       object; failslab) is 0 inside and -ENOMEM for the system call or fork, with nothing changed (a write
 *       fault's {@code anon_vma_prepare}: {@code VM_FAULT_OOM}, warned of as {@code pagefault_out_of_memory}
 *       does and retried, at most {@code Fault.PF_RETRIES} times, then the exception above);</li>
 *   <li>at the Java API boundary, arguments the kernel never sees (an initial VMA that overlaps another, a pid that
 *       does not exist, an access other than r/w/x, oom_score_adj outside -1000..1000) throw {@link
 *       java.lang.IllegalArgumentException} naming the value at fault; broken internal invariants throw {@link
 *       java.lang.IllegalStateException}.</li>
 * </ul>
 *
 * <p>Locking: the model's {@code mmap_lock} is the {@link org.mm4j.vma.MmStruct}'s monitor, always exclusive (a
 * read-locked path of the kernel holds it too). Public methods take it; the per-file classes, the VMA store edits,
 * {@code findVmaLocked} and every {@code PageTables} entry point assert it under {@code -ea} where the kernel has
 * {@code mmap_assert_locked}, {@code mmap_assert_write_locked} or {@code vma_start_write}. Lock order: an mm, then
 * (fork only) its new child; the OOM killer takes a victim's mm lock but never waits for {@code Processes}' monitor.
 *
 * <p>Naming: the kernel's {@code __foo} is {@code fooLocked} when the Java method needs the caller's lock and the
 * kernel's takes it ({@code __mm_populate} = {@code Fault.populateLocked}), {@code fooUnchecked} when it skips a
 * check ({@code __split_vma} = {@code VmaOps.splitVmaUnchecked}: no {@code max_map_count} check;
 * {@code __anon_vma_prepare} = {@code Fault.anonVmaPrepareUnchecked}: no "already has one" check). Where the
 * kernel's {@code __} only names the inner function of an API ({@code __get_unmapped_area}, {@code __mmap_region},
 * {@code __oom_kill_process}, {@code __vm_enough_memory}), the Java name drops it.
 *
 * <p>Java names and the kernel symbols they model:
 * <pre>
 *  MmStruct                               struct mm_struct: VMA store, layout, counters, mmap_lock (the monitor)
 *  MmStruct.findVma / findVmaLocked       find_vma: mt_find (maple), or vmacache_find, the rbtree walk,
 *                                         vmacache_update (5.x store)
 *  MmStruct.findVmaPrev                   find_vma_prev
 *  MmStruct.findVmaIntersection[Locked]   find_vma_intersection
 *  MmStruct.vmaLookup[Locked]             vma_lookup
 *  MmStruct.mmapAssertLocked / ...Write.. mmap_assert_locked / mmap_assert_write_locked
 *  MmStruct.insertVma / removeVma         vma_iter_store + map_count++ / unmap_vmas + remove_vma
 *  MmStruct.setRange / invalidate         vma_set_range + the store update / vmacache_invalidate
 *  MmStruct.addInitialVma                 the VMAs exec and the loader leave (_install_special_mapping for names)
 *  MmStruct.mmapBaseFor                   mmap_base (arch/x86/mm/mmap.c)
 *  MmStruct.oomCounters / rss             get_mm_counter (MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES), pgtables_bytes
 *  MmStruct.exitMmap                      exit_mmap
 *  MmStruct.reclaimLazyfree               shrink_folio_list for clean lazyfree anonymous folios
 *  Mmap.mmap / doMmap                     ksys_mmap_pgoff / do_mmap
 *  Mmap.brk                               SYSCALL_DEFINE1(brk) (check_brk_limits, do_vmi_align_munmap)
 *  Mmap.getUnmappedArea                   get_unmapped_area (__get_unmapped_area, vm_flags 0)
 *  Mmap.mmGetUnmappedArea                 mm_get_unmapped_area
 *  Mmap.archGetUnmappedAreaTopdown        arch_get_unmapped_area_topdown (x86-64)
 *  Mmap.archGetUnmappedAreaBottomup       arch_get_unmapped_area (x86-64)
 *  Mmap.thpGetUnmappedArea                thp_get_unmapped_area_vmflags (__thp_get_unmapped_area, then plain)
 *  Mmap.expandDownwards / findExtendVma   expand_downwards / find_extend_vma_locked
 *  VmaOps                                 mm/vma.c
 *  VmaOps.Vmg                             struct vma_merge_struct
 *  VmaOps.splitVma / splitVmaUnchecked    split_vma / __split_vma
 *  VmaOps.mergeNewRange                   vma_merge_new_range (can_vma_merge_after/before, is_mergeable_*)
 *  VmaOps.mergeExistingRange              vma_merge_existing_range
 *  VmaOps.vmaModify                       vma_modify (merge, else split_vma at both ends)
 *  VmaOps.copyVma                         copy_vma
 *  VmaOps.doMunmap / alignMunmap          do_vmi_munmap / do_vmi_align_munmap
 *  VmaOps.mmapRegion                      mmap_region / __mmap_region (__mmap_setup's charge)
 *  VmaOps.doBrkFlags                      do_brk_flags
 *  VmaOps.mergeNew / modifyFlags          merge_new / vma_modify_flags (tools/testing/vma hooks)
 *  Mprotect.mprotect / mprotectFixup      do_mprotect_pkey / mprotect_fixup
 *  Mremap.mremap                          SYSCALL_DEFINE5(mremap) / do_mremap
 *  Mremap.Vrm                             struct vma_remap_struct
 *  Mremap.checkPrepVma / mremapAt         check_prep_vma (vrm_calc_charge) / mremap_at
 *  Mremap.expandVma / vmaExpandable       expand_vma / vma_expandable
 *  Mremap.mremapTo / remapMove            mremap_to / remap_move (6.17+ multi-VMA move)
 *  Mremap.moveVma / unmapSourceVma        move_vma / unmap_source_vma
 *  Madvise.madvise / walkVmas             do_madvise / madvise_walk_vmas
 *  Madvise.madviseVma                     madvise_vma_behavior (+ madvise_dontneed_free, madvise_guard_*)
 *  Madvise.setAnonName / prctl            madvise_set_anon_name / prctl_set_vma (kernel/sys.c)
 *  Mlock.mlock / mlock2 / munlock         SYSCALL mlock / mlock2 / munlock (do_mlock, apply_vma_lock_flags)
 *  Mlock.mlockall / munlockall            SYSCALL mlockall / munlockall (apply_mlockall_flags)
 *  Msync.msync                            SYSCALL msync
 *  Fault.handleMmFault                    do_user_addr_fault's checks + handle_mm_fault
 *  Fault.anonVmaPrepare[Unchecked]        anon_vma_prepare / __anon_vma_prepare (find_mergeable_anon_vma)
 *  Fault.populateLocked                   __mm_populate / populate_vma_page_range (mm/gup.c)
 *  Fork.dupMmap                           dup_mmap (mm/mmap.c since 6.16)
 *  TaskMmu.maps / mapsLine / vmaName      show_map / show_map_vma / get_vma_name
 *  TaskMmu.smaps / vmCounters / statusVm  show_smap / vm_stat_account's counters / task_mem
 *  Vma / AnonVma / AnonVmaChain           struct vm_area_struct / struct anon_vma / struct anon_vma_chain
 *  ProcCaches                             the process caches of mm_cache_init, maple_tree_init, pid_idr_init,
 *                                         anon_vma_init, cred_init, fork_init, proc_caches_init, vma_state_init
 *  VmaInit.vmAreaAlloc / vmAreaDup / ..   vm_area_alloc / vm_area_dup / vm_area_free (mm/vma_init.c)
 *  Rmap.anonVmaPrepare / anonVmaClone     __anon_vma_prepare's allocations / anon_vma_clone (mm/rmap.c)
 *  Rmap.anonVmaFork / unlinkAnonVmas      anon_vma_fork / unlink_anon_vmas (put_anon_vma)
 *  MmStruct.freeMm / forEachObject        __mmdrop's free_mm / (kmemleak's walk of the mm's objects)
 *  VmaStore                               the VMA index an mm uses (find_vma, unmapped_area[_topdown], link)
 *  MapleVmaStore                          mm->mm_mt (maple tree, org.mm4j.vma.maple), 6.1+, through vma_iterator:
 *                                         vma_iter_store_new, vma_iter_clear, vma_expand / vma_shrink
 *  VmaTree                                mm->mm_rb + vm_prev/vm_next, rb_subtree_gap; highestGap =
 *                                         unmapped_area_topdown, lowestGap = unmapped_area (3.15-6.0)
 *  VmaCache                               current->vmacache (mm/vmacache.c, 3.15-5.19)
 *  VmFile / VmFile.Inode                  struct file (one per open) / struct inode + its page cache
 *  VmFile.InodeNumbers.next               get_next_ino (one counter per kernel; shmem's inode numbers too)
 *  VmFlags / Mman / Errno                 VM_* / the uapi mman.h constants / errno.h
 *  PageTables                             pgd/pud/pmd/pte tables (4-level x86-64)
 *  PageTables.fault                       do_anonymous_page, do_fault (do_cow_fault), do_wp_page, pte markers
 *  PageTables.zapRange / changeProtection zap_page_range_single / change_protection
 *  PageTables.prepareMove / moveRange     move_page_tables (tables made first)
 *  PageTables.copyTo                      copy_page_range
 *  PageTables.installGuards / markLazyfree madvise_guard_install / madvise_free_pte_range
 *  Pager                                  ZERO_PAGE, the page cache, user pages from alloc_pages
 *  Pager.allocUser / allocTable           vma_alloc_folio / pte_alloc_one (with __alloc_pages_may_oom's retry)
 *  Pager.vmEnoughMemory                   security_vm_enough_memory_mm
 *  Overcommit.vmEnoughMemory              __vm_enough_memory, vm_commit_limit
 *  OomKiller.outOfMemory / badness        out_of_memory / oom_badness
 *  OomKiller.kill                         __oom_kill_process (the caller checked the victim)
 *  Processes                              the task list; fork (copy_process: task_struct, cred, files, fs,
 *                                         sighand, signal, mm, pid), exit (release_task), /proc/PID/*
 *  UserFault                              a fault's signal (struct kernel_siginfo: si_signo, si_code, si_addr)
 *  SegmentationFault / BusError           force_sig_fault(SIGSEGV / SIGBUS)
 *  ProcessKilledException                 SIGKILL from the OOM killer (mark_oom_victim + do_send_sig_info)
 * </pre>
 */
package org.mm4j.vma;
