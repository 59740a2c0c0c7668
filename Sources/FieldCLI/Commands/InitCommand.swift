import ArgumentParser
import FieldDomain
import Foundation
import SyncClient
import SyncCore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Enrol this device: create its replica and remember its server and token.",
        discussion: """
            The token is kept in the replica file (mode 0600). Works offline: the server is checked now if it
            is reachable, otherwise at the first sync (give --city then). Run again offline, it keeps the city
            and volunteer it knew.
            With --enrol, the server, the token, the city, the volunteer and the association come from the
            enrolment file the coordinator handed out ('sync-server token enrol').
            Examples:
              field init --enrol 0007-Amina-El-Idrissi.enrol
              field init --server https://hub.tunis.example.org --token-file amina.token
              field init --server http://127.0.0.1:8081 --token-file amina.token --db amina.db --city Tunis
            """)

    @OptionGroup var device: DeviceOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "The enrolment file from the coordinator (server, token, city, volunteer).") var enrol: String?
    @Option(help: "The server's URL (a hub, or central).") var server: String?
    @Option(help: "A file holding this device's token (from the hub operator).") var tokenFile: String?
    @Option(help: "The city this device works in (learnt from the server when it is reachable).") var city: String?
    @Option(help: "The volunteer's name on deliveries (default: the token's name).") var volunteer: String?
    @Option(help: "The volunteer's association (its id, from the admin), kept on each delivery.")
    var association: String?
    @Option(help: "CA certificates (PEM) to trust for the server's TLS.") var caFile: String?

    /// The check is one short try, not a sync's retries over a slow link: init works offline, and the first
    /// sync checks the server again. One attempt (a refused connection fails at once), 5 s to connect (an
    /// unreachable host), 15 s in all.
    static func check(_ configuration: inout ClientConfiguration) {
        configuration.attempts = 1
        configuration.connectTimeoutSeconds = 5
        configuration.totalTimeoutSeconds = 15
    }

    func validate() throws {
        if enrol != nil {
            guard server == nil, tokenFile == nil else {
                throw ValidationError("--enrol gives the server and the token: drop --server and --token-file.")
            }
        } else {
            guard server != nil, tokenFile != nil else {
                throw ValidationError("Give --enrol FILE, or --server and --token-file.")
            }
        }
        if let server {
            guard let url = URL(string: server), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ValidationError(
                    "--server must be an http(s) URL like https://hub.example.org, found '\(server)'.")
            }
        }
        if let city, city.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--city is empty.") }
    }

    /// Where the device starts from: the enrolment file, or the options.
    struct Start {
        var server: String
        var token: String
        var file: String
        var mode: mode_t
        var city: String?
        var volunteer: String?
        var association: String?
    }

    static func enrolment(_ data: Data, path: String) throws -> Enrolment {
        do {
            return try Enrolment(decoding: data)
        } catch {
            throw CLIError("\(path): \(error.message)")
        }
    }

    func start() throws -> Start {
        let path = enrol ?? tokenFile ?? ""
        // The bits of the file read (a link followed), not of a link to it.
        guard let file = try? PrivateFile.read(path) else {
            throw CLIError(
                enrol != nil
                    ? "Cannot read the enrolment file \(path). Ask your coordinator for yours."
                    : "Cannot read the token file \(path). Ask your hub operator for this device's token.")
        }
        if enrol != nil {
            let enrolment = try Self.enrolment(file.data, path: path)
            return Start(
                server: enrolment.server, token: enrolment.token, file: path, mode: file.mode,
                city: city ?? enrolment.city, volunteer: volunteer ?? enrolment.volunteer,
                association: association ?? enrolment.association)
        }
        let token = String(decoding: file.data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, !token.contains(where: \.isWhitespace) else {
            throw CLIError("\(path) does not hold a token (one line, no spaces).")
        }
        return Start(
            server: server ?? "", token: token, file: path, mode: file.mode, city: city, volunteer: volunteer,
            association: association)
    }

    func run() throws {
        let start = try operation { try self.start() }
        let (server, token, city, volunteer, association) = (
            start.server, start.token, start.city, start.volunteer, start.association
        )
        // Warned, not refused: the token is copied into the replica (0600), and the file can go.
        if start.mode & 0o077 != 0 {
            Printer.note(
                "note: \(start.file) can be read by other users of this machine; the token is now kept in the "
                    + "replica (mode 0600), so delete the file, or run 'chmod 600 \(start.file)'.")
        }
        let path = device.path
        let device = try operation { () throws -> Device in
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let replica = try Replica(
                path: path, schema: .fieldSync, configuration: DeviceClock.replicaConfiguration(),
                logger: Device.quietLogger)
            // A city or volunteer not given stays as it was (init run again offline cannot learn them now).
            var settings: [String: String?] = [
                Device.Key.server: server, Device.Key.token: token, Device.Key.caFile: caFile,
            ]
            if let city { settings[Device.Key.city] = city }
            if let volunteer { settings[Device.Key.volunteer] = volunteer }
            if let association { settings[Device.Key.association] = association }
            try replica.saveSettings(settings)
            return Device(replica: replica)
        }
        // Check the server now if it answers.
        var checked = "not reachable now; it is checked at the first sync"
        do {
            let result = try device.transport(Self.check).send(method: "GET", path: "/v1/session")
            let session = try JSONSerialization.jsonObject(with: Data(result.body)) as? [String: Any] ?? [:]
            let serverCity = session["city"] as? String
            if let city, let serverCity, city != serverCity {
                throw CLIError("The token is for \(serverCity), not \(city). Check the token file or --city.")
            }
            try operation {
                try device.replica.saveSettings([
                    Device.Key.city: serverCity ?? city, Device.Key.role: session["role"] as? String,
                    Device.Key.volunteer: volunteer ?? session["name"] as? String,
                ])
            }
            checked = "checked: \(session["role"] as? String ?? "?") token for \(serverCity ?? "every city")"
        } catch let error as SyncClientError where error.kind == .refused {
            throw CLIError(error.message)
        } catch let error as SyncClientError {
            if city == nil {
                Printer.note("note: \(error.message)")
                Printer.note("note: give --city, or sync once online, before registering families.")
            }
        }
        if output.json {
            Printer.json([
                "replica": path, "node": device.replica.nodeID.description, "server": server,
                "city": device.city.map { $0 as Any } ?? NSNull(), "volunteer": device.volunteer,
                "association": device.association.map { $0 as Any } ?? NSNull(), "checked": checked,
            ])
        } else {
            Printer.line("enrolled: replica \(path) (node \(device.replica.nodeID)), server \(server), \(checked)")
        }
    }
}
