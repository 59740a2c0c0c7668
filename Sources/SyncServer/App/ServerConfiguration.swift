import SyncCore

/// How a `sync-server` runs. Every property documents its default.
struct ServerConfiguration: Sendable {
    /// The replica file (created with mode 0600 if missing).
    var databasePath: String
    /// Default 127.0.0.1: put a TLS-terminating proxy in front for the Internet.
    var host = "127.0.0.1"
    /// Default 8080; 0 picks a free port (printed at start).
    var port = 8080
    /// The largest request body accepted on the wire (compressed). Default 8 MiB.
    var maxBodyBytes = 8 << 20
    /// The largest request body once decompressed. Default 64 MiB.
    var maxDecompressedBytes = 64 << 20
    /// Record changes per pushed batch at most. Default 10,000.
    var maxBatchRecords = 10_000
    /// Requests per second per token, sustained; bursts up to `rateBurst`. Default 50 and 200.
    var ratePerSecond: Double = 50
    var rateBurst: Double = 200
    /// How long a client may take to send its request body (slow clients get 408). Default 30 s.
    var bodyTimeoutSeconds: Double = 30
    /// Idle keep-alive connections are closed after this. Default 75 s.
    var idleTimeoutSeconds: Int64 = 75
    /// `full` on central and devices (an acknowledged write survives power loss). Default full.
    var durability: ReplicaConfiguration.Durability = .full
    /// Hub mode: the upstream server to sync with, and when.
    var upstream: UpstreamConfiguration?
}

/// A hub's link to the server above it.
struct UpstreamConfiguration: Sendable {
    var url: String
    var tokenFile: String
    var schedule: Schedule
    /// Optional CA file for the upstream's TLS certificate.
    var caFile: String?

    enum Schedule: Sendable, Equatable {
        /// Every so many seconds.
        case every(seconds: Int)
        /// Daily at this time (UTC), minutes after midnight.
        case dailyAt(minutes: Int)
        /// Only when `sync-server sync-upstream` is run.
        case manual
    }
}
