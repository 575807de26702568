package org.mm4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A C allocator's {@code malloc}/{@code free} pair called through FFM downcalls: glibc (from the JVM's default
 * lookup, plain and with {@code Linker.Option.critical(false)}), and Debian's jemalloc and mimalloc loaded with
 * {@link SymbolLookup#libraryLookup} by soname, then by their Debian path.
 *
 * <p>Measured pitfalls (DESIGN.md "Performance principles"): a plain downcall pays 5-6 ns of thread-state
 * transition, which {@code critical(false)} removes, so jemalloc and mimalloc, the fast peers, are called
 * critically as well; Debian's jemalloc needs {@code GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384} in the
 * process environment before {@code dlopen} succeeds, and exports plain {@code malloc}/{@code free} (the library is
 * opened locally, so the JVM's own malloc stays glibc's).
 *
 * <p>Threads: the C allocators are thread-safe; the handles are immutable.
 */
final class NativeMalloc implements Allocator {
    static final String STATIC_TLS_TUNABLE = "glibc.rtld.optional_static_tls=16384";

    private static final FunctionDescriptor MALLOC = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    private static final FunctionDescriptor FREE = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG);

    private final String name;
    private final MethodHandle malloc;
    private final MethodHandle free;

    private NativeMalloc(final String name, final MemorySegment malloc, final MemorySegment free,
                         final boolean critical) {
        this.name = name;
        final Linker linker = Linker.nativeLinker();
        final Linker.Option[] options = critical
            ? new Linker.Option[] {Linker.Option.critical(false)} : new Linker.Option[0];
        this.malloc = linker.downcallHandle(malloc, MALLOC, options);
        this.free = linker.downcallHandle(free, FREE, options);
    }

    /** glibc's malloc/free from the process's default lookup. */
    static NativeMalloc glibc(final String name, final boolean critical) {
        final SymbolLookup libc = Linker.nativeLinker().defaultLookup();
        return new NativeMalloc(name, find(libc, "malloc", "libc"), find(libc, "free", "libc"), critical);
    }

    /** Debian's libjemalloc2 (exports malloc/free). */
    static NativeMalloc jemalloc(final String name) {
        final SymbolLookup lib = openLibrary("libjemalloc2", "libjemalloc.so.2",
            "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2");
        return new NativeMalloc(name, find(lib, "malloc", "libjemalloc"), find(lib, "free", "libjemalloc"), true);
    }

    /** Debian's libmimalloc2.0 (mi_malloc/mi_free). */
    static NativeMalloc mimalloc(final String name) {
        final SymbolLookup lib = openLibrary("libmimalloc2.0", "libmimalloc.so.2",
            "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2", "/usr/lib/aarch64-linux-gnu/libmimalloc.so.2");
        return new NativeMalloc(name, find(lib, "mi_malloc", "libmimalloc"), find(lib, "mi_free", "libmimalloc"),
            true);
    }

    /**
     * Opens a shared library for the JVM's lifetime, trying each soname or path in turn.
     *
     * @throws Allocators.Unavailable naming the Debian package to install, and why each attempt failed
     */
    static SymbolLookup openLibrary(final String debianPackage, final String... names) {
        final List<String> failures = new ArrayList<>();
        for (final String n : names) {
            if (n.startsWith("/") && !Files.exists(Path.of(n))) {
                failures.add(n + ": absent");
                continue;
            }
            try {
                return n.startsWith("/")
                    ? SymbolLookup.libraryLookup(Path.of(n), Arena.global())
                    : SymbolLookup.libraryLookup(n, Arena.global());
            } catch (final IllegalArgumentException | IllegalCallerException e) {
                failures.add(n + ": " + e.getMessage());
            }
        }
        final String tls = System.getenv("GLIBC_TUNABLES");
        final String hint = tls != null && tls.contains("optional_static_tls") ? ""
            : " (if installed: run with GLIBC_TUNABLES=" + STATIC_TLS_TUNABLE + ")";
        throw new Allocators.Unavailable("Debian package " + debianPackage + " not loadable" + hint + ": "
            + String.join("; ", failures));
    }

    private static MemorySegment find(final SymbolLookup lookup, final String symbol, final String library) {
        final Optional<MemorySegment> s = lookup.find(symbol);
        return s.orElseThrow(() -> new Allocators.Unavailable(library + " has no symbol " + symbol));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long alloc(final long byteSize, final Object[] refs, final int slot) {
        final long a;
        try {
            a = (long) malloc.invokeExact(byteSize);
        } catch (final Throwable t) {
            throw new AssertionError(name + ": malloc downcall failed", t);
        }
        if (a == 0) {
            throw new OutOfMemoryError(name + ": malloc(" + byteSize + ") returned NULL");
        }
        return a;
    }

    @Override
    public void free(final long address, final long byteSize, final Object[] refs, final int slot) {
        try {
            free.invokeExact(address);
        } catch (final Throwable t) {
            throw new AssertionError(name + ": free downcall failed", t);
        }
    }
}
