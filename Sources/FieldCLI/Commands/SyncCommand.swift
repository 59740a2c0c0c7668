import ArgumentParser
import Foundation
import SyncClient
import SyncCore

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Send this device's changes to its server and get its city's changes.",
        discussion: """
            Resumes where a cut sync stopped; nothing is lost or sent twice. A wrong device clock is corrected and
            the pending changes' times are repaired.
            Example:
              field sync
            """)
    @OptionGroup var device: DeviceOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Records per request (lower it on a very slow link).") var batchSize = 1000

    func validate() throws {
        guard (1...5000).contains(batchSize) else {
            throw ValidationError("--batch-size must be between 1 and 5000, found \(batchSize).")
        }
    }

    func run() throws {
        let device = try device.open()
        let transport = try operation { try device.transport() }
        var session = SyncSession(
            replica: device.replica, transport: transport, peer: "upstream", logger: Device.quietLogger)
        session.appVersion = "field/\(FieldSyncVersion.current)"
        session.batchSize = batchSize
        let terminal = isatty(STDERR_FILENO) == 1 && !output.json
        let summary: SyncSummary
        do {
            summary = try session.run { progress in
                if terminal {
                    FileHandle.standardError.write(
                        Data("\rsyncing: sent \(progress.pushed), received \(progress.pulled)   ".utf8))
                }
            }
            if terminal { FileHandle.standardError.write(Data("\r".utf8)) }
        } catch let error as SyncClientError
            where error.kind == .offline || error.kind == .timeout || error.kind == .dns
        {
            throw CLIError("\(error.message)")
        } catch let error as SyncError where error.code == .diskFull {
            throw CLIError(
                "This device's storage is full: the sync stopped, and everything it had received is kept (nothing "
                    + "is lost). Free some space (old photos, videos, unused apps), then run `field sync` again.")
        } catch {
            throw CLIError(error)
        }
        // Learn the city from the server once, if init could not.
        if device.city == nil, let result = try? transport.send(method: "GET", path: "/v1/session"),
            let session = try? JSONSerialization.jsonObject(with: Data(result.body)) as? [String: Any],
            let city = session["city"] as? String
        {
            try? device.replica.saveSettings([Device.Key.city: city])
        }
        if output.json {
            Printer.json([
                "pushed": summary.pushed, "pulled": summary.pulled, "conflicts": summary.conflicts,
                "round_trips": summary.roundTrips, "bytes": summary.bytesSent + summary.bytesReceived,
                "millis": summary.millis, "clock_offset_ms": summary.clockOffsetMillis,
                "repaired_stamps": summary.repairedStamps,
            ])
            return
        }
        Printer.line(
            "synced: sent \(summary.pushed), received \(summary.pulled), \(summary.conflicts) conflicts, "
                + "\(summary.bytesSent + summary.bytesReceived) bytes in \(summary.roundTrips) round trips, \(summary.millis) ms"
        )
        if summary.repairedStamps > 0 {
            Printer.line(
                "this device's clock was off by \(summary.repairOffsetMillis / 1000) s: \(summary.repairedStamps) "
                    + "pending changes had their times repaired. Set the phone's date and time automatically.")
        } else if abs(summary.clockOffsetMillis) > 60_000 {
            Printer.line(
                "this device's clock is off by \(summary.clockOffsetMillis / 1000) s; FieldSync corrects for it.")
        }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Pending changes, last sync, clock offset, server.",
        discussion: "Example:\n  field status")
    @OptionGroup var device: DeviceOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let device = try device.open()
        let state = try operation { try device.replica.peerState("upstream") }
        let pending = try operation { try device.replica.pendingSummary(since: state.pushed, to: "upstream") }
        let offset = try operation { try device.replica.clockOffsetMillis() }
        let refused = try operation { try device.replica.refusedRecords() }
        if output.json {
            Printer.json([
                "server": device.server.map { $0 as Any } ?? NSNull(),
                "city": device.city.map { $0 as Any } ?? NSNull(),
                "node": device.replica.nodeID.description, "pending": pending.count,
                "last_sync": state.lastSyncMillis.map { Printer.date($0) as Any } ?? NSNull(),
                "last_error": state.lastError.map { $0 as Any } ?? NSNull(), "clock_offset_ms": offset,
                "refused": refused.map(RefusedJSON.object),
            ])
            return
        }
        Printer.line("server:      \(device.server ?? "(not enrolled)")")
        Printer.line("city:        \(device.city ?? "(unknown until the first sync)")")
        Printer.line("volunteer:   \(device.volunteer)")
        Printer.line("pending:     \(pending.count) changes not yet sent")
        Printer.line("last sync:   \(state.lastSyncMillis.map { Printer.date($0) } ?? "never")")
        if let error = state.lastError { Printer.line("last error:  \(error)") }
        Printer.line("clock:       \(offset == 0 ? "right" : "corrected by \(offset / 1000) s")")
        if !refused.isEmpty {
            // Set aside, never sent again: the volunteer sees each and why.
            Printer.line("refused:     \(refused.count) records the server would not take (kept here, not sent again)")
            for entry in refused.prefix(10) {
                Printer.line("  \(entry.refusal.collection)/\(entry.refusal.id): \(entry.refusal.detail)")
            }
        }
    }
}
