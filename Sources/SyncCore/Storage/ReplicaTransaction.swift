/// The local writes of one transaction on a replica: each is stamped with the replica's clock.
///
/// Obtained from ``Replica/write(_:)`` and valid only inside its closure. Everything written commits
/// together when the closure returns, or not at all when it throws. Facts can only be inserted;
/// profiles are created, updated field by field, and deleted (a tombstone).
public final class ReplicaTransaction {
    let session: WriteSession
    var replica: Replica { session.replica }

    init(session: WriteSession) {
        self.session = session
    }

    /// This node's id, the origin of every stamp this transaction issues.
    public var nodeID: NodeID { replica.nodeID }

    /// Inserts a fact and returns its id (a new one unless given).
    @discardableResult
    public func insert(_ collection: String, id: String? = nil, values: [String: Value]) throws -> String {
        let layout = try replica.layout(collection)
        guard !layout.isProfile else {
            throw SyncError(.invalidBatch, "'\(collection)' is a profile collection: create its records instead.")
        }
        var ordered = [Value](repeating: .null, count: layout.registers.count)
        for (name, value) in values {
            let index = try fieldIndex(layout, name)
            ordered[index] = try coerce(layout, index, value)
        }
        return try insertFact(layout, id: id, values: ordered)
    }

    /// Fast path for typed facts: `values` in field order.
    func insertFact(_ layout: TableLayout, id: String?, values: [Value]) throws -> String {
        try checkID(id, layout)
        for (index, field) in layout.collection.fields.enumerated() where field.required && values[index].isNull {
            throw SyncError(.invalidValue, "A \(layout.name) record needs '\(field.name)'.")
        }
        let stamp = session.stamp()
        let id = id ?? session.newRecordID(stamp: stamp)
        try session.insertFact(
            layout, id: id, stamp: stamp, values: values.enumerated().lazy.map { (register: $0, value: $1) },
            extras: [:],
            local: true)
        return id
    }

    /// Creates a profile record and returns its id (a new one unless given).
    @discardableResult
    public func create(_ collection: String, id: String? = nil, values: [String: Value]) throws -> String {
        let layout = try profileLayout(collection)
        try checkID(id, layout)
        for field in layout.collection.fields where field.required && (values[field.name] ?? .null).isNull {
            throw SyncError(.invalidValue, "A new \(layout.name) record needs '\(field.name)'.")
        }
        let stamp = session.stamp()
        let id = id ?? session.newRecordID(stamp: stamp)
        if try exists(layout, id) != nil {
            throw SyncError(.duplicate, "A \(layout.name) record with id \(id) already exists.")
        }
        try writeRegisters(layout, id: id, values: values, stamp: stamp)
        return id
    }

    /// Sets fields of an existing profile record; each field is its own last-writer-wins register.
    public func update(_ collection: String, id: String, values: [String: Value]) throws {
        let layout = try profileLayout(collection)
        guard let deleted = try exists(layout, id) else {
            throw SyncError(.notFound, "No \(layout.name) record with id \(id).")
        }
        guard !deleted else { throw SyncError(.deleted, "The \(layout.name) record \(id) was deleted.") }
        for (name, value) in values where value.isNull {
            if layout.collection.field(named: name)?.required == true {
                throw SyncError(.invalidValue, "'\(name)' cannot be emptied: \(layout.name) records need it.")
            }
        }
        guard !values.isEmpty else { return }
        try writeRegisters(layout, id: id, values: values, stamp: session.stamp())
    }

    /// Deletes a profile record: a tombstone that no older or concurrent edit undoes.
    public func delete(_ collection: String, id: String) throws {
        let layout = try profileLayout(collection)
        guard let deleted = try exists(layout, id) else {
            throw SyncError(.notFound, "No \(layout.name) record with id \(id).")
        }
        guard !deleted else { return }
        let stamp = session.stamp()
        try session.mergeProfile(
            layout, id: id,
            cells: [(register: layout.deletedIndex, value: .integer(1), stamp: stamp)])
    }

    private func writeRegisters(_ layout: TableLayout, id: String, values: [String: Value], stamp: Stamp) throws {
        var cells: [(register: Int, value: Value, stamp: Stamp)] = []
        for (name, value) in values {
            let index = try fieldIndex(layout, name)
            cells.append((index, try coerce(layout, index, value), stamp))
        }
        try session.mergeProfile(layout, id: id, cells: cells)
    }

    /// The records as this transaction sees them (its own writes included), for reads that must agree with
    /// what it writes.
    public var records: any RecordSource { TransactionRecords(session: session) }

    /// nil when the profile record is absent, else whether it is deleted (a tombstone).
    public func isDeleted(_ collection: String, id: String) throws -> Bool? {
        try exists(try profileLayout(collection), id)
    }

    /// nil when absent, else whether it is deleted.
    private func exists(_ layout: TableLayout, _ id: String) throws -> Bool? {
        let statement = try replica.statements.statement(
            session.db, .init(kind: .exists, collection: layout.collectionIndex)
        ) {
            "SELECT \"_deleted\" IS NOT NULL FROM \(layout.table) WHERE \"id\" = ?1"
        }
        statement.bind(id, at: 1)
        defer { statement.reset() }
        return try statement.step() ? statement.int64(0) != 0 : nil
    }

    private func profileLayout(_ collection: String) throws -> TableLayout {
        let layout = try replica.layout(collection)
        guard layout.isProfile else {
            throw SyncError(
                .immutableFact, "'\(collection)' records are facts: they are never edited. Record a new fact instead.")
        }
        return layout
    }

    private func fieldIndex(_ layout: TableLayout, _ name: String) throws -> Int {
        guard let index = layout.collection.fieldIndex[name] else {
            throw SyncError(
                .unknownField,
                "'\(layout.name)' has no field '\(name)'. Fields: \(layout.collection.fields.map(\.name).joined(separator: ", "))."
            )
        }
        return index
    }

    private func checkID(_ id: String?, _ layout: TableLayout) throws {
        guard let id else { return }
        guard BatchPlan.isValidID(id) else {
            throw SyncError(
                .invalidValue,
                "'\(id.prefix(80))' is not a valid \(layout.name) id: 1 to \(BatchPlan.maxIDLength) printable ASCII characters, no spaces."
            )
        }
    }

    private func coerce(_ layout: TableLayout, _ index: Int, _ value: Value) throws -> Value {
        let field = layout.collection.fields[index]
        if case .real(let number) = value, !number.isFinite {
            throw SyncError(.invalidValue, "'\(layout.name).\(field.name)' must be a finite number, not \(number).")
        }
        guard let coerced = field.type.coerce(value) else {
            throw SyncError(
                .invalidValue, "'\(layout.name).\(field.name)' is \(field.type.rawValue), not \(value.kindDescription)."
            )
        }
        // The rules every node applies to what it receives hold for what it writes itself.
        if let problem = field.problem(with: coerced) {
            throw SyncError(.invalidValue, "'\(layout.name).\(field.name)': \(problem).")
        }
        return coerced
    }
}

extension Replica {
    /// Runs local writes in one transaction: stamped, committed atomically, durable on return
    /// (with `.full` durability). Throws, and writes nothing, if any write throws.
    @discardableResult
    public func write<T>(_ body: (ReplicaTransaction) throws -> T) throws -> T {
        try withSession { session in
            session.isLocal = true
            return try body(ReplicaTransaction(session: session))
        }
    }
}
