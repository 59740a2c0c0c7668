import Foundation
import SyncCore

/// Text tables and JSON for the commands that print data.
enum Printer {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// A left-aligned table with a header, columns as wide as their widest cell (on stderr with
    /// `evidence`: the table explains a refusal).
    static func table(_ header: [String], _ rows: [[String]], evidence: Bool = false) {
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func format(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }
        for cells in [header] + rows {
            if evidence { note(format(cells)) } else { line(format(cells)) }
        }
    }

    /// One JSON value per line of output: objects of strings, numbers, booleans, nulls, arrays.
    static func json(_ value: Any) {
        guard JSONSerialization.isValidJSONObject(value) || value is [String: Any] || value is [Any],
            let data = try? JSONSerialization.data(
                withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return line("null") }
        line(String(decoding: data, as: UTF8.self))
    }

    static func jsonValue(_ value: Value?) -> Any {
        switch value {
        case .integer(let number)?: number
        case .real(let number)?: number
        case .text(let text)?: text
        default: NSNull()
        }
    }

    static func date(_ millis: Int64) -> String {
        ISO8601.format(millis: UInt64(max(0, millis)))
    }
}
