package org.mm4j.page;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;
import java.util.Optional;

/**
 * Lazily committed, zero-filled native memory for the model's physical memory and {@code mem_map}: an anonymous
 * private {@code mmap} with {@code MAP_NORESERVE} through FFM's {@link Linker} (no JNI) on Linux, so a reservation
 * costs address space only and each host page is committed, already zero, when first touched. Elsewhere (another
 * OS, or native access denied) it falls back to {@link Arena#allocate}, which commits and zeroes everything up
 * front.
 *
 * <p>Transparent huge pages ({@link #adviseHugePages}): {@code madvise(MADV_HUGEPAGE)} lets the host back each
 * aligned 2 MiB of a reservation with one huge page, committed whole at its first touch; {@code MADV_NOHUGEPAGE}
 * keeps it on 4 KiB pages even where the host's THP mode is {@code always}.
 *
 * <p>Invariants: a reservation's bytes read as zero until written; it lives until its arena closes, which unmaps
 * it. Threads: {@link #reserve} may be called from any thread; the memory is as thread-safe as any segment.
 */
public final class Reservation {
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    // Linux values, the same on x86-64 and arm64
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;
    private static final int ENOMEM = 12;
    private static final int EINVAL = 22;
    /** {@code MADV_HUGEPAGE} and {@code MADV_NOHUGEPAGE} (include/uapi/asm-generic/mman-common.h). */
    private static final int MADV_HUGEPAGE = 14;
    private static final int MADV_NOHUGEPAGE = 15;
    /** {@code HPAGE_PMD_SIZE} with 4 KiB pages (x86-64, arm64): the size of a transparent huge page. */
    public static final long HPAGE_PMD_SIZE = 2L << 20;

    private static final Native NATIVE = Native.load();

    private Reservation() {
    }

    /**
     * The downcall every boot makes ({@code mmap}, with {@code errno} captured), or null where the fallback is used.
     * {@code munmap} and {@code madvise} are found here (a libc without them means the fallback, as before) but
     * bound on first use ({@link Later}): each downcall handle spins a stub class and its method-handle forms at
     * run time (~10-20 ms of start-up CPU, and their compiles), and a replay that exits without closing its
     * kernel never unmaps, nor advises without {@code mm4j.thp}.
     */
    private record Native(MethodHandle mmap, MemorySegment munmapSymbol, MemorySegment madviseSymbol,
                          MemoryLayout stateLayout, VarHandle errno) {
        static Native load() {
            final String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            if (!os.contains("linux") || !"true".equals(System.getProperty("mm4j.mmap", "true"))) {
                return null;
            }
            try {
                final Linker linker = Linker.nativeLinker();
                final SymbolLookup libc = linker.defaultLookup();
                final Optional<MemorySegment> mmap = libc.find("mmap");
                final Optional<MemorySegment> munmap = libc.find("munmap");
                final Optional<MemorySegment> madvise = libc.find("madvise");
                if (mmap.isEmpty() || munmap.isEmpty() || madvise.isEmpty()) {
                    return null;
                }
                final MemoryLayout state = Linker.Option.captureStateLayout();
                return new Native(
                    linker.downcallHandle(mmap.get(), FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_LONG), Linker.Option.captureCallState("errno")),
                    munmap.get(), madvise.get(), state,
                    state.varHandle(MemoryLayout.PathElement.groupElement("errno")));
            } catch (final IllegalCallerException | UnsupportedOperationException e) {
                return null;  // native access denied (--illegal-native-access=deny) or no linker: fall back
            }
        }
    }

    /** The downcalls bound on first use (class initialisation: once, thread-safe); only reached when NATIVE is set. */
    private static final class Later {
        static final MethodHandle MUNMAP = Linker.nativeLinker().downcallHandle(NATIVE.munmapSymbol(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        static final MethodHandle MADVISE = Linker.nativeLinker().downcallHandle(NATIVE.madviseSymbol(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_INT), Linker.Option.captureCallState("errno"));

        private Later() {
        }
    }

    /** Whether reservations are lazy here (mmap with MAP_NORESERVE) rather than committed up front. */
    static boolean isLazy() {
        return NATIVE != null;
    }

    /**
     * Reserves {@code byteSize} zeroed bytes aligned to {@code alignment} (at most the host page size on the lazy
     * path, where mmap returns page-aligned memory), unmapped when {@code arena} closes.
     *
     * @throws ReservationException when the host cannot reserve that much address space (mmap fails)
     */
    static MemorySegment reserve(final Arena arena, final long byteSize, final long alignment) {
        return reserve(arena, byteSize, alignment, false);
    }

    /**
     * As {@link #reserve(Arena, long, long)}; with {@code hugeAligned} (lazy path only) the reservation starts on
     * a {@link #HPAGE_PMD_SIZE} boundary (an mmap 2 MiB larger, its unaligned head and tail unmapped again), so
     * that every whole 2 MiB of it can be backed by a transparent huge page.
     */
    static MemorySegment reserve(final Arena arena, final long byteSize, final long alignment,
                                 final boolean hugeAligned) {
        if (NATIVE == null) {
            try {
                return arena.allocate(byteSize, alignment);
            } catch (final OutOfMemoryError e) {
                throw new ReservationException("cannot allocate " + byteSize + " bytes off heap: " + e.getMessage());
            }
        }
        final MemorySegment addr;
        final int err;
        try (Arena tmp = Arena.ofConfined()) {
            final MemorySegment state = tmp.allocate(NATIVE.stateLayout());
            try {
                addr = (MemorySegment) NATIVE.mmap().invokeExact(state, MemorySegment.NULL,
                    hugeAligned ? byteSize + HPAGE_PMD_SIZE : byteSize,
                    PROT_READ_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
            } catch (final Throwable t) {
                throw new IllegalStateException("mmap downcall failed", t);
            }
            err = (int) NATIVE.errno().get(state, 0L);
        }
        if (addr.address() == -1L || addr.address() == 0L) {
            throw new ReservationException("cannot reserve " + byteSize + " bytes of address space (mmap: "
                + (err == ENOMEM ? "ENOMEM" : "errno " + err) + ")");
        }
        long address = addr.address();
        if (hugeAligned) {
            final long start = (address + HPAGE_PMD_SIZE - 1) & -HPAGE_PMD_SIZE;
            if (start > address) {
                unmap(address, start - address);
            }
            final long end = address + byteSize + HPAGE_PMD_SIZE;
            if (end > start + byteSize) {
                unmap(start + byteSize, end - (start + byteSize));
            }
            address = start;
        }
        final long base = address;
        return MemorySegment.ofAddress(base).reinterpret(byteSize, arena, s -> unmap(base, byteSize));
    }

    private static void unmap(final long address, final long byteSize) {
        try {
            final int rc = (int) Later.MUNMAP.invokeExact(MemorySegment.ofAddress(address), byteSize);
            assert rc == 0 : "munmap failed";
        } catch (final Throwable t) {
            throw new IllegalStateException("munmap downcall failed", t);
        }
    }

    /**
     * {@code madvise(MADV_HUGEPAGE)} ({@code huge}) or {@code madvise(MADV_NOHUGEPAGE)} on {@code segment}, a lazy
     * reservation. Returns null when the host took the advice, else why not: {@code "EINVAL"} (the host kernel
     * has no transparent huge pages), another errno, or {@code "not an mmap"} on the fallback path.
     */
    static String adviseHugePages(final MemorySegment segment, final boolean huge) {
        if (NATIVE == null) {
            return "not an mmap";
        }
        try (Arena tmp = Arena.ofConfined()) {
            final MemorySegment state = tmp.allocate(NATIVE.stateLayout());
            final int rc;
            try {
                rc = (int) Later.MADVISE.invokeExact(state, MemorySegment.ofAddress(segment.address()),
                    segment.byteSize(), huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
            } catch (final Throwable t) {
                throw new IllegalStateException("madvise downcall failed", t);
            }
            if (rc == 0) {
                return null;
            }
            final int err = (int) NATIVE.errno().get(state, 0L);
            return err == EINVAL ? "EINVAL" : "errno " + err;
        }
    }

    /** The host could not reserve the memory asked for; the message names the size and the reason. */
    public static final class ReservationException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ReservationException(final String message) {
            super(message);
        }
    }
}
