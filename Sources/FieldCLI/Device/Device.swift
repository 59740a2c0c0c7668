import Foundation
import Logging
import SyncClient
import SyncCore

/// An enrolled device: its replica and its settings (server, token, city, volunteer).
struct Device {
    static let quietLogger = Logger(label: "field") { _ in SwiftLogNoOpLogHandler() }

    enum Key {
        static let server = "server"
        static let token = "token"
        static let city = "city"
        static let volunteer = "volunteer"
        static let association = "association"
        static let role = "role"
        static let caFile = "ca_file"
    }

    let replica: Replica

    var server: String? { (try? replica.setting(Key.server)) ?? nil }
    var city: String? { (try? replica.setting(Key.city)) ?? nil }
    var role: String { ((try? replica.setting(Key.role)) ?? nil) ?? "device" }
    /// The volunteer's association (set at `field init --association`), kept on each delivery.
    var association: String? { (try? replica.setting(Key.association)) ?? nil }
    var volunteer: String { ((try? replica.setting(Key.volunteer)) ?? nil) ?? "volunteer" }

    /// The city this device works in, or a clear error.
    func requireCity() throws -> String {
        guard let city else {
            throw CLIError(
                "This device does not know its city yet: run `field sync` once online, or `field init … --city NAME`.")
        }
        return city
    }

    func transport() throws -> CurlTransport {
        guard let server, let token = try replica.setting(Key.token) else {
            throw CLIError("This device is not enrolled with a server: field init --server URL --token-file FILE")
        }
        var configuration = ClientConfiguration(serverURL: server, token: token)
        configuration.caFile = try replica.setting(Key.caFile)
        return CurlTransport(configuration: configuration, logger: Self.quietLogger)
    }

    /// Finds a family by id or reference code (case-insensitive); nil when none.
    func family(_ ref: String) throws -> [String: Value]? {
        if let record = try replica.record("families", id: ref), record["_deleted"] != .integer(1) {
            return record.merging(["id": .text(ref)]) { a, _ in a }
        }
        let id = try replica.read { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT id FROM families WHERE reference = ? COLLATE NOCASE AND _deleted IS NULL ORDER BY id LIMIT 1
                    """, arguments: [ref])
        }
        guard let id, let record = try replica.record("families", id: id) else { return nil }
        return record.merging(["id": .text(id)]) { a, _ in a }
    }

    func requireFamily(_ ref: String) throws -> [String: Value] {
        guard let family = try family(ref) else {
            throw CLIError("No family '\(ref)' on this device. Find it with: field family list --search TEXT")
        }
        return family
    }
}
