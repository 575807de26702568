import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The driver of {@code scripts/parser-ab} (see there): two jars' parsers in one JVM, each in a class loader of its
 * own with its {@code AbLoop} (compiled against that jar).
 * <pre>
 *   java ParserAb.java steady LOOP_A JAR_A LOOP_B JAR_B DATA      (prints each round, then the median B/A)
 *   java ParserAb.java fresh LOOP_A JAR_A LOOP_B JAR_B TRACE.zst ROUNDS
 * </pre>
 */
public final class ParserAb {
    private static final int ROUNDS = 18;
    private static final int TURNS = 40;
    private static final int STEP = 16_384;

    private static URLClassLoader loader(final String loop, final String jar) throws Exception {
        return new URLClassLoader(new URL[] {Path.of(loop).toUri().toURL(), Path.of(jar).toUri().toURL()},
            ClassLoader.getPlatformClassLoader());
    }

    public static void main(final String[] a) throws Throwable {
        if (a[0].equals("steady")) {
            steady(a);
        } else {
            fresh(a);
        }
    }

    private static double median(final double[] v, final int from) {
        final double[] x = Arrays.copyOfRange(v, from, v.length);
        Arrays.sort(x);
        return x[x.length / 2];
    }

    private static void steady(final String[] a) throws Throwable {
        final byte[] data = Files.readAllBytes(Path.of(a[5]));
        final Object[] loops = new Object[2];
        final MethodHandle[] step = new MethodHandle[2];
        for (int s = 0; s < 2; s++) {
            final Class<?> c = loader(a[1 + 2 * s], a[2 + 2 * s]).loadClass("org.mm4j.trace.kmem.AbLoop");
            loops[s] = c.getConstructor(byte[].class).newInstance(data);
            step[s] = MethodHandles.publicLookup().findVirtual(c, "step", MethodType.methodType(long.class, int.class))
                .bindTo(loops[s]);
        }
        final ThreadMXBean t = ManagementFactory.getThreadMXBean();
        final double[] ratio = new double[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            final long[] cpu = new long[2];
            final long[] events = new long[2];
            for (int i = 0; i < TURNS; i++) {
                for (int k = 0; k < 2; k++) {
                    final int s = (i + r) % 2 == 0 ? k : 1 - k;
                    final long c0 = t.getCurrentThreadCpuTime();
                    events[s] += (long) step[s].invoke(STEP);
                    cpu[s] += t.getCurrentThreadCpuTime() - c0;
                }
            }
            final double na = (double) cpu[0] / events[0];
            final double nb = (double) cpu[1] / events[1];
            ratio[r] = nb / na;
            System.out.printf("round %d: A %.1f ns/event, B %.1f, B/A %.3f%n", r, na, nb, ratio[r]);
        }
        System.out.printf("%.4f%n", median(ratio, ROUNDS / 3));
    }

    /** CPU ticks of the C1 and C2 compiler threads so far. */
    private static long[] compilerTicks() throws Exception {
        final long[] ticks = new long[2];
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (final Path task : tasks) {
                final String st = Files.readString(task.resolve("stat"));
                final String comm = st.substring(st.indexOf('(') + 1, st.lastIndexOf(')'));
                final String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
                final long n = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                if (comm.startsWith("C1 ")) {
                    ticks[0] += n;
                } else if (comm.startsWith("C2 ")) {
                    ticks[1] += n;
                }
            }
        }
        return ticks;
    }

    private static void fresh(final String[] a) throws Throwable {
        final int rounds = Integer.parseInt(a[6]);
        final ThreadMXBean t = ManagementFactory.getThreadMXBean();
        final String[] names = {"parser", "C1", "C2"};
        final double[][] ratio = new double[3][rounds];
        for (int r = 0; r < rounds; r++) {
            final double[][] v = new double[2][3];
            for (int k = 0; k < 2; k++) {
                final int s = r % 2 == 0 ? k : 1 - k;
                try (URLClassLoader l = loader(a[1 + 2 * s], a[2 + 2 * s])) {
                    final MethodHandle whole = MethodHandles.publicLookup().findStatic(
                        l.loadClass("org.mm4j.trace.kmem.AbLoop"), "whole",
                        MethodType.methodType(long.class, String.class));
                    System.gc();
                    Thread.sleep(300); // the compiler queues drain
                    final long[] k0 = compilerTicks();
                    final long c0 = t.getCurrentThreadCpuTime();
                    final long n = (long) whole.invoke(a[5]);
                    v[s][0] = (t.getCurrentThreadCpuTime() - c0) / 1e9;
                    Thread.sleep(300);
                    final long[] k1 = compilerTicks();
                    v[s][1] = (k1[0] - k0[0]) / 100.0;
                    v[s][2] = (k1[1] - k0[1]) / 100.0;
                    if (n <= 0) {
                        throw new IllegalStateException("no events");
                    }
                }
            }
            for (int q = 0; q < 3; q++) {
                ratio[q][r] = v[0][q] > 0 ? v[1][q] / v[0][q] : 1;
            }
            System.out.printf("round %d: parser A %.3f s, B %.3f; C1 A %.2f, B %.2f; C2 A %.2f, B %.2f%n", r,
                v[0][0], v[1][0], v[0][1], v[1][1], v[0][2], v[1][2]);
        }
        for (int q = 0; q < 3; q++) {
            final double[] x = Arrays.copyOfRange(ratio[q], 1, rounds);
            Arrays.sort(x);
            System.out.printf("%-6s B/A median %.3f (%.3f-%.3f)%n", names[q], x[x.length / 2], x[0], x[x.length - 1]);
        }
    }
}
