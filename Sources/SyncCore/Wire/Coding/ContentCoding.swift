import Synchronization

/// How a body is compressed on the wire (HTTP `Content-Encoding`).
///
/// zstd is preferred both ways: faster and smaller than gzip on sync batches; `zstd-fs1` (zstd against
/// ``WireDictionary``) before it, which takes a small sync's body to a third (decision record 0021).
/// gzip stays for peers that speak neither (an older node, `curl` by hand); a server says which request
/// codings it takes in its answers' `Accept-Encoding` header (RFC 7694), and a client moves to the best
/// one it has seen there.
public enum ContentCoding: String, Sendable, Hashable, CaseIterable {
    case identity
    case gzip
    case zstd
    /// zstd frames compressed against the FieldSync wire dictionary (``WireDictionary``).
    case zstdDictionary = "zstd-fs1"

    /// The coding a `Content-Encoding` value names (`x-gzip` and `deflate` are read as gzip: zlib detects
    /// both); nil for one this node cannot read.
    public init?(header: String?) {
        // The exact names first (every request carries one): Foundation's trimming costs more than the rest.
        switch header {
        case nil, "identity": self = .identity
        case "zstd": self = .zstd
        case "zstd-fs1": self = .zstdDictionary
        case "gzip": self = .gzip
        case let header?: self.init(spelled: header)
        }
    }

    private init?(spelled header: String) {
        switch header.trimmingCharacters(in: .whitespaces).lowercased() {
        case "identity": self = .identity
        case "gzip", "x-gzip", "deflate": self = .gzip
        case "zstd": self = .zstd
        case "zstd-fs1": self = .zstdDictionary
        default: return nil
        }
    }

    /// The codings a server takes in request bodies, best first: its answers carry this as `Accept-Encoding`.
    public static let accepted = "zstd-fs1, zstd, gzip"

    /// The best coding an `Accept-Encoding` value allows (zstd-fs1, zstd, then gzip), or identity. A coding
    /// refused with `q=0` is not chosen.
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
        if allowed.contains("zstd-fs1") { return .zstdDictionary }
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
        case .zstdDictionary: Zstd.compress(bytes, dictionary: true)
        }
    }

    /// Decompresses a body, refusing to produce more than `limit` bytes (a compression bomb): `.tooLarge`,
    /// or `.invalidBatch` for a body that is not valid in this coding.
    public func decompress(_ bytes: [UInt8], limit: Int) throws(SyncError) -> [UInt8] {
        switch self {
        case .identity: bytes
        case .gzip: try Gzip.decompress(bytes, limit: limit)
        case .zstd: try Zstd.decompress(bytes, limit: limit)
        case .zstdDictionary: try Zstd.decompress(bytes, limit: limit, dictionary: true)
        }
    }

    /// ``decompress(_:limit:)`` of bytes in place (a server's receive buffer): no copy of the input.
    public func decompress(_ bytes: UnsafeRawBufferPointer, limit: Int) throws(SyncError) -> [UInt8] {
        switch self {
        case .identity: [UInt8](bytes)
        case .gzip: try Gzip.decompress(bytes, limit: limit)
        case .zstd: try Zstd.decompress(bytes, limit: limit)
        case .zstdDictionary: try Zstd.decompress(bytes, limit: limit, dictionary: true)
        }
    }

    /// A stream that compresses a body written in parts (the parts known early are compressed early).
    public func stream(level: Int32? = nil) -> BodyStream {
        BodyStream(self, level: level)
    }
}

/// A body compressed as it is written: ``ContentCoding/stream(level:)``.
///
/// Its first 64 KiB are held and compressed whole at the end when the body stays that short: each part
/// flushed early ends a block (zstd) or a deflate block, which costs a small body a third of its bytes
/// (a nightly sync of one delivery: 206 bytes against 134 in one piece). A longer body streams from there.
public final class BodyStream {
    public let coding: ContentCoding
    private let level: Int32?
    private var gzip: GzipStream?
    private var zstd: ZstdStream?
    private var held: [UInt8] = []
    /// Bytes held before the stream starts compressing as it goes.
    static let heldBytes = 64 << 10

    init(_ coding: ContentCoding, level: Int32?) {
        self.coding = coding
        self.level = level
    }

    /// Compresses `bytes` and flushes them (once the body is past ``heldBytes``; held until then).
    public func write(_ bytes: [UInt8]) {
        if let gzip { return gzip.write(bytes) }
        if let zstd { return zstd.write(bytes) }
        held += bytes
        guard held.count >= Self.heldBytes, coding != .identity else { return }
        switch coding {
        case .identity: return
        case .gzip: gzip = GzipStream(level: level ?? Gzip.defaultLevel)
        // Past 64 KiB the dictionary gains nothing, and against one zstd picks worse parameters for a
        // body of unknown size (1–4% larger): a frame without it, which a zstd-fs1 decoder reads as well.
        case .zstd, .zstdDictionary: zstd = ZstdStream(level: level ?? Zstd.defaultLevel)
        }
        let start = held
        held = []
        if let gzip { gzip.write(start) } else { zstd?.write(start) }
    }

    /// Compresses the last bytes and returns the whole body. The stream is done.
    public func finish(_ bytes: [UInt8]) -> [UInt8] {
        if let gzip { return gzip.finish(bytes) }
        if let zstd { return zstd.finish(bytes) }
        let body = held + bytes
        switch coding {
        case .identity: return body
        case .gzip: return Gzip.compress(body, level: level ?? Gzip.defaultLevel)
        case .zstd: return Zstd.compress(body, level: level ?? Zstd.defaultLevel)
        case .zstdDictionary: return Zstd.compress(body, level: level ?? Zstd.defaultLevel, dictionary: true)
        }
    }
}
