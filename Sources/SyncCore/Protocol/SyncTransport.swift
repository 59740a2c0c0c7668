/// Carries sync requests to a server: libcurl over HTTP in `SyncClient`, a simulated network in tests.
///
/// The session encodes (and usually compresses) the request; the transport moves the bytes and decodes
/// the answer. `exchange` blocks until the answer arrives. It throws a ``Problem`` when the server refused
/// the request with a problem document, and any other error when the request did not get through (it
/// may or may not have reached the server: the session repeats it, which is harmless).
public protocol SyncTransport: Sendable {
    func exchange(_ body: SyncRequestBody) throws -> SyncExchange
}

/// An encoded `POST /v1/sync` body.
public struct SyncRequestBody: Sendable {
    /// JSON, or a gzip member of JSON when `gzip`.
    public var bytes: [UInt8]
    public var gzip: Bool

    public init(bytes: [UInt8], gzip: Bool) {
        self.bytes = bytes
        self.gzip = gzip
    }

    /// The request as JSON, compressed when that is worth it.
    public init(_ request: SyncRequest, compressAbove: Int = 512) {
        let json = request.encoded()
        if json.count >= compressAbove {
            self.init(bytes: Gzip.compress(json), gzip: true)
        } else {
            self.init(bytes: json, gzip: false)
        }
    }

    /// The JSON, decompressed if needed (tests, in-process transports).
    public func json(limit: Int = 1 << 28) throws -> [UInt8] {
        gzip ? try Gzip.decompress(bytes, limit: limit) : bytes
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
