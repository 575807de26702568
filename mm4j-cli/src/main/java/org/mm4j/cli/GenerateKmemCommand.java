package org.mm4j.cli;

import org.mm4j.trace.kmem.KmemTraceGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.zip.GZIPOutputStream;

/** {@code mm4j generate-kmem [--events N] [--seed S] [--cpus N] OUT[.gz]|-}: a synthetic kmem capture. */
@Command(name = "generate-kmem", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    header = "Writes a synthetic ftrace kmem capture (for benchmarks of 'mm4j replay kmem').",
    description = {"", "The caches, sizes, call sites, gfp flags and event mix are those of the bundled 6.18 slice; "
        + "tasks run in bursts on their own CPU, objects live and pointers are reused as in the bundled real "
        + "capture (its burst lengths, lifetimes and time between events, carried over as percentile tables), with "
        + "a bounded live set. The same seed gives the same bytes. OUT ending in .gz is gzip-compressed; '-' "
        + "writes standard output (pipe it into 'zstd' for a .zst file)."})
public final class GenerateKmemCommand implements Callable<Integer> {
    @Option(names = "--events", paramLabel = "N", defaultValue = "5000000",
        description = "Event lines to write (default: ${DEFAULT-VALUE}).")
    long events;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Random seed (default: 1).")
    long seed;

    @Option(names = "--cpus", paramLabel = "N", defaultValue = "2",
        description = "CPUs the events are spread over (default: ${DEFAULT-VALUE}).")
    int cpus;

    @Option(names = "--live", paramLabel = "N", defaultValue = "65536",
        description = "Most objects and pages alive at once (default: ${DEFAULT-VALUE}).")
    int live;

    @Parameters(index = "0", paramLabel = "OUT", description = "The file to write, or '-' for standard output.")
    String out;

    @Override
    public Integer call() {
        if (events < 0) {
            System.err.println("mm4j generate-kmem: --events " + events + " (expected: >= 0)");
            return 2;
        }
        final KmemTraceGenerator gen;
        try {
            gen = new KmemTraceGenerator(seed, cpus, live);
        } catch (final IllegalArgumentException e) {
            System.err.println("mm4j generate-kmem: " + e.getMessage());
            return 2;
        }
        try {
            if (out.equals("-")) {
                final OutputStream os = new BufferedOutputStream(System.out, 1 << 16);
                gen.write(os, events);
                os.flush();
            } else {
                try (OutputStream f = Files.newOutputStream(Path.of(out));
                     OutputStream os = out.endsWith(".gz") ? new GZIPOutputStream(f, 1 << 16) : f) {
                    gen.write(os, events);
                }
            }
            return 0;
        } catch (final IOException e) {
            System.err.println("mm4j generate-kmem: " + out + ": " + e.getMessage());
            return 2;
        }
    }
}
