package org.mm4j.vma.replay;

import org.mm4j.vma.Errno;
import org.mm4j.vma.MmStruct;
import org.mm4j.vma.SegmentationFault;
import org.mm4j.vma.VmFile;
import org.mm4j.vma.VmFlags;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * <p>Bad lines do not stop a replay: each becomes an entry of {@link Result#errors} naming the file and line.
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
        public int calls;
        public int callsMatched;
        public int placements;
        public int placementsMatched;
        public final List<String> mismatches = new ArrayList<>();
        public final List<String> errors = new ArrayList<>();
        /** The differences to the log's #AFTER (empty: a match); null when the log has no #AFTER. */
        public List<String> afterDiff;

        Result(final String source) {
            this.source = source;
        }

        /** True when the maps match #AFTER and every call returned the kernel's result. */
        public boolean matches() {
            return afterDiff != null && afterDiff.isEmpty() && callsMatched == calls;
        }

        public String summary() {
            return String.format("%s: %s; results %d/%d equal the kernel's; placements %d/%d; %d bad line(s)",
                source, afterDiff == null ? "no #AFTER to compare" : afterDiff.isEmpty() ? "maps MATCH #AFTER"
                    : "maps MISMATCH #AFTER (" + afterDiff.size() + " line(s) differ)",
                callsMatched, calls, placementsMatched, placements, errors.size());
        }
    }

    private final IntSupplier maxMapCount;
    private final AddressMode mode;

    public StraceReplayer(final AddressMode mode, final IntSupplier maxMapCount) {
        this.mode = mode;
        this.maxMapCount = maxMapCount;
    }

    public StraceReplayer(final AddressMode mode) {
        this(mode, () -> MmStruct.DEFAULT_MAX_MAP_COUNT);
    }

    public Result replay(final Path file) throws IOException {
        return replay(file.getFileName().toString(), Files.readString(file));
    }

    public Result replay(final String source, final String text) {
        if (TraceCase.looksLikeCase(text)) {
            final TraceCase tc;
            try {
                tc = TraceCase.parse(source, text);
            } catch (final StraceParseException e) {
                final Result r = new Result(source);
                r.errors.add(e.getMessage());
                return r;
            }
            return replayCase(tc);
        }
        return replayRaw(source, text);
    }

    // ------------------------------------------------------------------------------------------- case layout

    private Result replayCase(final TraceCase tc) {
        final Result res = new Result(tc.source);
        final MmStruct mm = new MmStruct(maxMapCount);
        final StraceSyscall sys = new StraceSyscall();
        boolean brkKnown = setup(tc, mm, sys, res);
        for (final TraceCase.Line h : tc.headers) {
            res.out.add(h.text());
        }
        res.out.add(tc.beforeUnknown ? "#BEFORE unknown" : "#BEFORE");
        for (final TraceCase.Line b : tc.before) {
            res.out.add(b.text());
        }
        res.out.add("#OPS");
        for (final TraceCase.Line op : tc.ops) {
            brkKnown = applyOp(tc.source, op.no(), op.text(), mm, sys, res, brkKnown);
        }
        finish(mm, res, tc.hasAfter ? String.join("\n", tc.after.stream().map(TraceCase.Line::text).toList())
            : null);
        return res;
    }

    private void finish(final MmStruct mm, final Result res, final String expectedAfter) {
        res.maps = mm.maps();
        res.out.add("#AFTER");
        for (final String l : res.maps.split("\n")) {
            if (!l.isEmpty()) {
                res.out.add(l);
            }
        }
        res.out.add("#END");
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
                res.errors.add(tc.source + ": bad #rlimit_stack '" + rl + "'");
            }
        }
        for (final String f : tc.header("file")) {
            final String[] p = f.split("\\s+");
            try {
                if (p.length != 4) {
                    throw new IllegalArgumentException("expected '#file FD PATH SIZE MODE'");
                }
                final VmFile.Inode ino = VmFile.Inode.of(p[1], Long.parseLong(p[2]));
                sys.putInode(ino);
                sys.openFile(Integer.parseInt(p[0]), VmFile.open(ino, p[3]));
            } catch (final IllegalArgumentException e) {
                res.errors.add(tc.source + ": bad #file line '" + f + "': " + e.getMessage());
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
                res.errors.add(tc.source + ":" + l.no() + ": " + e.getMessage());
            }
            if (m.name().endsWith("/ld-linux-x86-64.so.2")) {
                ldsoEnd = Math.max(ldsoEnd, m.end());
            }
        }
        final String base = tc.headerOr("mmap_base", "");
        if (base.startsWith("0x")) {
            mm.setMmapBase(Long.parseUnsignedLong(base.substring(2), 16));
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
            final VmFile.Inode ino = new VmFile.Inode(shmem ? "/dev/zero" : name, 0, m.devMajor(), m.devMinor(),
                m.inode(), shmem, null, null);
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
    private boolean applyOp(final String source, final int no, final String text, final MmStruct mm,
                            final StraceSyscall sys, final Result res, boolean brkKnown) {
        if (text.startsWith("#touch")) {
            res.out.add(text);
            final String[] p = text.split("\\s+");
            try {
                if (p.length < 2) {
                    throw new IllegalArgumentException("expected '#touch 0xADDR'");
                }
                final char access = p.length > 2 ? p[2].charAt(0) : 'w';
                mm.touch(StraceSyscall.num(p[1]), access);
            } catch (final SegmentationFault e) {
                res.mismatches.add(source + ":" + no + ": " + text + ": " + e.getMessage());
            } catch (final IllegalArgumentException e) {
                res.errors.add(source + ":" + no + ": " + e.getMessage());
            }
            return brkKnown;
        }
        if (text.startsWith("#") || text.isBlank()) {
            res.out.add(text);
            return brkKnown;
        }
        final StraceCall c;
        try {
            c = StraceCall.parse(text);
        } catch (final IllegalArgumentException e) {
            res.errors.add(source + ":" + no + ": " + e.getMessage());
            res.out.add(text);
            return brkKnown;
        }
        if (!StraceSyscall.isSupported(c.name())) {
            res.out.add(text);
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
            res.errors.add(source + ":" + no + ": " + e.getMessage());
            res.out.add(text);
            return brkKnown;
        }
        mm.setPlacementOverride(-1);
        if (DEBUG) {
            System.err.println(no + " count=" + mm.mapCount() + " " + text);
        }
        final String ours = StraceSyscall.format(c.name(), r);
        res.out.add(StraceCall.format(c.callText(), ours));
        if (c.result() != null) {
            res.calls++;
            final boolean same = logged == r;
            if (same) {
                res.callsMatched++;
            } else {
                res.mismatches.add(source + ":" + no + ": " + c.callText() + ": kernel = " + c.result()
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

    private Result replayRaw(final String source, final String text) {
        final Result res = new Result(source);
        final MmStruct mm = new MmStruct(maxMapCount);
        final StraceSyscall sys = new StraceSyscall();
        res.out.add("#vmaoracle 1");
        res.out.add("#note replayed by mm4j from a plain strace log; the starting address space is not known");
        res.out.add("#BEFORE unknown");
        res.out.add("#OPS");
        final Map<Integer, String> pending = new HashMap<>();
        boolean brkKnown = false;
        final String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            final int no = i + 1;
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            int pid = -1;
            int k = 0;
            while (k < line.length() && Character.isDigit(line.charAt(k))) {
                k++;
            }
            if (k > 0 && k < line.length() && line.charAt(k) == ' ') {
                pid = Integer.parseInt(line.substring(0, k));
                line = line.substring(k + 1).strip();
            } else if (line.startsWith("[pid ")) {
                final int close = line.indexOf(']');
                if (close > 0) {
                    pid = Integer.parseInt(line.substring(5, close).strip());
                    line = line.substring(close + 1).strip();
                }
            }
            if (line.startsWith("---") || line.startsWith("+++")) {
                continue; // signals and exits do not change the address space
            }
            if (line.endsWith("<unfinished ...>")) {
                pending.put(pid, line.substring(0, line.length() - "<unfinished ...>".length()).stripTrailing());
                continue;
            }
            if (line.startsWith("<...")) {
                final int end = line.indexOf("resumed>");
                final String head = pending.remove(pid);
                if (end < 0 || head == null) {
                    res.errors.add(source + ":" + no + ": '<... resumed>' without its '<unfinished ...>' line");
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
                res.errors.add(source + ":" + no + ": " + e.getMessage());
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
                    res.errors.add(source + ":" + no + ": " + e.getMessage());
                }
                continue;
            }
            if (!StraceSyscall.isSupported(c.name())) {
                continue;
            }
            brkKnown = applyOp(source, no, StraceCall.format(c.callText(), c.result() == null ? "?" : c.result()),
                mm, sys, res, brkKnown);
        }
        for (final Map.Entry<Integer, String> e : pending.entrySet()) {
            res.errors.add(source + ": pid " + e.getKey() + ": '<unfinished ...>' never resumed: " + e.getValue());
        }
        finish(mm, res, null);
        return res;
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
        Files.createDirectories(dir);
        final Path p = dir.resolve(Path.of(res.source).getFileName().toString());
        Files.writeString(p, String.join("\n", res.out) + "\n");
        return p;
    }
}
