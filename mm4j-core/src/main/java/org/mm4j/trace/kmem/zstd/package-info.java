/**
 * A pure-Java zstd decoder (RFC 8878) with its XXH64 content checksum, for compressed kmem traces. Not exported:
 * readers open traces through {@link org.mm4j.trace.kmem.TraceInput}.
 *
 * <h2>Java name → reference symbol</h2>
 * <table>
 * <caption>What each class models</caption>
 * <tr><th>Java</th><th>zstd (lib/decompress/, as the kernel's lib/zstd carries it)</th></tr>
 * <tr><td>{@link org.mm4j.trace.kmem.zstd.ZstdInputStream}</td><td>{@code ZSTD_decompressStream}: frames,
 *     blocks, Huffman literals, FSE sequences, the window bound of {@code --memory=}</td></tr>
 * <tr><td>{@code Xxh64}</td><td>{@code XXH64} (lib/xxhash.c)</td></tr>
 * </table>
 *
 * <h2>Error convention</h2>
 * A corrupt or truncated frame, a checksum mismatch or a window above the bound is an {@link java.io.IOException}
 * naming the offset and what was wrong; the bytes before it have been delivered.
 */
package org.mm4j.trace.kmem.zstd;
