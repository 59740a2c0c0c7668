/// Writes compact JSON straight into bytes: the wire encoder's only output path.
package struct JSONWriter {
    package private(set) var bytes: [UInt8] = []

    package init(capacity: Int = 4096) {
        bytes.reserveCapacity(capacity)
    }

    package mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    package mutating func append(_ other: [UInt8]) {
        bytes.append(contentsOf: other)
    }

    package mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    /// `"key":`
    package mutating func key(_ name: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    package mutating func int(_ value: Int64) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes of scratch
        let count: Int = withUnsafeMutableBytes(of: &digits) { scratch in
            var index = scratch.count
            while magnitude > 0 {
                index -= 1
                scratch[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            if value < 0 {
                index -= 1
                scratch[index] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: scratch[index...])
            return scratch.count - index
        }
        _ = count
    }

    /// A finite number, always with a fraction or exponent so that it reads back as a real.
    package mutating func real(_ value: Double) {
        var text = value.isFinite ? String(value) : "0.0"
        if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { text += ".0" }
        bytes.append(contentsOf: text.utf8)
    }

    package mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            // Most text needs no escape: one copy.
            if !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
                bytes.append(contentsOf: utf8)
                return
            }
            var start = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                bytes.append(contentsOf: utf8[start..<index])
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case 0x22: bytes.append(0x22)
                case 0x5C: bytes.append(0x5C)
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
                }
            }
            bytes.append(contentsOf: utf8[start...])
        }
        bytes.append(UInt8(ascii: "\""))
    }

    package mutating func value(_ value: Value) {
        switch value {
        case .null: raw("null")
        case .integer(let number): int(number)
        case .real(let number): real(number)
        case .text(let text): string(text)
        }
    }

    package mutating func cursor(_ cursor: FeedCursor) {
        string(cursor.description)
    }
}

extension JSONWriter {
    /// A record's values as one object keyed by field name (a refused record kept for the admin).
    package mutating func fields(of record: RecordChange, names: [String]) {
        byte(UInt8(ascii: "{"))
        for (index, cell) in record.cells.enumerated() {
            if index > 0 { byte(UInt8(ascii: ",")) }
            string(names[cell.field])
            byte(UInt8(ascii: ":"))
            value(cell.value)
        }
        byte(UInt8(ascii: "}"))
    }
}
