import FieldDomain
import Foundation
import GRDB
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

    /// The client for this device's server; `adjust` changes its configuration (retries, timeouts).
    func transport(_ adjust: (inout ClientConfiguration) -> Void = { _ in }) throws -> CurlTransport {
        guard let server, let token = try replica.setting(Key.token) else {
            throw CLIError("This device is not enrolled with a server: field init --server URL --token-file FILE")
        }
        var configuration = ClientConfiguration(serverURL: server, token: token)
        configuration.caFile = try replica.setting(Key.caFile)
        adjust(&configuration)
        return CurlTransport(configuration: configuration, logger: Self.quietLogger)
    }

    /// Finds a family by id or reference code; nil when none.
    ///
    /// A reference is compared as typed first, then with Unicode case folding (`fès-00003` finds `FÈS-00003`),
    /// then as ``TextMatch/normalize(_:)`` compares names (accents, dashes and spaces aside): the first
    /// comparison that finds a family decides. When it finds several (a family merged into another aside),
    /// none is guessed: the error names them, so that the volunteer gives the one meant.
    func family(_ ref: String) throws -> [String: Value]? {
        if let record = try replica.record("families", id: ref), record["_deleted"] != .integer(1) {
            return record.merging(["id": .text(ref)]) { a, _ in a }
        }
        let families = try replica.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, reference, merged_into IS NOT NULL AS merged FROM families
                    WHERE reference IS NOT NULL AND _deleted IS NULL ORDER BY id
                    """
            ).map { row in
                (
                    id: row["id"] as String? ?? "", reference: row["reference"] as String? ?? "",
                    merged: row["merged"] as Bool? ?? false
                )
            }
        }
        let comparisons: [(String) -> String] = [
            { $0 }, { $0.folding(options: .caseInsensitive, locale: nil) }, TextMatch.normalize,
        ]
        func record(_ id: String) throws -> [String: Value]? {
            try replica.record("families", id: id)?.merging(["id": .text(id)]) { a, _ in a }
        }
        for key in comparisons {
            let wanted = key(ref)
            let found = families.filter { key($0.reference) == wanted }
            let kept = found.filter { !$0.merged }
            let candidates = kept.isEmpty ? found : kept
            if candidates.count == 1 { return try record(candidates[0].id) }
            if candidates.count > 1 {
                let named = candidates.map { "\($0.reference) (id \($0.id))" }.joined(separator: ", ")
                throw CLIError(
                    "'\(ref)' could be any of \(candidates.count) families: \(named). Give the reference exactly as "
                        + "it is written, or the id.",
                    records: ["candidates": try candidates.compactMap { try record($0.id) }])
            }
        }
        return nil
    }

    func requireFamily(_ ref: String) throws -> [String: Value] {
        guard let family = try family(ref) else {
            throw CLIError("No family '\(ref)' on this device. Find it with: field family list --search TEXT")
        }
        return family
    }
}
