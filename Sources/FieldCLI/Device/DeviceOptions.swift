import ArgumentParser
import FieldDomain
import Foundation
import Logging
import SyncCore

/// Where the device's replica is, shared by every command.
struct DeviceOptions: ParsableArguments {
    @Option(name: .long, help: "The device's replica file (default: $FIELD_DB, or ~/.fieldsync/device.db).")
    var db: String?

    var path: String {
        if let db { return db }
        if let env = ProcessInfo.processInfo.environment["FIELD_DB"], !env.isEmpty { return env }
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        return home + "/.fieldsync/device.db"
    }

    /// Opens the enrolled device's replica; fails with what to do when there is none.
    func open() throws -> Device {
        try operation {
            guard FileManager.default.fileExists(atPath: path) else {
                throw CLIError(
                    "No replica at \(path). Enrol this device first: field init --server URL --token-file FILE")
            }
            return try Device(
                replica: Replica(
                    path: path, schema: .fieldSync, configuration: DeviceClock.replicaConfiguration(),
                    logger: Device.quietLogger))
        }
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
    @Flag(help: "Print JSON instead of text.") var json = false
}
