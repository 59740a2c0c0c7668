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
    var replicaConfiguration = ReplicaConfiguration()
    replicaConfiguration.durability = configuration.durability
    let replica = try Replica(
        path: configuration.databasePath, schema: .fieldSync, configuration: replicaConfiguration, logger: logger)
    let store = try ReplicaStore(replica)
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
    var services: [any Service] = []
    if let upstream = configuration.upstream { try await ServerSettings(store: store).saveUpstream(upstream) }
    if let upstream = configuration.upstream, upstream.schedule != .manual {
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
