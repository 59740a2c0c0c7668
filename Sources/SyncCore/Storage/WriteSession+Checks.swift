import GRDB

/// What a write session checks before a record of a client, or a local write, is stored: scope,
/// required fields, references and the domain's rules; and where a refused or departed record is noted.
extension WriteSession {
    /// The refusal of a record stored here in another scope than the sender's (another city's record, or
    /// one that moved away).
    static func outOfScope(_ layout: TableLayout, id: String, value: Value, scope: String) -> RefusedRecord {
        RefusedRecord(
            refusal: .storedElsewhere(
                collection: layout.name, id: id, scopeField: layout.collection.scopeField, value: value, scope: scope))
    }

    /// Refuses a new profile record that lacks one of its required fields (a client sends a new record
    /// whole; one without its reference or head of household would break every reader).
    func requireFields(
        _ layout: TableLayout, id: String, cells: [(register: Int, value: Value, stamp: Stamp)]
    )
        throws
    {
        var filled: UInt64 = 0
        for cell in cells where cell.value != .null { filled |= 1 << UInt64(cell.register) }
        // A tombstone of a record never seen here needs nothing else.
        if filled & (1 << UInt64(layout.deletedIndex)) != 0 { return }
        let missing = layout.requiredMask & ~filled
        guard missing != 0 else { return }
        let name = layout.collection.fields[missing.trailingZeroBitCount].name
        throw RefusedRecord(refusal: .missingField(collection: layout.name, id: id, field: name))
    }

    /// Refuses a reference (a delivery's family, a void's delivery, `merged_into`) to a record stored here
    /// in another scope than the record's own. A reference to a record not known here is kept (it may
    /// arrive later; the report lists it as dangling until it does).
    func checkReference(_ layout: TableLayout, id: String, register: Int, value: Value, scope: Value?) throws {
        guard register < layout.collection.fields.count, case .text(let target) = value,
            let collection = layout.collection.fields[register].references,
            let targetLayout = try? replica.layout(collection),
            let targetScope = targetLayout.collection.scopeField
        else { return }
        let lookup = try cached(targetLayout, .referenceScope) {
            "SELECT \(quote(targetScope)) FROM \(targetLayout.table) WHERE \"id\" = ?1"
        }
        lookup.bind(target, at: 1)
        // (`.some`/`.none`: a bare nil would be `Value.null`, which is a nil literal too.)
        let stored: Value? = try lookup.step() ? .some(lookup.value(0)) : .none
        lookup.reset()
        guard let stored, stored != scope ?? .null else { return }
        throw RefusedRecord(
            refusal: .crossScopeReference(
                collection: layout.name, id: id, field: layout.collection.fields[register].name,
                target: (collection, target, stored), scope: scope, scopeField: targetScope))
    }

    /// The schema's rules when they check this collection and this write is one they check (a local
    /// write, or a client's record at a server).
    func ruleCheck(_ layout: TableLayout) -> (any RecordRules)? {
        guard fromClient || isLocal, let rules = replica.schema.rules, rules.collections.contains(layout.name) else {
            return nil
        }
        return rules
    }

    /// Applies the rules to a record about to be written: a client's record is refused on its own
    /// (``RefusedRecord``), a local write throws the problem as a `SyncError`.
    func check(
        _ rules: any RecordRules, _ layout: TableLayout, id: String, values: [String: Value], changed: Set<String>,
        isNew: Bool, writer node: NodeID?
    ) throws {
        let writer = node.map { node in
            RecordWriter(
                node: node,
                standing: !fromClient ? .local : node == sender ? .client(role) : .relayed)
        }
        let record = CheckedRecord(
            collection: layout.name, id: id, values: values, changed: changed, isNew: isNew, isLocal: !fromClient,
            writer: writer)
        guard let problem = try rules.problem(with: record, in: TransactionRecords(session: self)) else { return }
        if fromClient {
            throw RefusedRecord(
                refusal: Refusal(
                    collection: layout.name, id: id, code: problem.code, field: problem.field, detail: problem.detail))
        }
        var error = SyncError(problem.code, problem.detail)
        error.reason = problem.reason
        error.reasonArguments = problem.arguments
        throw error
    }

    /// Notes that a record left `scope`, at a sequence of its own after the change that moved it, or
    /// because this node's server refused it (`refusal`: passed on to the readers of that scope).
    func recordDeparture(_ collection: String, id: String, from scope: String, refusal: Refusal? = nil) throws {
        let insert = try SQLStatement(
            cached: db,
            """
            INSERT INTO _departures(seq, collection, record_id, scope, code, field, detail)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            """)
        insert.bind(nextSequence(), at: 1)
        insert.bind(collection, at: 2)
        insert.bind(id, at: 3)
        insert.bind(scope, at: 4)
        insert.bind(refusal.map { .text($0.code.rawValue) } ?? Value.null, at: 5)
        insert.bind(refusal?.field.map(Value.text) ?? .null, at: 6)
        insert.bind(refusal.map { .text($0.detail) } ?? Value.null, at: 7)
        try insert.run()
    }
}
