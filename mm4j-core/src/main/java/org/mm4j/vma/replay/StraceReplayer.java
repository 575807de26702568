package org.mm4j.vma.replay;

import org.mm4j.vma.BusError;
import org.mm4j.vma.Errno;
import org.mm4j.vma.MmStruct;
import org.mm4j.vma.SegmentationFault;
import org.mm4j.vma.VmFile;
import org.mm4j.vma.VmFlags;
import org.mm4j.vma.VmaStore;

import org.mm4j.io.InputLineException;
import org.mm4j.io.LineReader;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * Replays a memory-syscall log through {@link MmStruct}: a case file in the samples/vma layout (start from
 * {@code #BEFORE}, apply every call and {@code #touch}, compare with {@code #AFTER}) or a plain
 * {@code strace -f -y -e trace=%memory} log (pid prefixes, {@code <unfinished ...>}/{@code <... resumed>} pairs,
 * signals and exits; {@code openat}/{@code close} lines, when present, give one {@code struct file} per open).
 *
 * <p>Address modes: {@link AddressMode#TRACE} places each non-fixed mapping where the log says the kernel put it
 * (when that range is free in the model); {@link AddressMode#MODEL} lets mm4j's own {@code get_unmapped_area}
 * choose and counts how many placements equal the kernel's.
 *
 * <p>Bad lines do not stop a replay: each becomes an entry of {@link Result#errors} naming the file and line
 * (a line that is not UTF-8 too). The input is read as a stream, one line at a time ({@link LineReader}): memory
 * stays bounded whatever its size (the case layout's header and maps sections are kept, at most
 * {@link TraceCase#MAX_KEPT_LINES} lines and 64 MiB; the #OPS lines and a raw log's lines are not). A line longer than
 * {@link LineReader#MAX_LINE} ends the replay with an {@link InputLineException} {@code FILE:LINE: line longer than
 * 1048576 bytes}. Files named by the log ({@code openat} results, {@code FD<PATH>} arguments) are model files
 * (zeros), never read from this machine.
 */
public final class StraceReplayer {
    public enum AddressMode { TRACE, MODEL }

    private static final boolean DEBUG = Boolean.getBoolean("mm4j.replay.debug");

    /** What one replay produced. */
    public static final class Result {
        public final String source;
        /** The case layout with mm4j's own results and #AFTER (what --out writes). */
        public final List<String> out = new ArrayList<>();
        public String maps = "";
        public long calls;
        public long callsMatched;
        public long placements;
        public long placementsMatched;
        /** The first {@link #MAX_KEPT} disagreements; {@link #mismatchCount} counts them all. */
        public final List<String> mismatches = new ArrayList<>();
        /** The first {@link #MAX_KEPT} bad lines; {@link #errorCount} counts them all. */
        public final List<String> errors = new ArrayList<>();
        public long mismatchCount;
        public long errorCount;
        /** The differences to the log's #AFTER (empty: a match); null when the log has no #AFTER. */
        public List<String> afterDiff;
        /** The #BEFORE maps of a case ("" for a raw log). */
        public String beforeMaps = "";
        /** Where the case-layout lines go ({@link #out} unless the caller streams them elsewhere). */
        final Consumer<String> outSink;

        Result(final String source) {
            this(source, null);
        }

        Result(final String source, final Consumer<String> outSink) {
            this.source = source;
            this.outSink = outSink == null ? out::add : outSink;
        }

        void addError(final String e) {
            if (errorCount++ < MAX_KEPT) {
                errors.add(e);
            }
        }

        void addMismatch(final String m) {
            if (mismatchCount++ < MAX_KEPT) {
                mismatches.add(m);
            }
        }

        void emit(final String line) {
            outSink.accept(line);
        }

        /** True when the maps match #AFTER and every call returned the kernel's result. */
        public boolean matches() {
            return afterDiff != null && afterDiff.isEmpty() && callsMatched == calls;
        }

        public String summary() {
            return String.format("%s: %s; results %d/%d equal the kernel's; placements %d/%d; %d bad line(s)",
                source, afterDiff == null ? "no #AFTER to compare" : afterDiff.isEmpty() ? "maps MATCH #AFTER"
                    : "maps MISMATCH #AFTER (" + afterDiff.size() + " line(s) differ)",
                callsMatched, calls, placementsMatched, placements, errorCount);
        }
    }

    /** An output sink that drops the case-layout lines (a replay of any size then keeps none). */
    public static final Consumer<String> DISCARD = l -> { };

    /** Errors and disagreements kept in a {@link Result} (all are counted). */
    public static final int MAX_KEPT = 1000;

    private final IntSupplier maxMapCount;
    private final AddressMode mode;
    private final VmaStore.Kind store;

    /** A replayer whose address spaces keep their VMAs in {@code store} ({@code mm4j.vma_store=}). */
    public StraceReplayer(final AddressMode mode, final IntSupplier maxMapCount, final VmaStore.Kind store) {
        this.mode = mode;
        this.maxMapCount = maxMapCount;
        this.store = store;
    }

    public StraceReplayer(final AddressMode mode, final IntSupplier maxMapCount) {
        this(mode, maxMapCount, VmaStore.Kind.defaultKind());
    }

    public StraceReplayer(final AddressMode mode) {
        this(mode, () -> MmStruct.DEFAULT_MAX_MAP_COUNT);
    }

    /** Replays {@code file}, streaming it line by line. */
    public Result replay(final Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return replay(file.getFileName().toString(), in, null);
        }
    }

    /** Replays a log held in memory; its case-layout output is kept in {@link Result#out}. */
    public Result replay(final String source, final String text) {
        try {
            return replay(source, new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), null);
        } catch (final IOException e) {
            final Result r = new Result(source);
            r.addError(e.getMessage());
            return r;
        }
    }

    /**
     * Replays {@code in} (a case file, recognised by its first line starting with {@code #}, or a plain strace
     * log) one line at a time. The case-layout output lines go to {@code outSink} (null: kept in
     * {@link Result#out}; pass {@code l -> { }} for a replay of any size in bounded memory). Throws
     * {@link InputLineException} for a line longer than {@link LineReader#MAX_LINE}, and the stream's own
     * IOExceptions.
     */
    public Result replay(final String source, final InputStream in, final Consumer<String> outSink)
        throws IOException {
        final Result res = new Result(source, outSink);
        final LineReader lines = new LineReader(in, source);
        final String first = nextLine(lines, res);
        if (first != null && first.startsWith("#")) {
            return replayCase(res, lines, first);
        }
        return replayRaw(res, lines, first);
    }

    /** The next line; a line that is no UTF-8 is an error of that line, and reading goes on. */
    private static String nextLine(final LineReader lines, final Result res) throws IOException {
        while (true) {
            try {
                return lines.readLine();
            } catch (final InputLineException e) {
                if (!e.recoverable()) {
                    throw e;
                }
                res.addError(e.getMessage());
            }
        }
    }

    // ------------------------------------------------------------------------------------------- case layout

    private Result replayCase(final Result res, final LineReader lines, final String first) throws IOException {
        final TraceCase tc = TraceCase.begin(res.source);
        final MmStruct mm = new MmStruct(maxMapCount, store);
        final StraceSyscall sys = new StraceSyscall(mm.inodeNumbers());
        boolean started = false;
        boolean brkKnown = false;
        try {
            for (String line = first; line != null; line = nextLine(lines, res)) {
                final long no = lines.lineNo();
                if (tc.feed(no, line)) {
                    brkKnown = applyOp(tc.source, no, line, mm, sys, res, brkKnown);
                } else if (!started && tc.section() >= 2) {
                    started = true;
                    brkKnown = start(tc, mm, sys, res);
                }
            }
            tc.end();
        } catch (final StraceParseException e) {
            final Result r = new Result(res.source, l -> { });
            r.addError(e.getMessage());
            return r;
        }
        finish(mm, res, tc.hasAfter ? String.join("\n", tc.after.stream().map(TraceCase.Line::text).toList())
            : null);
        return res;
    }

    /** At #OPS: builds the start state from the headers and #BEFORE and writes them out. */
    private boolean start(final TraceCase tc, final MmStruct mm, final StraceSyscall sys, final Result res) {
        final boolean brkKnown = setup(tc, mm, sys, res);
        for (final TraceCase.Line h : tc.headers) {
            res.emit(h.text());
        }
        res.emit(tc.beforeUnknown ? "#BEFORE unknown" : "#BEFORE");
        final StringBuilder before = new StringBuilder();
        for (final TraceCase.Line b : tc.before) {
            res.emit(b.text());
            before.append(b.text()).append('\n');
        }
        res.beforeMaps = before.toString();
        tc.before.clear();
        res.emit("#OPS");
        return brkKnown;
    }

    private void finish(final MmStruct mm, final Result res, final String expectedAfter) {
        res.maps = mm.maps();
        res.emit("#AFTER");
        for (final String l : res.maps.split("\n")) {
            if (!l.isEmpty()) {
                res.emit(l);
            }
        }
        res.emit("#END");
        if (expectedAfter != null) {
            res.afterDiff = MapsLine.diff(MapsLine.parseAll(expectedAfter), MapsLine.parseAll(res.maps));
        }
    }

    /** Builds the initial mm from the headers and #BEFORE. Returns whether start_brk is known. */
    private boolean setup(final TraceCase tc, final MmStruct mm, final StraceSyscall sys, final Result res) {
        mm.setGateVma(tc.beforeUnknown); // [vsyscall] is shown when #BEFORE lists it
        final String rl = tc.headerOr("rlimit_stack", "8388608");
        if (rl.equals("unlimited")) {
            mm.setTopdown(false);
        } else {
            try {
                mm.setRlimitStack(Long.parseLong(rl));
            } catch (final NumberFormatException e) {
                res.addError(tc.source + ": bad #rlimit_stack '" + rl + "'");
            }
        }
        for (final String f : tc.header("file")) {
            final String[] p = f.split("\\s+");
            try {
                if (p.length != 4) {
                    throw new IllegalArgumentException("expected '#file FD PATH SIZE MODE'");
                }
                final VmFile.Inode ino = VmFile.Inode.of(sys.inodeNumbers(), p[1], Long.parseLong(p[2]));
                sys.putInode(ino);
                sys.openFile(Integer.parseInt(p[0]), VmFile.open(ino, p[3]));
            } catch (final IllegalArgumentException e) {
                res.addError(tc.source + ": bad #file line '" + f + "': " + e.getMessage());
            }
        }
        boolean brkKnown = false;
        long ldsoEnd = -1;
        final Map<String, VmFile> beforeFiles = new HashMap<>();
        for (final TraceCase.Line l : tc.before) {
            final MapsLine m = MapsLine.parse(l.text());
            try {
                if (addBeforeVma(mm, sys, m, beforeFiles)) {
                    brkKnown = true;
                }
            } catch (final IllegalArgumentException e) {
                res.addError(tc.source + ":" + l.no() + ": " + e.getMessage());
            }
            if (m.name().endsWith("/ld-linux-x86-64.so.2")) {
                ldsoEnd = Math.max(ldsoEnd, m.end());
            }
        }
        final String base = tc.headerOr("mmap_base", "");
        if (base.startsWith("0x")) {
            try {
                mm.setMmapBase(Long.parseUnsignedLong(base.substring(2), 16));
            } catch (final IllegalArgumentException e) {
                // found by StraceFuzzTest#straceReplay: a bad header is that line's error, not the replay's end
                res.addError(tc.source + ": bad #mmap_base '" + base + "' (expected: 0x and up to 16 hex digits)");
            }
        } else if (ldsoEnd != -1) {
            mm.setMmapBase(ldsoEnd);
        }
        return brkKnown;
    }

    /** Adds one #BEFORE line as a VMA; returns true when it is the [heap] (start_brk known). */
    private static boolean addBeforeVma(final MmStruct mm, final StraceSyscall sys, final MapsLine m,
                                        final Map<String, VmFile> files) {
        final String perms = m.perms();
        long flags = VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC;
        if (perms.charAt(0) == 'r') {
            flags |= VmFlags.VM_READ;
        }
        if (perms.charAt(1) == 'w') {
            flags |= VmFlags.VM_WRITE;
        }
        if (perms.charAt(2) == 'x') {
            flags |= VmFlags.VM_EXEC;
        }
        final boolean shared = perms.charAt(3) == 's';
        final boolean writable = perms.charAt(1) == 'w';
        if (shared) {
            flags |= VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE;
        } else if (writable) {
            flags |= VmFlags.VM_ACCOUNT;
        }
        final boolean faulted = !shared && writable;
        String name = m.name();
        switch (name) {
            case "[vsyscall]" -> {
                mm.setGateVma(true);
                return false;
            }
            case "[vvar]", "[vvar_vclock]", "[vdso]", "[vectors]", "[sigpage]", "[uprobes]" -> {
                mm.addInitialVma(m.start(), m.end(), flags, 0, null, name, false);
                return false;
            }
            case "[stack]" -> {
                mm.addInitialVma(m.start(), m.end(), flags | VmFlags.VM_GROWSDOWN, m.start() >>> 12, null, null,
                    true);
                mm.setStartStack(m.end() - MmStruct.PAGE_SIZE);
                return false;
            }
            case "[heap]" -> {
                mm.addInitialVma(m.start(), m.end(), flags | VmFlags.VM_ACCOUNT, m.start() >>> 12, null, null,
                    faulted);
                if (mm.startBrk() == 0 || m.start() < mm.startBrk()) {
                    mm.setBrk(m.start(), m.end());
                }
                return true;
            }
            case "" -> {
                mm.addInitialVma(m.start(), m.end(), flags, m.start() >>> 12, null, null, faulted);
                return false;
            }
            default -> {
            }
        }
        if (name.startsWith("[anon:") && name.endsWith("]")) {
            final var v = mm.addInitialVma(m.start(), m.end(), flags, m.start() >>> 12, null, null, faulted);
            mm.setAnonName(v.start(), v.end() - v.start(), name.substring(6, name.length() - 1));
            return false;
        }
        if (name.endsWith(" (deleted)")) {
            name = name.substring(0, name.length() - " (deleted)".length());
        }
        if (!name.startsWith("/") && !name.startsWith("[anon_shmem:")) {
            throw new IllegalArgumentException("unknown mapping name '" + m.name() + "'");
        }
        final boolean shmem = name.equals("/dev/zero") || name.startsWith("[anon_shmem:");
        final String key = m.devMajor() + ":" + m.devMinor() + ":" + m.inode() + ":" + name;
        VmFile f = files.get(key);
        if (f == null) {
            final VmFile.Inode ino = new VmFile.Inode(shmem ? "/dev/zero" : name, VmFile.Inode.SIZE_UNKNOWN,
                m.devMajor(), m.devMinor(),
                m.inode(), shmem, null);
            f = new VmFile(ino, true, true, shmem ? VmFile.Kind.SHMEM : VmFile.kindFor(name));
            files.put(key, f);
            if (!shmem) {
                sys.putInode(ino);
            }
        }
        mm.addInitialVma(m.start(), m.end(), flags, m.offset() >>> 12, f, null, faulted);
        return false;
    }

    /** True for a call whose address the kernel chose (a non-fixed mmap, or an mremap that may move). */
    private static boolean isPlacement(final StraceCall c) {
        try {
            if (c.name().equals("mmap") && c.args().size() == 6) {
                return !c.args().get(3).contains("MAP_FIXED");
            }
            if (c.name().equals("mremap") && c.args().size() >= 4) {
                final String f = c.args().get(3);
                return f.contains("MREMAP_MAYMOVE") && !f.contains("MREMAP_FIXED");
            }
        } catch (final RuntimeException e) {
            return false;
        }
        return false;
    }

    private static long resultValue(final String result) {
        if (result == null) {
            return Long.MIN_VALUE;
        }
        final String r = result.strip();
        if (r.startsWith("-1 ")) {
            final String[] p = r.split("\\s+");
            final int e = Errno.byName(p[1]);
            return e > 0 ? -e : Long.MIN_VALUE;
        }
        final int sp = r.indexOf(' ');
        final String v = sp < 0 ? r : r.substring(0, sp);
        try {
            return StraceSyscall.num(v);
        } catch (final IllegalArgumentException e) {
            return Long.MIN_VALUE;
        }
    }

    /** Applies one op line; returns whether start_brk is now known. */
    private boolean applyOp(final String source, final long no, final String text, final MmStruct mm,
                            final StraceSyscall sys, final Result res, boolean brkKnown) {
        if (text.startsWith("#touch")) {
            res.emit(text);
            final String[] p = text.split("\\s+");
            try {
                if (p.length < 2) {
                    throw new IllegalArgumentException("expected '#touch 0xADDR'");
                }
                final char access = p.length > 2 ? p[2].charAt(0) : 'w';
                mm.touch(StraceSyscall.num(p[1]), access);
            } catch (final SegmentationFault | BusError e) {
                res.addMismatch(source + ":" + no + ": " + text + ": " + e.getMessage());
            } catch (final IllegalArgumentException e) {
                res.addError(source + ":" + no + ": " + e.getMessage());
            }
            return brkKnown;
        }
        if (text.startsWith("#") || text.isBlank()) {
            res.emit(text);
            return brkKnown;
        }
        final StraceCall c;
        try {
            c = StraceCall.parse(text);
        } catch (final IllegalArgumentException e) {
            res.addError(source + ":" + no + ": " + e.getMessage());
            res.emit(text);
            return brkKnown;
        }
        return applyCall(source, no, text, c, mm, sys, res, brkKnown);
    }

    /** Applies one parsed call ({@code text}: its line, written out when it is not run). */
    @SuppressWarnings("ReferenceEquality") // DISCARD is a sentinel sink: identity is the test
    private boolean applyCall(final String source, final long no, final String text, final StraceCall c,
                              final MmStruct mm, final StraceSyscall sys, final Result res, boolean brkKnown) {
        if (!StraceSyscall.isSupported(c.name())) {
            res.emit(text != null ? text : StraceCall.format(c.callText(), c.result()));
            return brkKnown;
        }
        final long logged = resultValue(c.result());
        if (c.name().equals("brk") && !brkKnown) {
            long start = logged;
            if (start == Long.MIN_VALUE || Errno.isError(start)) {
                start = mm.vmas().isEmpty() ? 0x555555559000L : mm.vmas().get(0).end();
            }
            mm.setBrk(start, start);
            brkKnown = true;
        }
        final boolean placement = isPlacement(c);
        if (mode == AddressMode.TRACE && placement && logged != Long.MIN_VALUE && !Errno.isError(logged)) {
            mm.setPlacementOverride(logged);
        }
        long r;
        try {
            r = sys.run(mm, c);
        } catch (final IllegalArgumentException e) {
            mm.setPlacementOverride(-1);
            res.addError(source + ":" + no + ": " + e.getMessage());
            res.emit(text != null ? text : StraceCall.format(c.callText(), c.result()));
            return brkKnown;
        }
        mm.setPlacementOverride(-1);
        if (DEBUG) {
            System.err.println(no + " count=" + mm.mapCount() + " " + c.callText());
        }
        final String ours = StraceSyscall.format(c.name(), r);
        if (res.outSink != DISCARD) {
            res.emit(StraceCall.format(c.callText(), ours));
        }
        if (c.result() != null) {
            res.calls++;
            final boolean same = logged == r;
            if (same) {
                res.callsMatched++;
            } else {
                res.addMismatch(source + ":" + no + ": " + c.callText() + ": kernel = " + c.result()
                    + ", mm4j = " + ours);
            }
            if (placement && !Errno.isError(logged) && logged != Long.MIN_VALUE
                && !(c.name().equals("mremap") && logged == StraceSyscall.num(c.args().get(0)))) {
                res.placements++;
                if (same) {
                    res.placementsMatched++;
                }
            }
        }
        return brkKnown;
    }

    // ------------------------------------------------------------------------------------------- raw strace

    /** Most pids with an {@code <unfinished ...>} call at once (the kernel's pid_max is 4194304). */
    private static final int MAX_PENDING = 1 << 16;

    private Result replayRaw(final Result res, final LineReader lines, final String first) throws IOException {
        final String source = res.source;
        final MmStruct mm = new MmStruct(maxMapCount, store);
        final StraceSyscall sys = new StraceSyscall(mm.inodeNumbers());
        res.emit("#vmaoracle 1");
        res.emit("#note replayed by mm4j from a plain strace log; the starting address space is not known");
        res.emit("#BEFORE unknown");
        res.emit("#OPS");
        final Map<Integer, String> pending = new HashMap<>();
        boolean brkKnown = false;
        for (String raw = first; raw != null; raw = nextLine(lines, res)) {
            final long no = lines.lineNo();
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            int pid = -1;
            int k = 0;
            while (k < line.length() && line.charAt(k) >= '0' && line.charAt(k) <= '9') {
                k++;
            }
            if (k > 0 && k < line.length() && line.charAt(k) == ' ') {
                pid = pid(line.substring(0, k));
                line = line.substring(k + 1).strip();
            } else if (line.startsWith("[pid ")) {
                final int close = line.indexOf(']');
                if (close > 0) {
                    pid = pid(line.substring(5, close).strip());
                    line = line.substring(close + 1).strip();
                }
            }
            if (pid == Integer.MIN_VALUE) {
                res.addError(source + ":" + no + ": bad pid (expected: 1 to 4194304)");
                continue;
            }
            if (line.startsWith("---") || line.startsWith("+++")) {
                continue; // signals and exits do not change the address space
            }
            if (line.endsWith("<unfinished ...>")) {
                if (pending.size() >= MAX_PENDING && !pending.containsKey(pid)) {
                    res.addError(source + ":" + no + ": more than " + MAX_PENDING + " calls '<unfinished ...>' at "
                        + "once");
                    continue;
                }
                pending.put(pid, line.substring(0, line.length() - "<unfinished ...>".length()).stripTrailing());
                continue;
            }
            if (line.startsWith("<...")) {
                final int end = line.indexOf("resumed>");
                final String head = pending.remove(pid);
                if (end < 0 || head == null) {
                    res.addError(source + ":" + no + ": '<... resumed>' without its '<unfinished ...>' line");
                    continue;
                }
                final String tail = line.substring(end + "resumed>".length());
                line = head + (tail.startsWith(")") || head.endsWith("(") ? "" : " ") + tail.strip();
                line = line.replace(" )", ")").replace("( ", "(");
            }
            final StraceCall c;
            try {
                c = StraceCall.parse(line);
            } catch (final IllegalArgumentException e) {
                res.addError(source + ":" + no + ": " + e.getMessage());
                continue;
            }
            if (c.name().equals("openat") || c.name().equals("open")) {
                openFrom(sys, c);
                continue;
            }
            if (c.name().equals("close") && !c.args().isEmpty()) {
                try {
                    final String a = c.args().get(0);
                    final int lt = a.indexOf('<');
                    sys.closeFd((int) StraceSyscall.num(lt < 0 ? a : a.substring(0, lt)));
                } catch (final IllegalArgumentException e) {
                    res.addError(source + ":" + no + ": " + e.getMessage());
                }
                continue;
            }
            if (!StraceSyscall.isSupported(c.name())) {
                continue;
            }
            final StraceCall call = c.result() != null ? c : new StraceCall(c.pid(), c.name(), c.args(), "?");
            brkKnown = applyCall(source, no, null, call, mm, sys, res, brkKnown);
        }
        for (final Map.Entry<Integer, String> e : pending.entrySet()) {
            res.addError(source + ": pid " + e.getKey() + ": '<unfinished ...>' never resumed: " + e.getValue());
        }
        finish(mm, res, null);
        return res;
    }

    /** A pid as strace prints it; Integer.MIN_VALUE when it is none (too large, not digits). */
    private static int pid(final String digits) {
        if (digits.isEmpty() || digits.length() > 7) {
            return Integer.MIN_VALUE;
        }
        for (int i = 0; i < digits.length(); i++) {
            if (digits.charAt(i) < '0' || digits.charAt(i) > '9') {
                return Integer.MIN_VALUE;
            }
        }
        final int v = Integer.parseInt(digits);
        return v >= 1 && v <= 4194304 ? v : Integer.MIN_VALUE;
    }

    private static void openFrom(final StraceSyscall sys, final StraceCall c) {
        final String r = c.result();
        if (r == null || r.startsWith("-1")) {
            return;
        }
        final int lt = r.indexOf('<');
        if (lt < 0 || !r.endsWith(">")) {
            return;
        }
        try {
            final int fd = (int) StraceSyscall.num(r.substring(0, lt));
            final String path = r.substring(lt + 1, r.length() - 1);
            String mode = "O_RDONLY";
            for (final String a : c.args()) {
                if (a.contains("O_RDWR")) {
                    mode = "O_RDWR";
                } else if (a.contains("O_WRONLY")) {
                    mode = "O_WRONLY";
                }
            }
            sys.openFile(fd, VmFile.open(sys.inode(path), mode));
        } catch (final IllegalArgumentException e) {
            // not a file we can model (a pipe, a socket): mmaps of it will fail as in a plain log
        }
    }

    /** Writes {@code res.out} to {@code dir/name}. */
    public static Path write(final Result res, final Path dir) throws IOException {
        outDir(dir);
        final Path p = dir.resolve(Path.of(res.source).getFileName().toString());
        Files.writeString(p, String.join("\n", res.out) + "\n");
        return p;
    }

    /**
     * Makes {@code dir} ready for {@code --out}: an existing directory is used; a missing one is created only when
     * its parent exists (as {@code mkdir}, never {@code mkdir -p}); otherwise a {@link NoSuchFileException} names
     * the missing parent directory.
     */
    public static Path outDir(final Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return dir;
        }
        if (Files.exists(dir)) {
            throw new java.nio.file.NotDirectoryException(dir.toString());
        }
        final Path parent = dir.toAbsolutePath().normalize().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new NoSuchFileException(dir.toString(), null, "directory " + parent + " does not exist");
        }
        Files.createDirectory(dir);
        return dir;
    }
}
