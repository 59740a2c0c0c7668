import Foundation
import GRDB
import SyncCore
import Testing

/// Replica and token files stay private and are never reached through a symbolic link: an existing replica
/// readable by others is tightened to 0600, a symlinked replica is refused, `token issue --out` writes a
/// 0600 file of its own, and a hub refuses an upstream token file others can read.
@Suite("Private files", .serialized)
struct PrivateFileTests {
    static func mode(_ path: String) throws -> Int {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw CocoaError(.fileNoSuchFile) }
        return Int(info.st_mode & 0o7777)
    }

    /// Runs a command that should exit by itself; a process still running after `seconds` is killed
    /// (status nil) after 20 s: a server that started when it should have refused.
    static func runBriefly(_ executable: String, _ arguments: [String]) throws -> (status: Int32?, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        let timedOut = process.isRunning
        if timedOut { process.terminate() }
        process.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (timedOut ? nil : process.terminationStatus, stderr)
    }

    /// Another application's SQLite file, and its tables.
    static func otherApplicationFile(_ path: String) throws -> DatabaseQueue {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('x')")
        }
        return queue
    }

    static func tables(_ queue: DatabaseQueue) throws -> [String] {
        try queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master ORDER BY name") }
    }

    @Test func anExistingReplicaReadableByOthersIsTightenedTo0600() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("device.db").path
        let token = directory.appendingPathComponent("t.token").path
        try "fs1_x".write(toFile: token, atomically: false, encoding: .utf8)
        chmod(token, 0o600)
        let enrolled = try run(
            Binaries.field,
            ["init", "--server", "http://127.0.0.1:9", "--token-file", token, "--db", db, "--city", "T"])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        // Copied with a permissive umask, or restored from a backup: 0644, with leftover WAL files.
        for suffix in ["", "-wal", "-shm"] {
            if !FileManager.default.fileExists(atPath: db + suffix) {
                #expect(FileManager.default.createFile(atPath: db + suffix, contents: nil))
            }
            chmod(db + suffix, 0o644)
        }
        #expect(try run(Binaries.field, ["status", "--db", db]).status == 0)
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: db + suffix) {
            #expect(try Self.mode(db + suffix) == 0o600, "\(suffix)")
        }
        // The server's replica too.
        let server = directory.appendingPathComponent("central.db").path
        #expect(try run(Binaries.syncServer, ["token", "list", "--db", server]).status == 0)
        chmod(server, 0o640)
        #expect(try run(Binaries.syncServer, ["token", "list", "--db", server]).status == 0)
        #expect(try Self.mode(server) == 0o600)
    }

    @Test func fieldInitJudgesTheTokenFileItReads() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let token = directory.appendingPathComponent("secret/amina.token").path
        try FileManager.default.createDirectory(
            atPath: directory.appendingPathComponent("secret").path, withIntermediateDirectories: true)
        try "fs1_x".write(toFile: token, atomically: false, encoding: .utf8)
        chmod(token, 0o600)
        // A link (as secret stores mount them) to a private file: no warning about the link's own bits.
        let link = directory.appendingPathComponent("amina.token").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: token)
        let db = directory.appendingPathComponent("a.db").path
        let quiet = try run(
            Binaries.field, ["init", "--server", "http://127.0.0.1:9", "--token-file", link, "--db", db, "--city", "T"])
        #expect(quiet.status == 0 && !quiet.stderr.contains("chmod"), "\(quiet.stderr)")
        chmod(token, 0o644)
        let db2 = directory.appendingPathComponent("b.db").path
        let warned = try run(
            Binaries.field,
            ["init", "--server", "http://127.0.0.1:9", "--token-file", link, "--db", db2, "--city", "T"])
        #expect(warned.status == 0 && warned.stderr.contains("chmod 600 \(link)"), "\(warned.stderr)")
    }

    @Test func aSymlinkedReplicaIsRefusedAndTheFileBehindItUntouched() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let other = directory.appendingPathComponent("contacts.sqlite").path
        let queue = try Self.otherApplicationFile(other)
        let before = try Self.tables(queue)
        let link = directory.appendingPathComponent("device.db").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: other)
        let token = directory.appendingPathComponent("t.token").path
        try "fs1_x".write(toFile: token, atomically: false, encoding: .utf8)
        let refusals = [
            try run(
                Binaries.field,
                ["init", "--server", "http://127.0.0.1:9", "--token-file", token, "--db", link, "--city", "T"]),
            try run(Binaries.field, ["status", "--db", link]),
            try run(Binaries.syncServer, ["token", "list", "--db", link]),
        ]
        for result in refusals {
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stderr.contains("symbolic link"), "\(result.stderr)")
        }
        #expect(try Self.tables(queue) == before)
        // A WAL file that is a link: SQLite would write the log into the file behind it.
        let real = directory.appendingPathComponent("real.db").path
        #expect(try run(Binaries.syncServer, ["token", "list", "--db", real]).status == 0)
        let victim = directory.appendingPathComponent("victim.txt").path
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        // SQLite removes the WAL when the last connection closes; a process that exits first leaves it
        // (seen under load). The link takes its place either way.
        try? FileManager.default.removeItem(atPath: real + "-wal")
        try FileManager.default.createSymbolicLink(atPath: real + "-wal", withDestinationPath: victim)
        let wal = try run(Binaries.syncServer, ["token", "list", "--db", real])
        #expect(wal.status == 1 && wal.stderr.contains("symbolic link"), "\(wal.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
    }

    @Test func tokenIssueOutWritesAFileOnlyItsOwnerCanRead() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("central.db").path
        let file = directory.appendingPathComponent("hub.token").path
        let issue = ["token", "issue", "--db", db, "--role", "hub", "--city", "Tunis", "--name", "hub-tunis"]
        let issued = try run(Binaries.syncServer, issue + ["--out", file])
        #expect(issued.status == 0, "\(issued.stderr)")
        #expect(issued.stdout.isEmpty)
        #expect(try Self.mode(file) == 0o600)
        let token = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("fs1_") && token.count == 52)
        // An existing file is not overwritten, and no token is issued for nothing.
        let again = try run(Binaries.syncServer, issue + ["--out", file])
        #expect(again.status == 1 && again.stderr.contains("already exists"), "\(again.stderr)")
        #expect(try String(contentsOfFile: file, encoding: .utf8).contains(token))
        // Nor is a link followed.
        let victim = directory.appendingPathComponent("victim.txt").path
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        let link = directory.appendingPathComponent("link.token").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
        let linked = try run(Binaries.syncServer, issue + ["--out", link])
        #expect(linked.status == 1, "\(linked.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
        let listed = try run(Binaries.syncServer, ["token", "list", "--db", db])
        #expect(listed.stdout.components(separatedBy: "hub-tunis").count - 1 == 1, "\(listed.stdout)")
    }

    @Test func aHubRefusesAnUpstreamTokenFileOthersCanRead() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let central = directory.appendingPathComponent("central.db").path
        let hubDB = directory.appendingPathComponent("hub.db").path
        let issued = try run(
            Binaries.syncServer,
            ["token", "issue", "--db", central, "--role", "hub", "--city", "Tunis", "--name", "hub-tunis"])
        #expect(try run(Binaries.syncServer, ["token", "list", "--db", hubDB]).status == 0)
        let file = directory.appendingPathComponent("hub.token").path
        // `token issue … > hub.token` with the usual umask.
        try issued.stdout.write(toFile: file, atomically: false, encoding: .utf8)
        chmod(file, 0o644)
        let serve = try Self.runBriefly(
            Binaries.syncServer,
            [
                "serve", "--db", hubDB, "--port", "0", "--upstream", "http://127.0.0.1:9", "--upstream-token-file",
                file,
            ])
        #expect(serve.status == 1, "\(serve.stderr)")
        #expect(serve.stderr.contains("chmod 600 \(file)"), "\(serve.stderr)")
        let upstream = try run(
            Binaries.syncServer,
            ["sync-upstream", "--db", hubDB, "--upstream", "http://127.0.0.1:9", "--upstream-token-file", file])
        #expect(upstream.status == 1 && upstream.stderr.contains("chmod 600 \(file)"), "\(upstream.stderr)")
        // Once fixed as the message says, the hub starts.
        chmod(file, 0o600)
        let hub = try ServerProcess(
            database: hubDB, arguments: ["--upstream", "http://127.0.0.1:9", "--upstream-token-file", file])
        #expect(hub.process.isRunning)
        hub.stop()
    }
}
