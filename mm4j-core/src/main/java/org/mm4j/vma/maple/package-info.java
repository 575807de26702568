/**
 * The maple tree of Linux 6.18 ({@code lib/maple_tree.c}, {@code include/linux/maple_tree.h}) as the VMA store
 * uses it: an allocation-range tree of 256-byte nodes. Java names and the kernel symbols they stand for:
 *
 * <pre>
 * MapleTree                 struct maple_tree (MM_MT_FLAGS: alloc range, external lock, RCU)
 * MapleTree.load / walk     mtree_load / mas_walk
 * MapleTree.find / findRev  mas_find / mas_find_rev (mt_find for find_vma)
 * MapleTree.store           mas_store_gfp / mtree_store_range: wr_exact_fit, wr_slot_store (in place),
 *                           wr_node_store, mas_split (split), mas_rebalance (rebalance),
 *                           mas_wr_spanning_store (storeIn / spanning), mas_new_root
 * MapleTree.emptyArea(Rev)  mas_empty_area / mas_empty_area_rev
 * MapleTree.validate        mt_validate (mas_validate_gaps, mas_validate_limits, mt_validate_nulls, parent slots)
 * MapleTree.dump            mt_dump(mt, mt_dump_hex)
 * MapleNode                 struct maple_node: maple_leaf_64 / maple_arange_64 (maple_range_64, maple_arange_64)
 * MapleNode.minSlots        mt_min_slots[]         MapleNode.maxGap   mas_max_gap / ma_leaf_max_gap
 * MapleNodeCache            maple_node_cache (kmem_cache "maple_node"): mt_alloc_one / mt_free_one (slab objects
 *                           with a kernel, counted model addresses without)
 * MaState                   struct ma_state (index, last)
 * </pre>
 *
 * <p>Threads: a tree is written and read under its owner's lock (the mm's); the node cache is shared and atomic.
 *
 * <p>Error convention: a store never fails (node allocation is counted, not failed: the kernel's preallocation
 * {@code -ENOMEM} is not modelled); {@code validate()} throws an {@link java.lang.IllegalStateException} naming the
 * node and the rule it breaks.
 */
package org.mm4j.vma.maple;
