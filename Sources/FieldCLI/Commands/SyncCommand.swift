import ArgumentParser
import Foundation
import SyncClient
import SyncCore

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: HelpText.sync(), discussion: HelpText.discussion(.syncDiscussion, examples: ["field sync"]))
    @OptionGroup var device: DeviceOptions
    @OptionGroup var output: OutputOptions
    @Option(help: OptionText.batchSize.help) var batchSize = 1000

    func validate() throws {
        guard (1...5000).contains(batchSize) else { throw ValidationError(UsageText.batchSize(batchSize)) }
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
                        Data("\r\(SyncText.progress(progress.pushed, progress.pulled))   ".utf8))
                }
            }
            if terminal { FileHandle.standardError.write(Data("\r".utf8)) }
        } catch {
            device.remember(transport)
            throw CLIError(error)
        }
        device.remember(transport)
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
            SyncText.synced(
                summary.pushed, summary.pulled, summary.conflicts, summary.bytesSent + summary.bytesReceived,
                summary.roundTrips, summary.millis))
        if summary.repairedStamps > 0 {
            Printer.line(SyncText.clockRepaired(summary.repairOffsetMillis / 1000, summary.repairedStamps))
        } else if abs(summary.clockOffsetMillis) > 60_000 {
            Printer.line(SyncText.clockOff(summary.clockOffsetMillis / 1000))
        }
        if summary.refused > 0 { Printer.line(SyncText.refusedAfterSync(summary.refused)) }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: HelpText.status(),
        discussion: HelpText.discussion(nil, examples: ["field status"]))
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
        let labels: [DeviceText] = [.hub, .city, .volunteer, .pending, .lastSync, .lastError, .clock, .refused]
        let width = (labels.map { $0().count }.max() ?? 12) + 2
        func row(_ label: DeviceText, _ value: String) { Printer.line(DeviceText.row(label, value, width: width)) }
        row(.hub, device.server ?? DeviceText.notEnrolledShort())
        row(.city, device.city ?? DeviceText.cityUntilSync())
        row(.volunteer, device.volunteer)
        row(.pending, DeviceText.pendingCount(pending.count))
        row(.lastSync, state.lastSyncMillis.map { Printer.date($0) } ?? DeviceText.never())
        // The last error is the sync's own words (kept in English by the sync engine).
        if let error = state.lastError { row(.lastError, error) }
        row(.clock, offset == 0 ? DeviceText.clockRight() : DeviceText.clockCorrected(offset / 1000))
        if !refused.isEmpty {
            // Set aside, never sent again: the volunteer sees each and why.
            row(.refused, DeviceText.refusedCount(refused.count))
            for entry in refused.prefix(10) { Printer.line("  " + Localized.refusal(entry.refusal)) }
        }
    }
}
