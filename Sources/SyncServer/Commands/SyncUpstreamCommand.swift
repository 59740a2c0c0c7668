import ArgumentParser
import FieldDomain
import Foundation
import SyncClient
import SyncCore

struct SyncUpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-upstream",
        abstract: "Sync a hub's replica with its upstream server now (the nightly run, at once).",
        discussion: """
            Uses the upstream given to `serve --upstream` unless --upstream is given here. Safe while the hub
            serves: both use the same file, SQLite serialises their writes.
            Example:
              sync-server sync-upstream --db hub.db
            """)

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The upstream server's URL (default: the one saved by serve).") var upstream: String?
    @Option(help: "File holding the hub's token for the upstream.") var upstreamTokenFile: String?
    @Option(help: "CA certificates (PEM) for the upstream's TLS.") var upstreamCaFile: String?
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        if (upstream == nil) != (upstreamTokenFile == nil) {
            throw ValidationError("Give both --upstream and --upstream-token-file, or neither (to use the saved ones).")
        }
    }

    func run() async throws {
        let logger = database.makeLogger("fieldsync.hub")
        do {
            let path = try database.replicaPath(for: "sync-upstream")
            guard FileManager.default.fileExists(atPath: path) else {
                throw SyncError(.notFound, "No replica at \(path).")
            }
            let replica = try Replica(path: path, schema: .fieldSync, logger: logger)
            let target: UpstreamConfiguration
            if let upstream, let upstreamTokenFile {
                target = UpstreamConfiguration(
                    url: upstream, tokenFile: upstreamTokenFile, schedule: .manual, caFile: upstreamCaFile)
            } else if let saved = try await ServerSettings(store: ReplicaStore(replica)).upstream() {
                target = saved
            } else {
                throw SyncError(
                    .notFound, "This replica has no upstream: give --upstream and --upstream-token-file.")
            }
            let summary = try await UpstreamService.syncOnce(replica: replica, upstream: target, logger: logger)
            if json {
                print(
                    "{\"pushed\":\(summary.pushed),\"pulled\":\(summary.pulled),\"conflicts\":\(summary.conflicts),"
                        + "\"round_trips\":\(summary.roundTrips),\"bytes_sent\":\(summary.bytesSent),"
                        + "\"bytes_received\":\(summary.bytesReceived),\"millis\":\(summary.millis)}")
            } else {
                print(
                    "synced with \(target.url): pushed \(summary.pushed), pulled \(summary.pulled), "
                        + "\(summary.roundTrips) round trips, \(summary.bytesSent + summary.bytesReceived) bytes, "
                        + "\(summary.millis) ms")
            }
        } catch let error as SyncError {
            throw fail(error.message)
        } catch let error as SyncClientError {
            throw fail(error.message)
        } catch let problem as Problem {
            throw fail(problem.detail)
        }
    }
}
