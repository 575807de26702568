package org.mm4j.trace.kmem.zstd;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Run in a JVM of its own by {@link LibZstdInputStreamTest}: prints the decoder {@link Zstd#decoder} picks and the
 * length of what it decodes, or the error.
 */
final class ZstdProbe {
    private ZstdProbe() {
    }

    public static void main(final String[] args) {
        try (InputStream in = Zstd.decoder(new ByteArrayInputStream(ZstdInputStreamTest.rawFrame(
            "hello world".getBytes(java.nio.charset.StandardCharsets.US_ASCII))), 1 << 20)) {
            System.out.println(Zstd.decoderName() + " " + in.getClass().getSimpleName() + " "
                + in.readAllBytes().length);
        } catch (final IOException e) {
            System.out.println(e.getMessage());
        }
    }
}
