import Foundation

/// RFC 4180 CSV: fields quoted when they hold a comma, a quote or a line break; CRLF line ends; UTF-8,
/// with a byte order mark on request (spreadsheets then read Arabic and accents right).
enum CSV {
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `text` as a spreadsheet shows it rather than runs it (OWASP, CSV injection): a value that starts with
    /// = + - @, a tab or a carriage return gets a leading `'`.
    ///
    /// Plain numbers (`-12`, `3.5`) are left as they are: no spreadsheet runs one, so our own numeric columns
    /// stay numbers (negative ones too). The rule looks at the value, not at where it came from: one place
    /// decides for every column, a new one included, and a record's text can never pass as one of ours.
    static func neutralised(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first),
            !isPlainNumber(text)
        else { return text }
        return "'" + text
    }

    /// An optional minus sign, digits, and an optional fraction: `-12`, `3.5`.
    static func isPlainNumber(_ text: String) -> Bool {
        let parts = (text.hasPrefix("-") ? text.dropFirst() : Substring(text))
            .split(separator: ".", omittingEmptySubsequences: false)
        return parts.count <= 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// The header and rows as a CSV document; every row value neutralised (``neutralised(_:)``) unless `raw`.
    static func document(header: [String], rows: [[String]], bom: Bool, raw: Bool = false) -> Data {
        var text = bom ? "\u{FEFF}" : ""
        text += header.map(field).joined(separator: ",") + "\r\n"
        for row in rows {
            text += row.map { field(raw ? $0 : neutralised($0)) }.joined(separator: ",") + "\r\n"
        }
        return Data(text.utf8)
    }

    /// Writes atomically with mode 0600 (the rows are about families).
    static func write(_ data: Data, to path: String) throws {
        guard
            FileManager.default.createFile(
                atPath: path + ".tmp", contents: data, attributes: [.posixPermissions: 0o600])
        else { throw CLIError("Cannot write \(path): check the folder exists and is writable.") }
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: path + ".tmp", toPath: path)
    }
}
