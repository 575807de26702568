package org.mm4j.base;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The leaf's stack depot (equal stacks share a handle; a request ends the stack) and fault_attr's rules. */
class StackDepotAndFaultAttrTest {
    private static int saveHere(final StackDepot d) {
        return d.save(c -> false, 4);
    }

    @Test
    void equalStacksShareAHandleAndARequestEndsTheStack() {
        final StackDepot d = new StackDepot();
        final int[] h = new int[2];
        for (int i = 0; i < 2; i++) {
            h[i] = saveHere(d);  // the same call site both times
        }
        assertEquals(h[0], h[1]);
        assertEquals(1, d.size());
        final List<StackDepot.Frame> frames = d.frames(h[0]);
        assertEquals("saveHere", frames.getFirst().methodName(), "StackDepot's own frames are left out");
        assertTrue(frames.getFirst().symbol().matches("org\\.mm4j\\.base\\.StackDepotAndFaultAttrTest\\.saveHere"
            + "\\+0x[0-9a-f]+/0x0 \\[StackDepotAndFaultAttrTest\\.java:\\d+\\]"), frames.getFirst().symbol());
        StackDepot.enter("mm4j shell line 7: kmalloc 64", StackDepotAndFaultAttrTest.class);
        try {
            final List<StackDepot.Frame> f = d.frames(saveHere(d));
            assertEquals(List.of("mm4j shell line 7: kmalloc 64"), f.stream().map(StackDepot.Frame::symbol).toList(),
                "the request stands for the entry's frames and their callers");
        } finally {
            StackDepot.leave();
        }
        assertEquals(0, d.saveExact(c -> true, 4), "nothing left: no stack saved");
        assertEquals(List.of(), d.frames(0));
        assertEquals(2, d.size());
    }

    @Test
    void setupParsesTheBootParameterAsTheKernelDoes() {
        final KernelLog log = new KernelLog();
        final FaultAttr a = new FaultAttr("failslab", log, new CpuSlots(1), new Current(), 0);
        assertFalse(a.active());
        assertTrue(a.setup("10,25,4096,-1"));
        assertEquals(10, a.interval());
        assertEquals(25, a.probability());
        assertEquals(4096, a.space());
        assertEquals(-1, a.times());
        assertTrue(a.active());
        for (final String bad : new String[] {"10,25,4096", "x,1,2,3", "1,1,1,-2", ""}) {
            assertFalse(a.setup(bad), bad);
        }
        assertEquals(4, log.messages().stream().filter("FAULT_INJECTION: failed to parse arguments"::equals)
            .count());
        assertEquals(25, a.probability(), "a refused value changes nothing");
        assertThrows(IllegalArgumentException.class, () -> a.times(-2));
        assertThrows(IllegalArgumentException.class, () -> a.probability(-1));
    }

    @Test
    void theActiveCallbackRunsOnlyWhenProbabilityCrossesZero() {
        final FaultAttr a = new FaultAttr("fail_page_alloc", new KernelLog(), new CpuSlots(1), new Current(), 0);
        final int[] calls = {0};
        a.onActiveChange(() -> calls[0]++);
        a.probability(10);
        a.probability(100);
        a.probability(0);
        a.probability(0);
        assertEquals(2, calls[0]);
        a.probability(50).times(-1).verbose(0);
        int failed = 0;
        for (int i = 0; i < 1000; i++) {
            if (a.shouldFail(1, 0, List.of())) {
                failed++;
            }
        }
        assertTrue(failed > 350 && failed < 650, "about half: " + failed);
        final FaultAttr b = new FaultAttr("fail_page_alloc", new KernelLog(), new CpuSlots(1), new Current(), 0);
        b.probability(50).times(-1).verbose(0);
        int same = 0;
        for (int i = 0; i < 1000; i++) {
            same += b.shouldFail(1, 0, List.of()) ? 1 : 0;
        }
        assertEquals(failed, same, "the draw is seeded: the same seed repeats the run");
        assertNotEquals(0, failed);
    }
}
