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
 * <p>Transparent huge pages (rows {@code jemalloc-thp}, {@code mimalloc-thp}; not table rows): each library reads
 * its options from the environment when it loads, so the row sets the variable with libc's {@code setenv} (the
 * JVM's own copy of the environment, which forks inherit, is not touched) before it opens the library, then asks
 * the loaded library whether the option took: jemalloc {@value #JEMALLOC_THP} ({@code madvise(MADV_HUGEPAGE)} on
 * its extents and its metadata; checked by {@code mallctl("opt.thp")}), mimalloc 2.0's
 * {@value #MIMALLOC_THP}{@code =1} ({@code mi_option_large_os_pages}: {@code MADV_HUGEPAGE} on its segments;
 * checked by {@code mi_option_is_enabled}). A library loads once per process, so a process gets one setting per
 * library: a row whose setting is not the loaded library's is {@link Allocators.Unavailable}, never measured
 * under the other setting. The plain rows are the libraries' defaults (no huge pages on a host whose
 * {@code /sys/kernel/mm/transparent_hugepage/enabled} is {@code madvise}).
 *
 * <p>Threads: the C allocators are thread-safe; the handles are immutable.
 */
final class NativeMalloc implements Allocator {
    static final String STATIC_TLS_TUNABLE = "glibc.rtld.optional_static_tls=16384";
    /** The jemalloc-thp row's {@code MALLOC_CONF}. */
    static final String JEMALLOC_THP = "thp:always,metadata_thp:always";
    /** The mimalloc-thp row's variable (mimalloc 2.0.9 reads {@code mimalloc_large_os_pages}, any case). */
    static final String MIMALLOC_THP = "MIMALLOC_LARGE_OS_PAGES";
    /** {@code mi_option_large_os_pages} in mimalloc.h's {@code mi_option_e} (1.x and 2.0). */
    private static final int MI_OPTION_LARGE_OS_PAGES = 6;

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

    /** Debian's libjemalloc2 (exports malloc/free), without huge pages ({@code opt.thp} not {@code always}). */
    static NativeMalloc jemalloc(final String name) {
        return jemalloc(name, false);
    }

    /**
     * Debian's libjemalloc2; with {@code hugePages} loaded with {@code MALLOC_CONF=}{@value #JEMALLOC_THP}.
     *
     * @throws Allocators.Unavailable when the library this process already loaded has the other setting
     */
    static NativeMalloc jemalloc(final String name, final boolean hugePages) {
        if (hugePages) {
            setenv("MALLOC_CONF", JEMALLOC_THP);
        }
        final SymbolLookup lib = openLibrary("libjemalloc2", "libjemalloc.so.2",
            "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2");
        final NativeMalloc m = new NativeMalloc(name, find(lib, "malloc", "libjemalloc"),
            find(lib, "free", "libjemalloc"), true);
        final String thp = jemallocOption(lib, "opt.thp");
        if ("always".equals(thp) != hugePages) {
            throw new Allocators.Unavailable(name + ": the jemalloc loaded in this process has opt.thp=" + thp
                + " (expected: " + (hugePages ? "always" : "not always") + "; it reads MALLOC_CONF once, when it"
                + " loads: run this row in a process of its own)");
        }
        return m;
    }

    /** Debian's libmimalloc2.0 (mi_malloc/mi_free), without large OS pages. */
    static NativeMalloc mimalloc(final String name) {
        return mimalloc(name, false);
    }

    /**
     * Debian's libmimalloc2.0; with {@code hugePages} loaded with {@value #MIMALLOC_THP}{@code =1}.
     *
     * @throws Allocators.Unavailable when the library this process already loaded has the other setting
     */
    static NativeMalloc mimalloc(final String name, final boolean hugePages) {
        if (hugePages) {
            setenv(MIMALLOC_THP, "1");
        }
        final SymbolLookup lib = openLibrary("libmimalloc2.0", "libmimalloc.so.2",
            "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2", "/usr/lib/aarch64-linux-gnu/libmimalloc.so.2");
        final NativeMalloc m = new NativeMalloc(name, find(lib, "mi_malloc", "libmimalloc"),
            find(lib, "mi_free", "libmimalloc"), true);
        final boolean large;
        try {
            large = (boolean) Linker.nativeLinker().downcallHandle(find(lib, "mi_option_is_enabled", "libmimalloc"),
                FunctionDescriptor.of(ValueLayout.JAVA_BOOLEAN, ValueLayout.JAVA_INT))
                .invokeExact(MI_OPTION_LARGE_OS_PAGES);
        } catch (final Throwable t) {
            throw new AssertionError(name + ": mi_option_is_enabled downcall failed", t);
        }
        if (large != hugePages) {
            throw new Allocators.Unavailable(name + ": the mimalloc loaded in this process has large_os_pages="
                + (large ? 1 : 0) + " (expected: " + (hugePages ? 1 : 0) + "; it reads " + MIMALLOC_THP + " once,"
                + " when it loads: run this row in a process of its own)");
        }
        return m;
    }

    /** jemalloc's string option {@code name} ({@code mallctl}), e.g. {@code opt.thp}. */
    static String jemallocOption(final SymbolLookup lib, final String option) {
        final MethodHandle mallctl = Linker.nativeLinker().downcallHandle(find(lib, "mallctl", "libjemalloc"),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        try (Arena arena = Arena.ofConfined()) {
            final MemorySegment value = arena.allocate(ValueLayout.ADDRESS);
            final MemorySegment length = arena.allocate(ValueLayout.JAVA_LONG);
            length.set(ValueLayout.JAVA_LONG, 0, ValueLayout.ADDRESS.byteSize());
            final int rc = (int) mallctl.invokeExact(arena.allocateFrom(option), value, length, MemorySegment.NULL,
                0L);
            if (rc != 0) {
                return "(mallctl " + option + ": error " + rc + ")";
            }
            return value.get(ValueLayout.ADDRESS, 0).reinterpret(64).getString(0);
        } catch (final Throwable t) {
            throw new AssertionError("mallctl(" + option + ") downcall failed", t);
        }
    }

    /** libc's {@code setenv(name, value, 1)}: the C environment a library reads when it loads. */
    static void setenv(final String name, final String value) {
        final Linker linker = Linker.nativeLinker();
        final MethodHandle setenv = linker.downcallHandle(find(linker.defaultLookup(), "setenv", "libc"),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            final int rc = (int) setenv.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 1);
            if (rc != 0) {
                throw new Allocators.Unavailable("setenv(" + name + "=" + value + ") failed");
            }
        } catch (final Allocators.Unavailable e) {
            throw e;
        } catch (final Throwable t) {
            throw new AssertionError("setenv downcall failed", t);
        }
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
