package org.mm4j.vma.maple;

/**
 * {@code struct ma_state}, reduced to the range an operation reads and writes: callers set {@link #index} and
 * {@link #last} ({@code mas_set}, {@code mas_set_range}), the tree's operations report the range they found there.
 *
 * <p>Departure: the kernel's state also remembers the node and offset it stopped at, so {@code mas_find} and
 * {@code mas_next} continue from there; mm4j's walks start from the root each time (O(log n) either way), and a
 * caller continues with {@code mas.index = mas.last + 1}. Threads: one owner, like the kernel's on-stack
 * {@code MA_STATE}.
 */
public final class MaState {
    public long index;
    public long last;

    /** {@code mas_set}. */
    public MaState set(final long index) {
        this.index = index;
        this.last = index;
        return this;
    }

    /** {@code mas_set_range}. */
    public MaState setRange(final long index, final long last) {
        this.index = index;
        this.last = last;
        return this;
    }

    @Override
    public String toString() {
        return String.format("ma_state[%x-%x]", index, last);
    }
}
