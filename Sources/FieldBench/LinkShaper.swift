import Foundation
import SyncCore

#if canImport(Glibc)
    import Glibc
#endif

/// A slow mobile link on loopback, between a client and a server: each direction carries `rate` bytes a
/// second, every segment arrives half a round trip after it was sent, a new connection waits a round trip
/// (TCP's handshake) before its first byte goes through, and with `cutPercent` a segment may be the last of
/// its connection: a random part of it goes through, then both sides are closed (a cut at a random byte).
///
/// Threads and blocking sockets, two per connection: the benchmark opens a handful of connections.
final class LinkShaper: @unchecked Sendable {
    struct Settings {
        var rate: Double
        var rttSeconds: Double
        var cutPercent: Double
        var seed: UInt64
    }

    /// What went through since ``reset()``.
    struct Counters {
        var bytesUp = 0, bytesDown = 0, connections = 0, cuts = 0
        var bytes: Int { bytesUp + bytesDown }
    }

    let port: Int
    private let settings: Settings
    private let upstreamPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var counters = Counters()
    private var random: SplitMix64
    private static let segment = 1_400

    init(upstreamPort: Int, settings: Settings) throws {
        self.settings = settings
        self.upstreamPort = upstreamPort
        random = SplitMix64(seed: settings.seed)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw ShaperError("cannot listen on loopback") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func reset() -> Counters {
        lock.lock()
        defer { lock.unlock() }
        let before = counters
        counters = Counters()
        return before
    }

    func read() -> Counters {
        lock.lock()
        defer { lock.unlock() }
        return counters
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let accepted = Date()
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                close(client)
                close(server)
                continue
            }
            lock.lock()
            counters.connections += 1
            lock.unlock()
            let pair = Connection(client: client, server: server)
            // The handshake: nothing the client sends leaves before a round trip has passed.
            let opened = accepted.addingTimeInterval(settings.rttSeconds)
            Thread.detachNewThread { [self] in pump(from: client, to: server, up: true, pair: pair, notBefore: opened) }
            Thread.detachNewThread { [self] in pump(from: server, to: client, up: false, pair: pair, notBefore: opened)
            }
        }
    }

    /// Both sockets of a connection; closed once, by whichever side ends first.
    final class Connection: @unchecked Sendable {
        let client: Int32
        let server: Int32
        private let lock = NSLock()
        private var closed = false

        init(client: Int32, server: Int32) {
            self.client = client
            self.server = server
        }

        func cut() {
            lock.lock()
            defer { lock.unlock() }
            guard !closed else { return }
            closed = true
            shutdown(client, Int32(SHUT_RDWR))
            shutdown(server, Int32(SHUT_RDWR))
        }

        deinit {
            close(client)
            close(server)
        }
    }

    /// Reads from `source` and writes to `target`, each segment at the link's rate and half a round trip
    /// late; may cut the connection inside a segment. The reading side stamps each segment with when it
    /// arrives at the far end (the line sends one segment after the other); the writing side hands it over
    /// then, so that segments in flight overlap as on a real link.
    private func pump(from source: Int32, to target: Int32, up: Bool, pair: Connection, notBefore: Date) {
        let queue = SegmentQueue()
        Thread.detachNewThread { [self] in deliver(queue, to: target, up: up, pair: pair) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var lineFree = notBefore  // when this direction's line has sent everything before
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return queue.close() }
            var offset = 0
            while offset < count {
                let size = min(Self.segment, count - offset)
                let start = max(Date(), lineFree)
                lineFree = start.addingTimeInterval(Double(size) / settings.rate)
                queue.push(
                    lineFree.addingTimeInterval(settings.rttSeconds / 2), Array(buffer[offset..<(offset + size)]))
                offset += size
            }
        }
    }

    private func deliver(_ queue: SegmentQueue, to target: Int32, up: Bool, pair: Connection) {
        while let (arrival, bytes) = queue.pop() {
            let wait = arrival.timeIntervalSinceNow
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            var sending = bytes.count
            lock.lock()
            let cut = Double(random.next() % 1_000_000) / 10_000 < settings.cutPercent
            if cut {
                sending = Int(random.next() % UInt64(bytes.count))
                counters.cuts += 1
            }
            if up { counters.bytesUp += sending } else { counters.bytesDown += sending }
            lock.unlock()
            let sent = bytes.withUnsafeBytes { raw in
                sending == 0 ? 0 : send(target, raw.baseAddress!, sending, Int32(MSG_NOSIGNAL))
            }
            if cut || sent < sending { return pair.cut() }
        }
        pair.cut()
    }

    /// Segments in flight, in order; `pop` waits for the next, nil once closed and empty.
    final class SegmentQueue: @unchecked Sendable {
        private let condition = NSCondition()
        private var segments: [(Date, [UInt8])] = []
        private var closed = false

        func push(_ arrival: Date, _ bytes: [UInt8]) {
            condition.lock()
            segments.append((arrival, bytes))
            condition.signal()
            condition.unlock()
        }

        func close() {
            condition.lock()
            closed = true
            condition.signal()
            condition.unlock()
        }

        func pop() -> (Date, [UInt8])? {
            condition.lock()
            defer { condition.unlock() }
            while segments.isEmpty, !closed { condition.wait() }
            return segments.isEmpty ? nil : segments.removeFirst()
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    struct ShaperError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
