import Foundation
import SyncCore

/// Text tables and JSON for the commands that print data.
///
/// Names, notes and errors come from other people's devices: human output shows every character a terminal
/// would act on as an escape (``visible(_:)``), and JSON output carries it as a `\u` escape.
enum Printer {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((visible(text) + "\n").utf8))
    }

    static func note(_ text: String) {
        FileHandle.standardError.write(Data((visible(text) + "\n").utf8))
    }

    /// A left-aligned table with a header, columns as wide as their widest cell (on stderr with
    /// `evidence`: the table explains a refusal).
    static func table(_ header: [String], _ rows: [[String]], evidence: Bool = false) {
        let rows = rows.map { $0.map(visible) }
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
        else { return FileHandle.standardOutput.write(Data("null\n".utf8)) }
        FileHandle.standardOutput.write(Data((escapedJSON(String(decoding: data, as: UTF8.self)) + "\n").utf8))
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

    /// Whether a terminal acts on `scalar` rather than shows it: the C0 controls (line feed and tab included:
    /// a name could forge a line of the report), DEL, the C1 controls (U+009B starts an escape sequence as
    /// ESC [ does), and the bidirectional embeddings, overrides and isolates (U+202A…202E, U+2066…2069),
    /// with which a name could reorder the text after it. Arabic letters and the bidirectional marks
    /// (U+200E, U+200F, U+061C) are shown: Arabic names display as they are.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// `text` with every control (``isControl(_:)``) written as Swift writes it: ESC as `\u{1B}`.
    static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var shown = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                shown.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                shown.append(scalar)
            }
        }
        return String(shown)
    }

    /// Compact JSON with every control as a `\uXXXX` escape. The encoder escapes C0 controls but writes
    /// DEL, C1 controls and bidirectional overrides as they are; outside strings compact JSON holds none of
    /// them, so each one found is inside a string and its escape decodes to the same text.
    static func escapedJSON(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: isControl) else { return json }
        var escaped = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            if isControl(scalar) {
                escaped.append(contentsOf: String(format: "\\u%04x", scalar.value).unicodeScalars)
            } else {
                escaped.append(scalar)
            }
        }
        return String(escaped)
    }
}
