import SyncCore

/// The domain's rules on a client's record, with what the session knows of its writer (decision record 0017).
extension PostgresWriteSession {
    /// Refuses a client's record that breaks a rule (provisionally, when a rule asked for a record not read
    /// yet: see ``PostgresRuleReads``).
    func check(
        _ rules: any RecordRules, _ layout: PostgresLayout, id: String, values: [String: Value],
        changed: Set<String>, isNew: Bool, writer node: NodeID?
    ) throws {
        let writer = node.map { RecordWriter(node: $0, standing: $0 == sender ? .client(role) : .relayed) }
        let record = CheckedRecord(
            collection: layout.name, id: id, values: values, changed: changed, isNew: isNew, isLocal: false,
            writer: writer)
        guard let problem = try rules.problem(with: record, in: SessionRecords(session: self)) else { return }
        throw RefusedRecord(
            refusal: Refusal(
                collection: layout.name, id: id, code: problem.code, field: problem.field, detail: problem.detail))
    }
}
