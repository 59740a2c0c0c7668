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

    init(name: String, city: String, directory: URL, server: String, token: String, attempts: Int = 3) throws {
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
        client.backoffSeconds = 0.02
        client.maxBackoffSeconds = 0.2
        client.connectTimeoutSeconds = 5
        client.totalTimeoutSeconds = 30
        transport = CurlTransport(configuration: client, logger: quietLogger)
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
