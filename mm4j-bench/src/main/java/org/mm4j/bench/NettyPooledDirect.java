package org.mm4j.bench;

import org.openjdk.jmh.annotations.CompilerControl;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocalThread;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Netty's {@link PooledByteBufAllocator} direct buffers (a jemalloc-style arena allocator in Java), allocated with
 * {@code directBuffer(n, n)} and freed with {@code release()}; the {@code ByteBuf} lives in {@code refs[slot]}.
 *
 * <p>Netty keeps per-thread caches only on its own {@link FastThreadLocalThread}s (unless
 * {@code io.netty.allocator.useCacheForAllThreads} is set), so there are two rows: {@code netty-pooled-direct} on a
 * plain thread (how most JVM code would call it) and {@code netty-pooled-direct-ftl}, whose benchmark threads are
 * FastThreadLocalThreads (JMH runs them through {@link FastThreadExecutor}). Netty 4.2 on JDK 25 needs
 * {@code --sun-misc-unsafe-memory-access=allow}, {@code --add-opens java.base/java.nio=ALL-UNNAMED},
 * {@code -Dio.netty.tryReflectionSetAccessible=true} and leak detection off to run at full speed.
 *
 * <p>Threads: thread-safe (Netty's arenas lock; its thread caches are per thread).
 */
final class NettyPooledDirect implements Allocator {
    private final String name;
    private final boolean fastThreads;
    private final PooledByteBufAllocator pool = PooledByteBufAllocator.DEFAULT;

    NettyPooledDirect(final String name, final boolean fastThreads) {
        this.name = name;
        this.fastThreads = fastThreads;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long alloc(final long byteSize, final Object[] refs, final int slot) {
        final int n = Math.toIntExact(byteSize);
        final ByteBuf b = pool.directBuffer(n, n);
        refs[slot] = b;
        return b.hasMemoryAddress() ? b.memoryAddress() : 0;
    }

    @Override
    public void free(final long address, final long byteSize, final Object[] refs, final int slot) {
        ((ByteBuf) refs[slot]).release();
        refs[slot] = null;
    }

    /** Through the {@code ByteBuf}, as Netty users write (big-endian, bounds- and reference-count-checked). */
    @Override
    public void write8(final long address, final long byteSize, final Object[] refs, final int slot,
                       final long value) {
        final ByteBuf b = (ByteBuf) refs[slot];
        b.setLong(0, value);
        b.setLong((int) byteSize - 8, value);
    }

    /** alloc-free-64 as a Netty user writes it: the buffer in a local, written, consumed, released. */
    @Override
    @CompilerControl(CompilerControl.Mode.INLINE)
    public void allocWriteFree(final long byteSize, final long value, final Object[] refs, final Blackhole bh) {
        final int n = Math.toIntExact(byteSize);
        final ByteBuf b = pool.directBuffer(n, n);
        b.setLong(0, value);
        b.setLong(n - 8, value);
        bh.consume(b);
        b.release();
    }

    @Override
    public long read8(final long address, final long byteSize, final Object[] refs, final int slot,
                      final long offset) {
        return ((ByteBuf) refs[slot]).getLong((int) offset);
    }

    @Override
    public void bindThread(final int cpu) {
        if (fastThreads && !(Thread.currentThread() instanceof FastThreadLocalThread)) {
            throw new IllegalStateException(name + " must run on a FastThreadLocalThread, not on "
                + Thread.currentThread() + " (JMH: -Djmh.executor=CUSTOM -Djmh.executor.class="
                + FastThreadExecutor.class.getName() + ")");
        }
    }

    @Override
    public Thread newThread(final Runnable task, final String threadName) {
        return fastThreads ? new FastThreadLocalThread(task, threadName) : new Thread(task, threadName);
    }
}
