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
        /// The volunteer's language (`en`, `fr`, `ar`), set by `field init --lang`.
        static let language = "language"
        /// The best request coding the server said it takes (`zstd-fs1`, `zstd`, `gzip`).
        static let requestCoding = "request_coding"
    }

    /// The replica file and server of this run, for messages about a failure that does not name them.
    // nonisolated(unsafe): set on the main thread when the command opens its replica, read when it fails.
    nonisolated(unsafe) static var pathForMessages: String?
    nonisolated(unsafe) static var serverForMessages: String?

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
            throw CLIError(DeviceText.cityUnknown())
        }
        return city
    }

    /// The client for this device's server; `adjust` changes its configuration (retries, timeouts).
    func transport(_ adjust: (inout ClientConfiguration) -> Void = { _ in }) throws -> CurlTransport {
        guard let server, let token = try replica.setting(Key.token) else {
            throw CLIError(DeviceText.notEnrolled())
        }
        var configuration = ClientConfiguration(serverURL: server, token: token)
        configuration.caFile = try replica.setting(Key.caFile)
        if let known = try replica.setting(Key.requestCoding).flatMap(ContentCoding.init(header:)) {
            configuration.requestCoding = known
        }
        adjust(&configuration)
        return CurlTransport(configuration: configuration, logger: Self.quietLogger)
    }

    /// Keeps what `transport` learnt of the request codings the server takes, for the next sync (a new
    /// process would otherwise send its first, largest, request in gzip).
    func remember(_ transport: CurlTransport) {
        let known = transport.requestCoding.rawValue
        if (try? replica.setting(Key.requestCoding)) ?? nil != known {
            try? replica.saveSettings([Key.requestCoding: known])
        }
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
                DeviceText.familyID($0["reference"]?.textValue ?? "?", $0["id"]?.textValue ?? "?")
            }.joined(separator: ", ")
            throw CLIError(
                DeviceText.familyAmbiguous(ref, candidates.count, named), records: ["candidates": candidates])
        }
    }

    func requireFamily(_ ref: String) throws -> [String: Value] {
        guard let family = try family(ref) else {
            throw CLIError(DeviceText.familyMissing(ref))
        }
        return family
    }
}
