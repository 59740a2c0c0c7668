import FieldDomain
import Foundation
import SyncClient
import SyncCore
import Testing

/// Oversized bodies, deep nesting, slow clients and a flood from one token, all at once against one server
/// with small limits: each gets its 413/400/408/429 in bounded time, a legitimate device syncs meanwhile,
/// and the server's memory stays bounded.
@Suite("Hostile clients", .serialized)
struct HostileClientTests {
    static let maxBody = 64 << 10
    static let bodyTimeout = 2.0
    static let ratePerSecond = 20

    /// VmRSS and VmHWM (peak) of a process, in KiB, from /proc.
    static func memory(_ pid: Int32) -> (rss: Int, peak: Int) {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            let line = text.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    /// Runs `body` on `count` threads at once and returns their results in order.
    static func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        let box = ResultSlots<T>(count)
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            DispatchQueue.global().async {
                box.results[index] = Result { try body(index) }
                group.leave()
            }
        }
        group.wait()
        return try box.results.map { try $0!.get() }
    }

    @Test func hostileClientsAreRefusedInBoundedTimeWhileOthersSync() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("central.db").path
        // One token floods; two others send slow and oversized bodies (each token has its own rate bucket).
        let attacker = try issueToken(db: db, role: "device", city: "Tunis", name: "attacker", directory: directory)
        let slowpoke = try issueToken(db: db, role: "device", city: "Tunis", name: "slowpoke", directory: directory)
        let bulky = try issueToken(db: db, role: "device", city: "Tunis", name: "bulky", directory: directory)
        let legit = try issueToken(db: db, role: "device", city: "Tunis", name: "legit", directory: directory)
        let server = try ServerProcess(
            database: db,
            arguments: [
                "--max-body-bytes", "\(Self.maxBody)", "--max-decompressed-bytes", "\(4 * Self.maxBody)",
                "--body-timeout", "\(Self.bodyTimeout)", "--rate-limit", "\(Self.ratePerSecond)",
            ])
        defer { server.stop() }
        let pid = server.process.processIdentifier
        let device = try TestDevice(
            name: "legit", city: "Tunis", directory: directory, server: server.url, token: legit.token)
        try device.work(families: 20, deliveriesEach: 2)
        #expect(try device.sync().pushed == 60)
        let baseline = Self.memory(pid)
        let node = NodeID.random()
        let head = "{\"v\":1,\"node\":\"\(node)\",\"clock\":\(SystemClock().nowMillis())"
        let auth = "Authorization: Bearer \(attacker.token)"
        let slowAuth = "Authorization: Bearer \(slowpoke.token)"
        let bulkyAuth = "Authorization: Bearer \(bulky.token)"
        let port = server.port
        let url = server.url
        let started = Date()
        let bomb = Gzip.compress([UInt8](repeating: 0x20, count: 16 << 20))
        let nesting = Array("\(head),\"x\":\(String(repeating: "[", count: Self.maxBody - 200))}".utf8)
        // Eight slow clients, a flood, oversized and nested bodies, and the legit device, all at once.
        let outcomes = try Self.concurrently(11) { worker -> [Outcome] in
            switch worker {
            case 0..<8: return [try Self.slowClient(port: port, head: head, auth: slowAuth)]
            case 8: return try Self.flood(url: url, auth: auth, requests: 400)
            case 9:
                return try (0..<5).flatMap { _ in
                    try Self.oversized(url: url, port: port, auth: bulkyAuth, bomb: bomb, nesting: nesting)
                }
            default:
                var syncs: [Outcome] = []
                for round in 0..<5 {
                    try device.work(families: 2, deliveriesEach: 1)
                    let begin = Date()
                    let summary = try device.sync()
                    syncs.append(
                        Outcome(
                            label: "legit sync \(round)", status: summary.pushed == 4 ? 200 : 0,
                            seconds: Date().timeIntervalSince(begin)))
                }
                return syncs
            }
        }.flatMap { $0 }
        let elapsed = Date().timeIntervalSince(started)
        let after = Self.memory(pid)
        func report(_ label: String) -> String {
            let matching = outcomes.filter { $0.label.hasPrefix(label) }
            let statuses = Dictionary(grouping: matching, by: \.status).mapValues(\.count)
            let slowest = matching.map(\.seconds).max() ?? 0
            return "\(label): \(matching.count) requests, statuses \(statuses), slowest \(Int(slowest * 1000)) ms"
        }
        let summary = ["slow", "flood", "oversize", "chunked", "bomb", "nesting", "legit"].map(report)
        print("hostile clients, \(Int(elapsed)) s: " + summary.joined(separator: "; "))
        print(
            "server memory: VmRSS \(baseline.rss / 1024) MiB before, \(after.rss / 1024) MiB after; "
                + "VmHWM \(baseline.peak / 1024) MiB before, \(after.peak / 1024) MiB after")
        // Every hostile request got its status in bounded time.
        for outcome in outcomes {
            switch outcome.label {
            case "slow":
                #expect(outcome.status == 408, "\(outcome)")
                #expect(outcome.seconds < Self.bodyTimeout + 3, "\(outcome)")
            case "flood": #expect([200, 429].contains(outcome.status), "\(outcome)")
            case "oversize", "chunked", "bomb": #expect(outcome.status == 413, "\(outcome)")
            case "nesting": #expect(outcome.status == 400, "\(outcome)")
            default: #expect(outcome.status == 200, "\(outcome)")
            }
            #expect(outcome.seconds < 10, "\(outcome)")
        }
        // The flood was cut down to about the rate limit: burst (4 s worth) plus the rate over its duration.
        let flood = outcomes.filter { $0.label == "flood" }
        let floodSeconds = flood.map(\.seconds).reduce(0, +)
        let allowed = flood.filter { $0.status == 200 }.count
        #expect(flood.count == 400)
        #expect(allowed <= Int(Double(Self.ratePerSecond) * (4 + floodSeconds)) + 1, "\(allowed) of 400 allowed")
        #expect(allowed < 400)
        #expect(outcomes.filter { $0.label.hasPrefix("legit") }.count == 5)
        #expect(elapsed < 60)
        // Memory: the peak stays within 64 MiB of the resident size before the attack, and under 256 MiB.
        #expect(after.peak - baseline.rss < 64 << 10, "VmHWM \(after.peak) KiB, VmRSS before \(baseline.rss) KiB")
        #expect(after.peak < 256 << 10)
        // The server is unharmed: its replica checks, the attacker's next request waits for its bucket,
        // the legit device syncs again.
        let replica = try Replica(path: db, schema: .fieldSync, logger: quietLogger)
        #expect(try replica.integrityCheck() == "ok")
        try device.work(families: 1, deliveriesEach: 1)
        #expect(try device.sync().pushed == 2)
        #expect(try device.count("families") == 31)
    }

    struct Outcome: Sendable, CustomStringConvertible {
        var label: String
        var status: Int
        var seconds: Double
        var description: String { "\(label): \(status) in \(Int(seconds * 1000)) ms" }
    }

    /// Announces a small body, then sends it one byte a second (for at most 15 s) until the server answers.
    static func slowClient(port: Int, head: String, auth: String) throws -> Outcome {
        let connection = try RawConnection(port: port, readTimeout: 20)
        let body = Array("\(head),\"pull\":{\"cursor\":\"0\"}}".utf8)
        let begin = Date()
        connection.send(
            "POST /v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\n\(auth)\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.count)\r\n\r\n")
        for byte in body.prefix(15) where !connection.hasAnswer {
            guard connection.send([byte]) else { break }
            sleep(1)
        }
        let status = connection.readResponse()?.status ?? 0
        return Outcome(label: "slow", status: status, seconds: Date().timeIntervalSince(begin))
    }

    /// `requests` session requests from one token, back to back.
    static func flood(url: String, auth: String, requests: Int) throws -> [Outcome] {
        let transport = CurlTransport(
            configuration: ClientConfiguration(serverURL: url, token: ""), logger: quietLogger)
        return try (0..<requests).map { _ in
            let begin = Date()
            let result = try transport.raw(method: "GET", path: "/v1/session", headers: [auth], body: nil)
            if result.status == 429 { #expect((result.retryAfterSeconds ?? 0) >= 1) }
            return Outcome(label: "flood", status: result.status, seconds: Date().timeIntervalSince(begin))
        }
    }

    /// A body over the limit (declared, then chunked), a gzip bomb and a deeply nested body.
    static func oversized(url: String, port: Int, auth: String, bomb: [UInt8], nesting: [UInt8]) throws -> [Outcome] {
        let transport = CurlTransport(
            configuration: ClientConfiguration(serverURL: url, token: ""), logger: quietLogger)
        var outcomes: [Outcome] = []
        func post(_ label: String, _ body: [UInt8], _ headers: [String] = []) throws {
            let begin = Date()
            let result = try transport.raw(
                method: "POST", path: "/v1/sync", headers: ["Content-Type: application/json", auth] + headers,
                body: body)
            outcomes.append(Outcome(label: label, status: result.status, seconds: Date().timeIntervalSince(begin)))
        }
        try post("oversize", [UInt8](repeating: 0x20, count: 4 * maxBody))
        try post("bomb", bomb, ["Content-Encoding: gzip"])
        try post("nesting", nesting)
        // Chunked, no Content-Length: the server stops reading at the limit.
        let connection = try RawConnection(port: port, readTimeout: 10)
        let begin = Date()
        connection.send(
            "POST /v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\n\(auth)\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n")
        let chunk = Array("4000\r\n".utf8) + [UInt8](repeating: 0x20, count: 0x4000) + Array("\r\n".utf8)
        for _ in 0..<(2 * maxBody / 0x4000) where !connection.hasAnswer {
            guard connection.send(chunk) else { break }
        }
        let status = connection.readResponse()?.status ?? 0
        outcomes.append(Outcome(label: "chunked", status: status, seconds: Date().timeIntervalSince(begin)))
        return outcomes
    }
}

/// One result slot per worker thread.
final class ResultSlots<T: Sendable>: @unchecked Sendable {
    // @unchecked: each slot is written by one thread; all are read after the threads are joined.
    var results: [Result<T, any Error>?]
    init(_ count: Int) { results = Array(repeating: nil, count: count) }
}
