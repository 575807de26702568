package org.mm4j.trace.kmem;

import org.mm4j.page.Gfp;

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
 * strings, {@link #gfp} and {@link #parseHex}.
 *
 * <p>Canonical: printable ASCII without tabs (the reader's newline scan says so), {@code TASK-PID [CPU] FLAGS
 * SECS.FRAC: EVENT:} with the flags column optional, then exactly the kernel's fields in the kernel's order
 * ({@code TP_printk} of include/trace/events/kmem.h, 6.18), one blank apart, each value well-formed.
 *
 * <p>Invariants: 8-byte loads may run up to 16 bytes past a line's end (the reader's buffer keeps that much slack);
 * a byte at or past the line's end never decides anything. Threading: the reader's thread only (one parser per
 * reader, not thread-safe).
 */
final class KmemLineParser {
    /** {@link #parse} results: hand the line to the general parser; an event; a well-formed non-kmem event. */
    static final int GENERAL = 0;
    static final int EVENT = 1;
    static final int OTHER = 2;

    static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    static final long ONES = 0x0101010101010101L;
    static final long HIGHS = 0x8080808080808080L;
    private static final long LOWS = 0x7f7f7f7f7f7f7f7fL;
    private static final long SPACES = 0x2020202020202020L;
    private static final long BRACKETS = 0x5b5b5b5b5b5b5b5bL;
    private static final long BAD = Long.MIN_VALUE;

    private final byte[] buf;
    final Interner names = new Interner();
    final Interner gfps = new Interner();
    final Interner sites = new Interner();
    /** The values of line tails already read (alloc lines and kmem_cache_free; see {@link FieldMemo}). */
    final FieldMemo tails = new FieldMemo();
    /** End of the value a value helper parsed last. */
    private int end;
    /** Hash ({@link Interner#hash}) of the token {@link #tokenEndHashed} found last. */
    private int tokenHash;

    KmemLineParser(final byte[] buf) {
        this.buf = buf;
    }

    // ---- SWAR: 8 bytes of a long at a time; "exact for the lowest such byte" is all a scan needs -----------------

    /** High bit set in each byte of {@code w} below 0x20, at or above 0x7f (exact for the lowest such byte). */
    static long special(final long w) {
        // no borrow or carry crosses a printable byte, so the lowest other byte is found exactly
        return ((w - SPACES) | (w + ONES) | w) & HIGHS;
    }

    /**
     * High bit set in each byte of {@code w} that is a blank, when the bytes are printable ASCII (a line of the fast
     * path): only 0x20 borrows from 0x21 among them (exact for the lowest such byte; other bytes, past a line's end,
     * may be flagged too, and the newline at its end is).
     */
    static long blanks(final long w) {
        return (w - 0x2121212121212121L) & HIGHS;
    }

    /** High bit set in each byte of {@code w} that is not zero (exact for every byte). */
    private static long nonZero(final long x) {
        return ((x & LOWS) + LOWS | x) & HIGHS;
    }

    /** High bit set in each byte of {@code w} that is zero (exact for the lowest such byte). */
    private static long zeros(final long x) {
        return (x - ONES) & ~x & HIGHS;
    }

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

    // ---- the header memo ---------------------------------------------------------------------------------------

    /** Longest header remembered (leading blanks, task, pid, CPU, flags, the blanks before the timestamp). */
    static final int HEADER_MAX = 64;

    /**
     * Headers read in full, as words (the bytes {@code [ls, ls + len)} of the line, the last word masked) with
     * their length, CPU and pid, {@link #HEADER_WORDS} words to a row; length 0: none. A header of at least
     * {@link #HASHED} bytes has the row its first {@link #HASHED} bytes hash to ({@link #headerRow}); a shorter one
     * the last row. Consecutive lines of one task on one CPU (most of a capture) share these bytes, and a few tasks
     * take turns; a line starting with exactly a row's bytes and a digit after them has that row's task, pid and
     * CPU (each is read from these bytes alone), so its header is not read again. {@link #lastRow}: the row of the
     * last line's header, tried first; -1: none.
     */
    private static final int HEADER_WORDS = HEADER_MAX / 8;
    private static final int HEADER_ROWS = 32;
    /** Bytes a row's place is hashed from (four words: task, pid, CPU and flags in the kernel's layout). */
    private static final int HASHED = 32;
    private final long[] headers = new long[(HEADER_ROWS + 1) * HEADER_WORDS];
    private final int[] headerLen = new int[HEADER_ROWS + 1];
    private final int[] headerCpu = new int[HEADER_ROWS + 1];
    private final int[] headerPid = new int[HEADER_ROWS + 1];
    private int lastRow = -1;

    /** The row of a header of at least {@link #HASHED} bytes starting at {@code ls}. */
    private int headerRow(final int ls) {
        final long h = (word(ls) * 0x9E3779B97F4A7C15L ^ word(ls + 8)) * 0xC2B2AE3D27D4EB4FL
            ^ (word(ls + 16) * 0x165667B19E3779F9L ^ word(ls + 24)) * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 59);
    }

    /** Whether the line {@code [ls, le)} starts with the header of {@code row} and a digit after it. */
    private boolean sameHeader(final int row, final int ls, final int le) {
        final int n = headerLen[row];
        if (n == 0 || le - ls <= n || !isDigit(buf[ls + n])) {
            return false;
        }
        final long[] h = headers;
        final int base = row * HEADER_WORDS;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            if (word(ls + i) != h[base + (i >>> 3)]) {
                return false;
            }
        }
        return i == n || ((word(ls + i) ^ h[base + (i >>> 3)]) & mask(n - i)) == 0;
    }

    /** Remembers the {@code n} header bytes of the line at {@code ls} and the values read from them. */
    private void rememberHeader(final int ls, final int n, final KmemEvent ev) {
        if (n > HEADER_MAX) {
            lastRow = -1;
            return;
        }
        final int row = n >= HASHED ? headerRow(ls) : HEADER_ROWS;
        final int base = row * HEADER_WORDS;
        for (int i = 0; i < n; i += 8) {
            headers[base + (i >>> 3)] = word(ls + i) & mask(n - i);
        }
        headerLen[row] = n;
        headerCpu[row] = ev.cpu;
        headerPid[row] = ev.pid;
        lastRow = row;
    }

    // ---- the whole line ----------------------------------------------------------------------------------------

    /**
     * Reads the line {@code [ls, le)} (printable ASCII, no tab) into {@code ev} (reset by the caller): {@link #EVENT},
     * {@link #OTHER} (a well-formed event that is none of the six), or {@link #GENERAL} (with {@code ev} partly
     * filled: the caller resets it) when the general parser must read the line.
     */
    int parse(final KmemEvent ev, final int ls, final int le) {
        int row = lastRow;
        if (row < 0 || !sameHeader(row, ls, le)) {
            row = le - ls > HASHED ? headerRow(ls) : HEADER_ROWS;
            if (!sameHeader(row, ls, le) && (row == HEADER_ROWS || !sameHeader(row = HEADER_ROWS, ls, le))) {
                final int p = parseHeader(ev, ls, le);
                return p < 0 ? GENERAL : afterHeader(ev, p, le);
            }
            lastRow = row;
        }
        // the same bytes up to the timestamp as a header read before: the same task, pid and CPU
        ev.cpu = headerCpu[row];
        ev.pid = headerPid[row];
        return afterHeader(ev, ls + headerLen[row], le);
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
            rememberHeader(ls, p - ls, ev);
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
        int type = kmemEventAt(p, le);
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

    /**
     * The kmem event whose name, a ':' and then a blank or the line's end are at {@code p} (the common case, told
     * from a word or two without looking for the token's end), or -1 when not so (the token is then read).
     */
    private int kmemEventAt(final int p, final int le) {
        final long w0 = word(p);
        final int t;
        if (w0 == KMALLOC_COLON) {
            t = KmemEvent.KMALLOC;
        } else if ((w0 & 0xffff_ffff_ffffL) == KFREE_COLON) {
            t = KmemEvent.KFREE;
        } else if (w0 == KMEM_CAC) {
            final long w1 = word(p + 8);
            t = w1 == HE_FREE_COLON ? KmemEvent.KMEM_CACHE_FREE
                : w1 == HE_ALLOC && buf[p + 16] == ':' ? KmemEvent.KMEM_CACHE_ALLOC : -1;
        } else if (w0 == MM_PAGE_) {
            final long w1 = word(p + 8);
            t = (w1 & 0xffff_ffff_ffffL) == ALLOC_COLON ? KmemEvent.MM_PAGE_ALLOC
                : (w1 & 0xff_ffff_ffffL) == FREE_COLON ? KmemEvent.MM_PAGE_FREE : -1;
        } else {
            return -1;
        }
        if (t < 0) {
            return -1;
        }
        final int e = p + NAME_LEN[t] + 1;
        return e < le && buf[e] == ' ' || e == le ? t : -1;
    }

    private static long ascii8(final String s) {
        return (long) LONGS.get(java.util.Arrays.copyOf(s.getBytes(StandardCharsets.US_ASCII), 8), 0);
    }

    private static final long KMALLOC_COLON = ascii8("kmalloc:");
    private static final long KFREE_COLON = ascii8("kfree:");
    private static final long KMEM_CAC = ascii8("kmem_cac");
    private static final long HE_FREE_COLON = ascii8("he_free:");
    private static final long HE_ALLOC = ascii8("he_alloc");
    private static final long MM_PAGE_ = ascii8("mm_page_");
    private static final long ALLOC_COLON = ascii8("alloc:");
    private static final long FREE_COLON = ascii8("free:");

    /**
     * {@code SECS[.FRAC]:} from {@code p} followed by a blank or the line's end, in microseconds (the end in
     * {@link #end}); -1 when not so (or seconds over 2^40).
     */
    private long timestamp(final int from, final int le) {
        final byte[] b = buf;
        final long w0 = word(from);
        final int n = digits(w0);
        if (n > 0 && n < 8 && from + n + 8 < le && b[from + n] == '.') {
            // the common case: up to 7 digits of seconds in one word, '.', then six digits, ':' and a blank in one
            final long frac = frac6(word(from + n + 1));
            if (frac >= 0) {
                end = from + n + 8;
                return dec8(w0 << ((8 - n) << 3) | 0x3030303030303030L >>> (n << 3)) * 1_000_000 + frac;
            }
        }
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

    /**
     * The fraction of a timestamp from the word after its '.': six digits, ':' and a blank, as microseconds; -1
     * when the word is not so (the byte loop of {@link #timestamp} then reads it). The two bytes shifted in are
     * made digits ('0') so that only the six fraction bytes decide.
     */
    private static long frac6(final long w) {
        final long d = w << 16 | 0x3030;
        return (w >>> 48) == (' ' << 8 | ':') && digits(d) == 8 ? dec8(d) : -1;
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

    /** The low {@code n} bytes of a word (all of it from 8). */
    private static long mask(final int n) {
        return n >= 8 ? -1L : (1L << (n << 3)) - 1;
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
     * A hex number ({@code 0x} optional, leading zeros, at most 16 significant digits) from {@code v} to a blank or
     * the line's end ({@link #end}); {@link #BAD} otherwise. Eight digits at a time.
     */
    private long hex(final int v, final int le) {
        int s = v;
        if (le - s >= 2 && buf[s] == '0' && (buf[s + 1] == 'x' || buf[s + 1] == 'X')) {
            s += 2;
        }
        // the common cases, told from the digits' own words: up to 7 digits (pfn=), or 16 (a hashed %p)
        final long w0 = word(s);
        final int k = hexDigits(w0);
        final int f = k < 8 ? s + k : hexDigits(word(s + 8)) == 8 ? s + 16 : -1;
        if (f > s && (f < le && buf[f] == ' ' || f == le)) {
            end = f;
            return k < 8 ? hexValue(w0, k) : hexValue(w0, 8) << 32 | hexValue(word(s + 8), 8);
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

    /** The first {@code n} (1 to 8) bytes of {@code w} as hex digits, or -1 when one is not. */
    private static long hex8(final long w, final int n) {
        return hexDigits(w) >= n ? hexValue(w, n) : -1;
    }

    /**
     * How many of the low bytes of {@code w} are hex digits before the first that is not (8: all); exact when the
     * bytes before that one are ASCII (no carry then crosses a byte).
     */
    private static int hexDigits(final long x) {
        // digits: 0x30..0x39; letters (lower-cased by 0x20): 0x61..0x66
        final long l = x | SPACES;
        final long digit = (x + 0x5050505050505050L) & ~(x + 0x4646464646464646L);
        final long letter = (l + 0x1f1f1f1f1f1f1f1fL) & ~(l + 0x1919191919191919L);
        return Long.numberOfTrailingZeros(~(digit | letter) & HIGHS) >>> 3;
    }

    /** The first {@code n} (1 to 8) bytes of {@code w}, hex digits, as a number. */
    private static long hexValue(final long w, final int n) {
        // the n digits to the top of the word, '0's below them
        final long x = n == 8 ? w : w << ((8 - n) << 3) | 0x3030303030303030L >>> (n << 3);
        // a nibble per byte (first digit in the lowest byte), then pairs, quads, the 32-bit value
        long d = (x & 0x0f0f0f0f0f0f0f0fL) + 9 * (x >>> 6 & ONES);
        d = (d << 4 | d >>> 8) & 0x00ff00ff00ff00ffL;
        d = (d << 8 | d >>> 16) & 0x0000ffff0000ffffL;
        return (d << 16 | d >>> 32) & 0xffffffffL;
    }

    /** How many of the low bytes of {@code w} are decimal digits before the first that is not (8: all). */
    private static int digits(final long w) {
        // ASCII only: no borrow or carry crosses a digit, so the lowest non-digit is found exactly
        final long m = ((w - 0x3030303030303030L) | (w + 0x4646464646464646L)) & HIGHS;
        return Long.numberOfTrailingZeros(m) >>> 3;
    }

    /** The 8 decimal digits of {@code w} (the first in the lowest byte) as a number. */
    private static long dec8(final long w) {
        long v = w - 0x3030303030303030L;
        v = (v * 10 + (v >>> 8)) & 0x00ff00ff00ff00ffL;
        v = (v * 100 + (v >>> 16)) & 0x0000ffff0000ffffL;
        return (v * 10000 + (v >>> 32)) & 0xffffffffL;
    }

    /** bytes_req/bytes_alloc: decimal up to a blank or the line's end, 0 to 2^40; -1 otherwise ({@link #end}). */
    private long bytes(final int v, final int le) {
        final long w = word(v);
        final int n = digits(w);
        if (n > 0 && n < 8 && v + n <= le && (v + n == le || buf[v + n] == ' ')) {
            end = v + n;
            return dec8(w << ((8 - n) << 3) | 0x3030303030303030L >>> (n << 3));
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

    /** Hex with or without 0x, at most 16 significant digits (unsigned 64 bits); {@link Long#MIN_VALUE} otherwise. */
    static long parseHex(final byte[] buf, final int from, final int e) {
        int s = from;
        if (e - s >= 2 && buf[s] == '0' && (buf[s + 1] == 'x' || buf[s + 1] == 'X')) {
            s += 2;
        }
        while (s < e - 1 && buf[s] == '0') {
            s++;
        }
        if (e <= s || e - s > 16) {
            return BAD;
        }
        long v = 0;
        for (int i = s; i < e; i++) {
            final int d = HEX[buf[i] & 0xff];
            if (d < 0) {
                return BAD;
            }
            v = v << 4 | d;
        }
        return v;
    }

    /** The value of each byte as a hex digit, or -1. */
    private static final byte[] HEX = new byte[256];

    static {
        java.util.Arrays.fill(HEX, (byte) -1);
        for (int c = '0'; c <= '9'; c++) {
            HEX[c] = (byte) (c - '0');
        }
        for (int c = 'a'; c <= 'f'; c++) {
            HEX[c] = (byte) (c - 'a' + 10);
            HEX[c - 'a' + 'A'] = (byte) (c - 'a' + 10);
        }
    }
}
