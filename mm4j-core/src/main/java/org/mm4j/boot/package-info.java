/**
 * The kernel command line and the build configuration: a leaf every subsystem reads at boot.
 *
 * <h2>Java name → kernel symbol</h2>
 * <table>
 * <caption>What each class models</caption>
 * <tr><th>Java</th><th>Linux 6.18</th></tr>
 * <tr><td>{@link org.mm4j.boot.BootParams}</td><td>{@code boot_command_line}, {@code parse_early_param},
 *     {@code early_param}/{@code __setup} handlers of mm (mem=, nr_cpus=, slub_debug=, page_owner=, ...)</td></tr>
 * <tr><td>{@link org.mm4j.boot.KernelConfig}</td><td>the build's {@code .config}, shown as
 *     {@code /proc/config.gz} (CONFIG_IKCONFIG_PROC)</td></tr>
 * <tr><td>{@link org.mm4j.boot.CmdlineException}</td><td>a parameter the model refuses at boot</td></tr>
 * </table>
 *
 * <h2>Error convention</h2>
 * Parameters the kernel would ignore are kept and printed as "Unknown kernel command line parameters"; a value the
 * model cannot honour is a {@link org.mm4j.boot.CmdlineException} naming the parameter and the value.
 */
package org.mm4j.boot;
