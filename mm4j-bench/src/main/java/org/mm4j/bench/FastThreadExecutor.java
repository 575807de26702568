package org.mm4j.bench;

import io.netty.util.concurrent.FastThreadLocalThread;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed pool of Netty {@link FastThreadLocalThread}s for JMH's benchmark threads
 * ({@code -Djmh.executor=CUSTOM -Djmh.executor.class=org.mm4j.bench.FastThreadExecutor}; JMH calls the
 * {@code (int, String)} constructor), so the {@code netty-pooled-direct-ftl} row gets Netty's per-thread caches.
 */
public final class FastThreadExecutor extends ThreadPoolExecutor {
    public FastThreadExecutor(final int maxThreads, final String prefix) {
        super(maxThreads, maxThreads, 0L, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), new Factory(prefix));
    }

    private static final class Factory implements java.util.concurrent.ThreadFactory {
        private final String prefix;
        private final AtomicInteger count = new AtomicInteger();

        Factory(final String prefix) {
            this.prefix = prefix;
        }

        @Override
        public Thread newThread(final Runnable r) {
            final Thread t = new FastThreadLocalThread(r, prefix + "-ftl-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    }
}
