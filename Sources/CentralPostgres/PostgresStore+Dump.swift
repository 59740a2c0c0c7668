import PostgresNIO
import SyncCore

extension PostgresStore {
    /// The replicated state as the SQLite replica's `dump()` writes it (every record's values and stamps,
    /// and kept unknown fields, by collection and id; no sequences, no history): two stores that saw the
    /// same changes dump the same text, whichever engine each runs on.
    package func dump() async throws -> String {
        let layouts = self.layouts.sorted { $0.name < $1.name }
        return try await database.withConnection { connection in
            var lines: [String] = []
            for layout in layouts {
                let rows = try await connection.run(
                    PostgresQuery(
                        unsafeSQL: "SELECT \(layout.selectList) FROM \(layout.table) ORDER BY id COLLATE \"C\""),
                    logger: self.logger)
                for try await row in rows {
                    let (id, stored) = try layout.decode(row)
                    lines.append(Self.dumpLine(layout, id: id, stored))
                }
            }
            return lines.joined(separator: "\n")
        }
    }

    private static func dumpLine(_ layout: PostgresLayout, id: String, _ row: MergedRow) -> String {
        var parts = [layout.name, Value.dumpText(.text(id))]
        if layout.isProfile {
            for (index, register) in layout.registers.enumerated() {
                guard let stamp = row.stamp(register: index) else { continue }
                parts.append(
                    "\(register)=\(Value.dumpText(row.values[index]))@\(stamp.hlc.storage):\(stamp.node.rawValue)")
            }
        } else {
            parts.append("@\(row.hlc.first ?? 0):\(row.node.first ?? 0)")
            for (index, register) in layout.registers.enumerated() {
                parts.append("\(register)=\(Value.dumpText(row.values[index]))")
            }
        }
        for (name, extra) in row.extra.sorted(by: { $0.key < $1.key }) {
            var part = "~\(name)=\(Value.dumpText(extra.v))"
            if let h = extra.h, let n = extra.n { part += "@\(h):\(n)" }
            parts.append(part)
        }
        return parts.joined(separator: " ")
    }
}
