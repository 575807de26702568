package org.mm4j.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.infra.Blackhole;

/**
 * A test decorator around a real allocator that records what a workload does with it: every allocation (slot,
 * address, size, order), the stamps written into it, its free, and any breach of the workloads' contract
 * (an object freed before both of its ends were written, a slot reused while live, a free that does not match
 * its allocation). Thread-safe (the remote-free consumer frees on its own thread).
 */
final class Watching implements Allocator {
    /** One live allocation. */
    record Live(long address, long size, long index, Object[] refs, int slot, long stamp, boolean written) {
    }

    private final Allocator real;
    private final Map<Integer, Live> live = new HashMap<>();
    private final List<String> violations = new ArrayList<>();
    private final List<Long> sizes = new ArrayList<>();
    private long allocs;
    private long frees;
    private long firstFreedOutOfOrder = -1;
    private int maxLive;
    private long pairs;

    Watching(final Allocator real) {
        this.real = real;
    }

    @Override
    public String name() {
        return real.name();
    }

    @Override
    public synchronized long alloc(final long byteSize, final Object[] refs, final int slot) {
        final long p = real.alloc(byteSize, refs, slot);
        if (live.containsKey(slot)) {
            violations.add("slot " + slot + " allocated again while live");
        }
        live.put(slot, new Live(p, byteSize, allocs++, refs, slot, 0, false));
        sizes.add(byteSize);
        maxLive = Math.max(maxLive, live.size());
        return p;
    }

    @Override
    public synchronized void write8(final long address, final long byteSize, final Object[] refs, final int slot,
                                    final long value) {
        final Live l = live.get(slot);
        if (l == null || l.address() != address || l.size() != byteSize || l.refs() != refs) {
            violations.add("write8 to slot " + slot + " that does not match its live allocation " + l);
        } else {
            live.put(slot, new Live(address, byteSize, l.index(), refs, slot, value, true));
        }
        real.write8(address, byteSize, refs, slot, value);
    }

    @Override
    public long read8(final long address, final long byteSize, final Object[] refs, final int slot,
                      final long offset) {
        return real.read8(address, byteSize, refs, slot, offset);
    }

    @Override
    public void free(final long address, final long byteSize, final Object[] refs, final int slot) {
        synchronized (this) {
            final Live l = live.remove(slot);
            if (l == null || l.address() != address || l.size() != byteSize) {
                violations.add("free of slot " + slot + " (0x" + Long.toHexString(address) + ", " + byteSize
                    + " B) that does not match its allocation " + l);
            } else if (!l.written()) {
                violations.add("object " + l.index() + " freed without being written");
            } else if (l.index() != frees && firstFreedOutOfOrder < 0) {
                firstFreedOutOfOrder = l.index();
            }
            frees++;
        }
        real.free(address, byteSize, refs, slot);
    }

    /**
     * Counts the pair as one allocation and one free of {@code byteSize} (the row's own form runs, unseen inside:
     * {@link AllocatorsTest} checks what it writes).
     */
    @Override
    public void allocWriteFree(final long byteSize, final long value, final Object[] refs, final Blackhole bh) {
        synchronized (this) {
            pairs++;
            allocs++;
            frees++;
            sizes.add(byteSize);
            maxLive = Math.max(maxLive, live.size() + 1);
        }
        real.allocWriteFree(byteSize, value, refs, bh);
    }

    /** How many {@link #allocWriteFree} pairs ran (the row's own form). */
    synchronized long pairs() {
        return pairs;
    }

    @Override
    public void bindThread(final int cpu) {
        real.bindThread(cpu);
    }

    @Override
    public Thread newThread(final Runnable task, final String name) {
        return real.newThread(task, name);
    }

    @Override
    public long nativeAddress(final long address) {
        return real.nativeAddress(address);
    }

    @Override
    public void close() {
        real.close();
    }

    synchronized int live() {
        return live.size();
    }

    synchronized int maxLive() {
        return maxLive;
    }

    synchronized void resetMaxLive() {
        maxLive = live.size();
    }

    synchronized long allocs() {
        return allocs;
    }

    synchronized long frees() {
        return frees;
    }

    /** The index of the first object freed out of allocation order, or -1 when every free took the oldest. */
    synchronized long firstFreedOutOfOrder() {
        return firstFreedOutOfOrder;
    }

    synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    /** The size of every allocation, in order. */
    synchronized List<Long> sizes() {
        return List.copyOf(sizes);
    }

    /**
     * What is wrong with the memory of the live objects: each must hold its stamp in its first and last 8 bytes
     * (in the last 8 only, when it is smaller than 16 bytes and the two overlap)
     * (what the workload wrote, read back through the allocator) and, where objects have addresses, no two may
     * overlap. Empty when all is well.
     */
    synchronized List<String> checkLiveMemory() {
        final List<String> bad = new ArrayList<>();
        final List<Live> withAddress = new ArrayList<>();
        for (final Live l : live.values()) {
            if (!l.written()) {
                bad.add("object " + l.index() + " live but never written");
                continue;
            }
            final long first = real.read8(l.address(), l.size(), l.refs(), l.slot(), 0);
            final long last = real.read8(l.address(), l.size(), l.refs(), l.slot(), l.size() - 8);
            // below 16 bytes the two ends overlap and the last write wins where they do: the last 8 bytes tell
            if ((l.size() >= 16 && first != l.stamp()) || last != l.stamp()) {
                bad.add("object " + l.index() + " (" + l.size() + " B) holds " + first + "/" + last + ", wrote "
                    + l.stamp());
            }
            if (l.address() != 0) {
                withAddress.add(l);
            }
        }
        withAddress.sort((x, y) -> Long.compareUnsigned(x.address(), y.address()));
        for (int i = 1; i < withAddress.size(); i++) {
            final Live lo = withAddress.get(i - 1);
            final Live hi = withAddress.get(i);
            if (lo.address() + lo.size() > hi.address()) {
                bad.add("objects " + lo.index() + " and " + hi.index() + " overlap at 0x"
                    + Long.toHexString(hi.address()));
            }
        }
        return bad;
    }
}
