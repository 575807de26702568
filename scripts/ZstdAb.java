import java.io.BufferedInputStream;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.mm4j.trace.kmem.KmemEvent;
import org.mm4j.trace.kmem.KmemTraceReader;
import org.mm4j.trace.kmem.ReadAheadInputStream;
import org.mm4j.trace.kmem.TraceInput;

/**
 * The zstd decoders A/B in one JVM, by process CPU time (the machine is shared: compare variants of one run).
 * Each round reads FILE.zst to its end once per variant (rotating order); the first two rounds are warm-up.
 * A variant is DECODER-WORK[-thread]: DECODER java or native (-Dmm4j.zstd), WORK decode (read 256 KiB at a time)
 * or parse (KmemTraceReader over it, as the replay's parser), -thread: decoded on a ReadAheadInputStream thread.
 *
 * Run: java --enable-native-access=ALL-UNNAMED -Xss4m -cp mm4j-cli/target/mm4j.jar scripts/ZstdAb.java FILE.zst 8 \
 *        java-decode,native-decode,java-parse-thread,native-parse-thread,native-parse
 */
public class ZstdAb {
    public static void main(final String[] a) throws Exception {
        final var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        final Path f = Path.of(a[0]);
        final int rounds = Integer.parseInt(a[1]);
        final String[] variants = a[2].split(",");
        final Map<String, List<Double>> cpu = new TreeMap<>();
        final byte[] buf = new byte[1 << 18];
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < variants.length; k++) {
                final String v = variants[(r + k) % variants.length];
                System.setProperty("mm4j.zstd", v.startsWith("java") ? "java" : "native");
                final long c0 = os.getProcessCpuTime();
                final long w0 = System.nanoTime();
                long n = 0;
                final InputStream raw = new BufferedInputStream(Files.newInputStream(f), 1 << 16);
                final InputStream dec = TraceInput.decompress(raw, a[0]);
                try (InputStream in = v.endsWith("-thread") ? new ReadAheadInputStream(dec) : dec) {
                    if (v.contains("-parse")) {
                        try (KmemTraceReader rd = new KmemTraceReader(in, a[0], (line, msg) -> { })) {
                            final KmemEvent ev = new KmemEvent();
                            while (rd.next(ev)) {
                                n++;
                            }
                        }
                    } else {
                        for (int got; (got = in.read(buf, 0, buf.length)) >= 0; ) {
                            n += got;
                        }
                    }
                }
                final double c = (os.getProcessCpuTime() - c0) / 1e9;
                System.out.printf("round %d %-22s %,d %s cpu %.3f s wall %.3f s%n", r, v, n,
                    v.contains("-parse") ? "events" : "bytes", c, (System.nanoTime() - w0) / 1e9);
                if (r >= 2) {
                    cpu.computeIfAbsent(v, x -> new ArrayList<>()).add(c);
                }
            }
        }
        cpu.forEach((v, l) -> {
            Collections.sort(l);
            System.out.printf("%-22s cpu median %.3f s, min %.3f s (%d rounds)%n", v, l.get(l.size() / 2), l.get(0),
                l.size());
        });
    }
}
