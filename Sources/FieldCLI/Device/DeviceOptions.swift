import ArgumentParser
import FieldDomain
import Foundation
import Logging
import SyncCore

/// Where the device's replica is, shared by every command.
struct DeviceOptions: ParsableArguments {
    @Option(name: .long, help: OptionText.db.help)
    var db: String?
    /// Read before parsing, by ``Language/select(arguments:environment:)``; `init` also saves it.
    @Option(help: OptionText.lang.help) var lang: Language?

    var path: String { db ?? Self.defaultPath(environment: ProcessInfo.processInfo.environment) }

    /// `$FIELD_DB`, or `~/.fieldsync/device.db`.
    static func defaultPath(environment: [String: String]) -> String {
        if let env = environment["FIELD_DB"], !env.isEmpty { return env }
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        return home + "/.fieldsync/device.db"
    }

    /// Opens the enrolled device's replica; fails with what to do when there is none.
    func open() throws -> Device {
        Device.pathForMessages = path
        let device = try operation {
            guard FileManager.default.fileExists(atPath: path) else { throw CLIError(DeviceText.noData(path)) }
            return try Device(
                replica: Replica(
                    path: path, schema: .fieldSync, configuration: DeviceClock.replicaConfiguration(),
                    logger: Device.quietLogger))
        }
        Device.serverForMessages = device.server
        return device
    }
}

extension DeviceOptions {
    /// Opens the replica and finds a family by reference or id (exit 1 with what to do if there is none).
    func openFamily(_ ref: String) throws -> (device: Device, family: [String: Value], id: String) {
        let device = try open()
        let family = try operation { try device.requireFamily(ref) }
        return (device, family, family["id"]?.textValue ?? ref)
    }
}

/// Output format, for commands that print data.
struct OutputOptions: ParsableArguments {
    @Flag(help: OptionText.json.help) var json = false
}
