package org.mm4j.trace.kmem;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The read-ahead's guesses (issue 14, eighth pass): two call sites that share their first bytes in one guess slot, an
 * mm_page_alloc tail found from a few of its words, the timestamp's seconds taken from the line before. Each is a
 * guess only: the lines are read as the general parser reads them, and the guess hits where it should.
 */
class KmemLineGuessTest {
    private static byte[] ascii(final String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Every field of every event and every error, as one reader reads {@code text}. */
    private static List<String> read(final byte[] text, final boolean fastPath) throws IOException {
        final List<String> out = new ArrayList<>();
        final KmemTraceReader r = new KmemTraceReader(new ByteArrayInputStream(text), "input",
            (line, msg) -> out.add(line + ": " + msg), fastPath, 0);
        final KmemEvent ev = new KmemEvent();
        while (r.next(ev)) {
            out.add(ev.lineNo() + " " + ev + " cpu=" + ev.cpu() + " pid=" + ev.pid() + " t=" + ev.timestampMicros()
                + " node=" + ev.node() + " mt=" + ev.migratetype() + " gfp=" + ev.gfp() + " site=" + ev.callSite()
                + "#" + ev.callSiteId);
        }
        out.add("lines=" + r.lineNo() + " events=" + r.events() + " malformed=" + r.malformed());
        return out;
    }

    /** A guess slot holds both sites of a pair that share their first 24 bytes, and tells them apart. */
    @Test
    void twoSitesSharingTheirFirstBytesAreBothGuessed() {
        final Interner sites = new Interner();
        final byte[] a = ascii("getname_flags.part.0+0x25/0x1c0 ptr=0000000012345678 ");
        final byte[] b = ascii("getname_flags.part.0+0x2e/0x60 ptr=0000000012345678 ");
        final byte[] c = ascii("getname_flags.part.0+0x2e/0x6 ptr=0000000012345678 ");
        final String sa = sites.string(a, 0, 31);
        final String sb = sites.string(b, 0, 30);
        final String sc = sites.string(c, 0, 29);
        final int slot = Interner.guessSlot(a, 0);
        assertEquals(slot, Interner.guessSlot(b, 0), "the pair's first 24 bytes are alike");
        assertNull(sites.guess(a, 0, a.length, slot), "nothing remembered yet");
        assertSame(sa, sites.known(a, 0, 31, Interner.hash(a, 0, 31)));
        sites.remember(slot);
        assertNull(sites.guess(b, 0, b.length, slot));
        assertSame(sb, sites.known(b, 0, 30, Interner.hash(b, 0, 30)));
        sites.remember(slot);
        for (int i = 0; i < 3; i++) {
            assertSame(sa, sites.guess(a, 0, a.length, slot));
            assertEquals(31, sites.lastEnd);
            assertSame(sb, sites.guess(b, 0, b.length, slot));
            assertEquals(30, sites.lastEnd);
        }
        // a key that is a prefix of another: the blank after it tells them apart
        assertNull(sites.guess(c, 0, c.length, slot));
        assertSame(sc, sites.known(c, 0, 29, Interner.hash(c, 0, 29)));
        sites.remember(slot);
        assertSame(sc, sites.guess(c, 0, c.length, slot));
        assertSame(sa, sites.guess(a, 0, a.length, slot));
        assertNull(sites.guess(b, 0, b.length, slot), "the third key took the way the line's byte picked (b's)");
        // the bytes after a guessed key must be a blank
        assertNull(sites.guess(ascii("getname_flags.part.0+0x2e/0x60Xptr=0 "), 0, 37, slot));
    }

    private static final String HEAD = "        tar-6072    [001] .....  ";

    /**
     * Alternating lines of the kinds each guess serves (a call-site pair, mm_page_alloc tails that share their first
     * 52 bytes, seconds of 1 to 7 digits and seconds that share their first digits), then each changed in one byte:
     * read as the general parser reads them.
     */
    @Test
    void guessedLinesReadAsTheGeneralParserReadsThem() throws IOException {
        final String[] tails = {"GFP_HIGHUSER_MOVABLE|__GFP_COMP", "GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP",
            "GFP_HIGHUSER_MOVABLE|__GFP_WRITE|__GFP_COMP", "GFP_KERNEL_ACCOUNT|__GFP_ZERO|__GFP_COMP", "GFP_KERNEL"};
        final String[] secs = {"3743", "3744", "37440", "374", "9", "10", "1234567", "1234568"};
        final List<String> lines = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            final String ts = secs[i / 50 % secs.length] + "." + String.format("%06d", i * 7919 % 1_000_000) + ": ";
            lines.add(HEAD + ts + (i % 2 == 0
                ? "kmem_cache_alloc: call_site=getname_flags.part.0+0x25/0x1c0 ptr=00000000b2935df0 name=names_cache "
                    + "bytes_req=4096 bytes_alloc=4096 gfp_flags=GFP_KERNEL node=-1 accounted=false"
                : "kmem_cache_free: call_site=getname_flags.part.0+0x2e/0x60 ptr=00000000b2935df0 name=names_cache"));
            lines.add(HEAD + ts + "mm_page_alloc: page=000000009ba2711b pfn=0x10000a order=" + (i % 3)
                + " migratetype=1 gfp_flags=" + tails[i % tails.length]);
        }
        final StringBuilder sb = new StringBuilder();
        for (final String l : lines) {
            sb.append(l).append('\n');
        }
        final java.util.Random rnd = new java.util.Random(14);
        for (int i = 0; i < 2_000; i++) {
            final StringBuilder l = new StringBuilder(lines.get(rnd.nextInt(lines.size())));
            final int at = HEAD.length() + rnd.nextInt(l.length() - HEAD.length());
            l.setCharAt(at, "0.: -_|xZ".charAt(rnd.nextInt(9)));
            sb.append(l).append('\n').append(lines.get(rnd.nextInt(lines.size()))).append('\n');
        }
        final byte[] text = sb.toString().getBytes(StandardCharsets.US_ASCII);
        final List<String> general = read(text, false);
        assertEquals(general, read(text, true));
        assertTrue(general.get(general.size() - 1).startsWith("lines=4800 "), general.get(general.size() - 1));
    }

    /** An mm_page_alloc tail is guessed from its words at 0, 40 and 56; the guess is taken only on every byte. */
    @Test
    void pageTailsAreGuessedFromTheirWords() {
        final FieldMemo m = new FieldMemo();
        final byte[] a = ascii("order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP\n"
            + "        tar-6072    [001] .....  3743.5");
        final byte[] z = ascii("order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP\n"
            + "        tar-6072    [001] .....  ");
        final int ga = FieldMemo.pageGuess(a, 0);
        final int gz = FieldMemo.pageGuess(z, 0);
        assertTrue(ga != gz, "tails alike in their first 52 bytes guess apart");
        assertEquals(-1, m.pagePredicted(ga));
        final KmemEvent ev = new KmemEvent();
        ev.order = 0;
        ev.migratetype = 1;
        ev.gfp = 7;
        final int end = 63;
        m.put(a, 0, end, KmemEvent.MM_PAGE_ALLOC, Interner.hash(a, 0, end), ev);
        final int slot = m.find(a, 0, end, KmemEvent.MM_PAGE_ALLOC, Interner.hash(a, 0, end));
        m.pagePredict(ga, slot);
        assertEquals(slot, m.pagePredicted(ga));
        assertEquals(end, m.endOf(slot, a, 0, a.length));
        assertEquals(-1, m.endOf(slot, z, 0, z.length), "another tail's bytes");
        assertEquals(-1, m.pagePredicted(gz));
    }
}
