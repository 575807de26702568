/**
 * zstd decoding (RFC 8878) for compressed kmem traces: the system's libzstd through FFM when it is usable, and a
 * pure-Java decoder with its XXH64 content checksum, the reference and the fallback; {@link
 * org.mm4j.trace.kmem.zstd.Zstd} picks one (system property {@code mm4j.zstd}: {@code auto}, {@code java},
 * {@code native}). Not exported: readers open traces through {@link org.mm4j.trace.kmem.TraceInput}.
 *
 * <h2>Java name → reference symbol</h2>
 * <table>
 * <caption>What each class models</caption>
 * <tr><th>Java</th><th>zstd (lib/decompress/, as the kernel's lib/zstd carries it)</th></tr>
 * <tr><td>{@link org.mm4j.trace.kmem.zstd.ZstdInputStream}</td><td>{@code ZSTD_decompressStream}: frames,
 *     blocks, Huffman literals, FSE sequences, the window bound of {@code --memory=}</td></tr>
 * <tr><td>{@code Xxh64}</td><td>{@code XXH64} (lib/xxhash.c)</td></tr>
 * <tr><td>{@link org.mm4j.trace.kmem.zstd.LibZstdInputStream}</td><td>the system's libzstd driven as
 *     {@code zstd -d} drives it: {@code ZSTD_createDCtx}, {@code ZSTD_DCtx_setParameter(ZSTD_d_windowLogMax)},
 *     {@code ZSTD_decompressStream} with {@code ZSTD_inBuffer}/{@code ZSTD_outBuffer}, {@code ZSTD_freeDCtx}
 *     at close</td></tr>
 * <tr><td>{@link org.mm4j.trace.kmem.zstd.Zstd}</td><td>the choice between the two (no zstd counterpart)</td></tr>
 * </table>
 *
 * <h2>FFM downcalls (no JNI)</h2>
 * Bound once by {@code LibZstd} from {@code libzstd.so.1} (found by the dynamic loader; 1.4.0 or later, the
 * stable API only), only when native access is enabled for mm4j ({@code --enable-native-access=ALL-UNNAMED}):
 * otherwise, or without the library, the Java decoder is used and nothing is printed. {@code size_t} is a Java
 * {@code long} (64-bit platforms only), pointers are {@link java.lang.foreign.MemorySegment}s of the stream's
 * shared arena.
 * <table>
 * <caption>Java downcall → libzstd symbol</caption>
 * <tr><th>Java ({@code LibZstd.Bindings})</th><th>libzstd (zstd.h, zstd_errors.h)</th></tr>
 * <tr><td>{@code createDCtx}</td><td>{@code ZSTD_DCtx *ZSTD_createDCtx(void)}</td></tr>
 * <tr><td>{@code freeDCtx}</td><td>{@code size_t ZSTD_freeDCtx(ZSTD_DCtx *)} (the arena's cleanup)</td></tr>
 * <tr><td>{@code dctxSetParameter}</td><td>{@code size_t ZSTD_DCtx_setParameter(ZSTD_DCtx *, ZSTD_dParameter,
 *     int)} with {@code ZSTD_d_windowLogMax} (100), for a limit other than the library's default (2^27)</td></tr>
 * <tr><td>{@code decompressStream}</td><td>{@code size_t ZSTD_decompressStream(ZSTD_DStream *, ZSTD_outBuffer *,
 *     ZSTD_inBuffer *)}</td></tr>
 * <tr><td>{@code isError}</td><td>{@code unsigned ZSTD_isError(size_t)}</td></tr>
 * <tr><td>{@code getErrorCode}</td><td>{@code ZSTD_ErrorCode ZSTD_getErrorCode(size_t)}
 *     ({@code checksum_wrong} 22, {@code frameParameter_windowTooLarge} 16, {@code memory_allocation} 64)</td></tr>
 * <tr><td>{@code getErrorName}</td><td>{@code const char *ZSTD_getErrorName(size_t)}</td></tr>
 * <tr><td>{@code version}</td><td>{@code const char *ZSTD_versionString(void)} ("1.5.4" read as 10504)</td></tr>
 * </table>
 *
 * <h2>Error convention</h2>
 * A corrupt or truncated frame, a checksum mismatch or a window above the bound is an {@link java.io.IOException}
 * naming the offset and what was wrong (from either decoder; the frame header checks and their messages are the
 * same, libzstd's own reason is quoted for what it finds inside a frame); the bytes before it have been delivered.
 */
package org.mm4j.trace.kmem.zstd;
