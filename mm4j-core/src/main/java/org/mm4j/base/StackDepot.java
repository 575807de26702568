package org.mm4j.base;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * The model's {@code lib/stackdepot.c} and {@code stack_trace_save()}: a call stack of Java frames is saved once
 * and named by a small {@code int} handle ({@code depot_stack_handle_t}); equal stacks share one handle. A frame
 * prints as the kernel's {@code %pS} would print a symbol, with the Java source position where the kernel has
 * the function size: {@code org.mm4j.page.BuddyAllocator.allocPages+0x4/0x0 [BuddyAllocator.java:539]} (the
 * {@code +0x..} is the bytecode index).
 *
 * <p>Invariants: handles start at 1 (0 = no stack) and are never reused; the tables only grow. Threads: any
 * thread may save and read concurrently (interning through concurrent maps, append-only lists). Saving walks the
 * Java stack (a few microseconds): callers use it only when a debugging facility is on.
 */
public final class StackDepot {
    /**
     * One frame: the Java method and position the kernel's {@code %pS} stands for, or (empty class name) the
     * user-level request that entered the model ({@link #enter}), as the bottom of a syscall's stack.
     */
    public record Frame(String className, String methodName, String fileName, int line, int bci) {
        /** The {@code %pS} form: {@code class.method+0x<bci>/0x0 [File.java:line]}; a request's text as it is. */
        public String symbol() {
            if (className.isEmpty()) {
                return methodName;
            }
            return className + "." + methodName + "+0x" + Integer.toHexString(Math.max(bci, 0)) + "/0x0 ["
                + (fileName == null ? "Unknown Source" : fileName) + ":" + line + "]";
        }
    }

    /** The request the calling thread runs: its text and the class whose frames (and callers) it stands for. */
    private record Request(String text, Class<?> entry) {
    }

    private static final ThreadLocal<Request> REQUEST = new ThreadLocal<>();

    /**
     * The calling thread now runs {@code text} (a shell line, say "mm4j shell line 3: kmalloc 64"), dispatched by
     * {@code entry}: stacks saved until {@link #leave()} end with {@code text} where {@code entry}'s first frame
     * would be, instead of the dispatcher's own frames (the kernel's stacks end at the syscall entry).
     */
    @InternalApi("org.mm4j.cli")
    public static void enter(final String text, final Class<?> entry) {
        REQUEST.set(new Request(text, entry));
    }

    /** Ends what {@link #enter} began. */
    @InternalApi("org.mm4j.cli")
    public static void leave() {
        REQUEST.remove();
    }

    /** The frames of a walk: up to the request's entry (then the request) or {@code depth} frames. */
    private static <T> List<T> frames(final java.util.stream.Stream<StackWalker.StackFrame> s,
                                      final Predicate<Class<?>> skipWhile, final int depth,
                                      final java.util.function.Function<StackWalker.StackFrame, T> map,
                                      final java.util.function.Function<String, T> request) {
        final Request r = REQUEST.get();
        java.util.stream.Stream<StackWalker.StackFrame> f = s.dropWhile(x -> x.getDeclaringClass() == StackDepot.class
            || skipWhile.test(x.getDeclaringClass()));
        if (r == null) {
            return f.limit(depth).map(map).toList();
        }
        final List<T> out = new ArrayList<>(f.takeWhile(x -> x.getDeclaringClass() != r.entry()).limit(depth - 1)
            .map(map).toList());
        out.add(request.apply(r.text()));
        return out;
    }

    private static final StackWalker WALKER =
        StackWalker.getInstance(EnumSet.of(StackWalker.Option.RETAIN_CLASS_REFERENCE));

    /** A frame's identity without resolving its file and line (the costly part of a walk). */
    private record FrameKey(Class<?> type, String method, String descriptor, int bci) {
    }

    @SuppressWarnings("ArrayRecordComponent") // equals and hashCode below compare the contents
    private record StackKey(int[] ids) {
        @Override
        public boolean equals(final Object o) {
            return o instanceof StackKey k && Arrays.equals(ids, k.ids);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(ids);
        }
    }

    private final Map<FrameKey, Integer> frameIds = new ConcurrentHashMap<>();
    private final List<Frame> frames = new CopyOnWriteArrayList<>();
    private final Map<StackKey, Integer> stackIds = new ConcurrentHashMap<>();
    private final List<int[]> stacks = new CopyOnWriteArrayList<>();

    /**
     * {@code stack_depot_save(stack_trace_save())}: the calling thread's stack, innermost first, without the
     * frames {@code skipWhile} matches at its top (the depot's caller and its helpers), at most {@code depth}
     * frames. Returns the handle (>= 1).
     */
    public int save(final Predicate<Class<?>> skipWhile, final int depth) {
        return handle(WALKER.walk(s -> frames(s, skipWhile, depth, this::intern, this::internRequest))
            .stream().mapToInt(Integer::intValue).toArray());
    }

    private int intern(final StackWalker.StackFrame f) {
        final FrameKey key = new FrameKey(f.getDeclaringClass(), f.getMethodName(), f.getDescriptor(),
            f.getByteCodeIndex());
        final Integer known = frameIds.get(key);
        if (known != null) {
            return known;
        }
        return frameIds.computeIfAbsent(key, k -> {
            synchronized (frames) {
                frames.add(new Frame(f.getClassName(), f.getMethodName(), f.getFileName(), f.getLineNumber(),
                    f.getByteCodeIndex()));
                return frames.size() - 1;
            }
        });
    }

    /**
     * Like {@link #save} without the request frame ({@link #enter}): exactly the frames of the walk. Returns 0
     * when no frame is left (nothing saved).
     */
    public int saveExact(final Predicate<Class<?>> skipWhile, final int depth) {
        final int[] ids = WALKER.walk(s -> s.dropWhile(f -> f.getDeclaringClass() == StackDepot.class
            || skipWhile.test(f.getDeclaringClass())).limit(depth).mapToInt(this::intern).toArray());
        return ids.length == 0 ? 0 : handle(ids);
    }

    private int handle(final int[] ids) {
        return stackIds.computeIfAbsent(new StackKey(ids), k -> {
            synchronized (stacks) {
                stacks.add(k.ids());
                return stacks.size();
            }
        });
    }

    /** The id (from 0, never reused) of frame {@code index} of stack {@code handle}: a call site's number. */
    public int frameId(final int handle, final int index) {
        return stacks.get(handle - 1)[index];
    }

    /** The frame of an id {@link #frameId} returned. */
    public Frame frame(final int id) {
        return frames.get(id);
    }

    /** The number of distinct frames saved (ids run from 0 below it). */
    public int frameCount() {
        return frames.size();
    }

    private int internRequest(final String text) {
        return frameIds.computeIfAbsent(new FrameKey(StackDepot.class, text, "", -1), k -> {
            synchronized (frames) {
                frames.add(new Frame("", text, null, 0, -1));
                return frames.size() - 1;
            }
        });
    }

    /** The frames of {@code handle}, innermost first (empty for 0 or an unknown handle). */
    public List<Frame> frames(final int handle) {
        if (handle <= 0 || handle > stacks.size()) {
            return List.of();
        }
        final int[] ids = stacks.get(handle - 1);
        final List<Frame> out = new ArrayList<>(ids.length);
        for (final int id : ids) {
            out.add(frames.get(id));
        }
        return out;
    }

    /**
     * {@code stack_depot_snprint(handle, buf, size, 0)}: one line per frame, a space then the symbol, each
     * ending in a newline.
     */
    public StringBuilder print(final StringBuilder sb, final int handle) {
        for (final Frame f : frames(handle)) {
            sb.append(' ').append(f.symbol()).append('\n');
        }
        return sb;
    }

    /** The number of distinct stacks saved. */
    public int size() {
        return stacks.size();
    }

    /**
     * The calling thread's Java frames as {@code %pS} symbols, without the frames {@code skipWhile} matches at
     * the top, at most {@code depth}; nothing is saved (for one-off reports such as {@code dump_stack}).
     */
    public static List<String> callers(final Predicate<Class<?>> skipWhile, final int depth) {
        return WALKER.walk(s -> frames(s, skipWhile, depth, f -> new Frame(f.getClassName(), f.getMethodName(),
            f.getFileName(), f.getLineNumber(), f.getByteCodeIndex()).symbol(), text -> text));
    }
}
