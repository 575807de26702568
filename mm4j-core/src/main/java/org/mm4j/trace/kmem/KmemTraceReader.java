package org.mm4j.trace.kmem;

import org.mm4j.io.InputLineException;
import org.mm4j.io.LineReader;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Streaming reader of an ftrace capture of the {@code kmem:*} events (the text of {@code trace_pipe} or
 * {@code trace}): one line at a time from a byte buffer, filling a reused {@link KmemEvent}, so a multi-GB trace is
 * read in bounded memory and without a Java allocation per line (cache names and gfp strings are interned).
 *
 * <p>Line format: {@code TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: key=value ...}. The task may hold blanks and
 * dashes; the flags column may be absent (irq-info off). Fields are read by key, in any order; unknown keys are
 * ignored, a missing required field is an error. Blank lines, {@code #} comments and {@code CPU:N [LOST M EVENTS]}
 * lines are skipped (the lost count is kept); events other than the six kmem ones are counted and skipped.
 * Lines in the kernel's own form (printable ASCII, fields in the kernel's order) are read by the fast path,
 * {@code KmemLineParser}, in one scan; it hands every other line to the general parser here, which reads it as if
 * there were no fast path (so both read every line the same; {@link #reference} reads with the general one only).
 *
 * <p>Errors: a malformed line (truncated, binary, not UTF-8, a number out of range, a line over {@link #MAX_LINE}
 * bytes) goes to the {@link ErrorSink} with its line number and a message naming the field at fault, is counted,
 * and reading goes on with the next line. A line longer than {@link LineReader#MAX_LINE} (1 MiB: no trace line,
 * e.g. {@code /dev/zero}) ends the reading with an {@link InputLineException}
 * {@code SOURCE:LINE: line longer than 1048576 bytes}, so an input without newlines never hangs the reader. Not
 * thread-safe.
 */
public final class KmemTraceReader implements AutoCloseable {
    /** Receives each malformed line. */
    @FunctionalInterface
    public interface ErrorSink {
        void error(long lineNo, String message);
    }

    /**
     * Buffered bytes a line must have before it for the fast path to read it ahead: the few lines closer to the
     * buffer's end (a line a chunk's end may cut) go the old way, so that the read-ahead's compiled code never meets
     * the buffer's end (a branch first taken late costs C2 a deoptimisation and a compile again).
     */
    static final int AHEAD_MARGIN = 1024;

    /** Longest line accepted; longer ones (binary data) are an error. */
    public static final int MAX_LINE = 4096;
    /** Largest bytes_req/bytes_alloc accepted (1 TiB: anything larger is no kernel allocation). */
    public static final long MAX_BYTES = 1L << 40;

    private static final byte[][] EVENT_NAMES = new byte[KmemEvent.NR_TYPES][];

    static {
        for (int t = 0; t < KmemEvent.NR_TYPES; t++) {
            EVENT_NAMES[t] = KmemEvent.typeName(t).getBytes(StandardCharsets.US_ASCII);
        }
    }

    private final InputStream in;
    private final ErrorSink errors;
    /** Bytes read into {@link #buf} at most; the slack after them lets 8-byte loads run past a line's end. */
    private static final int BUF_CAP = 1 << 16;
    private static final int SLACK = ReadAheadInputStream.SLACK;
    /**
     * The bytes read: the reader's own array, or the decoder's chunk it parses in place ({@link #chunks}), which
     * {@link #fill} replaces with the next one.
     */
    private byte[] buf = new byte[BUF_CAP + SLACK];
    /** The input when it is decoded ahead: its chunks are parsed in place (no copy); else null. */
    private final ReadAheadInputStream chunks;
    private final boolean fastPath;
    /** {@link #AHEAD_MARGIN}, or less (tests). */
    private final int aheadMargin;
    private int bufPos;
    private int bufEnd;
    private boolean eof;
    /** The fast path of canonical lines; also the interners and the gfp parser both paths share. */
    private final KmemLineParser lines = new KmemLineParser(buf);
    private final Interner names = lines.names;
    private final Interner sites = lines.sites;

    private long lineNo;
    private long events;
    private long malformed;
    private long otherEvents;
    private long lostEvents;
    private long generalLines;
    private long readAhead;
    private final long[] perType = new long[KmemEvent.NR_TYPES];
    private String err;
    private final String source;

    public KmemTraceReader(final InputStream in, final ErrorSink errors) {
        this(in, "input", errors);
    }

    /** A reader whose fatal errors name {@code source} (the file as the user wrote it). */
    public KmemTraceReader(final InputStream in, final String source, final ErrorSink errors) {
        this(in, source, errors, true);
    }

    /**
     * The reference reader: every line through the general parser only, as before the fast path existed (slower;
     * the replay's single-threaded reference path uses it, and tests require both to read the same).
     */
    public static KmemTraceReader reference(final InputStream in, final String source, final ErrorSink errors) {
        return new KmemTraceReader(in, source, errors, false);
    }

    /**
     * {@code fastPath} false parses every line with the general parser only (the reference the fast path of
     * canonical lines is tested against: both must read the same events and report the same errors).
     */
    KmemTraceReader(final InputStream in, final String source, final ErrorSink errors, final boolean fastPath) {
        this(in, source, errors, fastPath, AHEAD_MARGIN);
    }

    /** As above, reading lines ahead from {@code aheadMargin} buffered bytes on (tests: 0, up to the buffer's end). */
    KmemTraceReader(final InputStream in, final String source, final ErrorSink errors, final boolean fastPath,
        final int aheadMargin) {
        this.aheadMargin = aheadMargin;
        this.in = in;
        this.chunks = in instanceof ReadAheadInputStream ra ? ra : null;
        this.source = source;
        this.errors = errors;
        this.fastPath = fastPath;
    }

    /** Reads the next kmem event into {@code ev}; false at the end of the input. */
    public boolean next(final KmemEvent ev) throws IOException {
        return next(ev, true);
    }

    /**
     * Fills {@code b} with the next kmem events up to its capacity, each read into {@code ev} and copied: as many
     * calls of {@link #next} and {@link KmemEventBatch#add} would, with the lines read ahead taken by {@link #ahead}
     * (no call of {@code next} per event); false at the end of the input (the batch then holds the events before it,
     * perhaps none).
     */
    public boolean read(final KmemEventBatch b, final KmemEvent ev) throws IOException {
        while (!b.isFull()) {
            final int r = ahead(b, ev);
            if (r > 0) {
                continue;
            }
            // the line goes the old way (not tried ahead again when it was: r < 0)
            if (!next(ev, r == 0)) {
                return false;
            }
            b.add(ev);
        }
        return true;
    }

    /**
     * {@link #read}'s common case in a method of its own, called per event: the JIT compiles it from its calls
     * (early), where a loop in {@code read}, called once per batch, ran interpreted for the first second of a
     * replay (its loop's back-edges come late to C1 while C1's queue is long) before C2 inlines this into it. Reads
     * the next line ahead into {@code ev} and adds it to {@code b}: 1; 0: not tried (too near the buffered bytes' end,
     * or no fast path); -1: tried, the line goes the old way.
     */
    private int ahead(final KmemEventBatch b, final KmemEvent ev) {
        if (!fastPath || bufEnd - bufPos < aheadMargin) {
            return 0;
        }
        ev.reset();
        final int nl = lines.parseAhead(ev, bufPos, bufEnd);
        if (nl < 0) {
            return -1;
        }
        tookAhead(ev, nl);
        b.add(ev);
        return 1;
    }

    /** Counts the line read ahead into {@code ev}, whose newline is at {@code nl}, and moves past it. */
    private void tookAhead(final KmemEvent ev, final int nl) {
        readAhead++;
        bufPos = nl + 1;
        ev.lineNo = ++lineNo;
        events++;
        perType[ev.type]++;
    }

    /** {@link #next}; {@code ahead} false: the first line is not tried ahead (it was, and went the old way). */
    private boolean next(final KmemEvent ev, final boolean ahead) throws IOException {
        boolean tryAhead = ahead;
        while (true) {
            if (fastPath && bufEnd - bufPos < aheadMargin && !eof) {
                fillAhead();
            }
            if (tryAhead && fastPath && bufEnd - bufPos >= aheadMargin) {
                // most lines: read before their end is known, so their bytes are scanned once
                ev.reset();
                final int nl = lines.parseAhead(ev, bufPos, bufEnd);
                if (nl >= 0) {
                    tookAhead(ev, nl);
                    return true;
                }
            }
            tryAhead = true;
            final int ls = readLine();
            if (ls < 0) {
                return false;
            }
            final int le = lineEnd;
            if (lineTooLong) {
                fail("line longer than " + MAX_LINE + " bytes (binary data?)");
                continue;
            }
            ev.reset();
            ev.lineNo = lineNo;
            if (fastPath && linePlain) {
                final int f = lines.parse(ev, ls, le);
                if (f == KmemLineParser.EVENT) {
                    events++;
                    perType[ev.type]++;
                    return true;
                }
                if (f == KmemLineParser.OTHER) {
                    otherEvents++;
                    continue;
                }
                // not canonical: the general parser reads (and reports) the line from scratch
                ev.reset();
                ev.lineNo = lineNo;
            }
            if (fastPath) {
                generalLines++;
            }
            int r;
            try {
                r = parse(ev, ls, le);
            } catch (final IndexOutOfBoundsException | NumberFormatException e) {
                // a shape no check foresaw: still this line's error, never the reader's end
                err = "unparsable line";
                r = -1;
            }
            if (r > 0) {
                events++;
                perType[ev.type]++;
                return true;
            }
            if (r < 0) {
                fail(err);
            }
        }
    }

    private void fail(final String message) {
        malformed++;
        if (errors != null) {
            errors.error(lineNo, message);
        }
    }

    public long lineNo() {
        return lineNo;
    }

    /** Lines the general parser read though the fast path was on (tests: canonical lines never are). */
    long generalLines() {
        return generalLines;
    }

    /** Lines the fast path read before their end was known ({@link KmemLineParser#parseAhead}; tests). */
    long linesReadAhead() {
        return readAhead;
    }

    /** Events read so far. */
    public long events() {
        return events;
    }

    public long events(final int type) {
        return perType[type];
    }

    /** Malformed lines so far. */
    public long malformed() {
        return malformed;
    }

    /** Well-formed events other than the six kmem ones (skipped). */
    public long otherEvents() {
        return otherEvents;
    }

    /** Events the kernel reported lost ({@code CPU:N [LOST M EVENTS]}). */
    public long lostEvents() {
        return lostEvents;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    // ---- line reading ------------------------------------------------------------------------------------------

    private int lineEnd;
    private boolean lineTooLong;
    /** The line holds a byte other than printable ASCII, blank and tab (or a CR): check it byte by byte. */
    private boolean lineDirty;
    /** The line is printable ASCII only (no tab, no CR): the fast path may read it. */
    private boolean linePlain;

    /**
     * The end of the line starting at {@code from} within {@code [from, bufEnd)}: the index of its newline, or -1
     * when none is buffered yet. Sets {@link #lineDirty} and {@link #linePlain}. Printable ASCII goes 8 bytes at a
     * time; in a word holding any other byte (the newline, a tab, a control or non-ASCII byte) the scan jumps to the
     * first such byte.
     */
    private int findNewline(final int from) {
        boolean dirty = false;
        boolean tab = false;
        int i = from;
        final int end = bufEnd;
        // the last word may reach into the buffer's slack: a byte there is never taken for one of the line's
        while (i < end) {
            final long m = AsciiWords.special((long) KmemLineParser.LONGS.get(buf, i));
            if (m == 0) {
                i += 8;
                continue;
            }
            i += Long.numberOfTrailingZeros(m) >>> 3;
            if (i >= end) {
                break;
            }
            final byte b = buf[i];
            if (b == '\n') {
                lineDirty = dirty;
                linePlain = !tab && !dirty;
                return i;
            }
            dirty |= b != '\t';
            tab |= b == '\t';
            i++;
        }
        lineDirty = true;
        linePlain = false;
        return -1;
    }

    /** Finds the next line in {@code buf}; returns its start (end in {@link #lineEnd}), or -1 at EOF. */
    private int readLine() throws IOException {
        lineTooLong = false;
        while (true) {
            final int i = findNewline(bufPos);
            if (i >= 0) {
                final int start = bufPos;
                bufPos = i + 1;
                lineNo++;
                if (i - start > MAX_LINE) {
                    lineTooLong = true;
                }
                lineEnd = i > start && buf[i - 1] == '\r' ? i - 1 : i;
                return start;
            }
            if (eof) {
                if (bufPos < bufEnd) {
                    final int start = bufPos;
                    lineDirty = true;
                    linePlain = false;
                    bufPos = bufEnd;
                    lineNo++;
                    lineEnd = bufEnd;
                    lineTooLong = bufEnd - start > MAX_LINE;
                    return start;
                }
                return -1;
            }
            if (bufEnd - bufPos > MAX_LINE) {
                // an overlong line: drop what we have, remember it, and resync at the next newline
                skipToNewline();
                lineNo++;
                lineTooLong = true;
                lineDirty = true;
                linePlain = false;
                lineEnd = bufPos;
                return bufPos;
            }
            fill();
        }
    }

    private void skipToNewline() throws IOException {
        long skipped = 0;
        while (true) {
            for (int i = bufPos; i < bufEnd; i++) {
                if (buf[i] == '\n') {
                    bufPos = i + 1;
                    return;
                }
            }
            skipped += bufEnd - bufPos;
            if (skipped > LineReader.MAX_LINE) {
                throw new InputLineException(source, lineNo + 1, "line longer than " + LineReader.MAX_LINE
                    + " bytes", false);
            }
            bufPos = bufEnd;
            if (eof) {
                return;
            }
            fill();
        }
    }

    /**
     * {@link #fill} before the bytes buffered run out, so that the lines near a chunk's end are read ahead too (the
     * general path then reads only the first lines of each kind and the last of the input). Nothing changes but
     * when the next bytes arrive: before the input's last chunk it does nothing (its end, or the source's failure
     * after it, come when the reader runs out of bytes, as before), and a failure of the reader's own input
     * ({@link #pending}) is thrown by the next {@link #fill}, after the lines buffered before it.
     */
    private void fillAhead() throws IOException {
        if (chunks != null) {
            if (!chunks.lastChunk()) {
                fill();
            }
            return;
        }
        if (pending == null) {
            try {
                fill();
            } catch (final IOException | RuntimeException e) {
                pending = e;
            }
        }
    }

    /** The failure of the reader's own input that {@link #fillAhead} met: thrown by the next {@link #fill}. */
    private Exception pending;

    private void fill() throws IOException {
        if (pending != null) {
            if (pending instanceof IOException io) {
                throw io;
            }
            throw (RuntimeException) pending;
        }
        if (chunks != null) {
            // the unread rest (a line cut by the chunk's end, at most MAX_LINE bytes) goes before the next
            final byte[] next = chunks.nextChunk(buf, bufPos, bufEnd);
            if (next == null) {
                eof = true;
            } else {
                buf = next;
                lines.buffer(next);
                bufPos = chunks.chunkStart();
                bufEnd = chunks.chunkEnd();
            }
            return;
        }
        if (bufPos > 0) {
            System.arraycopy(buf, bufPos, buf, 0, bufEnd - bufPos);
            bufEnd -= bufPos;
            bufPos = 0;
        }
        final int n = in.read(buf, bufEnd, BUF_CAP - bufEnd);
        if (n < 0) {
            eof = true;
        } else {
            bufEnd += n;
            lines.forgetSeconds();
        }
    }

    // ---- parsing -----------------------------------------------------------------------------------------------

    private static final int F_PTR = 1;
    private static final int F_REQ = 2;
    private static final int F_ALLOC = 4;
    private static final int F_GFP = 8;
    private static final int F_NAME = 16;
    private static final int F_PFN = 32;
    private static final int F_ORDER = 64;

    private static final int[] REQUIRED = {
        F_PTR | F_REQ | F_ALLOC | F_GFP,
        F_PTR,
        F_PTR | F_NAME | F_REQ | F_ALLOC | F_GFP,
        F_PTR | F_NAME,
        F_PFN | F_ORDER | F_GFP,
        F_PFN | F_ORDER,
    };

    /** 1: an event; 0: a line to skip; -1: malformed ({@link #err} says why). */
    private int parse(final KmemEvent ev, final int ls, final int le) {
        int p = skipBlanks(ls, le);
        if (p == le || buf[p] == '#') {
            return 0;
        }
        if (startsWith(p, le, "CPU:")) {
            final int lost = indexOf(p, le, "[LOST ");
            if (lost >= 0) {
                final long n = parseDec(lost + 6, le);
                if (n >= 0) {
                    lostEvents += n;
                }
                return 0;
            }
        }
        boolean ascii = true;
        for (int i = lineDirty ? p : le; i < le; i++) {
            final int b = buf[i] & 0xff;
            if (b < 0x20 && b != '\t' || b == 0x7f) {
                return error("not a trace line (binary data)");
            }
            ascii &= b < 0x80;
        }
        if (!ascii) {
            final int bad = firstNonUtf8(p, le);
            if (bad >= 0) {
                return error(String.format("not UTF-8 text (byte 0x%02x at column %d)", buf[bad] & 0xff,
                    bad - ls + 1));
            }
        }
        // the CPU column "[NNN]": the first '[' followed by digits and ']'
        int cpuOpen = -1;
        for (int i = p; i < le; i++) {
            if (buf[i] == '[' && i + 1 < le && isDigit(buf[i + 1])) {
                int j = i + 1;
                while (j < le && isDigit(buf[j])) {
                    j++;
                }
                if (j < le && buf[j] == ']') {
                    cpuOpen = i;
                    break;
                }
            }
        }
        if (cpuOpen < 0) {
            return error("not a trace line (no [CPU] column)");
        }
        final long cpu = parseDec(cpuOpen + 1, le);
        if (cpu < 0 || cpu > 8191) {
            return error("CPU [" + text(cpuOpen + 1, indexOf(cpuOpen, le, "]")) + "] out of range");
        }
        ev.cpu = (int) cpu;
        // pid: digits after the last '-' before the CPU column
        int dash = cpuOpen - 1;
        while (dash > p && buf[dash] == ' ') {
            dash--;
        }
        final int pidEnd = dash + 1;
        while (dash > p && buf[dash] != '-') {
            dash--;
        }
        if (dash >= p && dash < cpuOpen && buf[dash] == '-') {
            final long pid = parseDecRange(dash + 1, pidEnd);
            ev.pid = pid >= 0 && pid <= Integer.MAX_VALUE ? (int) pid : 0;
        }
        // after ']': [flags] timestamp: event: fields
        p = cpuOpen;
        while (buf[p] != ']') {
            p++;
        }
        p = skipBlanks(p + 1, le);
        int tokEnd = tokenEnd(p, le);
        if (tokEnd <= p || buf[tokEnd - 1] != ':' || !isDigit(buf[p])) {
            // a flags column comes first
            p = skipBlanks(tokEnd, le);
            tokEnd = tokenEnd(p, le);
        }
        if (tokEnd <= p || buf[tokEnd - 1] != ':' || !isDigit(buf[p])) {
            return error("missing time stamp after the [CPU] column");
        }
        final long ts = parseTimestamp(p, tokEnd - 1);
        if (ts < 0) {
            return error("bad time stamp '" + text(p, tokEnd - 1) + "'");
        }
        ev.timestampMicros = ts;
        p = skipBlanks(tokEnd, le);
        tokEnd = tokenEnd(p, le);
        if (tokEnd <= p + 1 || buf[tokEnd - 1] != ':') {
            return error("missing event name after the time stamp");
        }
        final int type = eventType(p, tokEnd - 1);
        if (type < 0) {
            otherEvents++;
            return 0;
        }
        ev.type = type;
        return parseFields(ev, tokEnd, le);
    }

    private int parseFields(final KmemEvent ev, final int from, final int le) {
        int seen = 0;
        int p = from;
        final String evName = KmemEvent.typeName(ev.type);
        while (true) {
            p = skipBlanks(p, le);
            if (p >= le) {
                break;
            }
            final int end = tokenEnd(p, le);
            int eq = p;
            while (eq < end && buf[eq] != '=') {
                eq++;
            }
            if (eq == end || eq == p) {
                return error(evName + ": '" + text(p, end) + "' is no key=value field");
            }
            final int v = eq + 1;
            final int klen = eq - p;
            if (key(p, klen, "ptr")) {
                final long x = AsciiWords.parseHex(buf, v, end);
                if (x == BAD) {
                    return error(evName + ": bad ptr=" + text(v, end) + " (expected: up to 16 hex digits)");
                }
                ev.ptr = x;
                seen |= F_PTR;
            } else if (key(p, klen, "call_site")) {
                if (end > v) {
                    ev.callSite = sites.string(buf, v, end - v);
                    ev.callSiteId = sites.lastId;
                }
            } else if (key(p, klen, "bytes_req")) {
                ev.bytesReq = parseDecRange(v, end);
                if (ev.bytesReq < 0 || ev.bytesReq > MAX_BYTES) {
                    return error(evName + ": bytes_req=" + text(v, end) + " out of range (expected: 0 to 2^40)");
                }
                seen |= F_REQ;
            } else if (key(p, klen, "bytes_alloc")) {
                ev.bytesAlloc = parseDecRange(v, end);
                if (ev.bytesAlloc < 0 || ev.bytesAlloc > MAX_BYTES) {
                    return error(evName + ": bytes_alloc=" + text(v, end) + " out of range (expected: 0 to 2^40)");
                }
                seen |= F_ALLOC;
            } else if (key(p, klen, "gfp_flags")) {
                ev.gfp = lines.gfp(v, end);
                seen |= F_GFP;
            } else if (key(p, klen, "name")) {
                if (end == v) {
                    return error(evName + ": empty name=");
                }
                ev.cacheName = names.string(buf, v, end - v);
                ev.cacheNameId = names.lastId;
                seen |= F_NAME;
            } else if (key(p, klen, "pfn")) {
                final long x = AsciiWords.parseHex(buf, v, end);
                if (x == BAD) {
                    return error(evName + ": bad pfn=" + text(v, end) + " (expected: a hex number, 0x...)");
                }
                ev.pfn = x;
                seen |= F_PFN;
            } else if (key(p, klen, "order")) {
                final long x = parseDecRange(v, end);
                if (x < 0 || x > 10) {
                    return error(evName + ": order=" + text(v, end) + " out of range (expected: 0 to 10)");
                }
                ev.order = (int) x;
                seen |= F_ORDER;
            } else if (key(p, klen, "node")) {
                final long x = parseSigned(v, end);
                ev.node = x >= -1 && x < 1024 ? (int) x : -1;
            } else if (key(p, klen, "migratetype")) {
                final long x = parseSigned(v, end);
                ev.migratetype = x >= -1 && x < 16 ? (int) x : -1;
            }
            p = end;
        }
        final int missing = REQUIRED[ev.type] & ~seen;
        if (missing != 0) {
            return error(evName + ": missing field " + fieldName(Integer.lowestOneBit(missing))
                + " (line truncated?)");
        }
        return 1;
    }

    private static String fieldName(final int bit) {
        return switch (bit) {
            case F_PTR -> "ptr=";
            case F_REQ -> "bytes_req=";
            case F_ALLOC -> "bytes_alloc=";
            case F_GFP -> "gfp_flags=";
            case F_NAME -> "name=";
            case F_PFN -> "pfn=";
            default -> "order=";
        };
    }

    private int eventType(final int s, final int e) {
        final int t = KmemLineParser.typeOfLength(e - s);
        if (t < 0) {
            return -1;
        }
        final byte[] n = EVENT_NAMES[t];
        return java.util.Arrays.equals(buf, s, e, n, 0, n.length) ? t : -1;
    }

    /** The index of the first byte in {@code [p, le)} that is no part of a well-formed UTF-8 sequence; -1: none. */
    private int firstNonUtf8(final int p, final int le) {
        int i = p;
        while (i < le) {
            final int b = buf[i] & 0xff;
            final int n = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2
                : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
            if (n < 0) {
                return i;
            }
            for (int k = 1; k <= n; k++) {
                if (i + k >= le || (buf[i + k] & 0xc0) != 0x80) {
                    return i;
                }
            }
            if (n == 2 && (b == 0xe0 && (buf[i + 1] & 0xff) < 0xa0 || b == 0xed && (buf[i + 1] & 0xff) > 0x9f)
                || n == 3 && (b == 0xf0 && (buf[i + 1] & 0xff) < 0x90 || b == 0xf4 && (buf[i + 1] & 0xff) > 0x8f)) {
                return i;
            }
            i += n + 1;
        }
        return -1;
    }

    private int error(final String message) {
        err = message;
        return -1;
    }

    // ---- small byte helpers ------------------------------------------------------------------------------------

    private static final long BAD = Long.MIN_VALUE;

    private static boolean isDigit(final byte b) {
        return b >= '0' && b <= '9';
    }

    private int skipBlanks(final int from, final int le) {
        int p = from;
        while (p < le && (buf[p] == ' ' || buf[p] == '\t')) {
            p++;
        }
        return p;
    }

    private int tokenEnd(final int from, final int le) {
        int p = from;
        while (p < le && buf[p] != ' ' && buf[p] != '\t') {
            p++;
        }
        return p;
    }

    private boolean startsWith(final int p, final int le, final String s) {
        if (le - p < s.length()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (buf[p + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private int indexOf(final int from, final int le, final String s) {
        for (int i = from; i + s.length() <= le; i++) {
            if (startsWith(i, le, s)) {
                return i;
            }
        }
        return -1;
    }

    private boolean key(final int p, final int len, final String k) {
        return len == k.length() && startsWith(p, p + len, k);
    }

    /** Decimal digits from {@code from} up to the first non-digit; -1 when none or too large. */
    private long parseDec(final int from, final int le) {
        int e = from;
        while (e < le && isDigit(buf[e])) {
            e++;
        }
        return parseDecRange(from, e);
    }

    /** The whole of {@code [s, e)} as an unsigned decimal; -1 when malformed or over 2^62 (the fast path's rule). */
    private long parseDecRange(final int s, final int e) {
        return lines.parseDec(s, e);
    }

    private long parseSigned(final int s, final int e) {
        if (e > s && buf[s] == '-') {
            final long v = parseDecRange(s + 1, e);
            return v < 0 ? BAD : -v;
        }
        final long v = parseDecRange(s, e);
        return v < 0 ? BAD : v;
    }

    /** seconds.micro -> micros; -1 when malformed. */
    private long parseTimestamp(final int s, final int e) {
        int dot = s;
        while (dot < e && buf[dot] != '.') {
            dot++;
        }
        final long secs = parseDecRange(s, dot);
        if (secs < 0 || secs > 1L << 40) {
            return -1;
        }
        long frac = 0;
        int digits = 0;
        for (int i = dot + 1; i < e; i++) {
            if (!isDigit(buf[i])) {
                return -1;
            }
            if (digits < 6) {
                frac = frac * 10 + (buf[i] - '0');
                digits++;
            }
        }
        while (digits < 6) {
            frac *= 10;
            digits++;
        }
        return secs * 1_000_000 + frac;
    }

    private String text(final int s, final int e) {
        final int end = Math.max(s, Math.min(e < 0 ? s : e, s + 80));
        return new String(buf, s, end - s, StandardCharsets.ISO_8859_1);
    }
}
