public import Foundation

/// A CSV file as a spreadsheet writes it, read into a header and rows of cells (RFC 4180, leniently).
///
/// UTF-8 with or without a byte order mark; `;` (French-locale spreadsheets), `,` or tab between cells,
/// detected from the header line; fields in double quotes may hold separators, line breaks and doubled
/// quotes; CRLF, LF or CR line ends. Each row keeps its `line`: the spreadsheet's row number (the header
/// is line 1), which a quoted line break inside a cell does not advance. Rows whose cells are all empty
/// (the trailing `;;;;` rows spreadsheets write) are left out.
public struct CSVTable: Sendable {
    public struct Row: Sendable, Hashable {
        /// The spreadsheet's row number (the header is 1).
        public var line: Int
        /// The cells as written, spaces around them trimmed.
        public var cells: [String]
    }

    public var header: [String]
    public var rows: [Row]
    /// The separator found: `;`, `,` or a tab.
    public var separator: Character
    /// Whether the file began with a UTF-8 byte order mark.
    public var hadBOM: Bool

    /// The largest file read (a city's families are a few megabytes).
    public static let maxBytes = 64 << 20

    /// Reads `data`; throws ``ImportError`` with a sentence an admin can act on when it is no CSV text.
    public init(_ data: Data) throws(ImportError) {
        guard data.count <= Self.maxBytes else {
            throw ImportError("The file is \(data.count >> 20) MB; an import reads at most \(Self.maxBytes >> 20) MB.")
        }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            throw ImportError(
                "The file is UTF-16 text (\"Unicode text\"). Save it as \"CSV UTF-8 (comma delimited)\" and import again."
            )
        }
        hadBOM = bytes.starts(with: [0xEF, 0xBB, 0xBF])
        if hadBOM { bytes.removeFirst(3) }
        if let bad = Self.firstInvalidUTF8(bytes) {
            let line = bytes[..<bad].reduce(1) { $0 + ($1 == 10 ? 1 : 0) }
            throw ImportError(
                "The file is not UTF-8 text (line \(line) holds a byte that is not): save it as "
                    + "\"CSV UTF-8\" rather than \"CSV\" (Windows-1252 or Mac Roman) and import again.")
        }
        separator = Self.separator(bytes)
        let records = try Self.records(bytes, separator: UInt8(ascii: separator.unicodeScalars.first!))
        guard let first = records.first, first.contains(where: { !$0.isEmpty }) else {
            throw ImportError("The file is empty: its first line should be the header (see --template).")
        }
        header = first
        rows = records.dropFirst().enumerated().compactMap { index, cells in
            cells.contains(where: { !$0.isEmpty }) ? Row(line: index + 2, cells: cells) : nil
        }
    }

    /// The index of the first byte that breaks UTF-8, or nil.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// The separator of the header line (outside quotes): the most frequent of `;`, `,` and tab; `,` when
    /// there is none (a file of one column).
    static func separator(_ bytes: [UInt8]) -> Character {
        var counts: [UInt8: Int] = [:]
        var quoted = false
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if !quoted, byte == 10 || byte == 13 { break }
            if !quoted { counts[byte, default: 0] += 1 }
        }
        let (semicolons, commas, tabs) = (counts[59] ?? 0, counts[44] ?? 0, counts[9] ?? 0)
        if tabs > semicolons, tabs > commas { return "\t" }
        return semicolons > commas ? ";" : ","
    }

    /// The records of the file, each a list of trimmed cells.
    private static func records(_ bytes: [UInt8], separator: UInt8) throws(ImportError) -> [[String]] {
        let quote = UInt8(ascii: "\"")
        var records: [[String]] = []
        var cells: [String] = []
        var cell: [UInt8] = []
        var index = 0
        var quoted = false
        var openedOnRecord = 1
        func endCell() {
            cells.append(Self.trimmed(String(decoding: cell, as: UTF8.self)))
            cell.removeAll(keepingCapacity: true)
        }
        func endRecord() {
            endCell()
            records.append(cells)
            cells = []
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if quoted {
                if byte == quote {
                    if index < bytes.count, bytes[index] == quote {
                        cell.append(quote)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    cell.append(byte)
                }
                continue
            }
            switch byte {
            case quote where cell.allSatisfy({ $0 == 32 }):
                cell.removeAll(keepingCapacity: true)
                quoted = true
                openedOnRecord = records.count + 1
            case separator:
                endCell()
            case 13:
                if index < bytes.count, bytes[index] == 10 { index += 1 }
                endRecord()
            case 10:
                endRecord()
            default:
                cell.append(byte)
            }
        }
        guard !quoted else {
            throw ImportError(
                "Line \(openedOnRecord) opens a quote (\") that is never closed: every line after it would be one "
                    + "cell. Close the quote, or remove it.")
        }
        if !cell.isEmpty || !cells.isEmpty { endRecord() }
        return records
    }

    /// Without the spaces (and no-break spaces) around it.
    static func trimmed(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespaces)
    }
}

/// Why an import cannot go on at all (the file, its header, the journal): a sentence for the admin.
public struct ImportError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(_ message: String) { self.message = message }
}
