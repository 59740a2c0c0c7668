internal import CZstd

/// Zstandard (RFC 8878) for request and response bodies: at level 1 it compresses delivery batches
/// about 3.5 times faster than zlib's fastest level, into fewer bytes, and decompresses 4 times faster
/// (`field-bench codec`). That is CPU and battery saved on a cheap phone at both ends of every sync.
public enum Zstd {
    /// Level 1: on delivery batches, higher levels cost twice the time for under 1% fewer bytes.
    public static let defaultLevel: Int32 = 1
    /// The largest window a body may ask the decoder for: 8 MiB (hostile frames cannot make the
    /// server allocate more).
    static let maxWindowLog: Int32 = 23

    /// Compresses `bytes` into one zstd frame.
    public static func compress(_ bytes: [UInt8], level: Int32 = defaultLevel) -> [UInt8] {
        let stream = ZstdStream(level: level)
        return stream.finish(bytes)
    }

    /// Decompresses a zstd body (one or more frames), refusing to produce more than `limit` bytes.
    public static func decompress(_ bytes: [UInt8], limit: Int) throws(SyncError) -> [UInt8] {
        guard let context = ZSTD_createDCtx() else {
            throw SyncError(.storage, "Cannot start zstd decompression (out of memory).")
        }
        defer { ZSTD_freeDCtx(context) }
        ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, maxWindowLog)
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, max(bytes.count * 4, 4096)))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status = 0
        var failure: String?
        bytes.withUnsafeBytes { raw in
            var input = ZSTD_inBuffer(src: raw.baseAddress, size: raw.count, pos: 0)
            var produced = 0
            repeat {
                produced = chunk.withUnsafeMutableBytes { out in
                    var buffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    status = ZSTD_decompressStream(context, &buffer, &input)
                    return buffer.pos
                }
                if ZSTD_isError(status) != 0 {
                    failure = String(cString: ZSTD_getErrorName(status))
                    return
                }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > limit { return }
                // Input left, or output that filled the chunk (more may be buffered inside): go on.
            } while input.pos < input.size || status != 0 && produced == chunk.count
        }
        if output.count > limit {
            throw SyncError(.tooLarge, "The body decompresses to more than \(limit) bytes, the limit.")
        }
        if let failure {
            throw SyncError(.invalidBatch, "The body is not valid zstd (\(failure)).")
        }
        guard status == 0, !bytes.isEmpty else {
            throw SyncError(.invalidBatch, "The zstd body was cut short.")
        }
        return output
    }
}

/// A zstd frame written in parts, like ``GzipStream``: what is known early is compressed and flushed
/// early, the rest is appended when it is known.
public final class ZstdStream {
    private let context: OpaquePointer?
    private var output: [UInt8] = []

    public init(level: Int32 = Zstd.defaultLevel) {
        context = ZSTD_createCCtx()
        if let context { ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level) }
    }

    deinit {
        if let context { ZSTD_freeCCtx(context) }
    }

    /// Compresses `bytes` and flushes them (their bytes are final).
    public func write(_ bytes: [UInt8]) {
        run(bytes, directive: ZSTD_e_flush)
    }

    /// Compresses the last bytes, ends the frame and returns all of it. The stream is done.
    public func finish(_ bytes: [UInt8]) -> [UInt8] {
        run(bytes, directive: ZSTD_e_end)
        return output
    }

    private func run(_ bytes: [UInt8], directive: ZSTD_EndDirective) {
        guard let context else { return }
        var chunk = [UInt8](repeating: 0, count: max(4096, ZSTD_compressBound(bytes.count) / 2 + 1024))
        bytes.withUnsafeBytes { raw in
            var input = ZSTD_inBuffer(src: raw.baseAddress, size: raw.count, pos: 0)
            var remaining = 0
            repeat {
                let produced: Int = chunk.withUnsafeMutableBytes { out in
                    var buffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    remaining = ZSTD_compressStream2(context, &buffer, &input, directive)
                    return buffer.pos
                }
                // An error here means a bad parameter or no memory: the frame stays incomplete, and the
                // receiver refuses it as cut short.
                if ZSTD_isError(remaining) != 0 { return }
                output.append(contentsOf: chunk[0..<produced])
            } while remaining != 0 || input.pos < input.size
        }
    }
}
