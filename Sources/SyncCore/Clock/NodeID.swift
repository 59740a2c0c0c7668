/// The identity of a replica: 63 random bits, shown as 16 hexadecimal digits.
///
/// It breaks ties between stamps with equal clock readings, so two writers never tie.
/// It is kept positive so that it stores as a plain SQLite `INTEGER` and orders the same there and here.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: Int64

    public init?(rawValue: Int64) {
        guard rawValue > 0 else { return nil }
        self.rawValue = rawValue
    }

    /// Parses the 16-digit hexadecimal form.
    public init?(hex: String) {
        guard hex.utf8.count == 16, hex.utf8.allSatisfy({ $0 < 0x80 && Character(UnicodeScalar($0)).isHexDigit }),
            let value = UInt64(hex, radix: 16), let id = NodeID(rawValue: Int64(bitPattern: value))
        else { return nil }
        self = id
    }

    public static func random() -> NodeID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    public static func random(using generator: inout some RandomNumberGenerator) -> NodeID {
        NodeID(rawValue: Int64.random(in: 1...Int64.max, using: &generator))!
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        let hex = String(UInt64(bitPattern: rawValue), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
