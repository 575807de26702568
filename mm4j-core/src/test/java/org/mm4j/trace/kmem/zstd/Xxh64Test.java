package org.mm4j.trace.kmem.zstd;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class Xxh64Test {
    private static long h(final String s) {
        final byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        return Xxh64.hash(b, 0, b.length);
    }

    /** The reference values of xxHash's XXH64 with seed 0 (as xxhsum -H1 prints them). */
    @Test
    void referenceValues() {
        assertEquals(0xEF46DB3751D8E999L, h(""));
        assertEquals(0x44BC2CF5AD770999L, h("abc"));
    }

    /** Fed in any pieces, the hash is the one of the whole (the stripe buffer is carried over correctly). */
    @Test
    void streamingEqualsOneShot() {
        final Random rnd = new Random(7);
        final byte[] data = new byte[1000];
        rnd.nextBytes(data);
        for (int len = 0; len <= data.length; len += 37) {
            final long whole = Xxh64.hash(data, 0, len);
            final Xxh64 x = new Xxh64(0);
            int p = 0;
            while (p < len) {
                final int n = Math.min(len - p, 1 + rnd.nextInt(70));
                x.update(data, p, n);
                p += n;
            }
            assertEquals(whole, x.digest(), "length " + len);
        }
    }
}
