import GRDB

/// The writer connection's prepared statements, kept across transactions: compiling an upsert together
/// with its history trigger costs more than running it a thousand times.
///
/// `@unchecked Sendable`: it is only touched inside the writer's accesses, which GRDB serializes.
final class StatementCache: @unchecked Sendable {
    /// What a cached statement does, for which collection (and which registers, for updates).
    struct Key: Hashable {
        enum Kind: UInt8 {
            case current, updateProfile, insertProfile, ensureRow, selectExtra, updateExtra, insertFact, insertLocalFact
            case exists, history, metaRead, metaWrite, referenceScope
            case echoExtend, echoInsert, echoPrune, peerEnsure, peerPushed, peerPulled
        }

        var kind: Kind
        var collection: Int = -1
        var mask: UInt64 = 0
    }

    private var statements: [Key: SQLStatement] = [:]
    private var connection: OpaquePointer?

    func statement(_ db: Database, _ key: Key, _ sql: () -> String) throws -> SQLStatement {
        if db.sqliteConnection != connection {
            statements.removeAll()
            connection = db.sqliteConnection
        }
        if let statement = statements[key] {
            statement.reset()
            return statement
        }
        let statement = try SQLStatement(db, sql())
        statements[key] = statement
        return statement
    }

    func clear() {
        statements.removeAll()
    }
}
