/**
 * Bounded line input shared by the trace readers and the shell: a leaf with no mm4j dependency.
 *
 * <h2>Java name → kernel symbol</h2>
 * <table>
 * <caption>What each class is</caption>
 * <tr><th>Java</th><th>Kernel</th></tr>
 * <tr><td>{@link org.mm4j.io.LineReader}</td><td>none: reads lines of at most 1 MiB, refusing longer ones</td></tr>
 * <tr><td>{@link org.mm4j.io.InputLineException}</td><td>none: bad input, naming the source, line and value</td></tr>
 * </table>
 *
 * <h2>Error convention</h2>
 * Bad input is an {@link org.mm4j.io.InputLineException} naming the line number and the text at fault; nothing
 * read before it is lost.
 */
package org.mm4j.io;
