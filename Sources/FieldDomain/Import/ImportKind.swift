/// What a bulk import brings in: families, associations or campaigns, each from its own CSV layout.
public enum ImportKind: String, Sendable, CaseIterable, Codable {
    case families, associations, campaigns

    /// A column of the kind's CSV: its name in the header, whether the header must have it, an example.
    public struct Column: Sendable, Hashable {
        public var name: String
        /// The header must name it, and every row give it a value.
        public var required: Bool
        public var example: String
        public var help: String
    }

    /// The collection its rows are records of.
    public var collection: String { rawValue }

    /// The column holding the record's id (associations, campaigns); families get new ids.
    var keyColumn: String? {
        switch self {
        case .families: nil
        case .associations: "id"
        case .campaigns: "code"
        }
    }

    /// The columns, in the template's order.
    public var columns: [Column] {
        switch self {
        case .families:
            [
                Column(name: "city", required: true, example: "Fès", help: "a city where an association works"),
                Column(
                    name: "association", required: true, example: "amal-fes",
                    help: "the association's id or name (of that city)"),
                Column(
                    name: "reference", required: true, example: "AM-0001",
                    help: "the association's own reference: a row with a reference already imported changes that family"
                ),
                Column(
                    name: "head_name", required: true, example: "Fatima Zahra Bennani", help: "Latin or Arabic script"),
                Column(name: "phone", required: false, example: "06 12 34 56 78", help: "at least 6 digits"),
                Column(name: "household_size", required: false, example: "5", help: "1 to 100"),
                Column(name: "district", required: false, example: "Fès el Bali", help: ""),
                Column(name: "address", required: false, example: "Derb Sultan n° 4", help: ""),
                Column(name: "notes", required: false, example: "", help: ""),
            ]
        case .associations:
            [
                Column(
                    name: "id", required: true, example: "amal-fes",
                    help: "1 to 64 letters, digits or - _ . (what families and devices name)"),
                Column(name: "name", required: true, example: "Association Amal", help: ""),
                Column(name: "city", required: true, example: "Fès", help: "the city it works in"),
            ]
        case .campaigns:
            [
                Column(
                    name: "code", required: true, example: "phase-1",
                    help: "lowercase letters, digits, _ or - (what deliveries name)"),
                Column(name: "name", required: true, example: "Phase 1", help: ""),
                Column(name: "name_fr", required: false, example: "Phase 1 : hiver", help: "its name in French"),
                Column(name: "name_ar", required: false, example: "المرحلة الأولى", help: "its name in Arabic"),
                Column(name: "phase", required: false, example: "1", help: "1 to 99"),
                Column(name: "from", required: true, example: "2026-12-01", help: "first day, YYYY-MM-DD"),
                Column(name: "to", required: true, example: "2027-01-31", help: "last day, YYYY-MM-DD"),
                Column(
                    name: "items", required: true, example: "food_pack:1,connectivity_pack:1",
                    help: "items of the catalogue with the most per family"),
            ]
        }
    }

    /// The template an admin fills in: the header alone (UTF-8 with a byte order mark, `;` between cells,
    /// CRLF: what a French-locale spreadsheet opens as columns). No example row: one left in by mistake would
    /// be imported; ``guide`` gives the examples.
    public var template: String {
        "\u{FEFF}" + columns.map(\.name).joined(separator: ";") + "\r\n"
    }

    /// One line per column: its name, whether it is required, an example and what it holds.
    public var guide: [String] {
        columns.map { column in
            "\(column.name)\(column.required ? " (required)" : "")"
                + (column.example.isEmpty ? "" : ", e.g. \(column.example)")
                + (column.help.isEmpty ? "" : ": \(column.help)")
        }
    }

    /// A header cell as compared with column names: lowercased, spaces and dashes as `_`.
    static func columnKey(_ cell: String) -> String {
        String(cell.lowercased().map { $0 == " " || $0 == "-" ? "_" : $0 })
    }

    /// Which column each header cell is; throws naming every missing, unknown or repeated column.
    public func columnPositions(_ header: [String]) throws(ImportError) -> [String: Int] {
        var positions: [String: Int] = [:]
        var unknown: [String] = []
        var repeated: [String] = []
        let names = Set(columns.map(\.name))
        for (index, cell) in header.enumerated() {
            let key = Self.columnKey(cell)
            if key.isEmpty, index == header.count - 1 { continue }  // a trailing separator
            if !names.contains(key) {
                unknown.append(cell.isEmpty ? "(an empty header cell, column \(index + 1))" : "'\(cell)'")
            } else if positions[key] != nil {
                repeated.append(key)
            } else {
                positions[key] = index
            }
        }
        let missing = columns.filter { $0.required && positions[$0.name] == nil }.map(\.name)
        var problems: [String] = []
        if !missing.isEmpty { problems.append("missing column(s): \(missing.joined(separator: ", "))") }
        if !unknown.isEmpty { problems.append("unknown column(s): \(unknown.joined(separator: ", "))") }
        if !repeated.isEmpty { problems.append("column(s) given twice: \(repeated.joined(separator: ", "))") }
        guard problems.isEmpty else {
            throw ImportError(
                "The header (line 1) does not fit a \(rawValue) import: \(problems.joined(separator: "; ")). "
                    + "The columns are \(columns.map { $0.name + ($0.required ? "" : " (optional)") }.joined(separator: ", ")); "
                    + "`field admin import \(rawValue) --template` prints a file to start from.")
        }
        return positions
    }
}
