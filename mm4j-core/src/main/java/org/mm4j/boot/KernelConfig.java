package org.mm4j.boot;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The build configuration the model kernel reports and obeys: Linux's {@code .config}, as {@code /proc/config.gz}
 * shows it.
 *
 * <p>The defaults are the whole configuration of the reference kernel (Linux 6.18.44, x86-64) on which the samples
 * were captured, bundled as the resource {@code config-6.18.44.gz} beside this class, plus what a debug kernel
 * compiles in but leaves off until a boot parameter or a debugfs write asks ({@link #MM4J_BUILT}): fault injection
 * ({@code FAULT_INJECTION}, {@code FAILSLAB}, {@code FAIL_PAGE_ALLOC}, {@code FAULT_INJECTION_DEBUG_FS}) and
 * {@code PAGE_OWNER} (which selects {@code PAGE_EXTENSION}) and {@code DEBUG_KMEMLEAK} with
 * {@code DEBUG_KMEMLEAK_DEFAULT_OFF} (on only with {@code kmemleak=on}). They change nothing until asked, so the
 * defaults behave as the reference kernel. Facilities mm4j does not build ({@code KFENCE}, ...) stay "is not
 * set"; enabling one at boot is refused rather than claimed.
 *
 * <p>Each symbol can be overridden at boot with {@code mm4j.config.NAME=VALUE} (NAME without {@code CONFIG_}):
 * a bool or tristate takes {@code y} or {@code n} ({@code m} where the reference has {@code m}), an int a decimal
 * number, a hex symbol {@code 0x...}, a string any text. A symbol the reference config does not know is refused,
 * as {@code make oldconfig} would drop it: mm4j has no Kconfig to tell its type.
 *
 * <p>Symbol kinds follow the {@code .config} syntax: {@code # CONFIG_X is not set} is only ever written for bool
 * and tristate symbols, so an unset symbol is a bool.
 *
 * <p>Invariants: {@link #text()} has the reference file's lines in its order, each overridden symbol's line
 * replaced in place. Instances are immutable and safe to share between threads; the reference file is read once
 * per JVM.
 */
public final class KernelConfig {
    /** The reference kernel whose configuration is the default. */
    public static final String REFERENCE = "6.18.44";
    /** The boot parameter prefix: {@code mm4j.config.SLUB_STATS=y}. */
    public static final String PARAM_PREFIX = "mm4j.config.";

    /**
     * Symbols mm4j does not build (yet): enabling one at boot would claim a facility that is not there.
     */
    private static final Set<String> NOT_BUILT = Set.of("KFENCE", "RANDOM_KMALLOC_CACHES",
        "PAGE_POISONING", "FAULT_INJECTION_USERCOPY", "FAIL_MAKE_REQUEST", "FAIL_IO_TIMEOUT", "FAIL_FUTEX",
        "FAULT_INJECTION_CONFIGFS", "FAULT_INJECTION_STACKTRACE_FILTER");

    /**
     * What mm4j compiles in beyond the reference config: each reference line (left) is replaced by the lines a
     * {@code make olddefconfig} with the symbol turned on writes there (right). The symbols these lines set, the
     * dependent ones mm4j does not build among them "is not set", as Kconfig writes them.
     */
    static final Map<String, List<String>> MM4J_BUILT = Map.of(
        "# CONFIG_FAULT_INJECTION is not set", List.of(
            "CONFIG_FAULT_INJECTION=y",
            "CONFIG_FAILSLAB=y",
            "CONFIG_FAIL_PAGE_ALLOC=y",
            "# CONFIG_FAULT_INJECTION_USERCOPY is not set",
            "# CONFIG_FAIL_MAKE_REQUEST is not set",
            "# CONFIG_FAIL_IO_TIMEOUT is not set",
            "# CONFIG_FAIL_FUTEX is not set",
            "CONFIG_FAULT_INJECTION_DEBUG_FS=y",
            "# CONFIG_FAULT_INJECTION_CONFIGFS is not set",
            "# CONFIG_FAULT_INJECTION_STACKTRACE_FILTER is not set"),
        "# CONFIG_PAGE_EXTENSION is not set", List.of("CONFIG_PAGE_EXTENSION=y"),
        "# CONFIG_PAGE_OWNER is not set", List.of("CONFIG_PAGE_OWNER=y"),
        "# CONFIG_DEBUG_KMEMLEAK is not set", List.of(
            "CONFIG_DEBUG_KMEMLEAK=y",
            "CONFIG_DEBUG_KMEMLEAK_MEM_POOL_SIZE=16000",
            "CONFIG_DEBUG_KMEMLEAK_DEFAULT_OFF=y",
            "CONFIG_DEBUG_KMEMLEAK_AUTO_SCAN=y",
            "# CONFIG_DEBUG_KMEMLEAK_VERBOSE is not set"));

    /**
     * Kconfig's "depends on" among the symbols above: a child whose parent is off is not in the file at all (its
     * line is left out of {@link #text()}) and {@link #isEnabled} says false.
     */
    private static final Map<String, String> DEPENDS_ON = Map.ofEntries(
        Map.entry("FAILSLAB", "FAULT_INJECTION"),
        Map.entry("FAIL_PAGE_ALLOC", "FAULT_INJECTION"),
        Map.entry("FAULT_INJECTION_USERCOPY", "FAULT_INJECTION"),
        Map.entry("FAIL_MAKE_REQUEST", "FAULT_INJECTION"),
        Map.entry("FAIL_IO_TIMEOUT", "FAULT_INJECTION"),
        Map.entry("FAIL_FUTEX", "FAULT_INJECTION"),
        Map.entry("FAULT_INJECTION_DEBUG_FS", "FAULT_INJECTION"),
        Map.entry("FAULT_INJECTION_CONFIGFS", "FAULT_INJECTION"),
        Map.entry("FAULT_INJECTION_STACKTRACE_FILTER", "FAULT_INJECTION_DEBUG_FS"),
        Map.entry("DEBUG_KMEMLEAK_MEM_POOL_SIZE", "DEBUG_KMEMLEAK"),
        Map.entry("DEBUG_KMEMLEAK_DEFAULT_OFF", "DEBUG_KMEMLEAK"),
        Map.entry("DEBUG_KMEMLEAK_AUTO_SCAN", "DEBUG_KMEMLEAK"),
        Map.entry("DEBUG_KMEMLEAK_VERBOSE", "DEBUG_KMEMLEAK"));

    private static final KernelConfig DEFAULT = new KernelConfig(Reference.VALUES, Map.of());

    /** The reference file, parsed once. */
    private static final class Reference {
        /** The reference file's lines, {@link #MM4J_BUILT} applied. */
        static final List<String> LINES;
        /** Symbol (no CONFIG_) to raw value after '=' (strings keep their quotes); null = "is not set". */
        static final Map<String, String> VALUES;

        static {
            final String text;
            try (InputStream in = KernelConfig.class.getResourceAsStream("config-" + REFERENCE + ".gz")) {
                if (in == null) {
                    throw new IllegalStateException("resource config-" + REFERENCE + ".gz missing from mm4j-core");
                }
                text = new String(new GZIPInputStream(in).readAllBytes(), StandardCharsets.UTF_8);
            } catch (final IOException e) {
                throw new UncheckedIOException("cannot read the bundled config-" + REFERENCE + ".gz", e);
            }
            // Every boot parses this (~4,000 lines, at start-up, mostly interpreted), so in one pass: no split
            // array, and no line hashed whole: only a line whose symbol MM4J_BUILT replaces is looked up there
            // (a symbol's String keeps the hash the values map computed for it)
            final Set<String> built = new HashSet<>();
            for (final String key : MM4J_BUILT.keySet()) {
                built.add(symbolOf(key));
            }
            final List<String> lines = new ArrayList<>(4096);
            final Map<String, String> values = new LinkedHashMap<>(8192);
            for (int from = 0, n = text.length(); from <= n; ) {
                final int nl = text.indexOf('\n', from);
                final int eol = nl < 0 ? n : nl;
                final String line = text.substring(from, eol);
                from = eol + 1;
                final String name = symbolOf(line);
                final List<String> replaced = name != null && line.charAt(0) == '#' && built.contains(name)
                    ? MM4J_BUILT.get(line) : null;
                if (replaced == null) {
                    add(lines, values, line, name);
                } else {
                    for (final String r : replaced) {
                        add(lines, values, r, symbolOf(r));
                    }
                }
            }
            LINES = List.copyOf(lines);
            VALUES = Collections.unmodifiableMap(values);
        }

        private static void add(final List<String> lines, final Map<String, String> values, final String line,
                                final String name) {
            lines.add(line);
            if (name != null) {
                values.put(name, line.startsWith("#") ? null : line.substring(line.indexOf('=') + 1));
            }
        }
    }

    private final Map<String, String> base;
    private final Map<String, String> overrides;

    private KernelConfig(final Map<String, String> base, final Map<String, String> overrides) {
        this.base = base;
        this.overrides = Collections.unmodifiableMap(overrides);
    }

    /** The reference kernel's configuration, no overrides. */
    public static KernelConfig defaults() {
        return DEFAULT;
    }

    /**
     * The defaults with {@code overrides} applied (symbol without {@code CONFIG_} to the boot value: y, n, a
     * number, text).
     *
     * @throws CmdlineException naming {@code mm4j.config.NAME=VALUE} for an unknown symbol, a value of the wrong
     *                          kind or a facility mm4j does not build
     */
    public static KernelConfig withOverrides(final Map<String, String> overrides) {
        if (overrides.isEmpty()) {
            return DEFAULT;
        }
        final Map<String, String> checked = new LinkedHashMap<>();
        for (final Map.Entry<String, String> e : overrides.entrySet()) {
            final String name = e.getKey().startsWith("CONFIG_") ? e.getKey().substring(7) : e.getKey();
            checked.put(name, checkOverride(name, e.getValue()));
        }
        return new KernelConfig(Reference.VALUES, checked);
    }

    /** Validates one override; returns the raw value to store (null = not set). */
    private static String checkOverride(final String name, final String value) {
        final String param = PARAM_PREFIX + name + (value == null ? "" : "=" + value);
        if (!Reference.VALUES.containsKey(name)) {
            throw new CmdlineException(param + ": no CONFIG_" + name + " in the " + REFERENCE
                + " kernel config (expected a symbol of /proc/config.gz, without CONFIG_)");
        }
        if (value == null || value.isEmpty()) {
            throw new CmdlineException(param + " needs a value (expected: " + PARAM_PREFIX + name + "=y|n|value)");
        }
        final String ref = Reference.VALUES.get(name);
        if (ref == null || ref.equals("y") || ref.equals("m")) {
            if (value.equals("n")) {
                return null;
            }
            if (value.equals("y") || (value.equals("m") && "m".equals(ref))) {
                if (value.equals("y") && ref == null && NOT_BUILT.contains(name)) {
                    throw new CmdlineException(param + ": CONFIG_" + name + " is not built into mm4j (yet),"
                        + " so it cannot be turned on");
                }
                return value;
            }
            throw new CmdlineException(param + " is not a bool (expected: y or n)");
        }
        if (ref.startsWith("\"")) {
            final String v = value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
                ? value.substring(1, value.length() - 1) : value;
            return '"' + v.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
        }
        if (ref.startsWith("0x")) {
            if (value.length() > 2 && (value.startsWith("0x") || value.startsWith("0X"))
                && value.substring(2).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                return "0x" + value.substring(2);
            }
            throw new CmdlineException(param + " is not a hex number (expected: 0x followed by hex digits)");
        }
        try {
            return Long.toString(Long.parseLong(value));
        } catch (final NumberFormatException ex) {
            throw new CmdlineException(param + " is not a number (expected: a decimal integer)");
        }
    }

    /** {@code IS_ENABLED(CONFIG_name)}: true for y (and m); {@code name} without {@code CONFIG_}. */
    public boolean isEnabled(final String name) {
        final String v = value(name);
        final String parent = DEPENDS_ON.get(name);
        return ("y".equals(v) || "m".equals(v)) && (parent == null || isEnabled(parent));
    }

    /**
     * The raw value of {@code CONFIG_name} as the file writes it after '=' (strings with their quotes), or null
     * when the symbol is "not set".
     *
     * @throws IllegalArgumentException when the reference config has no such symbol (a typo, never "off")
     */
    public String value(final String name) {
        final String v = overrides.containsKey(name) ? overrides.get(name) : base.get(name);
        if (v == null && !base.containsKey(name)) {
            throw new IllegalArgumentException("no CONFIG_" + name + " in the " + REFERENCE + " kernel config"
                + (name.startsWith("CONFIG_") ? " (name it without CONFIG_)" : ""));
        }
        return v;
    }

    /** The value of an int or hex symbol. */
    public long longValue(final String name) {
        final String v = value(name);
        if (v == null || v.startsWith("\"") || v.equals("y") || v.equals("m")) {
            throw new IllegalArgumentException("CONFIG_" + name + "=" + v + " is not a number");
        }
        return v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
    }

    /** The boot overrides in effect, symbol without CONFIG_ to raw value (null = not set). */
    public Map<String, String> overrides() {
        return overrides;
    }

    /** The text {@code zcat /proc/config.gz} prints: the reference file with each override's line replaced. */
    public String text() {
        if (overrides.isEmpty()) {
            return String.join("\n", Reference.LINES);
        }
        final StringBuilder sb = new StringBuilder(110_000);
        for (int i = 0; i < Reference.LINES.size(); i++) {
            final String line = Reference.LINES.get(i);
            final String name = symbolOf(line);
            final String parent = name == null ? null : DEPENDS_ON.get(name);
            if (parent != null && !isEnabled(parent)) {
                continue;  // Kconfig writes no line for a symbol whose dependency is off
            }
            if (name != null && overrides.containsKey(name)) {
                final String v = overrides.get(name);
                sb.append(v == null ? "# CONFIG_" + name + " is not set" : "CONFIG_" + name + "=" + v);
            } else {
                sb.append(line);
            }
            if (i + 1 < Reference.LINES.size()) {
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    /** {@code /proc/config.gz} as bytes: {@link #text()} gzip-compressed. */
    public byte[] gzip() {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream(32 << 10);
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(text().getBytes(StandardCharsets.UTF_8));
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The symbol a line sets or unsets ({@code CONFIG_X=..} or {@code # CONFIG_X is not set}), else null. */
    private static String symbolOf(final String line) {
        if (line.startsWith("CONFIG_")) {
            final int eq = line.indexOf('=');
            return eq < 0 ? null : line.substring(7, eq);
        }
        if (line.startsWith("# CONFIG_") && line.endsWith(" is not set")) {
            return line.substring(9, line.length() - 11);
        }
        return null;
    }

    /** Every symbol name of the config, in file order (for completion and tests). */
    public List<String> names() {
        return new ArrayList<>(base.keySet());
    }

    @Override
    public String toString() {
        return "KernelConfig[" + REFERENCE + (overrides.isEmpty() ? "" : " + " + overrides) + "]";
    }
}
