public import Foundation
import GRDB
public import SyncCore

/// The admin's import of recharge codes from a CSV file: `code[,operator[,amount]]` per line, UTF-8 with or
/// without a byte order mark, separated by `,` or `;` (the first line decides), with or without a header
/// line (`code,…`). A bad code, a bad amount or a code given twice is reported with its line and skipped;
/// a code already imported is left as it is, so importing a file again changes nothing.
public struct VoucherImport: Sendable {
    public struct Row: Sendable, Hashable {
        public var line: Int
        public var code: String
        public var operatorName: String?
        public var amount: Int?
    }

    public struct Problem: Sendable, Hashable {
        public var line: Int
        public var message: String
    }

    public var rows: [Row] = []
    public var problems: [Problem] = []

    /// Parses `data` (the file's bytes).
    public init(data: Data) {
        var text = String(decoding: data, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        let separator: Character = (lines.first ?? "").contains(";") ? ";" : ","
        var seen: [String: Int] = [:]
        for (index, raw) in lines.enumerated() {
            let line = index + 1
            let cells = raw.split(separator: separator, omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\"")))
            }
            guard let code = cells.first, !code.isEmpty else { continue }
            if line == 1, code.lowercased() == "code" { continue }
            guard Vouchers.isValidCode(code) else {
                problems.append(
                    Problem(
                        line: line,
                        message: "'\(code.prefix(70))' is not a recharge code (4 to 64 letters, digits or '-')"))
                continue
            }
            if let first = seen[code] {
                problems.append(Problem(line: line, message: "\(code) is given again (first on line \(first))"))
                continue
            }
            var amount: Int?
            if cells.count > 2, !cells[2].isEmpty {
                guard let number = Int(cells[2]), (0...1_000_000).contains(number) else {
                    problems.append(
                        Problem(line: line, message: "the amount '\(cells[2].prefix(20))' is not a whole number"))
                    continue
                }
                amount = number
            }
            seen[code] = line
            let operatorName = cells.count > 1 && !cells[1].isEmpty ? cells[1] : nil
            rows.append(Row(line: line, code: code, operatorName: operatorName, amount: amount))
        }
    }

    /// Imports the rows into `replica` in one transaction; returns how many were new.
    public func apply(to replica: Replica) throws -> Int {
        try replica.write { tx in
            var added = 0
            for row in rows where try tx.importVoucher(row.code, operatorName: row.operatorName, amount: row.amount) {
                added += 1
            }
            return added
        }
    }
}

extension Vouchers {
    /// The node id of the device called `name` (its token's name) that has synced with this hub, or of a
    /// node id given as such; nil when this replica has not seen it.
    public static func deviceNode(_ name: String, in replica: Replica) throws -> NodeID? {
        if let node = NodeID(hex: name) { return node }
        return try replica.read { db in
            try String.fetchOne(
                db, sql: "SELECT node FROM _heartbeats WHERE name = ? AND role = 'device' ORDER BY last_seen_ms DESC",
                arguments: [name])
        }.flatMap(NodeID.init(hex:))
    }
}
