import ArgumentParser
import Foundation
import Hummingbird
import SyncCore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract:
            "Serve the store: central (a replica file, or PostgreSQL with --store), or a city hub with --upstream.",
        discussion: """
            Prints "listening on http://HOST:PORT" once ready (with --port 0, a free port is chosen).
            Examples:
              sync-server serve --db central.db
              FIELDSYNC_PG_PASSWORD=… sync-server serve --store postgres://fieldsync@db:5432/central --port 8080
              sync-server serve --db hub.db --port 8081 --upstream http://127.0.0.1:8080 \\
                  --upstream-token-file hub.token --sync-every 6h
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 8080
    @Option(help: "Hub mode: the upstream server's URL.") var upstream: String?
    @Option(help: "Hub mode: file holding the hub's token for the upstream server.") var upstreamTokenFile: String?
    @Option(help: "Hub mode: CA certificates (PEM) for the upstream's TLS.") var upstreamCaFile: String?
    @Option(help: "Hub mode: sync upstream daily at HH:MM (UTC).") var syncAt: String?
    @Option(help: "Hub mode: sync upstream every interval (90s, 30m, 6h, 1d).") var syncEvery: String?
    @Option(help: "SQLite durability: full (default; survives power loss), normal.") var durability = "full"
    @Option(help: "Largest request body in bytes (compressed).") var maxBodyBytes = 8 << 20
    @Option(help: "Largest request body in bytes once decompressed.") var maxDecompressedBytes = 64 << 20
    @Option(help: "Seconds a client may take to send its body (a slower one gets 408) or leave its answer unread.")
    var bodyTimeout: Double = 30
    @Option(help: "Requests per second per token.") var rateLimit: Double = 50
    @Option(help: "Open connections at most (default: the descriptor limit less 128, at most 4096).")
    var maxConnections: Int?
    @Option(help: "Open connections from one client address (IPv6: a /64) at most; 0: no limit.")
    var maxConnectionsPerAddress = 32
    @Option(help: "Failed authentications a minute from one client address before it gets 429; 0: no limit.")
    var maxAuthFailures = 100
    @Option(help: "Bytes a second a token's bodies may decompress to (bursts: 2 × the maximum); 0: no limit.")
    var maxDecompressedBytesPerSecond = 32 << 20

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535, found \(port).") }
        guard ["full", "normal"].contains(durability) else {
            throw ValidationError("--durability must be full or normal.")
        }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024.") }
        guard maxDecompressedBytes >= maxBodyBytes else {
            throw ValidationError("--max-decompressed-bytes must be at least --max-body-bytes (\(maxBodyBytes)).")
        }
        guard bodyTimeout >= 1, bodyTimeout <= 3600 else {
            throw ValidationError("--body-timeout must be 1…3600 seconds, found \(bodyTimeout).")
        }
        guard rateLimit > 0 else { throw ValidationError("--rate-limit must be positive.") }
        let descriptors = ServerConfiguration.descriptorLimit()
        if let maxConnections,
            maxConnections < 1 || maxConnections > descriptors - ServerConfiguration.reservedDescriptors
        {
            throw ValidationError(
                "--max-connections must be 1…\(descriptors - ServerConfiguration.reservedDescriptors), found "
                    + "\(maxConnections): this process may open \(descriptors) descriptors (ulimit -n) and keeps "
                    + "\(ServerConfiguration.reservedDescriptors) for its files. Raise the limit or lower the option.")
        }
        guard maxConnectionsPerAddress >= 0 else {
            throw ValidationError("--max-connections-per-address must be 0 (no limit) or more.")
        }
        guard maxAuthFailures >= 0 else { throw ValidationError("--max-auth-failures must be 0 (no limit) or more.") }
        guard maxDecompressedBytesPerSecond >= 0 else {
            throw ValidationError("--max-decompressed-bytes-per-second must be 0 (no limit) or more.")
        }
        if upstream != nil, database.store != nil {
            throw ValidationError("A hub keeps a replica file: --upstream goes with --db, not --store.")
        }
        if upstream != nil, upstreamTokenFile == nil {
            throw ValidationError("--upstream needs --upstream-token-file (the hub's token for the upstream server).")
        }
        if upstream == nil, upstreamTokenFile != nil || syncAt != nil || syncEvery != nil {
            throw ValidationError("--upstream-token-file, --sync-at and --sync-every need --upstream.")
        }
        if syncAt != nil, syncEvery != nil { throw ValidationError("Give --sync-at or --sync-every, not both.") }
        _ = try schedule()
    }

    func schedule() throws -> UpstreamConfiguration.Schedule {
        if let syncAt {
            let parts = syncAt.split(separator: ":")
            guard parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]), (0..<24).contains(hours),
                (0..<60).contains(minutes)
            else { throw ValidationError("--sync-at must be HH:MM (24 h, UTC), found '\(syncAt)'.") }
            return .dailyAt(minutes: hours * 60 + minutes)
        }
        if let syncEvery {
            guard let seconds = Self.parseInterval(syncEvery), seconds >= 10 else {
                throw ValidationError(
                    "--sync-every must be an interval of at least 10s like 90s, 30m, 6h, 1d; found '\(syncEvery)'.")
            }
            return .every(seconds: seconds)
        }
        return .manual
    }

    static func parseInterval(_ text: String) -> Int? {
        guard let unit = text.last, let value = Int(text.dropLast()), value > 0 else { return nil }
        switch unit {
        case "s": return value
        case "m": return value * 60
        case "h": return value * 3600
        case "d": return value * 86_400
        default: return nil
        }
    }

    func run() async throws {
        let logger = database.makeLogger("fieldsync.server")
        var configuration = ServerConfiguration(store: try database.location())
        configuration.host = host
        configuration.port = port
        configuration.durability = durability == "normal" ? .normal : .full
        configuration.maxBodyBytes = maxBodyBytes
        configuration.maxDecompressedBytes = maxDecompressedBytes
        configuration.bodyTimeoutSeconds = bodyTimeout
        configuration.ratePerSecond = rateLimit
        configuration.rateBurst = max(rateLimit * 4, 20)
        if let maxConnections { configuration.maxConnections = maxConnections }
        configuration.maxConnectionsPerAddress = maxConnectionsPerAddress
        configuration.maxAuthFailuresPerMinute = maxAuthFailures
        configuration.maxDecompressedBytesPerSecond = maxDecompressedBytesPerSecond
        if let upstream, let upstreamTokenFile {
            let tokenPath = URL(fileURLWithPath: upstreamTokenFile).standardizedFileURL.path
            configuration.upstream = UpstreamConfiguration(
                url: upstream, tokenFile: tokenPath, schedule: try schedule(), caFile: upstreamCaFile)
            do {
                _ = try UpstreamService.readToken(tokenPath)
            } catch let error as SyncError {
                throw fail(error.message)
            }
        }
        let metrics = ServerMetrics.bootstrap()
        let host = self.host
        let app: any ApplicationProtocol
        do {
            app = try await buildApplication(configuration: configuration, logger: logger, metrics: metrics) { port in
                FileHandle.standardOutput.write(Data("listening on http://\(host):\(port)\n".utf8))
            }
        } catch let error as SyncError {
            throw fail(error.message)
        }
        try await app.runService()
    }
}
