/// Carries sync requests to a server: libcurl over HTTP in `SyncClient`, a simulated network in tests.
///
/// The session encodes (and usually compresses) the request; the transport moves the bytes and decodes
/// the answer. `exchange` blocks until the answer arrives. It throws a ``Problem`` when the server refused
/// the request with a problem document, and any other error when the request did not get through (it
/// may or may not have reached the server: the session repeats it, which is harmless).
public protocol SyncTransport: Sendable {
    func exchange(_ body: SyncRequestBody) throws -> SyncExchange
    /// The coding to compress requests in: what the server is known to take. Default gzip.
    var requestCoding: ContentCoding { get }
    /// Whether `exchange` may run on two threads at once (two requests in flight, each on its own
    /// connection). Default false: the session then sends one request at a time.
    var allowsConcurrentExchanges: Bool { get }
}

extension SyncTransport {
    public var requestCoding: ContentCoding { .gzip }
    public var allowsConcurrentExchanges: Bool { false }
}

/// An encoded `POST /v1/sync` body.
public struct SyncRequestBody: Sendable {
    /// JSON, compressed in `coding`.
    public var bytes: [UInt8]
    public var coding: ContentCoding

    public init(bytes: [UInt8], coding: ContentCoding) {
        self.bytes = bytes
        self.coding = coding
    }

    public init(bytes: [UInt8], gzip: Bool) {
        self.init(bytes: bytes, coding: gzip ? .gzip : .identity)
    }

    /// The request as JSON, compressed in `coding` when that is worth it.
    public init(_ request: SyncRequest, coding: ContentCoding = .gzip, compressAbove: Int = 512) {
        let json = request.encoded()
        if json.count >= compressAbove {
            self.init(bytes: coding.compress(json), coding: coding)
        } else {
            self.init(bytes: json, coding: .identity)
        }
    }

    /// Whether the body is gzip.
    public var gzip: Bool { coding == .gzip }

    /// The JSON, decompressed if needed (tests, in-process transports).
    public func json(limit: Int = 1 << 28) throws -> [UInt8] {
        try coding.decompress(bytes, limit: limit)
    }
}

/// A server's answer and what it cost on the wire.
public struct SyncExchange: Sendable {
    public var response: SyncResponse
    /// Bytes sent and received on the wire (compressed bodies and headers), for the summary.
    public var bytesSent: Int
    public var bytesReceived: Int

    public init(response: SyncResponse, bytesSent: Int = 0, bytesReceived: Int = 0) {
        self.response = response
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
    }
}
