package org.mm4j.bench;

import java.util.List;

/**
 * The allocators of the peer comparison, by row name. {@link #open} gives a fresh instance or throws
 * {@link Unavailable} with the reason the row is skipped (library not installed, JDK refuses Unsafe...).
 */
public final class Allocators {
    /** Every row name, in table order. */
    public static final List<String> NAMES = List.of(
        "mm4j", "mm4j-segment", "mm4j-cpu-slab",
        "glibc-malloc", "glibc-malloc-critical", "jemalloc", "mimalloc",
        "unsafe", "netty-pooled-direct", "netty-pooled-direct-ftl", "heap", "arena-bump", "arena-bump-256k");

    /**
     * Rows shown for information only, never in a target: {@code glibc-malloc} is the plain (non-critical) FFM
     * downcall, which pays two thread-state transitions per call that the other native rows do not.
     */
    public static final List<String> INFORMATION_ONLY = List.of("glibc-malloc");

    /** Rows whose benchmark threads must be Netty FastThreadLocalThreads (run with {@link FastThreadExecutor}). */
    public static final List<String> FAST_THREAD_NAMES = List.of("netty-pooled-direct-ftl");

    private Allocators() {
    }

    /** Why a row cannot run on this machine or JDK; the message is printed as the row's note. */
    public static final class Unavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public Unavailable(final String message) {
            super(message);
        }
    }

    /**
     * Opens the allocator of row {@code name}.
     *
     * @throws Unavailable when it cannot run here (the row is skipped with this note)
     * @throws IllegalArgumentException for a name not in {@link #NAMES}
     */
    public static Allocator open(final String name) {
        return switch (name) {
            case "mm4j" -> Mm4jSlab.open(name, true);
            case "mm4j-segment" -> Mm4jSegments.open(name);
            // not a table row, information beside mm4j-segment: allocate(kmallocSizeRoundup(n)), views reused on
            // mixed sizes (docs/speed-history.md, "Tenth pass (issue 13): mixed sizes"; Mm4jSegmentsRoundup)
            case "mm4j-segment-roundup" -> new Mm4jSegmentsRoundup(name);
            case "mm4j-cpu-slab" -> Mm4jSlab.open(name, false);
            // not a table row: the safety checks' cost, measured against mm4j with -p allocator=mm4j,<this>
            case "mm4j-double-free-kernel" -> new Mm4jSlab(name, org.mm4j.Kernel.boot(Mm4jSlab.CMDLINE
                + Mm4jSlab.SHEAVES + " mm4j.double_free=kernel"), true);
            // not a table row: mm4j with every cache's thread sheaves at 32 objects, the capacity before sheaves
            // were sized by object size (docs/speed-history.md, "Seventh pass (issue 13)"), against mm4j in one process
            case "mm4j-sheaves-32" -> new Mm4jSlab(name, org.mm4j.Kernel.boot(Mm4jSlab.CMDLINE + " mm4j.sheaves=32"),
                true);
            // not table rows: the leak detector's cost, against mm4j-segment (-p allocator=mm4j-segment,<these>)
            case "mm4j-segment-leak-simple", "mm4j-segment-leak-advanced", "mm4j-segment-leak-paranoid" ->
                Mm4jSegments.withLeakDetection(name, name.substring("mm4j-segment-leak-".length()));
            // not table rows: transparent huge pages for each allocator's memory (README "Huge pages for the
            // model's memory")
            case "mm4j-thp" -> Mm4jSlab.openHugePages(name);
            // not table rows, not peers: the floor of the mm4j and mm4j-segment rows, no allocator work at all
            // (docs/speed-history.md, "Fifth pass (issue 13): the floor of the MemorySegment API"; Floor)
            case "floor-long" -> new Floor.Longs(name);
            case "floor-segment" -> new Floor.Segments(name);
            case "jemalloc-thp" -> NativeMalloc.jemalloc(name, true);
            case "mimalloc-thp" -> NativeMalloc.mimalloc(name, true);
            case "glibc-malloc" -> NativeMalloc.glibc(name, false);
            case "glibc-malloc-critical" -> NativeMalloc.glibc(name, true);
            case "jemalloc" -> NativeMalloc.jemalloc(name);
            case "mimalloc" -> NativeMalloc.mimalloc(name);
            case "unsafe" -> UnsafeMemory.open();
            case "netty-pooled-direct" -> new NettyPooledDirect(name, false);
            case "netty-pooled-direct-ftl" -> new NettyPooledDirect(name, true);
            case "heap" -> new HeapArrays();
            case "arena-bump" -> new ArenaBump(name, ArenaBump.BIG);
            case "arena-bump-256k" -> new ArenaBump(name, ArenaBump.CACHE_RESIDENT);
            default -> throw new IllegalArgumentException("unknown allocator '" + name + "' (expected one of "
                + String.join(", ", NAMES) + ")");
        };
    }

    /** Null when row {@code name} can run here, else the reason it cannot (opens and closes it once). */
    public static String unavailableReason(final String name) {
        try (Allocator a = open(name)) {
            return null;
        } catch (final Unavailable e) {
            return e.getMessage();
        } catch (final RuntimeException | LinkageError e) {
            return "cannot open: " + e;
        }
    }
}
