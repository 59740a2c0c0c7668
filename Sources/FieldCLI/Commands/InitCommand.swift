import ArgumentParser
import FieldDomain
import Foundation
import SyncClient
import SyncCore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: HelpText.initAbstract(),
        discussion: HelpText.discussion(
            .initDiscussion,
            examples: [
                "field init --enrol 0007-Amina-El-Idrissi.enrol --lang ar",
                "field init --lang fr",
                "field init --server https://hub.tunis.example.org --token-file amina.token",
            ]))

    @OptionGroup var device: DeviceOptions
    @OptionGroup var output: OutputOptions
    @Option(help: OptionText.enrol.help) var enrol: String?
    @Option(help: OptionText.server.help) var server: String?
    @Option(help: OptionText.tokenFile.help) var tokenFile: String?
    @Option(help: OptionText.city.help) var city: String?
    @Option(help: OptionText.volunteer.help) var volunteer: String?
    @Option(help: OptionText.association.help) var association: String?
    @Option(help: OptionText.caFile.help) var caFile: String?

    /// `field init --lang X` alone: an enrolled device changes only its language.
    var languageOnly: Bool {
        device.lang != nil && enrol == nil && server == nil && tokenFile == nil && city == nil && volunteer == nil
            && association == nil && caFile == nil
    }

    /// The check is one short try, not a sync's retries over a slow link: init works offline, and the first
    /// sync checks the server again. One attempt (a refused connection fails at once), 5 s to connect (an
    /// unreachable host), 15 s in all.
    static func check(_ configuration: inout ClientConfiguration) {
        configuration.attempts = 1
        configuration.connectTimeoutSeconds = 5
        configuration.totalTimeoutSeconds = 15
    }

    func validate() throws {
        if languageOnly { return }
        if enrol != nil {
            guard server == nil, tokenFile == nil else { throw ValidationError(UsageText.enrolAlone()) }
        } else {
            guard server != nil, tokenFile != nil else { throw ValidationError(UsageText.enrolOrServer()) }
        }
        if let server {
            guard let url = URL(string: server), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ValidationError(UsageText.serverURL(server))
            }
        }
        if let city, city.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError(UsageText.cityEmpty()) }
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
            throw CLIError(enrol != nil ? DeviceText.cannotReadEnrolment(path) : DeviceText.cannotReadKeyFile(path))
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
            throw CLIError(DeviceText.notAKeyFile(path))
        }
        return Start(
            server: server ?? "", token: token, file: path, mode: file.mode, city: city, volunteer: volunteer,
            association: association)
    }

    func run() throws {
        if languageOnly, let language = device.lang {
            let enrolled = try device.open()
            try operation { try enrolled.replica.saveSettings([Device.Key.language: language.rawValue]) }
            Language.current = language
            if output.json { return Printer.json(["language": language.rawValue]) }
            return Printer.line(DeviceText.languageKept(language.name))
        }
        let start = try operation { try self.start() }
        let (server, token, city, volunteer, association) = (
            start.server, start.token, start.city, start.volunteer, start.association
        )
        // Warned, not refused: the token is copied into the replica (0600), and the file can go.
        if start.mode & 0o077 != 0 {
            Printer.note(DeviceText.note(DeviceText.keyFileReadable(start.file)))
        }
        let path = device.path
        (Device.pathForMessages, Device.serverForMessages) = (path, server)
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
                // Learnt again from this server's answers.
                Device.Key.requestCoding: nil,
            ]
            if let city { settings[Device.Key.city] = city }
            if let volunteer { settings[Device.Key.volunteer] = volunteer }
            if let association { settings[Device.Key.association] = association }
            if let language = self.device.lang { settings[Device.Key.language] = language.rawValue }
            try replica.saveSettings(settings)
            return Device(replica: replica)
        }
        // Check the server now if it answers.
        var checked = DeviceText.notCheckedNow()
        do {
            let transport = try device.transport(Self.check)
            let result = try transport.send(method: "GET", path: "/v1/session")
            device.remember(transport)
            let session = try JSONSerialization.jsonObject(with: Data(result.body)) as? [String: Any] ?? [:]
            let serverCity = session["city"] as? String
            if let city, let serverCity, city != serverCity {
                throw CLIError(DeviceText.wrongCity(serverCity, city))
            }
            try operation {
                try device.replica.saveSettings([
                    Device.Key.city: serverCity ?? city, Device.Key.role: session["role"] as? String,
                    Device.Key.volunteer: volunteer ?? session["name"] as? String,
                ])
            }
            checked = DeviceText.checked(
                DeviceText.role(session["role"] as? String), serverCity ?? DeviceText.everyCity())
        } catch let error as SyncClientError where error.kind == .refused {
            throw CLIError(error)
        } catch let error as SyncClientError {
            if city == nil {
                Printer.note(DeviceText.note(Localized.message(for: error)))
                Printer.note(DeviceText.note(DeviceText.giveCity()))
            }
        }
        if output.json {
            Printer.json([
                "replica": path, "node": device.replica.nodeID.description, "server": server,
                "city": device.city.map { $0 as Any } ?? NSNull(), "volunteer": device.volunteer,
                "association": device.association.map { $0 as Any } ?? NSNull(), "checked": checked,
            ])
        } else {
            Printer.line(DeviceText.enrolled(path, server, checked))
        }
    }
}
