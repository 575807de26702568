package org.mm4j.cli.shell;

/**
 * The shell's expressions, as in gdb: hex ({@code 0x...}) and decimal numbers, {@code + - * / % & | ^ ~ << >>} and
 * parentheses, with C's precedence, over unsigned 64-bit values (kernel addresses such as
 * {@code 0xffff888000123440} do not fit a signed long; {@code >>}, {@code /} and {@code %} are unsigned, as on
 * {@code unsigned long}). Variables ({@code $p}) are substituted into the text before an expression is read.
 *
 * <p>An argument expression is read greedily: after a complete operand, the expression goes on only when the next
 * non-blank character is a binary operator, so {@code write ($p & ~4095) + 64 12} reads {@code ($p & ~4095) + 64}
 * as the address and {@code 12} as the next argument. Overflow of a literal, division by zero and syntax errors are
 * {@link ShellException}s naming the text at fault. Parentheses and unary operators nest at most
 * {@link #MAX_NESTING} deep ({@code expression nesting too deep} beyond: the recursive descent never runs out of
 * stack). Stateless and thread-safe.
 */
public final class Expr {
    /** Deepest nesting of parentheses and unary operators accepted. */
    public static final int MAX_NESTING = 256;
    private final String text;
    private final int start;
    private int pos;
    private int nesting;

    private Expr(final String text, final int pos) {
        this.text = text;
        this.start = pos;
        this.pos = pos;
    }

    /** The value of the whole of {@code text} (nothing may follow the expression). */
    public static long eval(final String text) {
        final Expr e = new Expr(text, 0);
        final long v = e.parseOr();
        e.skipBlanks();
        if (e.pos < text.length()) {
            throw e.error("unexpected '" + clip(text.substring(e.pos)) + "'");
        }
        return v;
    }

    /** Reads one expression starting at {@code start}; returns {value, end position}. */
    static long[] evalPrefix(final String text, final int start) {
        final Expr e = new Expr(text, start);
        final long v = e.parseOr();
        return new long[] {v, e.pos};
    }

    private long parseOr() {
        long v = parseXor();
        while (peekOp("|")) {
            pos++;
            v |= parseXor();
        }
        return v;
    }

    private long parseXor() {
        long v = parseAnd();
        while (peekOp("^")) {
            pos++;
            v ^= parseAnd();
        }
        return v;
    }

    private long parseAnd() {
        long v = parseShift();
        while (peekOp("&")) {
            pos++;
            v &= parseShift();
        }
        return v;
    }

    private long parseShift() {
        long v = parseAdd();
        while (true) {
            if (peekOp("<<")) {
                pos += 2;
                final long s = parseAdd();
                v = Long.compareUnsigned(s, 63) > 0 ? 0 : v << s;
            } else if (peekOp(">>")) {
                pos += 2;
                final long s = parseAdd();
                v = Long.compareUnsigned(s, 63) > 0 ? 0 : v >>> s;
            } else {
                return v;
            }
        }
    }

    private long parseAdd() {
        long v = parseMul();
        while (true) {
            if (peekOp("+")) {
                pos++;
                v += parseMul();
            } else if (peekOp("-")) {
                pos++;
                v -= parseMul();
            } else {
                return v;
            }
        }
    }

    private long parseMul() {
        long v = parseUnary();
        while (true) {
            if (peekOp("*")) {
                pos++;
                v *= parseUnary();
            } else if (peekOp("/")) {
                pos++;
                v = Long.divideUnsigned(v, nonZero(parseUnary(), "division"));
            } else if (peekOp("%")) {
                pos++;
                v = Long.remainderUnsigned(v, nonZero(parseUnary(), "modulo"));
            } else {
                return v;
            }
        }
    }

    private long nonZero(final long v, final String what) {
        if (v == 0) {
            throw new ShellException(what + " by zero in '" + clip(text.substring(start).strip()) + "'");
        }
        return v;
    }

    private long parseUnary() {
        skipBlanks();
        if (pos >= text.length()) {
            throw error("expression expected");
        }
        final char c = text.charAt(pos);
        if (c == '-' || c == '+' || c == '~' || c == '(') {
            if (++nesting > MAX_NESTING) {
                throw new ShellException("bad expression: expression nesting too deep (more than " + MAX_NESTING
                    + " levels of parentheses and unary operators)");
            }
            try {
                pos++;
                if (c == '-') {
                    return -parseUnary();
                }
                if (c == '+') {
                    return parseUnary();
                }
                if (c == '~') {
                    return ~parseUnary();
                }
                final long v = parseOr();
                skipBlanks();
                if (pos >= text.length() || text.charAt(pos) != ')') {
                    throw error("missing ')'");
                }
                pos++;
                return v;
            } finally {
                nesting--;
            }
        }
        if (c >= '0' && c <= '9') {
            return parseNumber();
        }
        if (c == '$') {
            throw error("undefined variable");
        }
        throw error("number or address expected");
    }

    private long parseNumber() {
        final int from = pos;
        final boolean hex = text.startsWith("0x", pos) || text.startsWith("0X", pos);
        if (hex) {
            pos += 2;
        }
        final int digits = pos;
        while (pos < text.length() && isDigit(text.charAt(pos), hex)) {
            pos++;
        }
        if (pos < text.length() && (Character.isLetterOrDigit(text.charAt(pos)) || text.charAt(pos) == '_')) {
            while (pos < text.length() && Character.isLetterOrDigit(text.charAt(pos))) {
                pos++;
            }
            throw new ShellException("bad number '" + clip(text.substring(from, pos)) + "'");
        }
        final String lit = text.substring(digits, pos);
        if (lit.isEmpty()) {
            throw new ShellException("bad number '" + clip(text.substring(from, pos)) + "'");
        }
        try {
            return Long.parseUnsignedLong(lit, hex ? 16 : 10);
        } catch (final NumberFormatException e) {
            throw new ShellException("number too large: " + clip(text.substring(from, pos))
                + " (expected: at most 64 bits)");
        }
    }

    /** An ASCII digit (hex or decimal): other scripts' digits are no number here. */
    private static boolean isDigit(final char c, final boolean hex) {
        return c >= '0' && c <= '9' || hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F');
    }

    /** Whether a binary operator {@code op} follows (after blanks); leaves {@code pos} at it when so. */
    private boolean peekOp(final String op) {
        int p = pos;
        while (p < text.length() && (text.charAt(p) == ' ' || text.charAt(p) == '\t')) {
            p++;
        }
        if (!text.startsWith(op, p)) {
            return false;
        }
        // a single '<' / '>' is no operator, and "<<" must not be read as two '<'
        if ((op.equals("|") || op.equals("&")) && text.startsWith(op + op, p)) {
            return false;
        }
        pos = p;
        return true;
    }

    private void skipBlanks() {
        while (pos < text.length() && (text.charAt(pos) == ' ' || text.charAt(pos) == '\t')) {
            pos++;
        }
    }

    private ShellException error(final String what) {
        final String rest = pos < text.length() ? " at '" + clip(text.substring(pos).strip()) + "'" : "";
        return new ShellException("bad expression '" + clip(text.substring(start).strip()) + "': " + what + rest);
    }

    /** At most 80 characters of {@code s} for an error message (a hostile line may be 1 MiB). */
    static String clip(final String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
