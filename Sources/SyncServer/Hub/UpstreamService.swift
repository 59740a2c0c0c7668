import Foundation
import Logging
import ServiceLifecycle
import SyncClient
import SyncCore

/// A hub's sync with the server above it, on a schedule: its devices' changes go up, its city's come down.
struct UpstreamService: Service {
    let replica: Replica
    let upstream: UpstreamConfiguration
    let metrics: ServerMetrics
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let wait = Self.secondsUntilNext(upstream.schedule, now: Date())
                logger.info("next upstream sync", metadata: ["sync.upstream.in_s": "\(Int(wait))"])
                try await Task.sleep(for: .seconds(wait))
                do {
                    let summary = try await Self.syncOnce(replica: replica, upstream: upstream, logger: logger)
                    metrics.upstream(success: true)
                    logger.info(
                        "upstream sync done",
                        metadata: ["sync.pushed": "\(summary.pushed)", "sync.pulled": "\(summary.pulled)"])
                } catch {
                    metrics.upstream(success: false)
                    logger.error("upstream sync failed", metadata: ["sync.error": "\(error)"])
                }
            }
        }
    }

    /// One full sync with the upstream server, off the event loops.
    static func syncOnce(replica: Replica, upstream: UpstreamConfiguration, logger: Logger) async throws -> SyncSummary
    {
        let token = try readToken(upstream.tokenFile)
        return try await blocking {
            var client = ClientConfiguration(serverURL: upstream.url, token: token)
            client.caFile = upstream.caFile
            client.userAgent = "fieldsync-hub/\(FieldSyncVersion.current)"
            let transport = CurlTransport(configuration: client, logger: logger)
            var session = SyncSession(replica: replica, transport: transport, peer: "upstream", logger: logger)
            session.appVersion = "sync-server/\(FieldSyncVersion.current)"
            // Its devices' statuses seen since the last upstream sync go up with it.
            let last = try replica.peerState("upstream").lastSyncMillis ?? 0
            session.relayed = try replica.deviceStatuses(seenAfter: last)
            // And the conflicts it saw since the last relay (its devices' concurrent edits).
            let relayedRow = Int64(try replica.setting("relayed_history_row") ?? "0") ?? 0
            let conflicts = try replica.conflicts(afterRow: relayedRow)
            session.conflicts = conflicts.entries
            let summary = try session.run()
            try replica.saveSettings(["relayed_history_row": String(conflicts.lastRow)])
            return summary
        }
    }

    /// The hub's token for its upstream; refused when other users of the machine may read the file (with
    /// them, anyone logged in could sync as the hub: its whole city, both ways).
    static func readToken(_ path: String) throws -> String {
        let file: (data: Data, mode: mode_t)
        do {
            file = try PrivateFile.read(path)
        } catch {
            throw SyncError(.notFound, "Cannot read the upstream token file \(path).")
        }
        guard file.mode & 0o077 == 0 else {
            throw SyncError(
                .invalidValue,
                "The upstream token file \(path) can be read by other users of this machine (mode "
                    + "\(String(file.mode, radix: 8))). Make it private, then start again: chmod 600 \(path)")
        }
        let token = String(decoding: file.data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, !token.contains(where: \.isWhitespace) else {
            throw SyncError(.invalidValue, "The upstream token file \(path) does not hold a token.")
        }
        return token
    }

    static func secondsUntilNext(_ schedule: UpstreamConfiguration.Schedule, now: Date) -> Double {
        switch schedule {
        case .manual: return 365 * 86_400
        case .every(let seconds): return Double(seconds)
        case .dailyAt(let minutes):
            let sinceMidnight = now.timeIntervalSince1970.truncatingRemainder(dividingBy: 86_400)
            var wait = Double(minutes * 60) - sinceMidnight
            if wait <= 0 { wait += 86_400 }
            return wait
        }
    }
}

/// Runs blocking work (a whole sync over libcurl) on a Dispatch thread, never on the cooperative pool.
private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}
