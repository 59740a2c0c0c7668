package import GRDB
import GRDBSQLite

/// A prepared SQLite statement on the hot paths (apply, feed, local writes), bound without boxing.
///
/// GRDB owns the connection; this class owns only its `sqlite3_stmt` and finalizes it in `deinit`.
/// It must not outlive the `Database` access it was prepared in.
package final class SQLStatement {
    private let handle: OpaquePointer
    private let connection: OpaquePointer
    let sql: String
    /// False for a statement borrowed from GRDB's per-connection cache (GRDB finalizes it).
    private let owned: Bool
    /// Keeps a borrowed statement's GRDB owner alive.
    private let owner: Statement?

    /// A statement from the connection's cache (compiled once per connection, for read paths that run on
    /// any of a pool's connections). Reset before use.
    package init(cached db: Database, _ sql: String) throws {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "connection closed", sql: sql)
        }
        let statement = try db.cachedStatement(sql: sql)
        self.owner = statement
        self.handle = statement.sqliteStatement
        self.connection = connection
        self.sql = sql
        self.owned = false
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    package init(_ db: Database, _ sql: String) throws {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "connection closed", sql: sql)
        }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
        }
        self.handle = statement
        self.connection = connection
        self.sql = sql
        self.owned = true
        self.owner = nil
    }

    deinit {
        if owned {
            sqlite3_finalize(handle)
        } else {
            sqlite3_reset(handle)
        }
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    package func bind(_ value: Value, at index: Int32) {
        switch value {
        case .null: sqlite3_bind_null(handle, index)
        case .integer(let number): sqlite3_bind_int64(handle, index, number)
        case .real(let number): sqlite3_bind_double(handle, index, number)
        case .text(let text): bind(text, at: index)
        }
    }

    package func bind(_ number: Int64, at index: Int32) {
        sqlite3_bind_int64(handle, index, number)
    }

    package func bind(_ text: String, at index: Int32) {
        var text = text
        text.withUTF8 { buffer in
            _ = sqlite3_bind_text(handle, index, buffer.baseAddress, Int32(buffer.count), Self.transient)
        }
    }

    package func bind(bytes: [UInt8], at index: Int32) {
        bytes.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob(handle, index, buffer.baseAddress, Int32(buffer.count), Self.transient)
        }
    }

    /// Reads a BLOB (or TEXT) column without copying; the buffer is valid only inside `body`.
    package func withBytes<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let pointer = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let pointer else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    package func bindNull(at index: Int32) {
        sqlite3_bind_null(handle, index)
    }

    /// Runs one step: true when a row is available.
    package func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let message = String(cString: sqlite3_errmsg(connection))
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
        }
    }

    /// Steps to the end, ignoring rows, and resets (bindings stay until ``reset()``).
    package func run() throws {
        while try step() {}
        sqlite3_reset(handle)
    }

    /// Ends the current run and clears the bindings.
    package func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Rows changed by the last completed step of this connection.
    package var changes: Int32 { sqlite3_changes(connection) }

    package func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    package func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    package func optionalInt64(_ column: Int32) -> Int64? {
        isNull(column) ? nil : sqlite3_column_int64(handle, column)
    }

    package func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    package func value(_ column: Int32) -> Value {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER: .integer(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT: .real(sqlite3_column_double(handle, column))
        case SQLITE_TEXT, SQLITE_BLOB: text(column).map(Value.text) ?? .null
        default: .null
        }
    }
}
