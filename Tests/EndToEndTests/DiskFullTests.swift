import FieldDomain
import Foundation
import GRDB
import SyncClient
import SyncCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A disk that fills up during a sync, on the server (applying a push) and on a device (applying a pull):
/// the sync fails with a message that says what to do, nothing is corrupted, what was stored before is
/// intact, and the sync succeeds once there is space again.
///
/// Two kinds of full disk: a file size limit (`RLIMIT_FSIZE`, with `SIGXFSZ` ignored so that writes fail
/// with `EFBIG`), which needs no privilege and is lifted while the server runs; and, where this machine lets
/// the test mount one, a small tmpfs (`ENOSPC`, SQLite's `SQLITE_FULL`), grown again with a remount.
@Suite("Full disk", .serialized)
struct DiskFullTests {
    /// How the disk is made full, and freed again.
    enum Space: String, CaseIterable, CustomStringConvertible {
        case fileSizeLimit
        case tmpfs
        var description: String { rawValue }
    }

    /// Runs a command with SIGXFSZ ignored and, when given, a soft file size limit in KiB.
    static func limited(kib: Int?) -> [String] {
        let limit = kib.map { "ulimit -S -f \($0); " } ?? ""
        return ["/bin/bash", "-c", "trap '' XFSZ; \(limit)exec \"$@\"", "bash"]
    }

    /// Sets (or lifts, with nil) the soft file size limit of a running process.
    static func setFileSizeLimit(pid: pid_t, bytes: UInt64?) -> Bool {
        // prlimit(2) is a GNU extension Glibc's module map leaves out: look it up in the C library.
        typealias PRLimit =
            @convention(c) (pid_t, Int32, UnsafePointer<rlimit>?, UnsafeMutablePointer<rlimit>?) -> Int32
        guard let symbol = dlsym(nil, "prlimit") else { return false }
        let prlimit = unsafeBitCast(symbol, to: PRLimit.self)
        // rlim_t.max is RLIM_INFINITY.
        var limit = rlimit(rlim_cur: bytes.map { rlim_t($0) } ?? rlim_t.max, rlim_max: rlim_t.max)
        return prlimit(pid, Int32(RLIMIT_FSIZE.rawValue), &limit, nil) == 0
    }

    /// Mounts a tmpfs of `kib` KiB at `path`, or resizes the one there; false when this machine does not allow it.
    @discardableResult
    static func mountTmpfs(_ path: String, kib: UInt64, remount: Bool = false) -> Bool {
        let options = (remount ? "remount," : "") + "size=\(kib)k,mode=0700"
        return (try? run("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", path]))?.status == 0
    }

    /// KiB in use on the filesystem holding `path`.
    static func usedKiB(_ path: String) -> UInt64 {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return 0 }
        return (UInt64(stats.f_blocks) - UInt64(stats.f_bfree)) * UInt64(stats.f_frsize) / 1024
    }

    static func fileSize(_ path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? UInt64) ?? 0
    }

    static func log(_ path: String, deliveries: Int, tag: String) throws {
        var configuration = ReplicaConfiguration()
        configuration.durability = .normal
        let replica = try Replica(path: path, schema: .fieldSync, configuration: configuration, logger: quietLogger)
        try replica.write { tx in
            let family = try tx.addFamily(NewFamily(city: "Tunis", reference: "DF-\(tag)", headName: "عائلة \(tag)"))
            for d in 0..<deliveries {
                _ = try tx.logDelivery(
                    NewDelivery(
                        city: "Tunis", family: family, item: .foodPack, quantity: 1, campaign: "winter-\(tag)",
                        deliveredAt: 1_780_000_000_000 + UInt64(d), volunteer: "amina",
                        note: String(repeating: "note \(d) ", count: 8)))
            }
        }
    }

    /// Delivery ids and their values, for "what was stored before is intact".
    static func deliveries(_ path: String) throws -> [String: String] {
        try ReplicaFile.open(path).read { db in
            var rows: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, family, item, quantity, campaign, note FROM deliveries") {
                rows[row["id"]] =
                    "\(row["family"] as String? ?? "")|\(row["item"] as String? ?? "")|"
                    + "\(row["quantity"] as Int64? ?? 0)|\(row["campaign"] as String? ?? "")|\(row["note"] as String? ?? "")"
            }
            return rows
        }
    }

    @Test(arguments: Space.allCases)
    func aFullDiskFailsTheSyncClearlyCorruptsNothingAndTheSyncSucceedsOnceThereIsSpace(space: Space) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Central and the reader each on their own disk (folder, or tmpfs).
        let disks = ["central", "reader"].map { directory.appendingPathComponent($0).path }
        for disk in disks { try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true) }
        if space == .tmpfs {
            guard Self.mountTmpfs(disks[0], kib: 65536) else {
                print("full disk (tmpfs): skipped, this machine does not let the test mount a tmpfs")
                return
            }
            defer { _ = try? run("/bin/umount", ["-l", disks[0]]) }
            guard Self.mountTmpfs(disks[1], kib: 65536) else { return }
            defer { _ = try? run("/bin/umount", ["-l", disks[1]]) }
            try check(space: space, directory: directory, disks: disks)
        } else {
            try check(space: space, directory: directory, disks: disks)
        }
    }

    private func check(space: Space, directory: URL, disks: [String]) throws {
        let central = disks[0] + "/central.db"
        let reader = disks[1] + "/reader.db"
        let amina = directory.appendingPathComponent("amina.db").path
        let aminaToken = try issueToken(db: central, role: "device", city: "Tunis", name: "amina", directory: directory)
        let readerToken = try issueToken(
            db: central, role: "device", city: "Tunis", name: "reader", directory: directory)
        let directToken = try issueToken(
            db: central, role: "device", city: "Tunis", name: "direct", directory: directory)
        let server = try ServerProcess(
            database: central, durability: "full", launcher: space == .fileSizeLimit ? Self.limited(kib: nil) : [])
        defer { server.stop() }
        for (db, token) in [(amina, aminaToken), (reader, readerToken)] {
            let enrolled = try run(
                Binaries.field, ["init", "--server", server.url, "--token-file", token.file, "--db", db])
            #expect(enrolled.status == 0, "\(enrolled.stderr)")
        }
        // Monday: 300 deliveries reach central.
        try Self.log(amina, deliveries: 300, tag: "monday")
        #expect(try run(Binaries.field, ["sync", "--db", amina]).status == 0)
        let monday = try Self.deliveries(central)
        #expect(monday.count == 300)

        // Central's disk fills up: it may grow by 320 KiB more (a batch or two); Tuesday's 3,000 deliveries
        // need ~2 MB.
        let room: UInt64
        switch space {
        case .fileSizeLimit:
            room = max(Self.fileSize(central), Self.fileSize(central + "-wal")) / 1024 + 320
            #expect(Self.setFileSizeLimit(pid: server.process.processIdentifier, bytes: room * 1024))
        case .tmpfs:
            room = Self.usedKiB(disks[0]) + 320
            #expect(Self.mountTmpfs(disks[0], kib: room, remount: true))
        }
        try Self.log(amina, deliveries: 3000, tag: "tuesday")
        let refused = try run(Binaries.field, ["sync", "--db", amina, "--batch-size", "500"])
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains("out of storage space") && refused.stderr.contains("nothing is lost")
                && refused.stderr.contains("disk-full"), "\(space): \(refused.stderr)")
        #expect(server.process.isRunning, "the server died: \(server.logText)")
        // The problem document, as another client sees it.
        let device = try TestDevice(
            name: "direct", city: "Tunis", directory: directory, server: server.url, token: directToken.token,
            attempts: 1)
        try device.work(families: 50, deliveriesEach: 20)
        do {
            try device.sync(batchSize: 1000)
            Issue.record("\(space): a push onto a full disk was accepted")
        } catch let error as SyncClientError {
            #expect(error.status == 507 && error.problem?.code == "disk-full", "\(space): \(error)")
            #expect(error.problem?.detail.contains("disk is full") == true)
        }
        // Nothing corrupted, Monday intact; what was acknowledged of Tuesday is there whole.
        #expect(try ReplicaFile.integrity(central) == "ok")
        #expect(try ReplicaFile.integrity(amina) == "ok")
        let during = try Self.deliveries(central)
        #expect(monday.allSatisfy { during[$0.key] == $0.value })
        #expect(during.count < 3300, "\(space): the disk never filled")
        #expect(during.count > 300, "\(space): no batch of Tuesday's went in before the disk filled")
        let aminaRows = try Self.deliveries(amina)
        #expect(during.allSatisfy { aminaRows[$0.key] == $0.value })

        // Space again: the same server, still running, takes the rest.
        switch space {
        case .fileSizeLimit: #expect(Self.setFileSizeLimit(pid: server.process.processIdentifier, bytes: nil))
        case .tmpfs: #expect(Self.mountTmpfs(disks[0], kib: 65536, remount: true))
        }
        let resumed = try run(Binaries.field, ["sync", "--db", amina, "--batch-size", "500"])
        #expect(resumed.status == 0, "\(space): \(resumed.stderr)")
        #expect(try Self.deliveries(central) == aminaRows)

        // Now the reader's phone is full while it pulls the 3,300 deliveries, 200 a page (it may grow by 256 KiB).
        let full: CommandResult
        let readerRoom: UInt64
        switch space {
        case .fileSizeLimit:
            readerRoom = max(Self.fileSize(reader), Self.fileSize(reader + "-wal")) / 1024 + 256
            let launcher = Self.limited(kib: Int(readerRoom))
            full = try run(
                launcher[0],
                Array(launcher.dropFirst()) + [Binaries.field, "sync", "--db", reader, "--batch-size", "200"])
        case .tmpfs:
            readerRoom = Self.usedKiB(disks[1]) + 256
            #expect(Self.mountTmpfs(disks[1], kib: readerRoom, remount: true))
            full = try run(Binaries.field, ["sync", "--db", reader, "--batch-size", "200"])
        }
        #expect(full.status == 1)
        #expect(
            full.stderr.contains("This phone's storage is full") && full.stderr.contains("nothing is lost")
                && full.stderr.contains("field sync"), "\(space): \(full.stderr)")
        #expect(try ReplicaFile.integrity(reader) == "ok")
        let partial = try Self.deliveries(reader)
        #expect(partial.count < aminaRows.count && partial.allSatisfy { aminaRows[$0.key] == $0.value })
        #expect(partial.count > 0, "\(space): no page went in before the disk filled")
        if space == .tmpfs { #expect(Self.mountTmpfs(disks[1], kib: 65536, remount: true)) }
        let freed = try run(Binaries.field, ["sync", "--db", reader])
        #expect(freed.status == 0, "\(space): \(freed.stderr)")
        #expect(try Self.deliveries(reader) == aminaRows)
        server.stop()
        let dumps = try [central, amina, reader].map {
            try Replica(path: $0, schema: .fieldSync, logger: quietLogger).dump()
        }
        #expect(dumps[0] == dumps[1] && dumps[2] == dumps[1])
        #expect(try ReplicaFile.integrity(central) == "ok" && ReplicaFile.integrity(reader) == "ok")
        print(
            "full disk (\(space)): central refused a push past \(room) KiB with 507 disk-full (\(during.count) "
                + "deliveries kept), the reader's pull stopped past \(readerRoom) KiB (\(partial.count) kept); "
                + "both synced once there was space")
    }
}
