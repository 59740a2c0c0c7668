import Foundation
import SyncCore

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP proxy on loopback that cuts connections at random byte offsets of requests or responses.
///
/// Each new connection draws (from a seeded generator) in which direction it is cut and after how many
/// bytes; when that byte is reached, both sockets are closed. `cuts` counts cuts that happened.
/// ``cutInResponseHeaders(connections:)`` cuts the next connections' answers inside their headers instead.
final class FaultProxy: @unchecked Sendable {
    // @unchecked: the counters and the generator are only touched under `lock`; sockets belong to their threads.
    private let lock = NSLock()
    private var generator: SplitMix64
    private var cutCount = 0
    private var connectionCount = 0
    private let listener: Int32
    private let targetPort: UInt16
    let port: Int
    private var cuttingEnabled = true
    /// Whether new connections are cut (every one, somewhere in its first 8 KiB one way) or left alone.
    var cutting: Bool {
        get { lock.withLock { cuttingEnabled } }
        set { lock.withLock { cuttingEnabled = newValue } }
    }
    private var stopped = false
    private var headerCutsLeft = 0

    /// Cuts the answers of the next `count` connections inside their headers (a few bytes into the field
    /// after the status line), whether `cutting` is on or not.
    func cutInResponseHeaders(connections count: Int) {
        lock.withLock { headerCutsLeft = count }
    }

    var cuts: Int { lock.withLock { cutCount } }
    var connections: Int { lock.withLock { connectionCount } }
    var url: String { "http://127.0.0.1:\(port)" }

    init(targetPort: Int, seed: UInt64) throws {
        generator = SplitMix64(seed: seed)
        self.targetPort = UInt16(targetPort)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    func stop() {
        let wasStopped = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        if !wasStopped {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private enum Plan {
        case pass
        case cut(request: Bool, after: Int)
        case cutInResponseHeaders
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if lock.withLock({ stopped }) { return }
                continue
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: targetPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                close(client)
                close(upstream)
                continue
            }
            let plan: Plan = lock.withLock {
                connectionCount += 1
                if headerCutsLeft > 0 {
                    headerCutsLeft -= 1
                    return .cutInResponseHeaders
                }
                guard cuttingEnabled else { return .pass }
                // Offsets from the first bytes of the headers to deep into a body, a few requests later
                // on a kept-alive connection: log-uniform up to 8 KiB (a push of 40 records in zstd-fs1
                // takes about 1 KiB).
                let after = Int(pow(2, Double.random(in: 0..<13, using: &generator)))
                return .cut(request: Bool.random(using: &generator), after: after)
            }
            let connection = Connection(client: client, upstream: upstream)
            for requestSide in [true, false] {
                var limit = Int.max
                if case .cut(let request, let after) = plan, request == requestSide { limit = after }
                let inHeaders: Bool
                if case .cutInResponseHeaders = plan { inHeaders = !requestSide } else { inHeaders = false }
                let thread = Thread { [self, limit] in
                    pump(connection, fromClient: requestSide, limit: limit, inHeaders: inHeaders)
                }
                thread.start()
            }
        }
    }

    /// The two sockets of one proxied connection, closed once.
    final class Connection: @unchecked Sendable {
        // @unchecked: `closed` is only touched under `lock`.
        let client: Int32
        let upstream: Int32
        private let lock = NSLock()
        private var closed = false
        private var finished = 0

        init(client: Int32, upstream: Int32) {
            self.client = client
            self.upstream = upstream
        }

        /// Cuts both directions at once (a dead link).
        func cut() {
            lock.withLock {
                guard !closed else { return }
                closed = true
                shutdown(client, Int32(SHUT_RDWR))
                shutdown(upstream, Int32(SHUT_RDWR))
            }
        }

        /// One direction is done; the sockets are freed when both are.
        func done(from source: Int32, to destination: Int32) {
            shutdown(destination, Int32(SHUT_WR))
            lock.withLock {
                finished += 1
                if finished == 2 {
                    close(client)
                    close(upstream)
                }
            }
        }
    }

    /// Forwards one direction until `limit` bytes; `inHeaders`: the limit is set once the status line has
    /// come, 4 bytes into the header field after it (an answer always has one, and it is longer).
    private func pump(_ connection: Connection, fromClient: Bool, limit: Int, inHeaders: Bool = false) {
        let source = fromClient ? connection.client : connection.upstream
        let destination = fromClient ? connection.upstream : connection.client
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var forwarded = 0
        var limit = limit
        var head: [UInt8] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            if inHeaders, limit == .max {
                head += buffer[..<count]
                if let lineEnd = head.indices.dropFirst().first(where: { head[$0 - 1] == 13 && head[$0] == 10 }) {
                    limit = lineEnd + 1 + 4
                }
            }
            var allowed = count
            let cutting = forwarded + count >= limit
            if cutting { allowed = max(0, limit - forwarded) }
            var sent = 0
            while sent < allowed {
                let written = buffer.withUnsafeBytes {
                    send(destination, $0.baseAddress! + sent, allowed - sent, Int32(MSG_NOSIGNAL))
                }
                if written <= 0 { break }
                sent += written
            }
            forwarded += sent
            if cutting {
                lock.withLock { cutCount += 1 }
                connection.cut()
                break
            }
        }
        connection.done(from: source, to: destination)
    }
}
