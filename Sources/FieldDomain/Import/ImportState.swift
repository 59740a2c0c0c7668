public import SyncCore

/// What an import compares its rows with: the records a node holds (live ones), as plain values.
public struct ImportState: Sendable {
    public typealias Records = [(id: String, values: [String: Value])]

    public var associations: Records
    public var families: Records
    public var campaigns: Records
    public var catalogue: Catalogue
    /// Ids of deleted associations and campaigns (a deleted id cannot be created again).
    public var deletedIDs: Set<String>

    public init(
        associations: Records = [], families: Records = [], campaigns: Records = [],
        catalogue: Catalogue = Catalogue(items: [], campaigns: []), deletedIDs: Set<String> = []
    ) {
        self.associations = associations
        self.families = families
        self.campaigns = campaigns
        self.catalogue = catalogue
        self.deletedIDs = deletedIDs
    }

    /// Reads what an import of `kind` needs from `store` (families only for a families or associations import).
    public init(_ store: any RecordSource, kind: ImportKind) throws {
        self.init(
            associations: try store.records("associations", limit: 1_000_000),
            families: kind == .campaigns ? [] : try store.records("families", limit: FamilyDirectory.maxFamilies),
            campaigns: kind == .campaigns ? try store.records("campaigns", limit: Catalogue.maxRecords) : [],
            catalogue: kind == .campaigns ? try Catalogue(store) : Catalogue(items: [], campaigns: []))
    }

    /// The cities the programme works in: those of its associations and families, by spelling.
    var cities: [String] {
        Set((associations + families).compactMap { $0.values["city"]?.textValue }.filter { !$0.isEmpty }).sorted()
    }

    /// The city `text` names: the same spelling, else the one spelling that compares equal accents, case and
    /// Arabic letter variants aside ("fes" is "Fès"); nil when none or several do.
    static func city(_ text: String, among cities: [String]) -> String? {
        if cities.contains(text) { return text }
        let key = TextMatch.normalize(text)
        let found = cities.filter { TextMatch.normalize($0) == key }
        return found.count == 1 ? found[0] : nil
    }
}

extension Value {
    /// The value as an import compares it: empty text is no value.
    var imported: Value {
        if case .text(let text) = self, text.isEmpty { return .null }
        return self
    }
}

/// Checks on cells every kind shares.
enum CellCheck {
    /// Why `text` cannot be the value of `column` (one line unless `multiline`; no control characters; at
    /// most the bytes a field holds), or nil.
    static func problem(_ text: String, column: String, multiline: Bool = false) -> String? {
        if text.utf8.count > Field.maxTextBytes {
            return "\(column) is longer than \(Field.maxTextBytes) bytes"
        }
        let bad = text.unicodeScalars.first { scalar in
            switch scalar.value {
            case 0x0A, 0x0D, 0x09: !multiline
            case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
            default: false
            }
        }
        guard let bad else { return nil }
        return bad.value == 0x0A || bad.value == 0x0D
            ? "\(column) holds a line break (allowed only in address and notes)"
            : "\(column) holds an invisible control character (U+\(String(bad.value, radix: 16, uppercase: true)))"
    }

    /// A record id an admin types: 1 to 64 ASCII letters, digits, `-`, `_` or `.`.
    static func isValidID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        return (1...64).contains(bytes.count)
            && bytes.allSatisfy { byte in
                (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
                    || byte == 45 || byte == 95 || byte == 46
            }
    }

    /// A whole number as a spreadsheet writes it ("5", "٥", " 5 "), or nil.
    static func integer(_ text: String) -> Int? {
        var digits = ""
        for scalar in text.unicodeScalars {
            guard let digit = PhoneKey.digit(scalar) else { return nil }
            digits.append(Character(Unicode.Scalar(digit + 48)))
        }
        return digits.isEmpty || digits.count > 9 ? nil : Int(digits)
    }

    /// The rows (lines) sharing a key, for "given twice in the file".
    static func repeatedKeys(_ keys: [(line: Int, key: String?)]) -> [String: [Int]] {
        var lines: [String: [Int]] = [:]
        for entry in keys { if let key = entry.key { lines[key, default: []].append(entry.line) } }
        return lines.filter { $0.value.count > 1 }
    }
}
