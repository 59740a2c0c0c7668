import FieldDomain
import Foundation
import Logging
import SyncClient
import SyncCore

let quietLogger = Logger(label: "e2e") { _ in SwiftLogNoOpLogHandler() }

/// A volunteer's device in the test process: a replica file and the real libcurl client.
struct TestDevice {
    let name: String
    let city: String
    let replica: Replica
    let transport: CurlTransport

    /// A device on `directory/NAME.db`; its client tries each request `attempts` times, waiting from
    /// `backoffSeconds` up to `maxBackoffSeconds` between tries (and at least a 503's `Retry-After`, up to
    /// that maximum).
    init(
        name: String, city: String, directory: URL, server: String, token: String, attempts: Int = 3,
        backoffSeconds: Double = 0.02, maxBackoffSeconds: Double = 0.2
    ) throws {
        self.name = name
        self.city = city
        var configuration = ReplicaConfiguration()
        configuration.durability = .normal
        replica = try Replica(
            path: directory.appendingPathComponent("\(name).db").path, schema: .fieldSync, configuration: configuration,
            logger: quietLogger
        )
        var client = ClientConfiguration(serverURL: server, token: token)
        client.attempts = attempts
        client.backoffSeconds = backoffSeconds
        client.maxBackoffSeconds = maxBackoffSeconds
        client.connectTimeoutSeconds = 5
        client.totalTimeoutSeconds = 30
        transport = CurlTransport(configuration: client, logger: quietLogger)
    }

    private init(name: String, city: String, replica: Replica, transport: CurlTransport) {
        self.name = name
        self.city = city
        self.replica = replica
        self.transport = transport
    }

    /// The same device (its replica, its token, its client's settings) syncing with another server.
    func syncing(with server: String) -> TestDevice {
        var client = transport.configuration
        client.serverURL = server
        return TestDevice(
            name: name, city: city, replica: replica,
            transport: CurlTransport(configuration: client, logger: quietLogger))
    }

    @discardableResult
    func sync(batchSize: Int = 200) throws -> SyncSummary {
        var session = SyncSession(replica: replica, transport: transport, peer: "upstream", logger: quietLogger)
        session.batchSize = batchSize
        return try session.run()
    }

    /// Registers families and logs deliveries offline; returns the family ids.
    @discardableResult
    func work(families: Int, deliveriesEach: Int) throws -> [String] {
        let name = self.name
        let city = self.city
        return try replica.write { tx in
            var ids: [String] = []
            for f in 0..<families {
                let id = try tx.addFamily(
                    NewFamily(city: city, reference: "\(name)-\(f)", headName: "عائلة \(name) \(f)", phone: "0600\(f)"))
                ids.append(id)
                for d in 0..<deliveriesEach {
                    _ = try tx.logDelivery(
                        NewDelivery(
                            city: city, family: id, item: d % 2 == 0 ? .foodPack : .internetRecharge, quantity: 1,
                            campaign: "winter", deliveredAt: 1_780_000_000_000 + UInt64(d), volunteer: name))
                }
            }
            return ids
        }
    }

    func count(_ table: String) throws -> Int {
        try replica.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
    }

    func cities(_ table: String) throws -> Set<String> {
        try replica.read { db in try String.fetchSet(db, sql: "SELECT DISTINCT city FROM \(table)") }
    }
}
