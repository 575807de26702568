package org.mm4j.cli.shell;

import org.mm4j.Kernel;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;

/** Runs a shell script on a fresh small kernel and keeps stdout, stderr and the exit status. */
record ShellRun(String out, String err, int status) {
    static ShellRun run(final String script) {
        return run("mem=64M nr_cpus=2", script);
    }

    static ShellRun run(final String cmdline, final String script) {
        final ByteArrayOutputStream o = new ByteArrayOutputStream();
        final ByteArrayOutputStream e = new ByteArrayOutputStream();
        final int status;
        try (Kernel k = Kernel.boot(cmdline);
             PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8);
             PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8)) {
            final Shell sh = new Shell(k, po, pe);
            status = sh.runScript(new BufferedReader(new StringReader(script)));
        }
        return new ShellRun(o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8), status);
    }
}
