package org.mm4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code mm4j replay}: the parent of the trace replays. Subcommands: {@code kmem} (ftrace kmem events, this
 * module) and {@code strace} (syscall logs, the address-space replay); each adds itself with one line in the
 * annotation's {@code subcommands}.
 */
@Command(name = "replay", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    subcommands = {
        ReplayKmemCommand.class,
        ReplayStraceCommand.class,
    },
    header = "Replays a real kernel trace (ftrace kmem events, strace logs) through the model.")
public final class ReplayCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing replay kind (kmem or strace)");
    }
}
