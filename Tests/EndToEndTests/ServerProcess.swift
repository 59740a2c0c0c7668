import Foundation
import SyncCore

/// The built executables, beside the test bundle in the build folder.
enum Binaries {
    /// `FIELDSYNC_BINARIES=DIR` runs the end-to-end tests against other builds (an older release's, to see
    /// a new test fail before its fix).
    static let directory: URL = {
        if let override = ProcessInfo.processInfo.environment["FIELDSYNC_BINARIES"] {
            return URL(fileURLWithPath: override)
        }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("sync-server").path) {
                return url
            }
        }
        return URL(fileURLWithPath: ".build/debug")
    }()

    static var syncServer: String { directory.appendingPathComponent("sync-server").path }
    static var field: String { directory.appendingPathComponent("field").path }
}

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a command to the end and captures its output: in English (the test's `LANG`, `LC_ALL` and
/// `LC_MESSAGES` left out) unless `locale` gives the variables to set.
@discardableResult
func run(_ executable: String, _ arguments: [String], locale: [String: String] = [:]) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment.filter {
        !["LANG", "LC_ALL", "LC_MESSAGES"].contains($0.key)
    }
    environment.merge(locale) { _, new in new }
    process.environment = environment
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    return collect(process, out: out, err: err)
}

/// Reads a started process's output to its end and waits for it to exit.
func collect(_ process: Process, out: Pipe, err: Pipe) -> CommandResult {
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self))
}

/// A `sync-server serve` process on a free loopback port, stopped by `stop()` or when released.
final class ServerProcess: @unchecked Sendable {
    // @unchecked: `process` is set once in init; the log buffer is behind a Mutex.
    let process = Process()
    let port: Int
    /// The replica file, or the PostgreSQL URL.
    let database: String
    private let log = LogBuffer()

    /// What the server wrote on stderr, read on another thread as it comes.
    final class LogBuffer: @unchecked Sendable {
        // @unchecked: `bytes` and `ended` are only touched under `lock`.
        private let lock = NSLock()
        private var bytes = Data()
        private var ended = false
        func append(_ more: Data) { lock.withLock { bytes += more } }
        func end() { lock.withLock { ended = true } }
        var value: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }
        /// Waits until stderr is read to its end (once the server has exited), for at most `seconds`.
        func waitForEnd(seconds: Double = 10) {
            let deadline = Date().addingTimeInterval(seconds)
            while !lock.withLock({ ended }), Date() < deadline { usleep(10_000) }
        }
    }

    var url: String { "http://127.0.0.1:\(port)" }
    /// What the server logged so far: a line it wrote a moment ago may not be here yet (see
    /// ``waitForLog(_:seconds:)``); after ``stop()`` or ``crash()``, everything.
    var logText: String { log.value }

    /// Waits until the log holds `text`, for at most `seconds`; whether it does.
    func waitForLog(_ text: String, seconds: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !log.value.contains(text) {
            if Date() > deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// Starts `sync-server serve` on `port` (0: a free one) with `durability`; `launcher` (a command and its
    /// arguments, like a shell that sets limits and `exec`s) runs it when given.
    convenience init(
        database: String, arguments: [String] = [], port: Int = 0, durability: String = "normal",
        launcher: [String] = []
    ) throws {
        try self.init(
            serve: ["serve", "--db", database, "--port", "\(port)", "--durability", durability] + arguments,
            database: database, launcher: launcher)
    }

    /// Starts `sync-server serve --store URL` on `port` (0: a free one): central on PostgreSQL, the
    /// password (if any) from the environment.
    convenience init(store url: String, arguments: [String] = [], port: Int = 0) throws {
        try self.init(serve: ["serve", "--store", url, "--port", "\(port)"] + arguments, database: url, launcher: [])
    }

    private init(serve: [String], database: String, launcher: [String]) throws {
        self.database = database
        if let launcherPath = launcher.first {
            process.executableURL = URL(fileURLWithPath: launcherPath)
            process.arguments = Array(launcher.dropFirst()) + [Binaries.syncServer] + serve
        } else {
            process.executableURL = URL(fileURLWithPath: Binaries.syncServer)
            process.arguments = serve
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let log = self.log
        err.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                log.end()
            } else {
                log.append(data)
            }
        }
        // The first stdout line names the port.
        var line = Data()
        let deadline = Date().addingTimeInterval(30)
        while !line.contains(UInt8(ascii: "\n")), Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: "listening on http://127.0.0.1:"),
            let port = Int(text[range.upperBound...].prefix { $0.isNumber })
        else {
            process.terminate()
            process.waitUntilExit()
            log.waitForEnd()
            throw ServerError.didNotStart(text + log.value)
        }
        self.port = port
    }

    enum ServerError: Error { case didNotStart(String) }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        log.waitForEnd()
    }

    /// Kills the server with SIGKILL (a crash: no shutdown, no checkpoint) and waits for it to die.
    func crash() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        log.waitForEnd()
    }

    deinit { stop() }
}

/// Issues a token on a server's replica file into a new file (`--out`, mode 0600); returns the token and
/// the file.
func issueToken(
    db: String, role: String, city: String?, name: String, directory: URL
) throws -> (token: String, file: String) {
    let file = directory.appendingPathComponent("\(name).token").path
    var arguments = ["token", "issue", "--db", db, "--role", role, "--name", name, "--out", file]
    if let city { arguments += ["--city", city] }
    let result = try run(Binaries.syncServer, arguments)
    guard result.status == 0 else { throw ServerProcess.ServerError.didNotStart(result.stderr) }
    let token = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    return (token, file)
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The codes of the records a sync answer says were refused (empty when none were), or nil for a body
/// that is not a sync answer.
func refusedCodes(_ body: [UInt8]) -> [SyncError.Code]? {
    guard let response = try? SyncResponse(decoding: body) else { return nil }
    return response.pushed?.refused.map(\.code) ?? []
}
