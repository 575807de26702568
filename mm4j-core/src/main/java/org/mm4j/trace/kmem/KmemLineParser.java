package org.mm4j.trace.kmem;

import org.mm4j.page.Gfp;

import static org.mm4j.trace.kmem.AsciiWords.HIGHS;
import static org.mm4j.trace.kmem.AsciiWords.SPACES;
import static org.mm4j.trace.kmem.AsciiWords.blanks;
import static org.mm4j.trace.kmem.AsciiWords.decValue;
import static org.mm4j.trace.kmem.AsciiWords.digits;
import static org.mm4j.trace.kmem.AsciiWords.frac6;
import static org.mm4j.trace.kmem.AsciiWords.hex8;
import static org.mm4j.trace.kmem.AsciiWords.hexDigits;
import static org.mm4j.trace.kmem.AsciiWords.hexValue;
import static org.mm4j.trace.kmem.AsciiWords.mask;
import static org.mm4j.trace.kmem.AsciiWords.nonZero;
import static org.mm4j.trace.kmem.AsciiWords.parseHex;
import static org.mm4j.trace.kmem.AsciiWords.special;
import static org.mm4j.trace.kmem.AsciiWords.stops;
import static org.mm4j.trace.kmem.AsciiWords.zeros;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The fast path of {@link KmemTraceReader}: reads a whole canonical line (the form {@code trace_pipe}, {@code trace}
 * and {@code trace-cmd report} print) in one forward scan over the reader's buffer, 8 bytes at a time where a run is
 * long (leading blanks, the task, keys, call sites, pointers, names, gfp strings), and never reports an error: a
 * line it does not recognise in every detail is handed back ({@link #GENERAL}) for the general parser of the reader,
 * which then reads it as if the fast path did not exist (tests require both to read every line the same, field by
 * field, error by error). Also the byte helpers both share: the interners of cache names, call sites and gfp
 * strings and {@link #gfp}; the byte tricks on 8 bytes at a time are {@link AsciiWords}, the memories of headers
 * and tails read before {@link HeaderMemo} and {@link FieldMemo}.
 *
 * <p>Most lines of a capture repeat a header, a call site and a tail read before: {@link #parseAhead} reads such a
 * line before its end is known, finding the end itself, so that its bytes are scanned once; any other line the
 * reader reads as before (its newline scan, then {@link #parse}, which remembers what it read).
 *
 * <p>Canonical: printable ASCII without tabs (the reader's newline scan says so), {@code TASK-PID [CPU] FLAGS
 * SECS.FRAC: EVENT:} with the flags column optional, then exactly the kernel's fields in the kernel's order
 * ({@code TP_printk} of include/trace/events/kmem.h, 6.18), one blank apart, each value well-formed.
 *
 * <p>Invariants: 8-byte loads may run up to 16 bytes past a line's end, or past the buffered bytes' end for
 * {@link #parseAhead} (the reader's buffer keeps that much slack); a byte at or past the line's end (the buffered
 * bytes' end) never decides anything. Threading: the reader's thread only (one parser per
 * reader, not thread-safe).
 */
final class KmemLineParser {
    /** {@link #parse} results: hand the line to the general parser; an event; a well-formed non-kmem event. */
    static final int GENERAL = 0;
    static final int EVENT = 1;
    static final int OTHER = 2;

    static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long BRACKETS = 0x5b5b5b5b5b5b5b5bL;
    private static final long BAD = Long.MIN_VALUE;

    /** The reader's bytes (its own buffer, or a decoder's chunk: see {@link #buffer}). */
    private byte[] buf;
    final Interner names = new Interner();
    final Interner gfps = new Interner();
    final Interner sites = new Interner();
    /** The values of line tails already read (alloc lines and kmem_cache_free; see {@link FieldMemo}). */
    final FieldMemo tails = new FieldMemo();
    /** The headers of lines already read (see {@link HeaderMemo}). */
    private final HeaderMemo headers = new HeaderMemo();
    /** End of the value a value helper parsed last. */
    private int end;
    /** Hash ({@link Interner#hash}) of the token {@link #tokenEndHashed} found last. */
    private int tokenHash;

    KmemLineParser(final byte[] buf) {
        this.buf = buf;
    }

    /** Reads from {@code b} from now on (the reader's next chunk, holding the unread bytes of the one before). */
    void buffer(final byte[] b) {
        buf = b;
        forgetSeconds();
    }

    /**
     * Forgets the seconds {@link #timestampWords} read last, so that the next line reads them again: the reader does
     * so with each chunk or buffer of new bytes, so that the branch taken when the seconds change is also taken while
     * the JIT profiles the parser. Else on a capture whose seconds first change after C2 compiled
     * {@link #parseAhead} (60,036 lines into {@code real5m}), that branch is one C2 never saw taken: an
     * {@code unstable_if} trap, {@code parseAhead} deoptimised, profiled again in C1 and compiled again.
     */
    void forgetSeconds() {
        secWord = -1;
        secMask = 0;
    }

    /** Whether the seconds of a timestamp are remembered (tests). */
    boolean remembersSeconds() {
        return secWord != -1;
    }

    // ---- 8 bytes of a line at a time (see AsciiWords) ------------------------------------------------------------

    private long word(final int p) {
        return (long) LONGS.get(buf, p);
    }

    /** The first byte at or after {@code p} that is no blank; may be past {@code le}. */
    private int skipSpaces(final int from, final int le) {
        int p = from;
        while (p < le) {
            final long m = nonZero(word(p) ^ SPACES);
            if (m != 0) {
                return p + (Long.numberOfTrailingZeros(m) >>> 3);
            }
            p += 8;
        }
        return p;
    }

    /** The first blank at or after {@code from}, or {@code le}. */
    private int tokenEnd(final int from, final int le) {
        int p = from;
        while (p < le) {
            final long m = blanks(word(p));
            if (m != 0) {
                return Math.min(p + (Long.numberOfTrailingZeros(m) >>> 3), le);
            }
            p += 8;
        }
        return le;
    }

    /** As {@link #tokenEnd}, and hashes the token into {@link #tokenHash}. */
    private int tokenEndHashed(final int from, final int le) {
        final int p = tokenEnd(from, le);
        tokenHash = Interner.hash(buf, from, p - from);
        return p;
    }

    private static boolean isDigit(final byte b) {
        return b >= '0' && b <= '9';
    }

    // ---- the whole line ----------------------------------------------------------------------------------------

    /**
     * Reads the line {@code [ls, le)} (printable ASCII, no tab) into {@code ev} (reset by the caller): {@link #EVENT},
     * {@link #OTHER} (a well-formed event that is none of the six), or {@link #GENERAL} (with {@code ev} partly
     * filled: the caller resets it) when the general parser must read the line.
     */
    int parse(final KmemEvent ev, final int ls, final int le) {
        final int row = headers.find(buf, ls, le);
        if (row < 0) {
            final int p = parseHeader(ev, ls, le);
            return p < 0 ? GENERAL : afterHeader(ev, p, le);
        }
        // the same bytes up to the timestamp as a header read before: the same task, pid and CPU
        ev.cpu = headers.cpu(row);
        ev.pid = headers.pid(row);
        return afterHeader(ev, ls + headers.length(row), le);
    }

    /**
     * {@link #parse} of a line whose header is not the remembered one: reads it (the CPU and pid into {@code ev})
     * and remembers it; returns where the timestamp starts, or -1 when the general parser must read the line.
     */
    private int parseHeader(final KmemEvent ev, final int ls, final int le) {
        final byte[] b = buf;
        int p = skipSpaces(ls, le);
        if (p >= le || b[p] == '#' || b[p] == 'C' && b[p + 1] == 'P' && b[p + 2] == 'U' && b[p + 3] == ':') {
            return -1;
        }
        // the CPU column: the first '[' (the general parser takes the first '[' followed by digits and ']')
        int open = p;
        while (true) {
            final long m = zeros(word(open) ^ BRACKETS);
            if (m != 0) {
                open += Long.numberOfTrailingZeros(m) >>> 3;
                break;
            }
            open += 8;
            if (open >= le) {
                return -1;
            }
        }
        if (open >= le - 2 || open == p) {
            return -1;
        }
        int q = open + 1;
        int cpu = 0;
        while (q < le && isDigit(b[q]) && q - open <= 4) {
            cpu = cpu * 10 + b[q] - '0';
            q++;
        }
        if (q == open + 1 || q >= le || b[q] != ']' || cpu > 8191) {
            return -1;
        }
        ev.cpu = cpu;
        final int close = q;
        // the pid: the digits between the last '-' and the blanks before the CPU column
        q = open - 1;
        while (q > p && b[q] == ' ') {
            q--;
        }
        final int pidEnd = q + 1;
        int pid = 0;
        int scale = 1;
        while (q > p && isDigit(b[q])) {
            pid += (b[q] - '0') * scale;
            scale *= 10;
            q--;
        }
        if (b[q] != '-' || q + 1 == pidEnd || pidEnd - q - 1 > 9) {
            return -1;
        }
        ev.pid = pid;
        // [flags] SECS.FRAC:
        p = skipSpaces(close + 1, le);
        if (p >= le) {
            return -1;
        }
        if (!isDigit(b[p])) {
            p = skipSpaces(tokenEnd(p, le), le);
        }
        if (p < le && isDigit(b[p])) {
            headers.remember(buf, ls, p - ls, cpu, pid);
        }
        return p;
    }

    /** {@link #parse} from the timestamp at {@code p} on (the header's values are in {@code ev}). */
    private int afterHeader(final KmemEvent ev, final int from, final int le) {
        final byte[] b = buf;
        int p = from;
        final long ts = timestamp(p, le);
        if (ts < 0) {
            return GENERAL;
        }
        ev.timestampMicros = ts;
        // EVENT:
        p = skipSpaces(end, le);
        // the read-ahead's matcher: what it matches lies within the line, as the line ends with its newline (no byte
        // of a name, ':' or blank); a name with nothing after it is read below
        int type = eventAt(p);
        final int e;
        if (type >= 0) {
            e = p + NAME_LEN[type] + 1;
        } else {
            e = tokenEnd(p, le);
            if (e - p < 2 || b[e - 1] != ':') {
                return GENERAL;
            }
            type = eventType(p, e - 1);
            if (type < 0) {
                return OTHER;
            }
        }
        ev.type = type;
        return fields(ev, e, le) ? EVENT : GENERAL;
    }

    private static long ascii8(final String s) {
        return (long) LONGS.get(java.util.Arrays.copyOf(s.getBytes(StandardCharsets.US_ASCII), 8), 0);
    }

    private static final long KMALLOC_COLON = ascii8("kmalloc:");
    private static final long KMEM_CAC = ascii8("kmem_cac");
    private static final long HE_FREE_COLON = ascii8("he_free:");
    private static final long HE_ALLOC = ascii8("he_alloc");
    private static final long MM_PAGE_ = ascii8("mm_page_");

    /**
     * {@code SECS[.FRAC]:} from {@code p} followed by a blank or the line's end, in microseconds (the end in
     * {@link #end}); -1 when not so (or seconds over 2^40).
     */
    private long timestamp(final int from, final int le) {
        final long common = timestampWords(from, le);
        if (common >= 0) {
            return common;
        }
        final byte[] b = buf;
        int p = from;
        long secs = 0;
        while (p < le && isDigit(b[p])) {
            secs = secs * 10 + b[p] - '0';
            p++;
        }
        if (p == from || p - from > 13 || secs > 1L << 40 || p >= le) {
            return -1;
        }
        long frac = 0;
        int digits = 0;
        final long frac6 = b[p] == '.' && p + 8 < le ? frac6(word(p + 1)) : -1;
        if (frac6 >= 0) {
            // the common case: six digits, ':' and a blank, in one word
            end = p + 8;
            return secs * 1_000_000 + frac6;
        }
        if (b[p] == '.') {
            p++;
            while (p < le && isDigit(b[p])) {
                if (digits < 6) {
                    frac = frac * 10 + b[p] - '0';
                    digits++;
                }
                p++;
            }
        }
        if (p >= le || b[p] != ':' || p + 1 < le && b[p + 1] != ' ') {
            return -1;
        }
        end = p + 1;
        for (; digits < 6; digits++) {
            frac *= 10;
        }
        return secs * 1_000_000 + frac;
    }

    /** The event names as words: the first 8 bytes and the last 8 (or the name masked, when shorter). */
    private static final long[] NAME_FIRST = new long[KmemEvent.NR_TYPES];
    private static final long[] NAME_LAST = new long[KmemEvent.NR_TYPES];
    private static final int[] NAME_LEN = new int[KmemEvent.NR_TYPES];

    static {
        for (int t = 0; t < KmemEvent.NR_TYPES; t++) {
            final byte[] n = KmemEvent.typeName(t).getBytes(StandardCharsets.US_ASCII);
            final byte[] padded = java.util.Arrays.copyOf(n, Math.max(16, n.length));
            NAME_LEN[t] = n.length;
            NAME_FIRST[t] = (long) LONGS.get(padded, 0) & mask(n.length);
            NAME_LAST[t] = n.length >= 8 ? (long) LONGS.get(n, n.length - 8) : 0;
        }
    }

    /** The only kmem event whose name has {@code len} bytes (the six names differ in length), or -1. */
    static int typeOfLength(final int len) {
        return switch (len) {
            case 7 -> KmemEvent.KMALLOC;
            case 5 -> KmemEvent.KFREE;
            case 16 -> KmemEvent.KMEM_CACHE_ALLOC;
            case 15 -> KmemEvent.KMEM_CACHE_FREE;
            case 13 -> KmemEvent.MM_PAGE_ALLOC;
            case 12 -> KmemEvent.MM_PAGE_FREE;
            default -> -1;
        };
    }

    /** The kmem event named by {@code [s, e)}, or -1. */
    private int eventType(final int s, final int e) {
        final int t = typeOfLength(e - s);
        if (t < 0) {
            return -1;
        }
        final int n = NAME_LEN[t];
        if ((word(s) & mask(n)) != NAME_FIRST[t] || n >= 8 && word(e - 8) != NAME_LAST[t]) {
            return -1;
        }
        return t;
    }

    // ---- a line read before its end is known --------------------------------------------------------------------

    /** {@link #parseAhead}: no event read; the caller finds the line's end and reads the line as before. */
    static final int NONE = -1;

    /**
     * Reads the line starting at {@code ls}, whose end is not known yet, into {@code ev} (reset by the caller) when
     * it is a kmem event the fast path has read the like of before (its header, its call site and its tail are
     * remembered); returns the index of its newline, or {@link #NONE} (with {@code ev} partly filled) for any
     * other line, or when the line does not end before {@code limit} (the end of the buffered bytes). So most
     * lines are scanned once: each byte is either compared with bytes read before (a remembered header, call site
     * or tail, a key), or a digit of a value, or found by a scan that stops at every byte that is not printable
     * ASCII. The line is then one the reader's newline scan would find plain, at most
     * {@link KmemTraceReader#MAX_LINE} bytes long, and {@link #parse} would read it into the same values (it
     * takes the same rows, interned strings and tails); nothing is remembered here (but which of a set's four
     * headers is found first), so which lines are read ahead changes no id and no value the reader reads.
     */
    int parseAhead(final KmemEvent ev, final int ls, final int limit) {
        final int row = headers.find(buf, ls, limit);
        if (row < 0) {
            return NONE;
        }
        ev.cpu = headers.cpu(row);
        ev.pid = headers.pid(row);
        // SECS.FRAC: in the common form only
        int p = ls + headers.length(row);
        final long ts = timestampWords(p, limit);
        if (ts < 0) {
            return NONE;
        }
        ev.timestampMicros = ts;
        p = skipSpaces(end, limit);
        if (limit - p < 24) {
            return NONE; // too near the buffered bytes' end for the words read below
        }
        final int type = eventAt(p);
        if (type < 0) {
            return NONE;
        }
        p += NAME_LEN[type] + 1;
        ev.type = type;
        final int le = type >= KmemEvent.MM_PAGE_ALLOC ? pageAhead(ev, p, limit, type) : slabAhead(ev, p, limit, type);
        return le - ls <= KmemTraceReader.MAX_LINE ? le : NONE;
    }

    /**
     * The kmem event whose name, ':' and a blank are at {@code p}, or -1: the matcher of both {@link #parseAhead} (at
     * least 24 bytes buffered from {@code p}) and {@link #parse} (a line ending with its newline). Words that cover
     * every byte of the name, the ':' and the blank tell each name, the most frequent names first; they read at most
     * 18 bytes from {@code p}, and 10 past the name's first 8 bytes.
     */
    private int eventAt(final int p) {
        final long w0 = word(p);
        if (w0 == KMEM_CAC) {
            final long w1 = word(p + 8);
            return w1 == HE_FREE_COLON ? buf[p + 16] == ' ' ? KmemEvent.KMEM_CACHE_FREE : -1
                : w1 == HE_ALLOC && word(p + 10) == ALLOC_COLON_BLANK ? KmemEvent.KMEM_CACHE_ALLOC : -1;
        }
        if (w0 == MM_PAGE_) {
            return word(p + 7) == ALLOC_COLON_BLANK ? KmemEvent.MM_PAGE_ALLOC
                : word(p + 6) == E_FREE_COLON_BLANK ? KmemEvent.MM_PAGE_FREE : -1;
        }
        if (w0 == KMALLOC_COLON) {
            return buf[p + 8] == ' ' ? KmemEvent.KMALLOC : -1;
        }
        return (w0 & 0xff_ffff_ffff_ffffL) == KFREE_COLON_BLANK ? KmemEvent.KFREE : -1;
    }

    private static final long E_FREE_COLON_BLANK = ascii8("e_free: ");
    private static final long ALLOC_COLON_BLANK = ascii8("_alloc: ");
    private static final long KFREE_COLON_BLANK = ascii8("kfree: ");

    /** {@link #parseAhead} of a slab event's fields from {@code p}: the line's end, or {@link #NONE}. */
    private int slabAhead(final KmemEvent ev, final int from, final int limit, final int type) {
        if (!at(from, limit, SITE)) {
            return NONE;
        }
        final int v = from + SITE.len();
        // the call site seen last with the same first bytes, else the interned one the token is
        final int slot = limit - v >= Interner.GUESS_BYTES ? Interner.guessSlot(buf, v) : -1;
        String site = slot >= 0 ? sites.guess(buf, v, limit, slot) : null;
        final int e;
        if (site != null) {
            e = sites.lastEnd;
        } else {
            e = plainTokenEnd(v, limit);
            if (e < 0 || buf[e] != ' ') {
                return NONE;
            }
            if (e > v) {
                site = sites.known(buf, v, e - v, Interner.hash(buf, v, e - v));
                if (site == null) {
                    return NONE;
                }
                if (slot >= 0) {
                    sites.remember(slot); // of bytes found printable ASCII: a guess never takes another byte
                }
            }
        }
        if (site != null) {
            ev.callSite = site;
            ev.callSiteId = sites.lastId;
        }
        if (!at(e, limit, PTR)) {
            return NONE;
        }
        final long ptr = hexAhead(e + PTR.len(), limit);
        if (ptr == BAD) {
            return NONE;
        }
        ev.ptr = ptr;
        final int tail = end;
        if (type == KmemEvent.KFREE) {
            return buf[tail] == '\n' ? tail : NONE;
        }
        final int id = ev.callSiteId;
        return tailAhead(ev, tail, limit, type, id, id >= 0 ? tails.predicted(type, id) : -1, -1);
    }

    /** {@link #parseAhead} of a page event's fields from {@code p}: the line's end, or {@link #NONE}. */
    private int pageAhead(final KmemEvent ev, final int from, final int limit, final int type) {
        if (!at(from, limit, PAGE)) {
            return NONE;
        }
        // page=%p: 16 printable bytes and a blank (two words), else the scan
        final int v = from + PAGE.len();
        final int e = limit - v >= 24 && (stops(word(v)) | stops(word(v + 8))) == 0 && buf[v + 16] == ' ' ? v + 16
            : plainTokenEnd(v, limit);
        if (e < 0 || buf[e] != ' ' || !at(e, limit, PFN)) {
            return NONE;
        }
        final long pfn = hexAhead(e + PFN.len(), limit);
        if (pfn == BAD || buf[end] != ' ') {
            return NONE;
        }
        ev.pfn = pfn;
        if (type == KmemEvent.MM_PAGE_ALLOC) {
            final int tail = end;
            final int g = limit - tail >= FieldMemo.PAGE_GUESS_BYTES ? FieldMemo.pageGuess(buf, tail) : -1;
            return tailAhead(ev, tail, limit, type, -1, g >= 0 ? tails.pagePredicted(g) : -1, g);
        }
        // mm_page_free: order=N and the newline
        if (!at(end, limit, ORDER)) {
            return NONE;
        }
        final int o = end + ORDER.len();
        final long w = word(o);
        final int k = digits(w);
        final int le = o + k;
        if (k == 0 || k > 2 || le >= limit || buf[le] != '\n') {
            return NONE;
        }
        final long order = k == 1 ? (w & 0xf) : (w & 0xf) * 10 + (w >>> 8 & 0xf);
        if (order > 10) {
            return NONE;
        }
        ev.order = (int) order;
        return le;
    }

    /**
     * The tail from {@code tail} to the newline, when remembered ({@link FieldMemo}): its values into {@code ev},
     * and the line's end; {@link #NONE} when not remembered. The remembered tail {@code slot} (-1: none) is tried
     * first (compared up to and with the newline after it; for a slab event the one last seen with the line's call
     * site and type, for an mm_page_alloc line the one last seen with the same bytes at a few places,
     * {@link FieldMemo#pageGuess} {@code g}); else {@link #tailLookup}.
     */
    private int tailAhead(final KmemEvent ev, final int tail, final int limit, final int type, final int site,
        final int slot, final int g) {
        if (slot >= 0) {
            final int le = tails.endOf(slot, buf, tail, limit);
            if (le >= 0) {
                tails.load(slot, ev);
                return le;
            }
        }
        return tailLookup(ev, tail, limit, type, site, g);
    }

    /**
     * {@link #tailAhead} when its guess missed: the newline found by a scan that stops at any byte that is not
     * printable ASCII, the tail looked up and made the guess of the call site and type {@code site} (slab events)
     * or of {@link FieldMemo#pageGuess} {@code g} (mm_page_alloc, when not -1).
     */
    private int tailLookup(final KmemEvent ev, final int tail, final int limit, final int type, final int site,
        final int g) {
        final int le = lineEndAt(tail, limit);
        if (le < 0) {
            return NONE;
        }
        final int slot = tails.find(buf, tail, le, type, Interner.hash(buf, tail, le - tail));
        if (slot < 0) {
            return NONE;
        }
        if (site >= 0) {
            tails.predict(type, site, slot);
        } else if (g >= 0) {
            tails.pagePredict(g, slot);
        }
        tails.load(slot, ev);
        return le;
    }

    /**
     * {@link #hex} before the line's end is known: the common forms only (up to 7 digits, or 16), followed by a
     * blank or the newline (its index in {@link #end}); {@link #BAD} for anything else.
     */
    private long hexAhead(final int v, final int limit) {
        if (limit - v < 24) {
            return BAD; // too near the buffered bytes' end for the words read below
        }
        int s = v;
        if (buf[s] == '0' && (buf[s + 1] == 'x' || buf[s + 1] == 'X')) {
            s += 2;
        }
        final long x = hexWords(s);
        return x != BAD && end < limit && (buf[end] == ' ' || buf[end] == '\n') ? x : BAD;
    }

    /** The first byte at or after {@code from} that is not in 0x21..0x7e, when before {@code limit}; else -1. */
    private int plainTokenEnd(final int from, final int limit) {
        for (int p = from; p < limit; p += 8) {
            final long m = stops(word(p));
            if (m != 0) {
                final int q = p + (Long.numberOfTrailingZeros(m) >>> 3);
                return q < limit ? q : -1;
            }
        }
        return -1;
    }

    /**
     * The newline ending the printable ASCII (blanks included, no tab) from {@code from}: its index, when before
     * {@code limit} and no other byte below 0x20 or at or above 0x7f comes first; else -1.
     */
    private int lineEndAt(final int from, final int limit) {
        for (int p = from; p < limit; p += 8) {
            final long m = special(word(p));
            if (m != 0) {
                final int q = p + (Long.numberOfTrailingZeros(m) >>> 3);
                return q < limit && buf[q] == '\n' ? q : -1;
            }
        }
        return -1;
    }

    // ---- the fields, in the kernel's order ---------------------------------------------------------------------

    /** A key (with its leading blank, 5 to 16 bytes) as two words and their masks. */
    private record Key(int len, long k0, long m0, long k1, long m1) {
        static Key of(final String key) {
            final byte[] k = java.util.Arrays.copyOf(key.getBytes(StandardCharsets.US_ASCII), 16);
            final int n = key.length();
            final long m0 = mask(n);
            final long m1 = n > 8 ? mask(n - 8) : 0;
            return new Key(n, (long) LONGS.get(k, 0) & m0, m0, (long) LONGS.get(k, 8) & m1, m1);
        }
    }

    private static final Key SITE = Key.of(" call_site=");
    private static final Key PTR = Key.of(" ptr=");
    private static final Key NAME = Key.of(" name=");
    private static final Key REQ = Key.of(" bytes_req=");
    private static final Key ALLOC = Key.of(" bytes_alloc=");
    private static final Key GFP = Key.of(" gfp_flags=");
    private static final Key NODE = Key.of(" node=");
    private static final Key ACCOUNTED = Key.of(" accounted=");
    private static final Key PAGE = Key.of(" page=");
    private static final Key PFN = Key.of(" pfn=");
    private static final Key ORDER = Key.of(" order=");
    private static final Key MIGRATETYPE = Key.of(" migratetype=");

    /** {@code k} at {@code p}, within the line: a word or two compared (the keys are constants to the JIT). */
    private boolean at(final int p, final int le, final Key k) {
        return le - p >= k.len() && (word(p) & k.m0()) == k.k0() && (word(p + 8) & k.m1()) == k.k1();
    }

    /**
     * Reads the fields of a line that has exactly the kernel's fields in the kernel's order (TP_printk of
     * include/trace/events/kmem.h, 6.18), one blank apart, each value well-formed, into {@code ev}; false (with
     * {@code ev} partly filled) for anything else. Each byte of the fields is looked at once: keys are compared a
     * word at a time, values are parsed (and strings hashed for interning) while their end is searched.
     */
    private boolean fields(final KmemEvent ev, final int from, final int le) {
        final int type = ev.type;
        return type >= KmemEvent.MM_PAGE_ALLOC ? pageFields(ev, from, le, type) : slabFields(ev, from, le, type);
    }

    /** kmalloc, kfree, kmem_cache_alloc, kmem_cache_free: {@code call_site= ptr= [name=] [bytes_req= ...]}. */
    private boolean slabFields(final KmemEvent ev, final int from, final int le, final int type) {
        int p = from;
        if (!at(p, le, SITE)) {
            return false;
        }
        int v = p + SITE.len();
        p = tokenEndHashed(v, le);
        if (p > v) {
            ev.callSite = sites.string(buf, v, p - v, tokenHash);
            ev.callSiteId = sites.lastId;
        }
        final long ptr = hexAt(p, le, PTR);
        if (ptr == BAD) {
            return false;
        }
        ev.ptr = ptr;
        p = end;
        final boolean memo = type != KmemEvent.KFREE;  // a kfree line's tail is its pointer: nothing to remember
        final int tail = p;
        int tailHash = 0;
        if (memo) {
            tailHash = Interner.hash(buf, tail, le - tail);
            final int slot = tails.find(buf, tail, le, type, tailHash);
            if (slot >= 0) {
                tails.load(slot, ev);
                return true;
            }
        }
        if (type == KmemEvent.KMEM_CACHE_ALLOC || type == KmemEvent.KMEM_CACHE_FREE) {
            if (!at(p, le, NAME)) {
                return false;
            }
            v = p + NAME.len();
            p = tokenEndHashed(v, le);
            if (p == v) {
                return false;
            }
            ev.cacheName = names.string(buf, v, p - v, tokenHash);
            ev.cacheNameId = names.lastId;
        }
        if (type == KmemEvent.KFREE || type == KmemEvent.KMEM_CACHE_FREE) {
            if (skipSpaces(p, le) < le) {
                return false;
            }
            if (memo) {
                tails.put(buf, tail, le, type, tailHash, ev);
            }
            return true;
        }
        final long req = bytesAt(p, le, REQ);
        if (req < 0) {
            return false;
        }
        ev.bytesReq = req;
        final long alloc = bytesAt(end, le, ALLOC);
        if (alloc < 0) {
            return false;
        }
        ev.bytesAlloc = alloc;
        p = end;
        if (!gfpAt(ev, p, le)) {
            return false;
        }
        final long node = signedAt(end, le, NODE);
        if (node == NO_KEY) {
            return false;
        }
        ev.node = node >= -1 && node < 1024 ? (int) node : -1;
        p = end;
        if (!at(p, le, ACCOUNTED) || skipSpaces(tokenEnd(p + ACCOUNTED.len(), le), le) < le) {
            return false;
        }
        tails.put(buf, tail, le, type, tailHash, ev);
        return true;
    }

    /** mm_page_alloc, mm_page_free: {@code page= pfn= order= [migratetype= gfp_flags=]}. */
    private boolean pageFields(final KmemEvent ev, final int from, final int le, final int type) {
        int p = from;
        if (!at(p, le, PAGE)) {
            return false;
        }
        p = tokenEnd(p + PAGE.len(), le);
        final long pfn = hexAt(p, le, PFN);
        if (pfn == BAD) {
            return false;
        }
        ev.pfn = pfn;
        p = end;
        final int tail = p;
        int tailHash = 0;
        if (type == KmemEvent.MM_PAGE_ALLOC) {
            tailHash = Interner.hash(buf, tail, le - tail);
            final int slot = tails.find(buf, tail, le, type, tailHash);
            if (slot >= 0) {
                tails.load(slot, ev);
                return true;
            }
        }
        if (!at(p, le, ORDER)) {
            return false;
        }
        int v = p + ORDER.len();
        p = tokenEnd(v, le);
        final long order = parseDec(v, p);
        if (order < 0 || order > 10) {
            return false;
        }
        ev.order = (int) order;
        if (type == KmemEvent.MM_PAGE_FREE) {
            return skipSpaces(p, le) >= le;
        }
        final long mt = signedAt(p, le, MIGRATETYPE);
        if (mt == NO_KEY) {
            return false;
        }
        ev.migratetype = mt >= -1 && mt < 16 ? (int) mt : -1;
        if (!gfpAt(ev, end, le) || skipSpaces(end, le) < le) {
            return false;
        }
        tails.put(buf, tail, le, type, tailHash, ev);
        return true;
    }

    /** {@link #signedAt}: the key is not there. */
    private static final long NO_KEY = Long.MAX_VALUE;

    /**
     * {@code k} at {@code p} and a token after it (its end in {@link #end}) as a signed decimal, {@link #BAD} when
     * it is none (node=, migratetype=: the caller takes that as -1); {@link #NO_KEY} when the key is not there.
     */
    private long signedAt(final int p, final int le, final Key k) {
        if (!at(p, le, k)) {
            return NO_KEY;
        }
        final int v = p + k.len();
        end = tokenEnd(v, le);
        return parseSigned(v, end);
    }

    /** {@code gfp_flags=} at {@code p}, its value into {@code ev} (its end in {@link #end}); false if not there. */
    private boolean gfpAt(final KmemEvent ev, final int p, final int le) {
        if (!at(p, le, GFP)) {
            return false;
        }
        final int v = p + GFP.len();
        end = tokenEndHashed(v, le);
        ev.gfp = gfp(v, end, tokenHash);
        return true;
    }

    /** {@code k} at {@code p} and a hex value after it (its end in {@link #end}); {@link #BAD} if not. */
    private long hexAt(final int p, final int le, final Key k) {
        return at(p, le, k) ? hex(p + k.len(), le) : BAD;
    }

    /** {@code k} at {@code p} and a bytes_req/bytes_alloc value after it (its end in {@link #end}); -1 if not. */
    private long bytesAt(final int p, final int le, final Key k) {
        return at(p, le, k) ? bytes(p + k.len(), le) : -1;
    }

    /**
     * {@link #timestamp}'s common case from two words (up to 7 digits, '.', six, ':', blank before {@code le}). The
     * seconds and their '.' as read last ({@link #secWord}) are taken without reading them again: the seconds change
     * once a second of the capture, every few thousand lines.
     */
    private long timestampWords(final int from, final int le) {
        final long w0 = word(from);
        if ((w0 & secMask) != secWord && !seconds(w0, from)) {
            return -1;
        }
        final int n = secLen;
        if (from + n + 8 >= le) {
            return -1;
        }
        final long frac = frac6(word(from + n + 1));
        if (frac < 0) {
            return -1;
        }
        end = from + n + 8;
        return secValue * 1_000_000 + frac;
    }

    /**
     * Reads the seconds of a timestamp from its first word {@code w0} (at {@code from}: up to 7 digits and a '.')
     * into {@link #secWord} and the fields after it; false when they are not so.
     */
    private boolean seconds(final long w0, final int from) {
        final int n = digits(w0);
        if (n == 0 || n >= 8 || buf[from + n] != '.') {
            return false;
        }
        secLen = n;
        secValue = decValue(w0, n);
        secMask = mask(n + 1);
        secWord = w0 & secMask;
        return true;
    }

    /**
     * The seconds {@link #timestampWords} read last: their digits and '.' ({@link #secLen} + 1 bytes, the rest of the
     * word masked off by {@link #secMask}; none at first: no word masked to nothing is -1), their count and value.
     */
    private long secWord = -1;
    private long secMask;
    private int secLen;
    private long secValue;

    /**
     * A hex number from {@code s} in its common forms, 1 to 7 digits (pfn=) or 16 (a hashed %p), told from the
     * digits' words, or {@link #BAD}; the caller checks the byte after the digits, at {@link #end}.
     */
    private long hexWords(final int s) {
        final long w0 = word(s);
        final int k = hexDigits(w0);
        final int f = k < 8 ? s + k : hexDigits(word(s + 8)) == 8 ? s + 16 : -1;
        if (f <= s) {
            return BAD;
        }
        end = f;
        return k < 8 ? hexValue(w0, k) : hexValue(w0, 8) << 32 | hexValue(word(s + 8), 8);
    }

    /**
     * A hex number ({@code 0x} optional, leading zeros, at most 16 significant digits) from {@code v} to a blank or
     * the line's end ({@link #end}); {@link #BAD} otherwise. Eight digits at a time.
     */
    private long hex(final int v, final int le) {
        int s = v;
        if (le - s >= 2 && buf[s] == '0' && (buf[s + 1] == 'x' || buf[s + 1] == 'X')) {
            s += 2;
        }
        final long common = hexWords(s);
        if (common != BAD && (end < le && buf[end] == ' ' || end == le)) {
            return common;
        }
        final int e = tokenEnd(s, le);
        int n = e - s;
        if (n == 0) {
            return BAD;
        }
        while (n > 16 && buf[s] == '0') {
            s++;
            n--;
        }
        if (n > 16) {
            return BAD;
        }
        end = e;
        if (n <= 8) {
            final long x = hex8(word(s), n);
            return x < 0 ? BAD : x;
        }
        final long hi = hex8(word(s), n - 8);
        final long lo = hex8(word(s + n - 8), 8);
        return (hi | lo) < 0 ? BAD : hi << 32 | lo;
    }

    /** bytes_req/bytes_alloc: decimal up to a blank or the line's end, 0 to 2^40; -1 otherwise ({@link #end}). */
    private long bytes(final int v, final int le) {
        final long w = word(v);
        final int n = digits(w);
        if (n > 0 && n < 8 && v + n <= le && (v + n == le || buf[v + n] == ' ')) {
            end = v + n;
            return decValue(w, n);
        }
        long x = 0;
        int i = v;
        while (i < le && isDigit(buf[i]) && i - v < 18) {
            x = x * 10 + (buf[i] - '0');
            i++;
        }
        if (i == v || x > KmemTraceReader.MAX_BYTES || i < le && buf[i] != ' ') {
            return -1;
        }
        end = i;
        return x;
    }

    /** The whole of {@code [s, e)} as an unsigned decimal; -1 when malformed or over 2^62. */
    long parseDec(final int s, final int e) {
        if (e <= s || e - s > 18) {
            return -1;
        }
        long v = 0;
        for (int i = s; i < e; i++) {
            if (!isDigit(buf[i])) {
                return -1;
            }
            v = v * 10 + (buf[i] - '0');
        }
        return v;
    }

    /** {@code [s, e)} as a signed decimal; {@link #BAD} when malformed. */
    long parseSigned(final int s, final int e) {
        if (e > s && buf[s] == '-') {
            final long v = parseDec(s + 1, e);
            return v < 0 ? BAD : -v;
        }
        final long v = parseDec(s, e);
        return v < 0 ? BAD : v;
    }

    // ---- shared with the general parser ------------------------------------------------------------------------

    /** The gfp flags of {@code gfp_flags=} in {@code [v, e)} (interned: each distinct string is parsed once). */
    int gfp(final int v, final int e) {
        return gfp(v, e, Interner.hash(buf, v, e - v));
    }

    private int gfp(final int v, final int e, final int hash) {
        final int cached = gfps.intValue(buf, v, e - v, hash);
        if (cached != Interner.MISSING) {
            return cached;
        }
        int flags = 0;
        int s = v;
        for (int i = v; i <= e; i++) {
            if (i == e || buf[i] == '|') {
                if (i > s) {
                    final String part = new String(buf, s, i - s, StandardCharsets.ISO_8859_1);
                    if (Gfp.isKnown(part)) {
                        flags |= Gfp.parse(part);
                    } else if (part.startsWith("0x")) {
                        final long x = parseHex(buf, s, i);
                        if (x != BAD) {
                            flags |= (int) x;
                        }
                    }
                }
                s = i + 1;
            }
        }
        gfps.putInt(buf, v, e - v, hash, flags);
        return flags;
    }
}
