public import SyncCore

/// Why a request to a sync server failed, with a message a volunteer can act on.
public struct SyncClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// No network, or nothing listening at the server's address.
        case offline
        /// The server's name does not resolve.
        case dns
        /// The server did not answer in time, or the link was too slow.
        case timeout
        /// The TLS handshake or the server's certificate failed.
        case tls
        /// The connection broke before the answer was complete.
        case connectionLost
        /// The server refused the request (4xx); `problem` says why.
        case refused
        /// The server failed (5xx).
        case serverError
        /// The answer was not a FieldSync response.
        case invalidResponse
        /// The client is misconfigured (bad URL, unreadable CA file).
        case configuration
    }

    public var kind: Kind
    public var message: String
    /// The HTTP status, when the server answered.
    public var status: Int?
    /// The server's problem document, when it sent one.
    public var problem: Problem?
    /// libcurl's error code, when the failure was below HTTP.
    public var curlCode: Int?
    /// How long the server asked to wait (`Retry-After`), if it did.
    public var retryAfterSeconds: Double?

    public init(_ kind: Kind, _ message: String, status: Int? = nil, problem: Problem? = nil, curlCode: Int? = nil) {
        self.kind = kind
        self.message = message
        self.status = status
        self.problem = problem
        self.curlCode = curlCode
    }

    public var description: String { message }

    /// Whether repeating the request later may succeed (the retry loop's rule).
    public var isTransient: Bool {
        switch kind {
        // 507: the server's disk is full; it will not be freed in seconds, so the volunteer hears it at once.
        case .serverError: status != 507
        case .offline, .timeout, .connectionLost: true
        case .refused: status == 408 || status == 429
        case .dns, .tls, .invalidResponse, .configuration: false
        }
    }
}
