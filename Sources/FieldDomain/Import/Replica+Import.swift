public import SyncCore

/// What the admin decided about a file's rows beyond what the plan says.
public struct ImportOptions: Sendable {
    /// Plan only: nothing is written.
    public var dryRun = false
    /// Write the good rows of a file that has bad ones (by default a bad row stops the whole import).
    public var skipBadRows = false
    /// Write every likely duplicate (by default they are left out and reported).
    public var acceptDuplicates = false
    /// Likely duplicates to write, by key (reference) or line number.
    public var accepted: Set<String> = []

    public init() {}

    func accepts(_ row: PlannedRow) -> Bool {
        acceptDuplicates || accepted.contains(row.key) || accepted.contains(String(row.line))
    }
}

/// What an import did.
public struct ImportOutcome: Sendable {
    public enum Result: Sendable, Hashable {
        /// Written, as the journal says.
        case imported(ImportRecord)
        /// Nothing written: a dry run.
        case dryRun
        /// Nothing written: the file has bad rows (and `skipBadRows` was not given).
        case refused
        /// Nothing to write: every row is unchanged (or left out).
        case nothingToWrite
    }

    public var plan: ImportPlan
    public var result: Result
}

extension Replica {
    /// Plans and, unless it is a dry run or the file has bad rows, performs an import of `table`, in one
    /// transaction with its journal: every record written through the same rules as any admin change (a
    /// record refused by them refuses the whole import, naming its line). `now` is the journal's time.
    public func runImport(
        _ kind: ImportKind, _ table: CSVTable, file: String, options: ImportOptions, now: Int64
    ) throws -> ImportOutcome {
        try importWrite { tx in
            var state = try ImportState(tx.records, kind: kind)
            if let column = kind.keyColumn,
                let position = table.header.firstIndex(where: { ImportKind.columnKey($0) == column })
            {
                let ids = Set(table.rows.compactMap { $0.cells.count > position ? $0.cells[position] : nil })
                    .filter(CellCheck.isValidID)
                state.deletedIDs = Set(try ids.filter { try tx.isDeleted(kind.collection, id: $0) == true })
            }
            let plan = try ImportPlanner.plan(kind, table, state: state)
            if options.dryRun { return ImportOutcome(plan: plan, result: .dryRun) }
            if !plan.refused.isEmpty, !options.skipBadRows { return ImportOutcome(plan: plan, result: .refused) }
            let rows = plan.writes(accepting: options.accepts)
            guard !rows.isEmpty else { return ImportOutcome(plan: plan, result: .nothingToWrite) }
            var writes: [ImportRecord.Write] = []
            for row in rows {
                do {
                    writes.append(try Self.perform(row, kind: kind, tx))
                } catch {
                    throw ImportError(
                        "Line \(row.line) (\(row.key)) was refused when written: \(Self.sentence(error)). "
                            + "Nothing was imported.")
                }
            }
            let ids = try tx.settings(prefix: ImportRecord.keyPrefix).keys.compactMap {
                Int($0.dropFirst(ImportRecord.keyPrefix.count))
            }
            let counts = plan.counts
            let created = writes.filter(\.isCreation).count
            let record = ImportRecord(
                id: (ids.max() ?? 0) + 1, kind: kind, file: file, at: now, created: created,
                changed: writes.count - created, unchanged: counts.unchanged,
                skipped: plan.rows.count - writes.count - counts.unchanged, writes: writes, undoneAt: nil)
            try tx.saveSetting(ImportRecord.key(record.id), try record.encoded())
            return ImportOutcome(plan: plan, result: .imported(record))
        }
    }

    private static func perform(
        _ row: PlannedRow, kind: ImportKind, _ tx: ReplicaTransaction
    ) throws
        -> ImportRecord.Write
    {
        switch row.verdict {
        case .new(let id, let values):
            return try create(row, id: id, values: values, kind: kind, tx)
        case .likelyDuplicate(let values, _):
            return try create(row, id: nil, values: values, kind: kind, tx)
        case .changed(let id, let before, let after):
            try tx.update(kind.collection, id: id, values: after)
            return .init(
                collection: kind.collection, id: id, key: row.key, line: row.line, before: before,
                after: after)
        case .unchanged, .refused:
            throw ImportError("nothing to write")
        }
    }

    private static func create(
        _ row: PlannedRow, id: String?, values: [String: Value], kind: ImportKind, _ tx: ReplicaTransaction
    ) throws -> ImportRecord.Write {
        let kept = values.filter { !$0.value.imported.isNull }
        let created = try tx.create(kind.collection, id: id, values: kept)
        return .init(
            collection: kind.collection, id: created, key: row.key, line: row.line, before: nil,
            after: kept)
    }

    /// ``Replica/write(_:)``, an ``ImportError`` thrown inside rethrown as it is (the transaction rolled back).
    func importWrite<T>(_ body: (ReplicaTransaction) throws -> T) throws -> T {
        var failure: ImportError?
        do {
            return try write { tx in
                do {
                    return try body(tx)
                } catch let error as ImportError {
                    failure = error
                    throw error
                }
            }
        } catch {
            throw failure ?? error
        }
    }

    /// The imports of this replica, oldest first.
    public func imports() throws -> [ImportRecord] {
        try settings(prefix: ImportRecord.keyPrefix).values.map(ImportRecord.decoded).sorted { $0.id < $1.id }
    }

    /// An error as one sentence for the admin.
    static func sentence(_ error: any Error) -> String {
        switch error {
        case let error as SyncError: error.message
        case let error as ImportError: error.message
        case let error as RecordProblem: error.detail
        default: "\(error)"
        }
    }
}
