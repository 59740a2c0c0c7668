internal import CZlib

/// gzip for request and response bodies (zlib).
public enum Gzip {
    /// The level bodies are compressed at: 3 costs half the time of zlib's default 6 for about 10% more
    /// bytes (measured on delivery batches: `field-bench codec`).
    public static let defaultLevel: Int32 = 3

    /// Compresses `bytes` into a gzip member.
    public static func compress(_ bytes: [UInt8], level: Int32 = defaultLevel) -> [UInt8] {
        var stream = z_stream()
        guard czlib_deflate_init(&stream, level) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 32)
        let produced: Int = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                _ = deflate(&stream, Z_FINISH)
                return out.count - Int(stream.avail_out)
            }
        }
        output.removeSubrange(produced...)
        return output
    }

    /// Decompresses a gzip (or zlib) body, refusing to produce more than `limit` bytes (a zip bomb).
    public static func decompress(_ bytes: [UInt8], limit: Int) throws(SyncError) -> [UInt8] {
        try bytes.withUnsafeBytes { raw in Result { () throws(SyncError) in try decompress(raw, limit: limit) } }.get()
    }

    /// ``decompress(_:limit:)`` of bytes in place.
    public static func decompress(_ bytes: UnsafeRawBufferPointer, limit: Int) throws(SyncError) -> [UInt8] {
        var stream = z_stream()
        guard czlib_inflate_init(&stream) == Z_OK else {
            throw SyncError(.invalidBatch, "Cannot start gzip decompression.")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, max(bytes.count * 4, 4096)))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(bytes.count)
        while status == Z_OK {
            chunk.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                status = inflate(&stream, Z_NO_FLUSH)
                output.append(contentsOf: out[0..<(out.count - Int(stream.avail_out))])
            }
            if output.count > limit { break }
            if status == Z_BUF_ERROR, stream.avail_in == 0 { break }
        }
        if output.count > limit {
            throw SyncError(.tooLarge, "The body decompresses to more than \(limit) bytes, the limit.")
        }
        guard status == Z_STREAM_END else {
            throw SyncError(
                .invalidBatch,
                "The body is not valid gzip (zlib: \(String(cString: zError(status)))) or was cut short.")
        }
        return output
    }
}

/// A gzip member written in parts: what is known early is compressed early (flushed, so its bytes are
/// final), the rest is appended when it is known. One member, readable by any gzip decoder.
public final class GzipStream {
    private var stream = z_stream()
    private var output: [UInt8] = []
    private var open = false

    public init(level: Int32 = Gzip.defaultLevel) {
        open = czlib_deflate_init(&stream, level) == Z_OK
    }

    deinit {
        if open { deflateEnd(&stream) }
    }

    /// Compresses `bytes` and flushes them to a byte boundary.
    public func write(_ bytes: [UInt8]) {
        run(bytes, flush: Z_SYNC_FLUSH)
    }

    /// Compresses the last bytes, ends the member and returns all of it. The stream is done.
    public func finish(_ bytes: [UInt8]) -> [UInt8] {
        run(bytes, flush: Z_FINISH)
        if open {
            deflateEnd(&stream)
            open = false
        }
        return output
    }

    private func run(_ bytes: [UInt8], flush: Int32) {
        guard open else { return }
        var chunk = [UInt8](repeating: 0, count: max(4096, bytes.count / 2 + 1024))
        bytes.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    _ = deflate(&stream, flush)
                    return out.count - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
            } while stream.avail_out == 0
        }
    }
}
