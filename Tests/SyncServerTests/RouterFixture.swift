import FieldDomain
import Foundation
import Hummingbird
import Logging
import SyncCore
import SyncServer

/// A server's replica on a temporary file, its tokens issued as `sync-server token issue` does, and the
/// application built on it by the server's own composition root.
struct RouterFixture {
    /// swift-metrics is bootstrapped once per process: every application of the tests shares this registry.
    static let metrics = ServerMetrics.bootstrap()

    let directory: URL
    let databasePath: String
    /// The server's node id (the replica file's).
    let serverNode: NodeID
    private let store: ReplicaStore

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "router-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        databasePath = directory.appendingPathComponent("central.db").path
        let replica = try Replica(path: databasePath, schema: .fieldSync, logger: quietLogger)
        serverNode = replica.nodeID
        store = try ReplicaStore(replica)
    }

    /// Issues a token into the replica file and returns it (`fs1_…`).
    func issue(_ role: Principal.Role, city: String?, name: String) async throws -> String {
        let issued = Tokens.make(role: role, city: city, name: name, now: Int64(clamping: SystemClock().nowMillis()))
        try await store.addToken(issued.record, hash: Tokens.hash(issued.token))
        return issued.token
    }

    /// The application `sync-server serve` would run on this replica (default configuration, no upstream).
    func makeApplication() async throws -> some ApplicationProtocol {
        try await buildApplication(
            configuration: ServerConfiguration(databasePath: databasePath), logger: quietLogger,
            metrics: Self.metrics)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

let quietLogger = Logger(label: "router-tests") { _ in SwiftLogNoOpLogHandler() }
