package org.mm4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * zstd input for the replays. mm4j carries no zstd decoder (the pure-Java ones need sun.misc.Unsafe, the others
 * JNI, both ruled out here), so a {@code .zst} trace is decoded by the {@code zstd} program when one is on the
 * PATH, streaming (bounded memory); otherwise the error says to decompress first.
 */
final class Zstd {
    private Zstd() {
    }

    static InputStream decode(final InputStream raw, final Path file) throws IOException {
        final Path exe = findOnPath("zstd");
        if (exe == null) {
            raw.close();
            throw new IOException(file + ": zstd-compressed, and no zstd program on the PATH: decompress it first "
                + "(zstd -d " + file + ") or install zstd");
        }
        raw.close();
        final Process p = new ProcessBuilder(exe.toString(), "-dcq", "--", file.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        p.getOutputStream().close();
        return new java.io.FilterInputStream(p.getInputStream()) {
            @Override
            public void close() throws IOException {
                super.close();
                p.destroy();
            }
        };
    }

    static Path findOnPath(final String name) {
        final String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (final String dir : path.split(java.io.File.pathSeparator)) {
            final Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
