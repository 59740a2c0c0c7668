import Foundation

/// RFC 4180 CSV: fields quoted when they hold a comma, a quote or a line break; CRLF line ends; UTF-8,
/// with a byte order mark on request (spreadsheets then read Arabic and accents right).
enum CSV {
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func document(header: [String], rows: [[String]], bom: Bool) -> Data {
        var text = bom ? "\u{FEFF}" : ""
        for row in [header] + rows { text += row.map(field).joined(separator: ",") + "\r\n" }
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
