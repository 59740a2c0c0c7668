import ArgumentParser
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
            return try Device(replica: Replica(path: path, logger: Device.quietLogger))
        }
    }
}

/// Output format, for commands that print data.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of text.") var json = false
}
