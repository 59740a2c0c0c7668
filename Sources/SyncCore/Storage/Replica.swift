import Foundation
public import GRDB
public import Logging

/// A node's local copy of the replicated records, in one SQLite file.
///
/// - Local writes go through ``write(_:)``: stamped with the hybrid logical clock and committed atomically.
/// - ``changes(since:limit:filter:)`` reads the change feed; ``apply(_:)`` merges another node's changes.
/// - Every method is synchronous and blocks on SQLite: call it off event loops.
///
/// Several processes may open the same file: the clock and sequence are read and written inside each
/// write transaction, so they never go backwards.
public final class Replica: Sendable {
    public let schema: Schema
    /// This node's id. It changes only when a server found it duplicated (see ``takeNewNodeID(_:)``).
    public var nodeID: NodeID { node.value }
    let node: NodeBox
    /// The file, or nil for an in-memory replica.
    public let path: String?
    public let configuration: ReplicaConfiguration
    let writer: any DatabaseWriter
    let layouts: [TableLayout]
    let logger: Logger
    /// The writer connection's prepared statements, kept across transactions.
    let statements = StatementCache()

    /// Opens (creating if needed, with mode 0600) the replica at `path`.
    ///
    /// An existing file that others may read is tightened to 0600, with its WAL files; a symbolic link is
    /// refused (see ``PrivateFile/prepareReplica(_:create:)``). Throws `.corruptReplica` when the file is not
    /// a FieldSync replica or is damaged, `.storage` when it cannot be opened.
    public convenience init(
        path: String, schema: Schema, configuration: ReplicaConfiguration = .init(),
        logger: Logger = Logger(label: "fieldsync.replica")
    ) throws {
        try PrivateFile.prepareReplicaFiles(path)
        let writer: DatabasePool
        do {
            writer = try DatabasePool(path: path, configuration: Self.grdbConfiguration(configuration))
        } catch {
            throw Self.openError(error, path: path)
        }
        try self.init(writer: writer, path: path, schema: schema, configuration: configuration, logger: logger)
        // SQLite gives its WAL files the database's mode; made sure of, without following a link.
        for suffix in ["-wal", "-shm"] { try PrivateFile.prepareReplica(path + suffix, create: false) }
    }

    /// An in-memory replica (tests, benchmarks): nothing survives it.
    public convenience init(
        inMemory schema: Schema, configuration: ReplicaConfiguration = .init(),
        logger: Logger = Logger(label: "fieldsync.replica")
    ) throws {
        let writer = try DatabaseQueue(configuration: Self.grdbConfiguration(configuration))
        try self.init(writer: writer, path: nil, schema: schema, configuration: configuration, logger: logger)
    }

    private init(
        writer: any DatabaseWriter, path: String?, schema: Schema, configuration: ReplicaConfiguration, logger: Logger
    ) throws {
        self.writer = writer
        self.path = path
        self.schema = schema
        self.configuration = configuration
        self.logger = logger
        let proposed = configuration.nodeID
        let opened: (NodeID, [TableLayout])
        do {
            try ReplicaMigrations.migrator.migrate(writer)
            opened = try writer.write { db in
                let node = try ReplicaMeta.nodeID(db, proposed: proposed)
                let layouts = try ReplicaMigrations.syncTables(db, schema: schema)
                return (node, layouts)
            }
        } catch let error as SyncError {
            throw error
        } catch {
            throw Self.openError(error, path: path ?? ":memory:")
        }
        self.node = NodeBox(opened.0)
        self.layouts = opened.1
        var metadata: Logger.Metadata = ["sync.node": "\(nodeID)"]
        if let path { metadata["sync.replica"] = "\(URL(fileURLWithPath: path).lastPathComponent)" }
        logger.debug("replica opened", metadata: metadata)
    }

    deinit {
        // Finalize our statements before GRDB closes the connection.
        statements.clear()
    }

    package static func grdbConfiguration(_ configuration: ReplicaConfiguration) -> Configuration {
        var config = Configuration()
        config.busyMode = .timeout(configuration.busyTimeoutSeconds)
        config.label = "fieldsync.replica"
        let synchronous = configuration.durability.rawValue.uppercased()
        let cacheKiB = max(1, configuration.cacheSizeMiB) * 1024
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA cache_size = -\(cacheKiB)")
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
        }
        return config
    }

    static func openError(_ error: any Error, path: String) -> SyncError {
        if let error = error as? DatabaseError,
            error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT
        {
            return SyncError(
                .corruptReplica,
                "\(path) is not a FieldSync replica or is damaged (\(error.message ?? "corrupt")). "
                    + "Nothing was changed. Restore it from a backup, or enrol again with a new replica file.",
                underlying: error)
        }
        return storageError(error)
    }

    /// Wraps a SQLite failure in a `SyncError` a person can act on.
    package static func storageError(_ error: any Error) -> SyncError {
        if let error = error as? SyncError { return error }
        if let error = error as? DatabaseError {
            if Self.isDiskFull(error) {
                return SyncError(
                    .diskFull,
                    "The disk is full (or the file reached its size limit): nothing of this operation was stored, "
                        + "and what was stored before is intact. Free some space and retry.", underlying: error)
            }
            let message: String
            switch error.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                message = "The replica is busy with another process's write. Retry in a moment."
            case .SQLITE_CORRUPT, .SQLITE_NOTADB:
                message = "The replica file is damaged: \(error.message ?? "corrupt")."
            case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN:
                message = "The replica file cannot be written: check its permissions and the disk."
            default: message = "SQLite failed: \(error.message ?? "\(error.resultCode)")."
            }
            let code: SyncError.Code =
                error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB ? .corruptReplica : .storage
            return SyncError(code, message, underlying: error)
        }
        return SyncError(.storage, "Storage failed: \(error)")
    }

    /// Whether SQLite could not write for want of space: `SQLITE_FULL` (ENOSPC), or a write or a growth of
    /// the shared-memory index refused by the operating system (EFBIG past a file size limit, EDQUOT).
    static func isDiskFull(_ error: DatabaseError) -> Bool {
        switch error.extendedResultCode {
        case .SQLITE_FULL, .SQLITE_IOERR_WRITE, .SQLITE_IOERR_SHMSIZE, .SQLITE_IOERR_TRUNCATE: true
        default: error.resultCode == .SQLITE_FULL
        }
    }

    func layout(_ collection: String) throws(SyncError) -> TableLayout {
        guard let index = schema.index(of: collection) else {
            throw SyncError(
                .unknownCollection,
                "Unknown collection '\(collection)'. Known: \(schema.collections.map(\.name).joined(separator: ", ")).")
        }
        return layouts[index]
    }

    /// The SQLite connection pool, for tables a node keeps beside the replica's (a server's tokens).
    package var database: any DatabaseWriter { writer }

    /// Runs a read-only access to the database (queries, reports).
    public func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        do {
            return try writer.read(body)
        } catch {
            throw Self.storageError(error)
        }
    }

    /// The local sequence of the last change applied (the feed's head).
    public func headCursor() throws -> FeedCursor {
        try read { db in FeedCursor(try ReplicaMeta.int(db, .sequence) ?? 0) }
    }

    /// The greatest stamp this replica has issued or observed.
    public func lastTimestamp() throws -> HLCTimestamp {
        try read { db in HLCTimestamp(storage: try ReplicaMeta.int(db, .clock) ?? 0) }
    }

    /// Copies the write-ahead log into the database file and truncates it (maintenance, backups).
    public func checkpoint() throws {
        do {
            try writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        } catch {
            throw Self.storageError(error)
        }
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    public func integrityCheck() throws -> String {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "\n") }
    }
}

/// The node id of an open replica, replaced when a duplicated id is detected.
final class NodeBox: @unchecked Sendable {
    // @unchecked: `current` is only read and written under `lock`.
    private let lock = NSLock()
    private var current: NodeID

    init(_ node: NodeID) { current = node }

    var value: NodeID {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }
}
