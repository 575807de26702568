package org.mm4j.trace.kmem.zstd;

import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;

/**
 * Picks the zstd decoder: the system's libzstd through FFM ({@link LibZstdInputStream}) when it is usable, else
 * the pure-Java {@link ZstdInputStream} (the reference; silent fallback, nothing logged). Both take the same input,
 * give the same bytes and refuse the same frames. The system property {@value #PROPERTY} chooses:
 * <ul>
 *   <li>{@code auto} (the default): libzstd when usable, else Java;</li>
 *   <li>{@code java}: the Java decoder always (tests, fuzzing, a libzstd suspected of a bug);</li>
 *   <li>{@code native}: libzstd, and an error naming why when it is not usable.</li>
 * </ul>
 * libzstd is usable when {@code libzstd.so.1} (1.4.0 or later) is found by the dynamic loader and native access is
 * enabled for mm4j ({@code --enable-native-access=ALL-UNNAMED}, which {@code ./mm4j} and the jar's manifest give).
 * Stateless; any thread.
 */
public final class Zstd {
    /** The system property choosing the decoder: {@code auto}, {@code java} or {@code native}. */
    public static final String PROPERTY = "mm4j.zstd";

    private Zstd() {
    }

    /**
     * A zstd decoder of {@code in} refusing frames whose window is above {@code maxWindow} bytes (1 KiB to
     * {@link ZstdInputStream#MAX_WINDOW}), chosen as the class comment says.
     *
     * @throws IOException when {@value #PROPERTY} is {@code native} and libzstd is not usable, or names no decoder
     */
    public static InputStream decoder(final InputStream in, final long maxWindow) throws IOException {
        return useNative() ? new LibZstdInputStream(in, maxWindow) : new ZstdInputStream(in, maxWindow);
    }

    /**
     * Refuses at once what {@link #decoder} would refuse under the current {@value #PROPERTY} (an unknown value,
     * {@code native} without a usable libzstd), without binding libzstd for {@code auto}: a caller that makes
     * the decoder later, on another thread, reports a bad choice where {@link #decoder} would.
     *
     * @throws IOException as {@link #decoder} would
     */
    public static void checkChoice() throws IOException {
        if (!mode().equals("auto") && !mode().isEmpty()) {
            useNative();
        }
    }

    private static String mode() {
        return System.getProperty(PROPERTY, "auto").strip().toLowerCase(Locale.ROOT);
    }

    /** Whether {@link #decoder} uses libzstd under the current {@value #PROPERTY}. */
    public static boolean useNative() throws IOException {
        final String mode = mode();
        return switch (mode) {
            case "auto", "" -> nativeAvailable();
            case "java" -> false;
            case "native" -> {
                if (!nativeAvailable()) {
                    throw new IOException("zstd: -D" + PROPERTY + "=native but libzstd is not usable: "
                        + LibZstd.UNAVAILABLE);
                }
                yield true;
            }
            default -> throw new IOException("zstd: -D" + PROPERTY + "=" + mode + " names no decoder (expected:"
                + " auto, java or native)");
        };
    }

    /** Whether libzstd can be used in this JVM (the library found, recent enough, native access enabled). */
    public static boolean nativeAvailable() {
        return LibZstd.BINDINGS != null;
    }

    /** Why libzstd cannot be used, or null when it can. */
    public static String nativeUnavailableReason() {
        return LibZstd.UNAVAILABLE;
    }

    /** The decoder {@link #decoder} picks now, for messages: "libzstd 1.5.4" or "java". */
    public static String decoderName() {
        try {
            return useNative() ? "libzstd " + LibZstdInputStream.version() : "java";
        } catch (final IOException e) {
            return e.getMessage();
        }
    }
}
