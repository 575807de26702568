package org.mm4j.slab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class SlubDebugOptionsTest {
    private static long flags(final String option, final String cache) {
        return SlubDebugOptions.parse(option).kmemCacheFlags(0, cache);
    }

    @Test
    void absentMeansNothing() {
        assertEquals(0L, flags(null, "dentry"));
        assertFalse(SlubDebugOptions.parse(null).enabled());
    }

    @Test
    void bareOrEmptyMeansFzpu() {
        assertEquals("FZPU", SlubDebugOptions.letters(flags("", "dentry")));
        assertEquals("FZPU", SlubDebugOptions.letters(flags(",dentry", "dentry")));
        assertEquals(0L, flags(",dentry", "kmalloc-64"));
    }

    @Test
    void lettersAreCaseInsensitive() {
        assertEquals("FZ", SlubDebugOptions.letters(flags("fz", "x")));
        assertEquals("PUTA", SlubDebugOptions.letters(flags("PUTA", "x")));
    }

    @Test
    void dashClearsWhatCameBefore() {
        assertEquals(0L, flags("-", "x"));
        assertEquals("Z", SlubDebugOptions.letters(flags("FP-Z", "x")));
    }

    @Test
    void cacheListOnlyTouchesListedCaches() {
        final SlubDebugOptions o = SlubDebugOptions.parse("P,kmalloc-64,dentry");
        assertEquals("P", SlubDebugOptions.letters(o.kmemCacheFlags(0, "kmalloc-64")));
        assertEquals("P", SlubDebugOptions.letters(o.kmemCacheFlags(0, "dentry")));
        assertEquals(0L, o.kmemCacheFlags(0, "kmalloc-6"), "prefix without * does not match");
        assertEquals(0L, o.kmemCacheFlags(0, "kmalloc-640"));
        assertEquals(0L, o.globalFlags());
    }

    @Test
    void globMatchesPrefix() {
        final SlubDebugOptions o = SlubDebugOptions.parse("Z,kmalloc-*");
        assertEquals("Z", SlubDebugOptions.letters(o.kmemCacheFlags(0, "kmalloc-8k")));
        assertEquals(0L, o.kmemCacheFlags(0, "dentry"));
    }

    @Test
    void blocksSeparatedBySemicolons() {
        final SlubDebugOptions o = SlubDebugOptions.parse("FZ;-,zs_handle,zspage;P,dentry*");
        assertEquals("FZ", SlubDebugOptions.letters(o.kmemCacheFlags(0, "kmalloc-64")));
        assertEquals(0L, o.kmemCacheFlags(0, "zspage"));
        assertEquals("P", SlubDebugOptions.letters(o.kmemCacheFlags(0, "dentry_cache")));
        assertEquals("FZ", SlubDebugOptions.letters(o.globalFlags()));
    }

    @Test
    void firstMatchingBlockWins() {
        final SlubDebugOptions o = SlubDebugOptions.parse("U,foo;Z,foo");
        assertEquals("U", SlubDebugOptions.letters(o.kmemCacheFlags(0, "foo")));
    }

    @Test
    void emptyBlocksAreSkipped() {
        assertEquals("P", SlubDebugOptions.letters(flags(";;P;;", "x")));
    }

    @Test
    void unknownLettersAreReportedAndSkipped() {
        final SlubDebugOptions o = SlubDebugOptions.parse("FQ");
        assertEquals("F", SlubDebugOptions.letters(o.globalFlags()));
        assertEquals(List.of("slab_debug option 'Q' unknown. skipped"), o.messages());
    }

    @Test
    void noUserFlagsAndNoLeakTrace() {
        final SlubDebugOptions o = SlubDebugOptions.parse("FZPU");
        assertEquals(SlabFlags.SLAB_NO_USER_FLAGS,
            o.kmemCacheFlags(SlabFlags.SLAB_NO_USER_FLAGS, "x"));
        assertEquals("FZP", SlubDebugOptions.letters(o.kmemCacheFlags(SlabFlags.SLAB_NOLEAKTRACE, "x")));
    }

    @Test
    void requestedFlagsAreKept() {
        assertEquals("ZP", SlubDebugOptions.letters(
            SlubDebugOptions.parse("P").kmemCacheFlags(SlabFlags.SLAB_RED_ZONE, "x")));
    }

    @Test
    void higherOrderRuleDropsMetadataFlagsOnlyWhenOrderGrows() {
        final SlubDebugOptions o = SlubDebugOptions.parse("FZPUO");
        assertTrue(o.disableHigherOrderDebug());
        final long all = o.kmemCacheFlags(0, "x");
        // 4096-byte objects grow past one page with debug metadata: order 0 -> 1
        assertEquals("F", SlubDebugOptions.letters(o.applyHigherOrderRule(all, 4096 + 88, 4096)));
        assertEquals(all, o.applyHigherOrderRule(all, 64 + 88, 64));
        assertEquals(all, SlubDebugOptions.parse("FZPU").applyHigherOrderRule(all, 4096 + 88, 4096));
    }

    @Test
    void initOnAllocAndFreeYieldToPoison() {
        final long poison = SlabFlags.SLAB_POISON;
        assertTrue(SlubDebugOptions.wantInitOnAlloc(true, 0, false, false));
        assertFalse(SlubDebugOptions.wantInitOnAlloc(true, poison, false, false));
        assertTrue(SlubDebugOptions.wantInitOnAlloc(true, poison, false, true));
        assertFalse(SlubDebugOptions.wantInitOnAlloc(true, 0, true, false));
        assertTrue(SlubDebugOptions.wantInitOnAlloc(false, 0, false, true));
        assertTrue(SlubDebugOptions.wantInitOnFree(true, 0, false));
        assertFalse(SlubDebugOptions.wantInitOnFree(true, poison, false));
        assertEquals("mem auto-init: SLAB_POISON will take precedence over init_on_alloc/init_on_free",
            SlubDebugOptions.parse("P").initOnMessage(true, false));
    }

    @Test
    void getOrder() {
        assertEquals(0, SlubDebugOptions.getOrder(1));
        assertEquals(0, SlubDebugOptions.getOrder(4096));
        assertEquals(1, SlubDebugOptions.getOrder(4097));
        assertEquals(3, SlubDebugOptions.getOrder(32768));
    }
}
