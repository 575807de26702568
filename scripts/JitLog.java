import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the JIT compiled in one run, from HotSpot's compile log: which compiles cost the compiler threads' time, at
 * which level, for which classes, which methods C2 compiled more than once, the deoptimisations, and the C2
 * compiles of methods that a later C2 compile inlined (docs/replay-history.md, "Seventh pass (issue 14): what the
 * JIT compiles").
 * <pre>
 *   MM4J_JAVA_OPTS="-XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation -XX:LogFile=/tmp/c.log" \
 *       ./mm4j replay kmem FILE.zst &gt;/dev/null
 *   java scripts/JitLog.java /tmp/c.log [TOP]
 * </pre>
 * A compile's time is its task's finish stamp minus its start stamp: the compiler thread's wall time, which on a
 * loaded host is longer than its CPU time; compare shares, not seconds. "Code" is the nmethod's size in bytes;
 * "parsed" counts the methods the compile parsed (itself and every inlined method, each time it was inlined).
 */
final class JitLog {
    private static final Pattern ATTR = Pattern.compile("(\\w+)='([^']*)'");

    record Compile(String id, String method, int level, boolean osr, double start, double time, int code,
                   int parsed, Set<String> inlined) {
    }

    public static void main(final String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: java scripts/JitLog.java LOGFILE [TOP]");
            System.exit(2);
        }
        final int top = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        final List<Compile> compiles = new ArrayList<>();
        final Map<String, Compile> byId = new HashMap<>();
        final List<Map<String, String>> traps = new ArrayList<>();
        Map<String, String> task = null;
        final Map<String, String> klass = new HashMap<>();
        final Map<String, String> method = new HashMap<>();
        final Set<String> inlined = new HashSet<>();
        int parsed = 0;
        Map<String, String> trap = null;
        for (final String l : Files.readAllLines(Path.of(args[0]), StandardCharsets.ISO_8859_1)) {
            if (l.startsWith("<task ")) {
                task = attrs(l);
                klass.clear();
                method.clear();
                inlined.clear();
                parsed = 0;
            } else if (task != null && l.startsWith("<klass ")) {
                final Map<String, String> a = attrs(l);
                klass.put(a.get("id"), a.get("name"));
            } else if (task != null && l.startsWith("<method ")) {
                final Map<String, String> a = attrs(l);
                method.put(a.get("id"), klass.getOrDefault(a.get("holder"), "?") + "." + a.get("name"));
            } else if (task != null && l.startsWith("<parse ")) {
                parsed++;
                if (parsed > 1) {
                    inlined.add(method.getOrDefault(attrs(l).get("method"), "?"));
                }
            } else if (task != null && l.startsWith("<task_done")) {
                final Map<String, String> a = attrs(l);
                final double start = Double.parseDouble(task.get("stamp"));
                final String[] m = task.get("method").split(" ");
                final Compile c = new Compile(task.get("compile_id"), m[0] + "." + m[1],
                    Integer.parseInt(task.getOrDefault("level", "4")), "osr".equals(task.get("compile_kind")), start,
                    Double.parseDouble(a.get("stamp")) - start, Integer.parseInt(a.getOrDefault("nmsize", "0")),
                    parsed, Set.copyOf(inlined));
                compiles.add(c);
                byId.put(c.id(), c);
                task = null;
            } else if (l.startsWith("<uncommon_trap thread=")) {
                trap = attrs(l);
                if ("none".equals(trap.get("action"))) {
                    trap = null;
                }
            } else if (trap != null && l.startsWith("<jvms ")) {
                final Map<String, String> a = attrs(l);
                trap.put("at", a.get("method").split(" ")[0] + "." + a.get("method").split(" ")[1] + " bci "
                    + a.get("bci"));
                traps.add(trap);
                trap = null;
            }
        }
        final Map<Integer, double[]> levels = new TreeMap<>();
        for (final Compile c : compiles) {
            final double[] v = levels.computeIfAbsent(c.level(), k -> new double[4]);
            v[0]++;
            v[1] += c.osr() ? 1 : 0;
            v[2] += c.time();
            v[3] += c.code();
        }
        System.out.println("level  compiles  on stack  compiler s  code KB");
        levels.forEach((k, v) -> System.out.printf(Locale.ROOT, "%5d %9.0f %9.0f %11.2f %8.0f%n", k, v[0], v[1],
            v[2], v[3] / 1024));
        final List<Compile> c2 = compiles.stream().filter(c -> c.level() == 4).toList();
        final double c2time = c2.stream().mapToDouble(Compile::time).sum();
        final Map<String, double[]> byClass = new LinkedHashMap<>();
        for (final Compile c : c2) {
            final String cls = c.method().substring(0, c.method().lastIndexOf('.'));
            final String key = cls.startsWith("org.mm4j") ? cls : "JDK " + String.join(".",
                List.of(cls.split("\\.")).subList(0, Math.min(2, cls.split("\\.").length)));
            final double[] v = byClass.computeIfAbsent(key, k -> new double[3]);
            v[0]++;
            v[1] += c.time();
            v[2] += c.parsed();
        }
        System.out.printf(Locale.ROOT, "%nC2 by class (share of C2's %.2f s)%n", c2time);
        byClass.entrySet().stream().sorted(Comparator.comparingDouble(e -> -e.getValue()[1])).limit(top)
            .forEach(e -> System.out.printf(Locale.ROOT, "%6.1f %% %4.0f compiles %6.0f parsed  %s%n",
                100 * e.getValue()[1] / c2time, e.getValue()[0], e.getValue()[2], e.getKey()));
        System.out.println("\nlargest C2 compiles (s, at, code bytes, parsed)");
        c2.stream().sorted(Comparator.comparingDouble(c -> -c.time())).limit(top).forEach(c -> System.out.printf(
            Locale.ROOT, "%6.3f %6.2f %6d %4d  %s%s%n", c.time(), c.start(), c.code(), c.parsed(), c.method(),
            c.osr() ? " (on stack)" : ""));
        System.out.println("\nmethods C2 compiled more than once (s in all)");
        final Map<String, List<Compile>> again = new TreeMap<>();
        c2.forEach(c -> again.computeIfAbsent(c.method(), k -> new ArrayList<>()).add(c));
        again.forEach((m, l) -> {
            if (l.size() > 1) {
                System.out.printf(Locale.ROOT, "%6.3f %d x %s%s%n", l.stream().mapToDouble(Compile::time).sum(),
                    l.size(), m, l.stream().anyMatch(Compile::osr) ? " (on stack too)" : "");
            }
        });
        System.out.println("\ndeoptimisations (reason, action, where; the compile it hit)");
        for (final Map<String, String> t : traps) {
            final Compile c = byId.get(t.get("compile_id"));
            System.out.printf(Locale.ROOT, "%s %s %s (compile %s, level %s)%n", t.get("reason"), t.get("action"),
                t.get("at"), t.get("compile_id"), c == null ? "?" : Integer.toString(c.level()));
        }
        double standalone = 0;
        int n = 0;
        for (final Compile c : c2) {
            if (!c.osr() && c2.stream().anyMatch(o -> o != c && o.start() > c.start() && !o.method().equals(c.method())
                && o.inlined().contains(c.method()))) {
                standalone += c.time();
                n++;
            }
        }
        System.out.printf(Locale.ROOT, "%nC2 compiles of methods a later C2 compile inlined: %d, %.1f %% of C2's time "
            + "(an upper bound of the waste)%n", n, c2time > 0 ? 100 * standalone / c2time : 0);
    }

    private static Map<String, String> attrs(final String line) {
        final Map<String, String> a = new HashMap<>();
        final Matcher m = ATTR.matcher(line);
        while (m.find()) {
            a.put(m.group(1), m.group(2));
        }
        return a;
    }

    private JitLog() {
    }
}
