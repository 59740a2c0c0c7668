public import SyncCore

/// How the client talks to a server. Every property documents its default.
public struct ClientConfiguration: Sendable {
    /// The server's base URL, e.g. `https://hub.tunis.example.org` (no trailing path needed).
    public var serverURL: String
    /// The bearer token (sent in the `Authorization` header only; never logged).
    public var token: String
    /// How long to wait for a connection. Default 20 s (a 2G link takes seconds).
    public var connectTimeoutSeconds: Double = 20
    /// How long one request may take in all. Default 300 s.
    public var totalTimeoutSeconds: Double = 300
    /// Below this many bytes per second for `lowSpeedSeconds`, the link is dead. Default 16 B/s.
    public var lowSpeedBytesPerSecond = 16
    /// Default 45 s.
    public var lowSpeedSeconds = 45
    /// A PEM file of CA certificates to trust instead of the system's. Default nil (the system's).
    /// Certificate and host name verification are always on.
    public var caFile: String?
    /// Attempts per request on transient failures (offline, timeout, cut, 5xx, 408, 429). Default 5.
    public var attempts = 5
    /// First retry delay; it doubles each attempt, with jitter, up to `maxBackoffSeconds`. Default 0.5 s.
    public var backoffSeconds: Double = 0.5
    /// Default 30 s.
    public var maxBackoffSeconds: Double = 30
    /// Bodies at least this large are sent compressed. Default 512 bytes.
    public var compressAbove = 512
    /// The coding of request bodies until an answer's `Accept-Encoding` names the best one the server
    /// takes: a device keeps what it learnt in an earlier sync, so that a new process does not send its
    /// first (often only) request in gzip, a quarter larger than zstd. Default gzip (every FieldSync server
    /// takes it).
    public var requestCoding = ContentCoding.gzip
    /// Largest answer body once decompressed; a larger one is refused (`.invalidResponse`). Default 64 MiB
    /// (a pulled page is about 1 MiB).
    public var maxAnswerBytes = 64 << 20
    /// Sent as `User-Agent`. Default "fieldsync/<version>".
    public var userAgent = "fieldsync/\(FieldSyncVersion.current)"

    public init(serverURL: String, token: String) {
        self.serverURL = serverURL
        self.token = token
    }
}
