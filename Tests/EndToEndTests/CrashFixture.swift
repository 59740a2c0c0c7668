import Foundation
import GRDB
import SyncCore

#if canImport(Glibc)
    import Glibc
#endif

/// A free TCP port on loopback (bound, read, released): for a server that must come back on the same port.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A `field` process running in the background, its output collected when it ends.
final class FieldProcess {
    let process = Process()
    private let out = Pipe()
    private let err = Pipe()
    let started = Date()

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: Binaries.field)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "FIELDSYNC_CLOCK_OFFSET_MS")
        process.environment = env.merging(environment) { _, new in new }
        process.standardOutput = out
        process.standardError = err
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    /// SIGKILL now (a dead battery); true when the process was still running.
    @discardableResult
    func crash() -> Bool {
        let running = process.isRunning
        if running { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return running
    }

    /// Waits for the end (killing it after `seconds`) and returns what it printed.
    func finish(within seconds: Double = 60) -> CommandResult {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(5_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        return collect(process, out: out, err: err)
    }

    deinit { if process.isRunning { crash() } }
}

/// Plain SQLite reads of a replica file another process may be writing (or may have died writing):
/// no FieldSync code in between, so what is checked is the file itself.
enum ReplicaFile {
    static func open(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    /// `PRAGMA integrity_check`, its lines joined ("ok" when the file is sound).
    static func integrity(_ path: String) throws -> String {
        try open(path).read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "\n") }
    }

    static func count(_ path: String, _ table: String) throws -> Int {
        try open(path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
    }

    /// Rows of `table` whose id appears more than once (0 when every id is unique).
    static func duplicateIDs(_ path: String, _ table: String) throws -> Int {
        try open(path).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) - count(DISTINCT id) FROM \(table)") ?? 0
        }
    }
}
