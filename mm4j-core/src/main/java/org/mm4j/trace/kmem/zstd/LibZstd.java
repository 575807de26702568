package org.mm4j.trace.kmem.zstd;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The system's libzstd (the zstd program's library) bound through FFM's {@link Linker}, no JNI: the handful of
 * stable-API functions a streaming decoder needs ({@code zstd.h} and {@code zstd_errors.h} since v1.4.0). Loaded
 * once, on first use; {@link #BINDINGS} is null where it cannot be used (no library, an older one, native access not
 * enabled for this module, a 32-bit {@code size_t}), and {@link #UNAVAILABLE} then says why. Stateless after the
 * class initialiser; any thread.
 */
final class LibZstd {
    /** {@code ZSTD_d_windowLogMax} (zstd.h: the first {@code ZSTD_dParameter}, stable since v1.4.0). */
    static final int D_WINDOW_LOG_MAX = 100;
    /**
     * {@code ZSTD_WINDOWLOG_LIMIT_DEFAULT}: the window log a new context refuses frames above (128 MiB, mm4j's
     * default limit too: then no {@code ZSTD_DCtx_setParameter} call is needed).
     */
    static final int WINDOW_LOG_LIMIT_DEFAULT = 27;
    /** {@code ZSTD_WINDOWLOG_ABSOLUTEMIN}: the smallest window log a decoder accepts as a limit. */
    static final int WINDOW_LOG_MIN = 10;
    /** {@code ZSTD_error_frameParameter_windowTooLarge} (zstd_errors.h, stable value). */
    static final int ERROR_WINDOW_TOO_LARGE = 16;
    /** {@code ZSTD_error_checksum_wrong} (zstd_errors.h, stable value). */
    static final int ERROR_CHECKSUM_WRONG = 22;
    /** {@code ZSTD_error_memory_allocation} (zstd_errors.h, stable value). */
    static final int ERROR_MEMORY_ALLOCATION = 64;
    /** The oldest libzstd with {@code ZSTD_DCtx_setParameter} in its stable API (1.4.0). */
    static final int MIN_VERSION = 10400;

    /** {@code ZSTD_inBuffer} and {@code ZSTD_outBuffer}: {@code {void *ptr; size_t size; size_t pos;}}. */
    static final MemoryLayout BUFFER = MemoryLayout.structLayout(ValueLayout.ADDRESS.withName("ptr"),
        ValueLayout.JAVA_LONG.withName("size"), ValueLayout.JAVA_LONG.withName("pos"));
    static final long BUFFER_PTR = BUFFER.byteOffset(MemoryLayout.PathElement.groupElement("ptr"));
    static final long BUFFER_SIZE = BUFFER.byteOffset(MemoryLayout.PathElement.groupElement("size"));
    static final long BUFFER_POS = BUFFER.byteOffset(MemoryLayout.PathElement.groupElement("pos"));

    /**
     * The downcalls (each named after its libzstd symbol). {@code decompressStreamSimpleArgs} is null when the
     * library does not export that symbol (it is in zstd.h's static-linking section, exported by the usual
     * shared builds); it is bound as a critical call that may take heap memory, so libzstd can write straight
     * into a Java array (the GC waits for the call, a block or two of decoding). Only the calls every replay makes
     * are bound at load, and they share stubs where they can: each distinct signature costs a class generated at
     * run time (start-up CPU, ~10-20 ms each), so {@code ZSTD_createDCtx} and the version
     * ({@code ZSTD_versionString}) share {@code ()ptr}. The rest are found at load (a library without them is
     * refused as before) but bound on first use ({@code Later}): the struct path's {@code decompressStream}, the
     * error path's {@code isError}, {@code getErrorCode} and {@code getErrorName} (a result that is no error is
     * told apart without a call), {@code dctxSetParameter} (not called for the default window limit, the
     * library's own) and {@code freeDCtx} (a stream's close).
     */
    record Bindings(int version, MethodHandle createDCtx, MemorySegment freeDCtxSymbol,
                    MethodHandle decompressStreamSimpleArgs, MemorySegment dctxSetParameterSymbol,
                    MemorySegment isErrorSymbol, MemorySegment decompressStreamSymbol,
                    MemorySegment getErrorCodeSymbol, MemorySegment getErrorNameSymbol) {
        /**
         * {@code ZSTD_freeDCtx}, bound on first use: a stream's close (its arena's cleanup) calls it, and a
         * command-line replay ends its process without closing its reader, so never binds it.
         */
        MethodHandle freeDCtx() {
            return Later.FREE_DCTX;
        }

        /** {@code ZSTD_DCtx_setParameter}, bound on first use. */
        MethodHandle dctxSetParameter() {
            return Later.DCTX_SET_PARAMETER;
        }

        /** {@code ZSTD_isError}, bound on first use. */
        MethodHandle isError() {
            return Later.IS_ERROR;
        }

        /** {@code ZSTD_decompressStream}, bound on first use. */
        MethodHandle decompressStream() {
            return Later.DECOMPRESS_STREAM;
        }

        /** {@code ZSTD_getErrorCode}, bound on first use. */
        MethodHandle getErrorCode() {
            return Later.GET_ERROR_CODE;
        }

        /** {@code ZSTD_getErrorName}, bound on first use. */
        MethodHandle getErrorName() {
            return Later.GET_ERROR_NAME;
        }
    }

    /**
     * Whether {@code result} of a libzstd call that returns {@code size_t} is an error code: libzstd's errors are
     * {@code (size_t) -code} for small codes (above 2^63 unsigned), its other results sizes and hints far below
     * that, so only a negative {@code long} asks {@code ZSTD_isError}.
     */
    static boolean isError(final long result) throws Throwable {
        return result < 0 && (int) BINDINGS.isError().invokeExact(result) != 0;
    }

    /** The downcalls bound on first use (class initialisation: once, thread-safe); only reached through BINDINGS. */
    private static final class Later {
        static final MethodHandle FREE_DCTX = Linker.nativeLinker().downcallHandle(
            BINDINGS.freeDCtxSymbol(), FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        static final MethodHandle DCTX_SET_PARAMETER = Linker.nativeLinker().downcallHandle(
            BINDINGS.dctxSetParameterSymbol(), FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        static final MethodHandle IS_ERROR = Linker.nativeLinker().downcallHandle(
            BINDINGS.isErrorSymbol(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        static final MethodHandle DECOMPRESS_STREAM = Linker.nativeLinker().downcallHandle(
            BINDINGS.decompressStreamSymbol(), FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS,
                ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        static final MethodHandle GET_ERROR_CODE = Linker.nativeLinker().downcallHandle(
            BINDINGS.getErrorCodeSymbol(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        static final MethodHandle GET_ERROR_NAME = Linker.nativeLinker().downcallHandle(
            BINDINGS.getErrorNameSymbol(), FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));

        private Later() {
        }
    }

    /** Why the library is not used (null when {@link #BINDINGS} is set). */
    static final String UNAVAILABLE;
    /** The downcalls, or null (then {@link #UNAVAILABLE} says why). */
    static final Bindings BINDINGS;

    static {
        String why = null;
        Bindings b = null;
        try {
            b = load();
        } catch (final UnavailableException e) {
            why = e.getMessage();
        }
        UNAVAILABLE = why;
        BINDINGS = b;
    }

    private LibZstd() {
    }

    /** A reason the library cannot be used (internal to loading). */
    private static final class UnavailableException extends Exception {
        private static final long serialVersionUID = 1L;

        UnavailableException(final String why) {
            super(why, null, false, false);
        }
    }

    private static Bindings load() throws UnavailableException {
        if (!LibZstd.class.getModule().isNativeAccessEnabled()) {
            // checked first: a restricted call without it would print the JVM's warning
            throw new UnavailableException("native access is not enabled (java --enable-native-access=ALL-UNNAMED)");
        }
        final Linker linker;
        try {
            linker = Linker.nativeLinker();
        } catch (final UnsupportedOperationException e) {
            throw new UnavailableException("no native linker on this platform");
        }
        if (!ValueLayout.JAVA_LONG.equals(linker.canonicalLayouts().get("size_t"))
            || ValueLayout.ADDRESS.byteSize() != 8) {
            throw new UnavailableException("size_t is not 64 bits here");
        }
        final SymbolLookup lib = open();
        try {
            final ValueLayout size = ValueLayout.JAVA_LONG;
            final ValueLayout ptr = ValueLayout.ADDRESS;
            // ZSTD_versionString and ZSTD_createDCtx: one signature, one stub
            final FunctionDescriptor noArgPtr = FunctionDescriptor.of(ptr);
            final MemorySegment text = (MemorySegment) linker.downcallHandle(find(lib, "ZSTD_versionString"),
                noArgPtr).invokeExact();
            final int v = versionNumber(text.equals(MemorySegment.NULL) ? "" : text.reinterpret(32).getString(0));
            if (v < MIN_VERSION) {
                throw new UnavailableException("libzstd " + (v < 0 ? "of an unknown version" : versionText(v))
                    + " is older than " + versionText(MIN_VERSION));
            }
            return new Bindings(v,
                linker.downcallHandle(find(lib, "ZSTD_createDCtx"), noArgPtr),
                find(lib, "ZSTD_freeDCtx"),
                lib.find("ZSTD_decompressStream_simpleArgs").map(f -> linker.downcallHandle(f,
                    FunctionDescriptor.of(size, ptr, ptr, size, ptr, ptr, size, ptr), Linker.Option.critical(true)))
                    .orElse(null),
                find(lib, "ZSTD_DCtx_setParameter"), find(lib, "ZSTD_isError"), find(lib, "ZSTD_decompressStream"),
                find(lib, "ZSTD_getErrorCode"), find(lib, "ZSTD_getErrorName"));
        } catch (final UnavailableException e) {
            throw e;
        } catch (final Throwable t) {
            throw new UnavailableException("libzstd could not be bound: " + t);
        }
    }

    /** The library by its run-time names (Linux, then macOS), as the dynamic loader finds it. */
    private static SymbolLookup open() throws UnavailableException {
        for (final String name : new String[] {"libzstd.so.1", "libzstd.so", "libzstd.1.dylib", "libzstd.dylib"}) {
            try {
                return SymbolLookup.libraryLookup(name, Arena.global());
            } catch (final IllegalArgumentException | IllegalCallerException e) {
                // not there: the next name
            }
        }
        throw new UnavailableException("no libzstd found (libzstd.so.1: install the libzstd1 package)");
    }

    private static MemorySegment find(final SymbolLookup lib, final String symbol) throws UnavailableException {
        return lib.find(symbol).orElseThrow(() -> new UnavailableException("libzstd has no " + symbol));
    }

    /**
     * {@code ZSTD_versionString()}'s "1.5.4" as {@code ZSTD_versionNumber()}'s 10504 (major * 10000 + minor * 100
     * + release); -1 when it is not three dot-separated numbers below 100.
     */
    static int versionNumber(final String text) {
        final String[] parts = text.split("\\.", -1);
        if (parts.length != 3) {
            return -1;
        }
        int v = 0;
        for (final String part : parts) {
            if (part.isEmpty() || part.length() > 2 || !part.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return -1;
            }
            v = v * 100 + Integer.parseInt(part);
        }
        return v;
    }

    /** 10504 as "1.5.4". */
    static String versionText(final int v) {
        return v / 10000 + "." + v / 100 % 100 + "." + v % 100;
    }

    /** {@code ZSTD_getErrorName(code)}: libzstd's text for an error result. */
    static String errorName(final long code) {
        try {
            final MemorySegment s = (MemorySegment) BINDINGS.getErrorName().invokeExact(code);
            return s.equals(MemorySegment.NULL) ? "error " + code : s.reinterpret(256).getString(0);
        } catch (final Throwable t) {
            return "error " + code;
        }
    }
}
