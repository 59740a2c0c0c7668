package import CentralPostgres
import Foundation
import SyncCore

/// How a `sync-server` runs. Every property documents its default.
package struct ServerConfiguration: Sendable {
    /// Where the server keeps its data.
    package enum Store: Sendable {
        /// An embedded SQLite replica: this file (created with mode 0600 if missing). A hub's, or a central's
        /// that needs nothing else to start.
        case replica(path: String)
        /// Central's PostgreSQL database, shared by every instance in front of it (migrated at start).
        case postgres(PostgresStoreConfiguration)
    }

    var store: Store
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
    /// How long a client may take to send its request body (slow clients get 408), and how long it may
    /// leave its answer unread (the connection is closed). Default 30 s.
    var bodyTimeoutSeconds: Double = 30
    /// Idle keep-alive connections are closed after this. Default 75 s.
    var idleTimeoutSeconds: Int64 = 75
    /// Open connections at most: past it, a new connection takes the place of the one idle the longest, or
    /// is closed at once when none is idle. Default: the descriptor limit (`ulimit -n`) less 128 kept for
    /// files, at most 4,096 (896 under the common limit of 1,024).
    var maxConnections = ServerConfiguration.connectionsWithinDescriptorLimit()
    /// Open connections from one client address (an IPv6 /64) at most, likewise; 0: no limit. Default 32.
    var maxConnectionsPerAddress = 32
    /// Requests a connection may have unanswered (pipelined) at most; one more closes it. Default 16.
    var maxRequestsInFlight = 16
    /// Failed authentications one client address may make a minute (bursts of as many); past them its
    /// requests get 429 before their token is checked. 0: no limit. Default 100.
    var maxAuthFailuresPerMinute = 100
    /// Bytes per second a token's request bodies may decompress to (an uncompressed body counts its size),
    /// sustained, with bursts of twice `maxDecompressedBytes`; past it, 429. 0: no limit. Default 32 MiB.
    var maxDecompressedBytesPerSecond = 32 << 20
    /// `full` on central and devices (an acknowledged write survives power loss). Default full.
    var durability: ReplicaConfiguration.Durability = .full
    /// Hub mode: the upstream server to sync with, and when.
    var upstream: UpstreamConfiguration?

    /// Every default, serving the replica at `databasePath`.
    package init(databasePath: String) { self.store = .replica(path: databasePath) }

    /// Every default, serving `store`.
    package init(store: Store) { self.store = store }
}

extension ServerConfiguration {
    /// Descriptors kept for everything but client connections: the replica and its WAL (one set per
    /// pooled SQLite connection), the token lookup, the event loops, logs and a hub's upstream client.
    static let reservedDescriptors = 128

    /// The soft descriptor limit of this process (`ulimit -n`).
    static func descriptorLimit() -> Int {
        var limit = rlimit()
        #if os(Linux)
            guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        #else
            guard getrlimit(RLIMIT_NOFILE, &limit) == 0 else { return 1024 }
        #endif
        return Int(clamping: limit.rlim_cur)  // RLIM_INFINITY (all ones) clamps to Int.max
    }

    /// As many connections as the descriptor limit leaves room for, at most 4,096 (at least 16).
    static func connectionsWithinDescriptorLimit() -> Int {
        max(16, min(4096, descriptorLimit() - reservedDescriptors))
    }
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
