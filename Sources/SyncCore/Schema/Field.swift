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
    /// For `.reference` fields: the collection the id points into.
    public var references: String?

    public init(_ name: String, _ type: FieldType, required: Bool = false, references: String? = nil) {
        self.name = name
        self.type = type
        self.required = required
        self.references = references
    }
}
