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
        switch try FamilyDirectory(replica.records).find(ref) {
        case .found(let record): return record
        case .missing: return nil
        case .ambiguous(let candidates):
            let named = candidates.map {
                "\($0["reference"]?.textValue ?? "?") (id \($0["id"]?.textValue ?? "?"))"
            }.joined(separator: ", ")
            throw CLIError(
                "'\(ref)' could be any of \(candidates.count) families: \(named). Give the reference exactly as "
                    + "it is written, or the id.",
                records: ["candidates": candidates])
        }
    }

    func requireFamily(_ ref: String) throws -> [String: Value] {
        guard let family = try family(ref) else {
            throw CLIError("No family '\(ref)' on this device. Find it with: field family list --search TEXT")
        }
        return family
    }
}
