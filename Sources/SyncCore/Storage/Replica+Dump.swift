extension Replica {
    /// A canonical text of the replicated state: every record's values and stamps (and kept unknown
    /// fields), ordered by collection and id. Local bookkeeping (sequences, history) is left out, so two
    /// replicas that saw the same changes dump byte-identical text.
    public func dump() throws -> String {
        try read { db in
            var lines: [String] = []
            for layout in self.layouts.sorted(by: { $0.name < $1.name }) {
                let sql = layout.selectSQL + " ORDER BY \"id\""
                let statement = try SQLStatement(db, sql)
                while try statement.step() {
                    var parts = [layout.name, Value.dumpText(.text(statement.text(0) ?? ""))]
                    if layout.isProfile {
                        let stamps = try layout.decodeStamps(statement, column: 3)
                        for (index, register) in layout.registers.enumerated() {
                            guard let entry = stamps.entries[index] else { continue }
                            let value = Value.dumpText(statement.value(layout.feedValueColumn(index)))
                            parts.append("\(register)=\(value)@\(entry.stamp.hlc.storage):\(entry.stamp.node.rawValue)")
                        }
                    } else {
                        parts.append("@\(statement.int64(3)):\(statement.int64(4))")
                        for (index, register) in layout.registers.enumerated() {
                            parts.append(
                                "\(register)=\(Value.dumpText(statement.value(layout.feedValueColumn(index))))")
                        }
                    }
                    for (name, extra) in try ExtraFields.decode(statement.text(2)).sorted(by: { $0.key < $1.key }) {
                        var part = "~\(name)=\(Value.dumpText(extra.v))"
                        if let h = extra.h, let n = extra.n { part += "@\(h):\(n)" }
                        parts.append(part)
                    }
                    lines.append(parts.joined(separator: " "))
                }
            }
            return lines.joined(separator: "\n")
        }
    }
}
