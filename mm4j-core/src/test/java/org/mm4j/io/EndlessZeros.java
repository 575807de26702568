package org.mm4j.io;

import java.io.InputStream;

/**
 * A test stream like {@code /dev/zero}: endless zero bytes without a newline. It fails the test (AssertionError)
 * once more than {@code limit} bytes were read, which proves a reader gives up on an endless line by itself.
 */
public final class EndlessZeros extends InputStream {
    private final long limit;
    /** Bytes handed out so far. */
    public long read;

    public EndlessZeros(final long limit) {
        this.limit = limit;
    }

    @Override
    public int read() {
        final byte[] b = new byte[1];
        return read(b, 0, 1) < 0 ? -1 : b[0];
    }

    @Override
    public int read(final byte[] b, final int off, final int len) {
        if (read > limit) {
            throw new AssertionError("the reader went on past " + limit + " bytes of one line");
        }
        java.util.Arrays.fill(b, off, off + len, (byte) 0);
        read += len;
        return len;
    }
}
