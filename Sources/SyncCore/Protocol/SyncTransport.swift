/// Carries sync requests to a server: libcurl over HTTP in `SyncClient`, a simulated network in tests.
///
/// `exchange` blocks until the answer arrives. It throws a ``Problem`` when the server refused the
/// request with a problem document, and any other error when the request did not get through (it may
/// or may not have reached the server: the session repeats it, which is harmless).
public protocol SyncTransport: Sendable {
    func exchange(_ request: SyncRequest) throws -> SyncExchange
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
