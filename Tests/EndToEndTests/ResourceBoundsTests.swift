import Foundation
import SyncClient
import SyncCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What an unauthenticated client can cost a server: connections that never read their answers, idle
/// sockets up to the descriptor limit, failed authentications, a broken chunk size; and what one token's
/// compressed bodies can cost. A legitimate device syncs meanwhile each time.
@Suite("Server resources", .serialized)
struct ResourceBoundsTests {
    /// Source addresses 127.0.0.2… stand for other clients (the server is only ever reached at 127.0.0.1).
    static func source(_ index: Int, perAddress: Int) -> String {
        let client = index / perAddress
        return "127.0.\(client / 250).\(client % 250 + 2)"
    }

    /// Raises this process's descriptor limit to at least `count` (within its hard limit).
    static func raiseDescriptorLimit(to count: Int) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < count else {
            return
        }
        limit.rlim_cur = min(limit.rlim_max, rlim_t(count))
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// A server with one enrolled device that has synced once, and a second device enrolled that has not
    /// (its first sync opens a new connection).
    static func start(
        _ directory: URL, arguments: [String] = [], launcher: [String] = []
    ) throws -> (
        server: ServerProcess, device: TestDevice, token: String, newcomer: TestDevice
    ) {
        let db = directory.appendingPathComponent("central.db").path
        let token = try issueToken(db: db, role: "device", city: "Tunis", name: "legit", directory: directory)
        let other = try issueToken(db: db, role: "device", city: "Tunis", name: "newcomer", directory: directory)
        let server = try ServerProcess(database: db, arguments: arguments, launcher: launcher)
        let device = try TestDevice(
            name: "legit", city: "Tunis", directory: directory, server: server.url, token: token.token)
        try device.work(families: 5, deliveriesEach: 1)
        #expect(try device.sync().pushed == 10)
        let newcomer = try TestDevice(
            name: "newcomer", city: "Tunis", directory: directory, server: server.url, token: other.token)
        return (server, device, token.token, newcomer)
    }

    /// Logs a family and a delivery and syncs them; returns how long the sync took, in seconds.
    static func timedSync(_ device: TestDevice) throws -> Double {
        try device.work(families: 1, deliveriesEach: 1)
        let begin = Date()
        let summary = try device.sync()
        #expect(summary.pushed == 2)
        return Date().timeIntervalSince(begin)
    }

    @Test func connectionsThatNeverReadKeepMemoryBounded() throws {
        Self.raiseDescriptorLimit(to: 4096)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (server, device, _, newcomer) = try Self.start(directory)
        defer { server.stop() }
        let pid = server.process.processIdentifier
        let baseline = HostileClientTests.memory(pid)
        // 2,000 connections from 100 addresses (within the per-address cap), each sending 64 KiB of
        // pipelined requests without a token and never reading an answer.
        let request = Array("GET /v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        let flood = Array(repeating: request, count: (64 << 10) / request.count).flatMap { $0 }
        let port = server.port
        let started = Date()
        let outcome = try HostileClientTests.concurrently(2) { worker -> [Double] in
            guard worker == 0 else {
                // The legitimate device syncs while the connections pile up (every 0.3 s, 6 s in all).
                return try (0..<20).map { _ in
                    usleep(300_000)
                    return try Self.timedSync(device)
                }
            }
            var connections: [RawConnection] = []
            var sent = 0
            for index in 0..<2000 {
                let connection = try RawConnection(port: port, source: Self.source(index, perAddress: 20))
                sent += connection.sendNow(flood)
                connections.append(connection)
            }
            // Until the server has dealt with every connection (20 s at most).
            var open = connections
            let deadline = Date().addingTimeInterval(20)
            while !open.isEmpty, Date() < deadline {
                usleep(250_000)
                open.removeAll { $0.isClosedByServer }
            }
            let closed = connections.count - open.count
            print("2,000 connections sent \(sent >> 20) MiB of requests; \(closed) closed by the server")
            return [Double(closed)]
        }
        let after = HostileClientTests.memory(pid)
        let syncs = try Self.timedSync(newcomer)
        print(
            "never-read flood, \(Int(Date().timeIntervalSince(started))) s: VmRSS \(baseline.rss >> 10) MiB "
                + "before, \(after.rss >> 10) MiB after, VmHWM \(after.peak >> 10) MiB; legit syncs: "
                + "slowest \(Int(((outcome[1] + [syncs]).max() ?? 0) * 1000)) ms")
        #expect(after.peak < 200 << 10, "VmHWM \(after.peak) KiB")
        #expect(outcome[1].count == 20)
        #expect(outcome[1].allSatisfy { $0 < 10 })
        // Every connection went over the bound on requests in flight, and was closed.
        #expect(outcome[0][0] == 2000)
    }

    @Test func idleSocketsPastTheDescriptorLimitLockNobodyOut() throws {
        Self.raiseDescriptorLimit(to: 4096)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // `ulimit -n 1024` for the server alone: its default cap is 1,024 less 128 kept for files.
        let (server, _, _, newcomer) = try Self.start(
            directory, launcher: ["/bin/sh", "-c", "ulimit -n 1024 && exec \"$0\" \"$@\""])
        defer { server.stop() }
        let pid = server.process.processIdentifier
        // 1,100 connections from 44 addresses (25 each, within the per-address cap) that send nothing.
        var idle: [RawConnection] = []
        for index in 0..<1100 {
            idle.append(
                try RawConnection(port: server.port, readTimeout: 1, source: Self.source(index, perAddress: 25)))
        }
        let seconds = try Self.timedSync(newcomer)
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
        let closed = idle.filter(\.isClosedByServer).count
        print(
            "1,100 idle connections under ulimit -n 1024: legit sync \(Int(seconds * 1000)) ms, server holds "
                + "\(descriptors) descriptors, \(closed) idle connections closed")
        #expect(seconds < 10)
        #expect(descriptors < 1024)
        // The newest idle connections keep their place: the oldest made room for the newer ones.
        #expect(idle.last?.isClosedByServer == false)
    }

    @Test func aFloodOfFailedAuthenticationsGets429() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (server, device, token, _) = try Self.start(directory)
        defer { server.stop() }
        // One address sends 150 requests with a wrong token, one after the other on one connection.
        let connection = try RawConnection(port: server.port, readTimeout: 5, source: "127.0.0.2")
        var statuses: [Int] = []
        var last: (status: Int, headers: String, body: [UInt8])?
        for index in 0..<150 {
            let wrong = "fs1_" + String(format: "%048x", index)
            connection.send("GET /v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(wrong)\r\n\r\n")
            last = connection.readResponse()
            statuses.append(last?.status ?? 0)
        }
        let counts = Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count)
        print("150 failed authentications from one address: \(counts)")
        #expect(statuses.prefix(100).allSatisfy { $0 == 401 })
        #expect(statuses.suffix(45).allSatisfy { $0 == 429 })
        let problem = try #require(last.flatMap { Problem(decoding: $0.body) })
        #expect(problem.code == "auth-failures")
        #expect(last?.headers.lowercased().contains("retry-after: 1") == true)
        // Even a valid token from that address waits; other addresses are not affected.
        connection.send("GET /v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n\r\n")
        #expect(connection.readResponse()?.status == 429)
        #expect(try Self.timedSync(device) < 10)
    }

    @Test func aChunkSizeOfTwentyHexDigitsGets400() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (server, device, token, _) = try Self.start(directory)
        defer { server.stop() }
        let connection = try RawConnection(port: server.port, readTimeout: 5)
        connection.send(
            "POST /v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "FFFFFFFFFFFFFFFFFFFF\r\n{\"v\":1}\r\n0\r\n\r\n")
        let response = connection.readResponse()
        #expect(response?.status == 400)
        let problem = try #require(response.flatMap { Problem(decoding: $0.body) })
        #expect(problem.code == "malformed-http")
        // Nothing after a broken frame can be read: the connection closes.
        #expect(connection.readResponse() == nil)
        #expect(try Self.timedSync(device) < 10)
    }

    @Test func oneTokensDecompressionIsBudgeted() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // 256 KiB decompressed at most per body, 64 KiB a second per token: bursts of 512 KiB.
        let (server, device, _, _) = try Self.start(
            directory,
            arguments: [
                "--max-body-bytes", "65536", "--max-decompressed-bytes", "262144",
                "--max-decompressed-bytes-per-second", "65536",
            ])
        defer { server.stop() }
        let heavy = try issueToken(
            db: server.database, role: "device", city: "Tunis", name: "heavy", directory: directory)
        let transport = CurlTransport(
            configuration: ClientConfiguration(serverURL: server.url, token: ""), logger: quietLogger)
        // Bodies that decompress to 200 KiB of spaces (refused as JSON, but decompressed first).
        let body = Gzip.compress([UInt8](repeating: 0x20, count: 200 << 10))
        var statuses: [Int] = []
        var retryAfter: Double?
        for _ in 0..<6 {
            let result = try transport.raw(
                method: "POST", path: "/v1/sync",
                headers: [
                    "Content-Type: application/json", "Content-Encoding: gzip", "Authorization: Bearer \(heavy.token)",
                ],
                body: body)
            statuses.append(result.status)
            if result.status == 429 { retryAfter = result.retryAfterSeconds }
        }
        print("6 bodies of 200 KiB decompressed from one token within 64 KiB/s: \(statuses)")
        #expect(statuses.prefix(3).allSatisfy { $0 == 400 })
        #expect(statuses.suffix(3).allSatisfy { $0 == 429 })
        #expect((retryAfter ?? 0) >= 1)
        // Another token's syncs go on.
        #expect(try Self.timedSync(device) < 10)
    }
}
