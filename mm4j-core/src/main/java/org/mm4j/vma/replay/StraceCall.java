package org.mm4j.vma.replay;

import java.util.ArrayList;
import java.util.List;

/**
 * One system call line as {@code strace -y} prints it: {@code name(arg, arg, ...) = result}. The result part is
 * optional (the shell accepts lines without it); {@code pid} is strace -f's prefix or -1.
 */
public record StraceCall(int pid, String name, List<String> args, String result) {

    /**
     * Parses one line. Accepts a pid prefix, a trailing {@code = result} (with strace's column padding) and
     * strace's {@code (DELAYED)} mark. Throws IllegalArgumentException naming the problem.
     */
    public static StraceCall parse(final String lineIn) {
        String line = lineIn.strip();
        int pid = -1;
        int i = 0;
        while (i < line.length() && line.charAt(i) >= '0' && line.charAt(i) <= '9') {
            i++;
        }
        if (i > 0 && i < line.length() && line.charAt(i) == ' ') {
            pid = pid(line.substring(0, i));
            line = line.substring(i).strip();
        }
        if (line.startsWith("[pid ")) {
            final int close = line.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("unclosed '[pid' prefix");
            }
            pid = pid(line.substring(5, close).strip());
            line = line.substring(close + 1).strip();
        }
        final int open = line.indexOf('(');
        if (open <= 0) {
            throw new IllegalArgumentException("not a system call line (expected: name(args) = result): '"
                + lineIn.strip() + "'");
        }
        final String name = line.substring(0, open);
        for (int k = 0; k < name.length(); k++) {
            final char c = name.charAt(k);
            if (!Character.isLetterOrDigit(c) && c != '_') {
                throw new IllegalArgumentException("bad system call name '" + name + "'");
            }
        }
        // find the matching close paren, honouring quotes, <...> and {...}
        final List<String> args = new ArrayList<>();
        int depth = 0;
        boolean inQuote = false;
        int argStart = open + 1;
        int close = -1;
        for (int k = open + 1; k < line.length(); k++) {
            final char c = line.charAt(k);
            if (inQuote) {
                if (c == '\\') {
                    k++;
                } else if (c == '"') {
                    inQuote = false;
                }
                continue;
            }
            if (c == '"') {
                inQuote = true;
            } else if (c == '(' || c == '<' || c == '{' || c == '[') {
                depth++;
            } else if ((c == '>' || c == '}' || c == ']') && depth > 0) {
                depth--;
            } else if (c == ')') {
                if (depth == 0) {
                    close = k;
                    break;
                }
                depth--;
            } else if (c == ',' && depth == 0) {
                args.add(line.substring(argStart, k).strip());
                argStart = k + 1;
            }
        }
        if (close < 0) {
            throw new IllegalArgumentException("missing ')' closing the arguments of " + name);
        }
        for (int k = 0; k < args.size(); k++) {
            args.set(k, stripComment(args.get(k)));
        }
        final String last = stripComment(line.substring(argStart, close).strip());
        if (!last.isEmpty() || !args.isEmpty()) {
            args.add(last);
        }
        String rest = line.substring(close + 1).strip();
        String result = null;
        if (!rest.isEmpty()) {
            if (!rest.startsWith("=")) {
                throw new IllegalArgumentException("expected '= result' after ')', found '" + rest + "'");
            }
            result = rest.substring(1).strip();
            if (result.endsWith("(DELAYED)")) {
                result = result.substring(0, result.length() - "(DELAYED)".length()).strip();
            }
            if (result.isEmpty()) {
                throw new IllegalArgumentException("empty result after '='");
            }
        }
        return new StraceCall(pid, name, List.copyOf(args), result);
    }

    private static int pid(final String digits) {
        try {
            final int v = Integer.parseInt(digits);
            if (v >= 0) {
                return v;
            }
        } catch (final NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("bad pid '" + digits + "' (expected: a process id)");
    }

    /** Drops strace's {@code /* ... *}{@code /} annotations ({@code 0x66 /* MADV_??? *}{@code /} -> {@code 0x66}). */
    private static String stripComment(final String arg) {
        final int open = arg.indexOf("/*");
        if (open < 0 || arg.startsWith("\"")) {
            return arg;
        }
        final int close = arg.indexOf("*/", open);
        final String rest = close < 0 ? "" : arg.substring(close + 2);
        return (arg.substring(0, open) + rest).strip();
    }

    /** The call part as strace prints it: {@code name(a, b, c)}. */
    public String callText() {
        return name + "(" + String.join(", ", args) + ")";
    }

    /** The whole line with {@code result}, the '=' at column 40 as strace aligns it. */
    public static String format(final String callText, final String result) {
        final StringBuilder sb = new StringBuilder(callText).append(' ');
        while (sb.length() < 40) {
            sb.append(' ');
        }
        return sb.append("= ").append(result).toString();
    }
}
