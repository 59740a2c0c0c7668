import Synchronization

/// How a body is compressed on the wire (HTTP `Content-Encoding`).
///
/// zstd is preferred both ways: faster and smaller than gzip on sync batches. gzip stays for peers that
/// do not speak zstd (an older node, `curl` by hand); a server says which request codings it takes in its
/// answers' `Accept-Encoding` header (RFC 7694), and a client switches to zstd once it has seen it there.
public enum ContentCoding: String, Sendable, Hashable, CaseIterable {
    case identity
    case gzip
    case zstd

    /// The coding a `Content-Encoding` value names (`x-gzip` and `deflate` are read as gzip: zlib detects
    /// both); nil for one this node cannot read.
    public init?(header: String?) {
        // The exact names first (every request carries one): Foundation's trimming costs more than the rest.
        switch header {
        case nil, "identity": self = .identity
        case "zstd": self = .zstd
        case "gzip": self = .gzip
        case let header?: self.init(spelled: header)
        }
    }

    private init?(spelled header: String) {
        switch header.trimmingCharacters(in: .whitespaces).lowercased() {
        case "identity": self = .identity
        case "gzip", "x-gzip", "deflate": self = .gzip
        case "zstd": self = .zstd
        default: return nil
        }
    }

    /// The codings a server takes in request bodies, best first: its answers carry this as `Accept-Encoding`.
    public static let accepted = "zstd, gzip"

    /// The best coding an `Accept-Encoding` value allows (zstd, then gzip), or identity. A coding refused
    /// with `q=0` is not chosen.
    public static func preferred(accepting header: String?) -> ContentCoding {
        guard let header else { return .identity }
        // Every client of one kind sends the same value: the last one's answer is kept.
        if let last = lastPreferred.withLock({ $0 }), last.header == header { return last.coding }
        let coding = parsePreferred(header)
        lastPreferred.withLock { $0 = (header, coding) }
        return coding
    }

    private static let lastPreferred = Mutex<(header: String, coding: ContentCoding)?>(nil)

    private static func parsePreferred(_ header: String) -> ContentCoding {
        var allowed: Set<String> = []
        for part in header.lowercased().split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let name = pieces.first else { continue }
            let refused = pieces.dropFirst().contains {
                let parameter = $0.replacingOccurrences(of: " ", with: "")
                return parameter.hasPrefix("q=") && Double(parameter.dropFirst(2)) == 0
            }
            if !refused { allowed.insert(name) }
        }
        if allowed.contains("zstd") { return .zstd }
        if allowed.contains("gzip") || allowed.contains("x-gzip") { return .gzip }
        return .identity
    }

    /// The `Content-Encoding` header value, nil for identity.
    public var header: String? { self == .identity ? nil : rawValue }

    /// Compresses a whole body.
    public func compress(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .identity: bytes
        case .gzip: Gzip.compress(bytes)
        case .zstd: Zstd.compress(bytes)
        }
    }

    /// Decompresses a body, refusing to produce more than `limit` bytes (a compression bomb): `.tooLarge`,
    /// or `.invalidBatch` for a body that is not valid in this coding.
    public func decompress(_ bytes: [UInt8], limit: Int) throws(SyncError) -> [UInt8] {
        switch self {
        case .identity: bytes
        case .gzip: try Gzip.decompress(bytes, limit: limit)
        case .zstd: try Zstd.decompress(bytes, limit: limit)
        }
    }

    /// ``decompress(_:limit:)`` of bytes in place (a server's receive buffer): no copy of the input.
    public func decompress(_ bytes: UnsafeRawBufferPointer, limit: Int) throws(SyncError) -> [UInt8] {
        switch self {
        case .identity: [UInt8](bytes)
        case .gzip: try Gzip.decompress(bytes, limit: limit)
        case .zstd: try Zstd.decompress(bytes, limit: limit)
        }
    }

    /// A stream that compresses a body written in parts (the parts known early are compressed early).
    public func stream(level: Int32? = nil) -> BodyStream {
        BodyStream(self, level: level)
    }
}

/// A body compressed as it is written: ``ContentCoding/stream(level:)``.
public final class BodyStream {
    public let coding: ContentCoding
    private var gzip: GzipStream?
    private var zstd: ZstdStream?
    private var plain: [UInt8] = []

    init(_ coding: ContentCoding, level: Int32?) {
        self.coding = coding
        switch coding {
        case .identity: break
        case .gzip: gzip = GzipStream(level: level ?? Gzip.defaultLevel)
        case .zstd: zstd = ZstdStream(level: level ?? Zstd.defaultLevel)
        }
    }

    /// Compresses `bytes` and flushes them.
    public func write(_ bytes: [UInt8]) {
        if let gzip { gzip.write(bytes) } else if let zstd { zstd.write(bytes) } else { plain += bytes }
    }

    /// Compresses the last bytes and returns the whole body. The stream is done.
    public func finish(_ bytes: [UInt8]) -> [UInt8] {
        if let gzip { return gzip.finish(bytes) }
        if let zstd { return zstd.finish(bytes) }
        return plain + bytes
    }
}
