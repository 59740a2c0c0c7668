import Foundation
import GRDBSQLite

/// The token lookup on every request's path: one prepared statement on a connection of its own.
///
/// A point query on a small indexed table, in WAL mode (a reader never waits for the writer): a few
/// microseconds, run where the request is, without a hop to a blocking thread and back (two context
/// switches, which on a 2-core VM cost more than the query) and without a connection pool. Each step
/// starts its own read transaction, so a token revoked by another process is refused on its very next
/// request. Anything unexpected (busy, an I/O error) is `.failed`, and the caller takes the pooled path.
final class TokenLookup: @unchecked Sendable {
    // @unchecked: the connection and the statement are only used under `lock`.
    private let lock = NSLock()
    private let connection: OpaquePointer
    private let statement: OpaquePointer

    enum Found {
        /// The token and its stored hash.
        case found(StoredToken)
        case missing
        /// The lookup could not run (busy, an I/O error): take the pooled path.
        case failed
    }

    init?(path: String) {
        var connection: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &connection, flags, nil) == SQLITE_OK, let connection else {
            if let connection { sqlite3_close(connection) }
            return nil
        }
        // Never waits long: a busy reader (only during a crash recovery) falls back to the pooled path.
        sqlite3_busy_timeout(connection, 50)
        sqlite3_exec(connection, "PRAGMA query_only = 1", nil, nil, nil)
        var statement: OpaquePointer?
        let sql = "SELECT hash, id, role, city, name, node, created_ms, revoked_ms FROM _tokens WHERE hash = ?1"
        guard sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK,
            let statement
        else {
            sqlite3_close(connection)
            return nil
        }
        self.connection = connection
        self.statement = statement
    }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close(connection)
    }

    /// The token whose hash is `digest`.
    func find(_ digest: [UInt8]) -> Found {
        lock.withLock {
            defer {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            }
            let bound = digest.withUnsafeBytes {
                sqlite3_bind_blob(statement, 1, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT)
            }
            guard bound == SQLITE_OK else { return .failed }
            switch sqlite3_step(statement) {
            case SQLITE_DONE: return .missing
            case SQLITE_ROW: break
            default: return .failed
            }
            let hash = Array(
                UnsafeRawBufferPointer(
                    start: sqlite3_column_blob(statement, 0), count: Int(sqlite3_column_bytes(statement, 0))))
            func text(_ column: Int32) -> String? {
                sqlite3_column_type(statement, column) == SQLITE_NULL
                    ? nil : String(cString: sqlite3_column_text(statement, column))
            }
            func integer(_ column: Int32) -> Int64? {
                sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : sqlite3_column_int64(statement, column)
            }
            // A row this version cannot read is no token.
            guard let role = text(2).flatMap(Principal.Role.init(rawValue:)) else { return .missing }
            let record = TokenRecord(
                id: text(1) ?? "", role: role, city: text(3), name: text(4) ?? "",
                node: text(5).flatMap(NodeID.init(hex:)),
                createdMillis: integer(6) ?? 0, revokedMillis: integer(7))
            return .found(StoredToken(record: record, hash: hash))
        }
    }
}

/// SQLite's "copy the bytes now" destructor, which the C macro hides from Swift.
private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
