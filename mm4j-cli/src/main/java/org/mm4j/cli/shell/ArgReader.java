package org.mm4j.cli.shell;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a command's arguments, in order, from the rest of its line (variables and {@code $(...)} already
 * substituted): words (blank-separated, {@code "..."} or {@code '...'} quoted), expressions (read greedily, see
 * {@link Expr}), and {@code key=value} options. Every error names the argument and repeats the command's synopsis.
 * One reader per command run; not thread-safe.
 */
public final class ArgReader {
    private final String text;
    private final String usage;
    private int pos;

    public ArgReader(final String text, final String usage) {
        this.text = text;
        this.usage = usage;
    }

    /** Whether only blanks are left. */
    public boolean atEnd() {
        skipBlanks();
        return pos >= text.length();
    }

    /** The next word, or an error naming {@code what} when there is none. */
    public String word(final String what) {
        if (atEnd()) {
            throw missing(what);
        }
        return nextWord();
    }

    /** The next word, or null at the end. */
    public String optWord() {
        return atEnd() ? null : nextWord();
    }

    /** An expression argument (number or address). */
    public long expr(final String what) {
        if (atEnd()) {
            throw missing(what);
        }
        final long[] r = Expr.evalPrefix(text, pos);
        pos = (int) r[1];
        return r[0];
    }

    /** An expression argument that must lie in {@code [min, max]} (signed). */
    public int intArg(final String what, final int min, final int max) {
        final long v = expr(what);
        if (v < min || v > max) {
            throw new ShellException(what + " " + show(v) + " out of range (expected: " + min + " to " + max + ")");
        }
        return (int) v;
    }

    /** All remaining words. */
    public List<String> rest() {
        final List<String> out = new ArrayList<>();
        while (!atEnd()) {
            out.add(nextWord());
        }
        return out;
    }

    /** The remaining words as {@code key=value} options, each key one of {@code allowed}. */
    public Map<String, String> options(final String... allowed) {
        final Map<String, String> out = new LinkedHashMap<>();
        while (!atEnd()) {
            final String w = nextWord();
            final int eq = w.indexOf('=');
            final String key = eq < 0 ? w : w.substring(0, eq);
            if (eq <= 0 || !List.of(allowed).contains(key)) {
                throw new ShellException("unknown option '" + w + "' (expected: " + String.join("=, ", allowed)
                    + "=); usage: " + usage);
            }
            if (out.containsKey(key)) {
                throw new ShellException("option " + key + "= given twice");
            }
            out.put(key, w.substring(eq + 1));
        }
        return out;
    }

    /** Fails when arguments are left over. */
    public void end() {
        if (!atEnd()) {
            throw new ShellException("unexpected argument '" + text.substring(pos).strip() + "'; usage: " + usage);
        }
    }

    public ShellException missing(final String what) {
        return new ShellException("missing " + what + "; usage: " + usage);
    }

    public String usage() {
        return usage;
    }

    /** A value as the shell shows numbers in messages: decimal when small, else hex. */
    public static String show(final long v) {
        return v >= -(1L << 32) && v <= 1L << 32 ? Long.toString(v) : String.format("0x%x", v);
    }

    private String nextWord() {
        skipBlanks();
        final StringBuilder sb = new StringBuilder();
        while (pos < text.length()) {
            final char c = text.charAt(pos);
            if (c == ' ' || c == '\t') {
                break;
            }
            if (c == '"' || c == '\'') {
                final int close = text.indexOf(c, pos + 1);
                if (close < 0) {
                    throw new ShellException("unterminated " + c + " quote");
                }
                sb.append(text, pos + 1, close);
                pos = close + 1;
            } else {
                sb.append(c);
                pos++;
            }
        }
        return sb.toString();
    }

    private void skipBlanks() {
        while (pos < text.length() && (text.charAt(pos) == ' ' || text.charAt(pos) == '\t')) {
            pos++;
        }
    }
}
