import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a thread's samples land inside JIT-compiled code, down to the inlined method and source line, without
 * hsdis (the JDK's disassembler plug-in, missing here): HotSpot prints a compiled method's code as hex bytes with
 * its debug scopes ({@code -XX:CompileCommand=print,CLASS::METHOD}), perf gives each sample's instruction address,
 * and this program joins the two (the scope of an instruction is the one recorded at the first pc after it).
 * <pre>
 *   perf record -F 4000 -o P.data java -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
 *       -XX:CompileCommand=print,org.mm4j.trace.kmem.KmemReplayer::replay ... \
 *       -XX:+LogVMOutput -XX:LogFile=ASM.log -jar mm4j.jar replay kmem FILE
 *   perf script -i P.data -F comm,ip &gt; SAMPLES
 *   java scripts/JitLines.java ASM.log SAMPLES java [METHOD]
 * </pre>
 * Prints, of the samples of threads named {@code java} (the main thread), the share in each printed method, by
 * innermost source line and by inline chain; with METHOD (a substring of a printed method's name) also that
 * method's instructions with their sample counts, decoded by {@code objdump} (binutils) when it is installed,
 * and then its hottest inner loop's length in instructions ({@link #hotLoop}).
 */
public final class JitLines {
    private static final Pattern HEADER =
        Pattern.compile("^Compiled method \\((c[12])\\)\\s+\\d+\\s+\\d+\\s+.*?(\\d)\\s+(\\S+) \\(");
    private static final Pattern MAIN = Pattern.compile("main code\\s+\\[0x([0-9a-f]+),0x([0-9a-f]+)\\]");
    private static final Pattern HEX = Pattern.compile("^\\s+0x([0-9a-f]+): ([0-9a-f| ]+)$");
    private static final Pattern PC = Pattern.compile("^\\s+0x([0-9a-f]+): ;");
    private static final Pattern SCOPE = Pattern.compile("^\\s+;\\s+- (\\S+)@\\d+ \\(line (\\d+)\\)");

    private record Method(String name, int level, long start, long end, TreeMap<Long, List<String>> scopes,
                          TreeMap<Long, Integer> bytes) {
    }

    private JitLines() {
    }

    public static void main(final String[] args) throws IOException, InterruptedException {
        if (args.length < 3) {
            System.err.println("usage: java scripts/JitLines.java ASM.log PERF-SCRIPT-OUTPUT THREAD [METHOD]");
            System.exit(2);
        }
        final List<Method> methods = parse(Files.readAllLines(Path.of(args[0]), StandardCharsets.ISO_8859_1));
        final List<Long> ips = new ArrayList<>();
        for (final String line : Files.readAllLines(Path.of(args[1]), StandardCharsets.ISO_8859_1)) {
            final String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && f[0].equals(args[2]) && f[1].matches("[0-9a-f]+")) {
                ips.add(Long.parseUnsignedLong(f[1], 16));
            }
        }
        final Map<String, Integer> byMethod = new HashMap<>();
        final Map<String, Integer> byLine = new HashMap<>();
        final Map<String, Integer> byChain = new HashMap<>();
        final Map<Long, Integer> byIp = new HashMap<>();
        int hits = 0;
        for (final long ip : ips) {
            final Method m = find(methods, ip);
            if (m == null) {
                continue;
            }
            hits++;
            byIp.merge(ip, 1, Integer::sum);
            byMethod.merge(m.name + " (tier " + m.level + ")", 1, Integer::sum);
            final List<String> s = scopeOf(m, ip);
            if (!s.isEmpty()) {
                byLine.merge(s.get(0), 1, Integer::sum);
                byChain.merge(String.join(" < ", s.subList(0, Math.min(4, s.size()))), 1, Integer::sum);
            }
        }
        System.out.printf("%d samples of thread %s, %d in the printed methods%n", ips.size(), args[2], hits);
        print("by compiled method", byMethod, ips.size(), 20);
        print("by innermost source line", byLine, ips.size(), 40);
        print("by inline chain (innermost first)", byChain, ips.size(), 40);
        if (args.length > 3) {
            Method best = null;
            int most = -1;
            for (final Method m : methods) {
                if (m.name.contains(args[3])) {
                    int n = 0;
                    for (final long ip : ips) {
                        n += ip >= m.start && ip < m.end ? 1 : 0;
                    }
                    if (n > most) {
                        best = m;
                        most = n;
                    }
                }
            }
            if (best != null) {
                instructions(best, byIp);
            }
        }
    }

    private static List<Method> parse(final List<String> lines) {
        final List<Method> out = new ArrayList<>();
        String name = null;
        int level = 0;
        long start = -1;
        long end = -1;
        TreeMap<Long, List<String>> scopes = null;
        TreeMap<Long, Integer> bytes = null;
        List<String> pending = null;
        for (final String l : lines) {
            Matcher m = HEADER.matcher(l);
            if (m.find()) {
                if (name != null && start >= 0) {
                    out.add(new Method(name, level, start, end, scopes, bytes));
                }
                name = m.group(3);
                level = Integer.parseInt(m.group(2));
                start = -1;
                scopes = new TreeMap<>();
                bytes = new TreeMap<>();
                pending = null;
                continue;
            }
            if (name == null) {
                continue;
            }
            if ((m = MAIN.matcher(l)).find()) {
                start = Long.parseUnsignedLong(m.group(1), 16);
                end = Long.parseUnsignedLong(m.group(2), 16);
            } else if ((m = HEX.matcher(l)).find()) {
                final long at = Long.parseUnsignedLong(m.group(1), 16);
                final String hex = m.group(2).replace("|", "").replace(" ", "");
                for (int i = 0; i + 1 < hex.length(); i += 2) {
                    bytes.put(at + i / 2, Integer.parseInt(hex.substring(i, i + 2), 16));
                }
            } else if ((m = PC.matcher(l)).find()) {
                pending = new ArrayList<>();
                scopes.put(Long.parseUnsignedLong(m.group(1), 16), pending);
            } else if ((m = SCOPE.matcher(l)).find() && pending != null) {
                final String cls = m.group(1);
                pending.add(cls.substring(cls.lastIndexOf('.') + 1) + ":" + m.group(2));
            }
        }
        if (name != null && start >= 0) {
            out.add(new Method(name, level, start, end, scopes, bytes));
        }
        for (final Method m : out) {
            m.scopes.values().removeIf(List::isEmpty);
        }
        return out;
    }

    private static Method find(final List<Method> methods, final long ip) {
        for (final Method m : methods) {
            if (ip >= m.start && ip < m.end) {
                return m;
            }
        }
        return null;
    }

    /** The scope recorded at the first pc after {@code ip}: the bytecode whose code {@code ip} is in. */
    private static List<String> scopeOf(final Method m, final long ip) {
        final Map.Entry<Long, List<String>> e = m.scopes.higherEntry(ip);
        return e != null ? e.getValue() : List.of();
    }

    private static void print(final String title, final Map<String, Integer> counts, final int total, final int n) {
        System.out.println("-- " + title + " (share of all samples of the thread)");
        counts.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(n)
            .forEach(e -> System.out.printf("%6.2f %%  %s%n", 100.0 * e.getValue() / total, e.getKey()));
    }

    private static void instructions(final Method m, final Map<Long, Integer> byIp)
            throws IOException, InterruptedException {
        System.out.printf("-- %s (tier %d): instructions with their samples%n", m.name, m.level);
        final long base = m.bytes.firstKey();
        final byte[] code = new byte[(int) (m.bytes.lastKey() - base + 1)];
        Arrays.fill(code, (byte) 0x90);
        m.bytes.forEach((a, v) -> code[(int) (a - base)] = (byte) (int) v);
        final Path bin = Files.createTempFile("jitlines", ".bin");
        Files.write(bin, code);
        final List<String> listing;
        try {
            final Process p = new ProcessBuilder("objdump", "-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel",
                "--adjust-vma=" + base, bin.toString()).redirectErrorStream(true).start();
            listing = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1).lines().toList();
            p.waitFor();
        } catch (final IOException e) {
            System.out.println("(objdump not found: sample counts by address only)");
            new TreeMap<>(byIp).forEach((ip, c) -> {
                if (ip >= m.start && ip < m.end) {
                    System.out.printf("%6d  %x  %s%n", c, ip, String.join(" < ", scopeOf(m, ip)));
                }
            });
            return;
        } finally {
            Files.deleteIfExists(bin);
        }
        final Pattern insn = Pattern.compile("^\\s+([0-9a-f]+):\\s+(.*)$");
        final TreeMap<Long, String> texts = new TreeMap<>();
        String last = null;
        for (final String l : listing) {
            final Matcher mm = insn.matcher(l);
            if (!mm.find()) {
                continue;
            }
            final long a = Long.parseUnsignedLong(mm.group(1), 16);
            final List<String> s = scopeOf(m, a);
            final String scope = String.join(" < ", s.subList(0, Math.min(3, s.size())));
            if (!scope.equals(last)) {
                System.out.println("                         ---- " + scope);
                last = scope;
            }
            final Integer c = byIp.get(a);
            System.out.printf("%6s  %x  %s%n", c == null ? "" : c.toString(), a, mm.group(2));
            texts.put(a, mm.group(2));
        }
        hotLoop(texts, byIp);
    }

    /**
     * The method's hottest inner loop: of the ranges from a backward jump's target to the jump, the shortest that
     * holds at least 90 % of the samples the hottest range holds; prints its bounds, its instruction count (nops
     * left out) and its samples, for comparing two builds' or two rows' loops (docs/speed-history.md, "Tenth pass
     * (issue 13): the segment path's chain").
     */
    private static void hotLoop(final TreeMap<Long, String> texts, final Map<Long, Integer> byIp) {
        final Pattern jump = Pattern.compile("^(?:[0-9a-f]{2} )+\\s*j[a-z]+\\s+0x([0-9a-f]+)");
        final List<long[]> loops = new ArrayList<>();  // {from, to, samples, instructions}
        texts.forEach((a, t) -> {
            final Matcher j = jump.matcher(t);
            if (j.find()) {
                final long to = Long.parseUnsignedLong(j.group(1), 16);
                if (to < a && texts.containsKey(to)) {
                    long samples = 0;
                    long n = 0;
                    for (final Map.Entry<Long, String> e : texts.subMap(to, true, a, true).entrySet()) {
                        samples += byIp.getOrDefault(e.getKey(), 0);
                        // a line without a tab is the tail of a long instruction's bytes, not an instruction
                        n += e.getValue().contains("\t") && !e.getValue().contains("nop") ? 1 : 0;
                    }
                    loops.add(new long[] {to, a, samples, n});
                }
            }
        });
        final long most = loops.stream().mapToLong(l -> l[2]).max().orElse(0);
        final long all = texts.keySet().stream().mapToLong(a -> byIp.getOrDefault(a, 0)).sum();
        loops.stream().filter(l -> most > 0 && l[2] * 10 >= most * 9).min((x, y) -> Long.compare(x[3], y[3]))
            .ifPresentOrElse(l -> System.out.printf("-- hottest loop: %x..%x, %d instructions, %d of the method's %d"
                    + " samples%n", l[0], l[1], l[3], l[2], all),
                () -> System.out.println("-- hottest loop: none with samples"));
    }
}
