/// The type of a field. It fixes the SQLite column affinity and what values a write may carry.
public enum FieldType: String, Sendable, Codable, CaseIterable {
    case text, integer, real, bool, timestamp, reference

    /// The column type in the replica's tables.
    var sqlType: String {
        switch self {
        case .text, .reference: "TEXT"
        case .integer, .bool, .timestamp: "INTEGER"
        case .real: "REAL"
        }
    }

    /// Whether a value fits this type (without converting it: the column's affinity stores an integer
    /// given to a real field as a real). `NULL` fits every type.
    func accepts(_ value: Value) -> Bool {
        switch (self, value) {
        case (_, .null): true
        case (.text, .text), (.reference, .text): true
        case (.integer, .integer), (.timestamp, .integer), (.real, .real), (.real, .integer): true
        case (.bool, .integer(let flag)): flag == 0 || flag == 1
        default: false
        }
    }

    /// Coerces a value to this type, or returns nil when it cannot hold it. `NULL` fits every type.
    func coerce(_ value: Value) -> Value? {
        guard accepts(value) else { return nil }
        if self == .real, case .integer(let number) = value { return .real(Double(number)) }
        return value
    }
}

/// One declared field of a collection.
public struct Field: Sendable, Hashable {
    public var name: String
    public var type: FieldType
    /// A value must be present when the record is created.
    public var required: Bool
    /// For `.reference` fields: the collection the id points into (in the same scope).
    public var references: String?
    /// For integer and timestamp fields: the values a record may carry. Timestamps default to the 48 bits
    /// of milliseconds a stamp holds (years 1970 to 10889).
    public var range: ClosedRange<Int64>?
    /// For text fields: the values a record may carry (nil: any text).
    public var allowed: Set<String>?

    /// The longest text a field holds, in UTF-8 bytes (a family's notes, a long address).
    public static let maxTextBytes = 4096

    public init(
        _ name: String, _ type: FieldType, required: Bool = false, references: String? = nil,
        range: ClosedRange<Int64>? = nil, allowed: Set<String>? = nil
    ) {
        self.name = name
        self.type = type
        self.required = required
        self.references = references
        self.range = range ?? (type == .timestamp ? 0...((1 << 48) - 1) : nil)
        self.allowed = allowed
    }

    /// Why `value` cannot be this field's (a sentence for a refusal), or nil when it fits. NULL fits (the
    /// required fields are checked on the record).
    public func problem(with value: Value) -> String? {
        guard type.accepts(value) else { return "a \(type.rawValue) field cannot hold \(value.kindDescription)" }
        switch value {
        case .integer(let number):
            if let range, !range.contains(number) {
                return "\(number) is outside \(range.lowerBound)…\(range.upperBound)"
            }
        case .text(let text):
            if text.utf8.count > Self.maxTextBytes { return "a text of more than \(Self.maxTextBytes) bytes" }
            if text.holdsNUL { return Self.nulProblem }
            // A reference names a record, by bytes on every engine; Swift's `String` equates some other
            // spellings with an id's ("\u{212A}" and "K"), and a merge gathers ids in Swift.
            if type == .reference, !RecordRef.isValidID(text) {
                return "'\(text.prefix(40))', which is not a record id (1 to 64 printable ASCII characters, no spaces)"
            }
            if let allowed, !allowed.contains(text) {
                return "'\(text.prefix(40))' is not one of \(allowed.sorted().joined(separator: ", "))"
            }
        case .real(let number) where !number.isFinite:
            return "\(number): numbers must be finite"
        default:
            break
        }
        return nil
    }
}

extension Field {
    /// Why no text may hold U+0000: central's PostgreSQL store cannot, and no node takes what another refuses.
    static let nulProblem = "a text holding U+0000 (NUL), which no field may hold"
}

extension String {
    /// Whether the text holds U+0000.
    var holdsNUL: Bool {
        var copy = self
        return copy.withUTF8 { $0.contains(0) }
    }

    /// The text with each U+0000 replaced by U+FFFD: for what a node only keeps and shows (a heartbeat, a
    /// relayed conflict), which no store then refuses.
    var withoutNUL: String { holdsNUL ? replacingNUL() : self }

    private func replacingNUL() -> String {
        String(String.UnicodeScalarView(unicodeScalars.map { $0 == "\u{0}" ? "\u{FFFD}" : $0 }))
    }
}

extension Value {
    /// The value with each U+0000 of a text replaced by U+FFFD (see `String.withoutNUL`).
    var withoutNUL: Value {
        if case .text(let text) = self, text.holdsNUL { return .text(text.withoutNUL) }
        return self
    }
}
