package org.mm4j.cli;

import org.mm4j.kernel.Kernel;
import org.mm4j.page.Zone;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mm4j} command: dispatches to its subcommands. */
@Command(name = "mm4j", mixinStandardHelpOptions = true, version = "mm4j " + Kernel.VERSION,
    description = "The Linux kernel's memory-management core, observable like a running kernel.",
    subcommands = {CommandLine.HelpCommand.class, BenchCommand.class})
public final class Main implements Runnable {

    public static void main(final String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        try (Kernel k = Kernel.boot("")) {
            for (final Zone z : k.buddy().zones()) {
                final StringBuilder sb = new StringBuilder(String.format("Node %d, zone %8s ", z.nid(), z.name()));
                for (int o = 0; o < Zone.NR_PAGE_ORDERS; o++) {
                    sb.append(String.format("%6d ", z.nrFree(o)));
                }
                System.out.println(sb);
            }
        }
    }
}
