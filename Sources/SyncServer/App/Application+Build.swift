import CentralPostgres
import FieldDomain
import Foundation
package import Hummingbird
package import Logging
import NIOCore
import ServiceLifecycle
import SyncCore

/// The composition root: the store, the routes, the hub's upstream task.
///
/// `onRunning` gets the bound port (useful with port 0). The caller runs the returned application.
package func buildApplication(
    configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics,
    onRunning: @escaping @Sendable (Int) -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let (store, replica, storeServices) = try await openStore(configuration, logger: logger)
    let service = SyncService(store: store, logger: logger)
    let controller = SyncController(
        service: service,
        limiter: RateLimiter(perSecond: configuration.ratePerSecond, burst: configuration.rateBurst),
        failures: configuration.maxAuthFailuresPerMinute > 0
            ? RateLimiter(
                perSecond: Double(configuration.maxAuthFailuresPerMinute) / 60,
                burst: Double(configuration.maxAuthFailuresPerMinute)) : nil,
        decompression: configuration.maxDecompressedBytesPerSecond > 0
            ? RateLimiter(
                perSecond: Double(configuration.maxDecompressedBytesPerSecond),
                burst: 2 * Double(configuration.maxDecompressedBytes)) : nil,
        metrics: metrics, configuration: configuration)
    let router = Router(context: ServerContext.self)
    router.add(middleware: ProblemMiddleware(metrics: metrics))
    controller.addRoutes(to: router)
    var services: [any Service] = storeServices
    if let upstream = configuration.upstream { try await ServerSettings(store: store).saveUpstream(upstream) }
    if let upstream = configuration.upstream, let replica, upstream.schedule != .manual {
        services.append(UpstreamService(replica: replica, upstream: upstream, metrics: metrics, logger: logger))
    }
    // Every connection gets a guard of its own, all sharing one registry of open connections.
    let connections = ConnectionRegistry(
        maxConnections: configuration.maxConnections, maxPerAddress: configuration.maxConnectionsPerAddress)
    let limits = ConnectionGuard.Limits(
        maxInFlight: configuration.maxRequestsInFlight,
        stallTimeout: .milliseconds(Int64(configuration.bodyTimeoutSeconds * 1000)))
    return Application(
        router: router,
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionGuard(registry: connections, limits: limits, metrics: metrics)],
                idleTimeout: .seconds(configuration.idleTimeoutSeconds))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: services,
        onServerRunning: { channel in
            onRunning(channel.localAddress?.port ?? configuration.port)
        },
        logger: logger
    )
}

/// The server's store: the replica file (also returned, for a hub's upstream sync), or central's PostgreSQL
/// database with the service that closes its pool once the server has stopped (services stop in reverse
/// order, the HTTP server first).
private func openStore(
    _ configuration: ServerConfiguration, logger: Logger
) async throws -> (any SyncStore, Replica?, [any Service]) {
    switch configuration.store {
    case .replica(let path):
        var replicaConfiguration = ReplicaConfiguration()
        replicaConfiguration.durability = configuration.durability
        let replica = try Replica(path: path, schema: .fieldSync, configuration: replicaConfiguration, logger: logger)
        return (try ReplicaStore(replica), replica, [])
    case .postgres(let postgres):
        guard configuration.upstream == nil else {
            throw SyncError(.schema, "A hub keeps a replica file (--db): PostgreSQL is central's store.")
        }
        let database = try PostgresDatabase(postgres, logger: logger)
        do {
            let store = try await PostgresStore(database, schema: .fieldSync)
            logger.notice(
                "central on PostgreSQL",
                metadata: [
                    "store": "\(postgres)", "store.pool": "\(postgres.poolSize)",
                    "store.statement_timeout": "\(postgres.statementTimeout)", "node": "\(store.nodeID)",
                ])
            return (store, nil, [PoolService(database: database)])
        } catch {
            await database.shutdown()
            throw error
        }
    }
}

/// Closes central's PostgreSQL pool once the server is asked to stop (after the HTTP server: see
/// ``openStore(_:logger:)``).
private struct PoolService: Service {
    let database: PostgresDatabase

    func run() async throws {
        try? await gracefulShutdown()
        await database.shutdown()
    }
}
