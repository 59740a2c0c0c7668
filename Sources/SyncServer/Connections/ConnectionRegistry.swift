import Foundation
import NIOCore

/// The open connections, counted in all and per client address, so that neither count passes its cap.
///
/// At a cap, a new connection takes the place of the connection under that cap that has been idle the
/// longest (no request in progress: a keep-alive connection between requests, or one that has sent
/// nothing yet), which is closed; when none is idle, the new connection is closed at once. So idle
/// sockets never lock out a client, and a connection busy with a request is never dropped for a newcomer.
final class ConnectionRegistry: @unchecked Sendable {
    // @unchecked: `entries`, `perAddress` and `clock` are only touched under `lock`.
    private let lock = NSLock()
    private var entries: [Int: Entry] = [:]
    private var perAddress: [ClientAddress: Int] = [:]
    private var nextID = 0
    /// Ticks at every change of state: orders connections by how long they have been idle.
    private var clock: UInt64 = 0
    /// At most this many connections open at once.
    let maxConnections: Int
    /// At most this many from one client address (0: no limit).
    let maxPerAddress: Int

    private struct Entry {
        var address: ClientAddress
        var channel: any Channel
        /// When the connection last became idle; nil while a request is in progress.
        var idleSince: UInt64?
    }

    /// What `open` decided.
    enum Admission {
        /// Admitted under this id; `evicted` (if any) took its leave for it and must be closed.
        case admitted(id: Int, evicted: (any Channel)?)
        case refused
    }

    init(maxConnections: Int, maxPerAddress: Int) {
        self.maxConnections = maxConnections
        self.maxPerAddress = maxPerAddress
    }

    /// Admits a new idle connection from `address`, making room when a cap is reached.
    func open(_ channel: any Channel, from address: ClientAddress) -> Admission {
        lock.withLock {
            var evicted: (any Channel)?
            if maxPerAddress > 0, perAddress[address, default: 0] >= maxPerAddress {
                guard let victim = oldestIdle(from: address) else { return .refused }
                evicted = remove(victim)
            }
            if entries.count >= maxConnections {
                guard let victim = oldestIdle(from: nil) else { return .refused }
                evicted = remove(victim)
            }
            nextID += 1
            clock += 1
            entries[nextID] = Entry(address: address, channel: channel, idleSince: clock)
            perAddress[address, default: 0] += 1
            return .admitted(id: nextID, evicted: evicted)
        }
    }

    /// Marks a connection busy (a request came in) or idle (its last answer went out).
    func setIdle(_ id: Int, _ idle: Bool) {
        lock.withLock {
            clock += 1
            entries[id]?.idleSince = idle ? clock : nil
        }
    }

    /// Forgets a connection that closed (nothing if it was evicted).
    func close(_ id: Int) {
        lock.withLock { _ = remove(id) }
    }

    /// The number of open connections (for tests and metrics).
    var count: Int { lock.withLock { entries.count } }

    private func oldestIdle(from address: ClientAddress?) -> Int? {
        var best: (id: Int, since: UInt64)?
        for (id, entry) in entries {
            guard let since = entry.idleSince, address == nil || entry.address == address else { continue }
            if let current = best, current.since <= since { continue }
            best = (id, since)
        }
        return best?.id
    }

    private func remove(_ id: Int) -> (any Channel)? {
        guard let entry = entries.removeValue(forKey: id) else { return nil }
        let left = perAddress[entry.address, default: 1] - 1
        perAddress[entry.address] = left > 0 ? left : nil
        return entry.channel
    }
}
