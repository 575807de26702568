/**
 * SLUB debugging of Linux 6.18 ({@code CONFIG_SLUB_DEBUG} in {@code mm/slub.c}): red zones, poisoning, padding and
 * free-pointer checks, user tracking, {@code validate}, and the kernel's reports in dmesg.
 *
 * <p>Direction: {@code org.mm4j.slab} uses this package; this package imports nothing of {@code org.mm4j.slab}.
 * The checks read a cache and a slab through two views the SLUB core implements, {@link
 * org.mm4j.slab.debug.DebugCache} ({@code struct kmem_cache}: layout and debug flags) and {@link
 * org.mm4j.slab.debug.DebugSlab} ({@code struct slab}), so tests can also run them over hand-made slabs. The core
 * calls in only for caches with debug flags ({@code kmem_cache_debug()}), which take the locked slow paths; the
 * lockless fast paths of other caches never reach this package, so they pay nothing for it.
 *
 * <p>Java names and the kernel symbols they model:
 * <pre>
 *  SlubDebug                              CONFIG_SLUB_DEBUG state (slub_debug, taint, kunit counting)
 *  SlubDebug.checkObject                  check_object
 *  SlubDebug.checkSlab / slabPadCheck     check_slab / slab_pad_check
 *  SlubDebug.checkValidPointer            check_valid_pointer
 *  SlubDebug.onFreelist                   on_freelist
 *  SlubDebug.allocDebugProcessing         alloc_debug_processing (alloc_consistency_checks)
 *  SlubDebug.freeDebugProcessing          free_debug_processing (free_consistency_checks)
 *  SlubDebug.setupObjectDebug             setup_object_debug
 *  SlubDebug.initObject                   init_object
 *  SlubDebug.setupSlabDebug               setup_slab_debug
 *  SlubDebug.setTrack                     set_track (set_track_prepare/update)
 *  SlubDebug.getOrigSize / setOrigSize    get_orig_size / set_orig_size
 *  SlubDebug.validateSlab                 validate_slab
 *  SlubDebug.validateSlabNode             validate_slab_node
 *  SlubDebug.listSlabObjects              list_slab_objects (kmem_cache_destroy of a busy cache)
 *  SlubDebug.slabErr / slabFix            slab_err / slab_fix (objectErr: object_err)
 *  SlubDebug.traces                       alloc_traces / free_traces (debugfs), alloc_calls / free_calls
 *  SlubDebug.KunitErrors                  slab_add_kunit_errors, slab_in_kunit_test (lib/tests/slub_kunit.c)
 *  DebugCache                             struct kmem_cache as the debug code reads it
 *  DebugSlab                              struct slab (slab_address, objects, inuse, freelist)
 *  DebugTrack, DebugTrack.Track           struct track, stack depot, kallsyms of the call sites
 *  DebugFormat                            %px pointers, print_tainted, print_hex_dump, dump_stack
 *  DebugReport, DebugListener             (mm4j) a report as a Java object, delivered to listeners
 *  SlubDebugException                     (mm4j) strict mode: the first report of an operation, thrown
 * </pre>
 *
 * <p>Threads: every check runs with the node's {@code list_lock} of the cache held by the caller (debug caches
 * take the locked slow paths only), so no two checks of one cache run at once; reports of different caches may
 * run concurrently, each going to the log in one printk call. Listeners run on the reporting thread, with that
 * lock held: they must not call back into the reporting cache.
 *
 * <p>Errors: inside the model the kernel's convention holds: a failed check returns false (the object is not
 * handed out or not freed, as the kernel leaks it), repairs the bytes it reports ({@code restore_bytes}) and
 * prints the report in dmesg. At the Java API boundary, strict mode ({@link
 * org.mm4j.slab.debug.SlubDebug#strict(boolean)}) turns the first report of an operation into a {@link
 * org.mm4j.slab.debug.SlubDebugException} naming the cache, the reason and the address at fault, thrown once
 * the operation is complete and its locks are released.
 */
package org.mm4j.slab.debug;
