import FieldDomain
import Foundation
import SyncClient
import SyncCore
import Testing

/// Syncs through a proxy that cuts connections at random byte offsets: every sync completes in the end,
/// nothing is applied twice or lost, and what is re-sent stays within one batch per cut.
@Suite("Faults", .serialized)
struct FaultTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["FIELDSYNC_SEED"].flatMap { UInt64($0) } ?? 20_261_125

    static func metric(_ name: String, _ server: ServerProcess) throws -> Int {
        let transport = CurlTransport(
            configuration: ClientConfiguration(serverURL: server.url, token: ""), logger: quietLogger)
        let text = String(
            decoding: try transport.raw(method: "GET", path: "/metrics", headers: [], body: nil).body, as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    @Test func syncsCutAtRandomBytesCompleteWithoutLossOrDuplication() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("central.db").path
        let writerToken = try issueToken(db: db, role: "device", city: "Tunis", name: "writer", directory: directory)
        let readerToken = try issueToken(db: db, role: "device", city: "Tunis", name: "reader", directory: directory)
        let server = try ServerProcess(database: db)
        defer { server.stop() }
        let proxy = try FaultProxy(targetPort: server.port, seed: Self.seed)
        defer { proxy.stop() }
        let writer = try TestDevice(
            name: "writer", city: "Tunis", directory: directory, server: proxy.url, token: writerToken.token)
        let reader = try TestDevice(
            name: "reader", city: "Tunis", directory: directory, server: proxy.url, token: readerToken.token)
        let batchSize = 40
        var logged = 0
        var failedSyncs = 0
        var round = 0
        func syncToEnd(_ device: TestDevice) -> Bool {
            for _ in 0..<200 {
                do {
                    try device.sync(batchSize: batchSize)
                    return true
                } catch {
                    failedSyncs += 1
                }
            }
            Issue.record("seed \(Self.seed): a sync never completed")
            return false
        }
        while proxy.cuts < 60 || round < 4 {
            round += 1
            let families = try writer.work(families: 30, deliveriesEach: 2)
            logged += 30 * 2
            try writer.replica.write { tx in
                for id in families.prefix(10) { try tx.editFamily(id, ["phone": .text("07\(round)")]) }
            }
            for device in [writer, reader] {
                guard syncToEnd(device) else { return }
            }
            #expect(round < 40, "seed \(Self.seed): too few cuts")
            if round >= 40 { break }
        }
        // Through the proxy no more: one clean sync each, then all three hold exactly the same.
        proxy.cutting = false
        guard syncToEnd(writer), syncToEnd(reader) else { return }
        let central = try Replica(path: db, schema: .fieldSync, logger: quietLogger)
        #expect(try central.dump() == writer.replica.dump(), "seed \(Self.seed)")
        #expect(try reader.replica.dump() == writer.replica.dump(), "seed \(Self.seed)")
        #expect(try central.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM deliveries") } == logged)
        #expect(try central.integrityCheck() == "ok")
        // Re-sent records: at most one batch per cut (a batch the server applied but whose answer was lost).
        let received = try Self.metric("fieldsync_changes_in_total", server)
        let unique = logged + round * 30  // deliveries, families (edited before their first sync: one record)
        #expect(received >= unique)
        #expect(received - unique <= proxy.cuts * batchSize, "seed \(Self.seed): \(received - unique) re-sent")
        print(
            "fault test: seed \(Self.seed), \(proxy.cuts) cuts over \(proxy.connections) connections, \(failedSyncs) syncs failed and resumed, \(received - unique) records re-sent"
        )
    }

    /// A link cut inside the answer's headers (libcurl then reports success, with a status and no body) is
    /// a cut like any other: retried, never taken for a server that is not FieldSync.
    @Test func aCutInsideTheResponseHeadersIsRetried() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("central.db").path
        let token = try issueToken(db: db, role: "device", city: "Tunis", name: "amina", directory: directory)
        let server = try ServerProcess(database: db)
        defer { server.stop() }
        let proxy = try FaultProxy(targetPort: server.port, seed: Self.seed)
        defer { proxy.stop() }
        proxy.cutting = false
        // The client on its own: the cut is a lost connection, which a retry may get past.
        var configuration = ClientConfiguration(serverURL: proxy.url, token: token.token)
        configuration.attempts = 1
        proxy.cutInResponseHeaders(connections: 1)
        do {
            _ = try CurlTransport(configuration: configuration, logger: quietLogger).send(
                method: "GET", path: "/v1/session")
            Issue.record("a cut answer was taken for a whole one")
        } catch let error as SyncClientError {
            #expect(error.kind == .connectionLost && error.isTransient, "\(error.kind): \(error.message)")
        }
        #expect(proxy.cuts == 1)
        // `field` through it: init, whose check's answer is cut (it enrols all the same), and a sync whose
        // first answer is cut in its headers.
        let device = directory.appendingPathComponent("amina.db").path
        proxy.cutInResponseHeaders(connections: 1)
        let enrolled = try run(
            Binaries.field,
            ["init", "--server", proxy.url, "--token-file", token.file, "--city", "Tunis", "--db", device])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        #expect(proxy.cuts == 2)
        #expect(
            try run(Binaries.field, ["family", "add", "--reference", "TUN-1", "--head", "Fatma", "--db", device])
                .status == 0)
        proxy.cutInResponseHeaders(connections: 1)
        let synced = try run(Binaries.field, ["sync", "--db", device])
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect(!synced.stderr.contains("not a FieldSync"))
        #expect(proxy.cuts == 3)
        let central = try Replica(path: db, schema: .fieldSync, logger: quietLogger)
        #expect(try central.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM families") } == 1)
    }
}
