package org.mm4j.trace.kmem;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class LongLongMapTest {
    /** Any sequence of puts and removes leaves the map equal to a HashMap given the same sequence. */
    @Property(tries = 200)
    void behavesLikeAHashMap(@ForAll @Size(max = 3000) final List<@IntRange(min = -40, max = 400) Integer> ops) {
        final LongLongMap m = new LongLongMap(4, 1 << 20);
        final Map<Long, Long> ref = new HashMap<>();
        long v = 1;
        for (final int op : ops) {
            // small key space so probe runs collide and backward-shift deletion is exercised
            final long key = Math.abs(op) % 97 * 0x100000000L + 1 + Math.abs(op) % 7;
            if (op < 0) {
                final Long expect = ref.remove(key);
                assertEquals(expect == null ? LongLongMap.MISSING : expect, m.remove(key));
            } else if (op % 2 == 0) {
                m.put(key, v);
                ref.put(key, v++);
            } else {
                final Long before = ref.put(key, v);
                assertEquals(before == null ? LongLongMap.MISSING : before, m.swap(key, v++));
            }
            assertEquals(ref.size(), m.size());
        }
        for (final Map.Entry<Long, Long> e : ref.entrySet()) {
            assertEquals(e.getValue(), m.get(e.getKey()));
        }
    }

    @Property(tries = 20)
    void refusesNewKeysWhenFull(@ForAll @IntRange(min = 1, max = 200) final int max) {
        final LongLongMap m = new LongLongMap(4, max);
        for (int i = 1; i <= max; i++) {
            m.put(i, i);
        }
        assertFalse(m.put(max + 1, 0));
        assertEquals(LongLongMap.FULL, m.swap(max + 2, 0));
        assertEquals(LongLongMap.MISSING, m.get(max + 2));
        assertEquals(max, m.size());
        assertEquals(1, m.swap(1, 7));
        m.put(1, 42);
        assertEquals(42, m.get(1));
    }
}
