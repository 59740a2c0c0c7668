/// Reads JSON from bytes, one token at a time, for the wire decoder.
///
/// Every error is `.invalidBatch` and says what was expected, what was found and at which byte.
/// Nesting is bounded (``maxDepth``) and numbers keep their kind: `1` is an integer, `1.0` a real.
package struct JSONReader {
    package static let maxDepth = 16
    /// The longest string the wire carries (a note, an address): 64 KiB.
    package static let maxStringBytes = 64 * 1024

    let bytes: [UInt8]
    package private(set) var offset = 0
    private var depth = 0

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: Errors

    package func error(expected: String) -> SyncError {
        SyncError(.invalidBatch, "Invalid body: expected \(expected) at byte \(offset), found \(found()).")
    }

    private func found() -> String {
        guard offset < bytes.count else { return "the end of the body" }
        switch bytes[offset] {
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "{"): return "an object"
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return "a boolean"
        case UInt8(ascii: "n"): return "null"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return "a number"
        case let byte where byte >= 0x20 && byte < 0x7F: return "'\(Character(UnicodeScalar(byte)))'"
        case let byte: return "byte 0x\(String(byte, radix: 16))"
        }
    }

    // MARK: Structure

    package mutating func skipSpace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    package mutating func peek() -> UInt8? {
        skipSpace()
        return offset < bytes.count ? bytes[offset] : nil
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        if peek() == byte {
            offset += 1
            return true
        }
        return false
    }

    /// Checks that nothing but white space follows the document.
    package mutating func end() throws(SyncError) {
        guard peek() == nil else { throw error(expected: "the end of the body") }
    }

    /// Calls `body` with each key of an object; `body` must read the key's value.
    package mutating func object(
        _ what: String, _ body: (inout JSONReader, String) throws(SyncError) -> Void
    ) throws(SyncError) {
        guard consume(UInt8(ascii: "{")) else { throw error(expected: what) }
        depth += 1
        guard depth <= Self.maxDepth else { throw error(expected: "at most \(Self.maxDepth) levels of nesting") }
        if !consume(UInt8(ascii: "}")) {
            repeat {
                guard peek() == UInt8(ascii: "\"") else { throw error(expected: "a key in \(what)") }
                let key = try string("a key")
                guard consume(UInt8(ascii: ":")) else { throw error(expected: "':' after \"\(key)\"") }
                try body(&self, key)
            } while consume(UInt8(ascii: ","))
            guard consume(UInt8(ascii: "}")) else { throw error(expected: "',' or '}' in \(what)") }
        }
        depth -= 1
    }

    /// Calls `body` for each element of an array; `body` must read the element.
    package mutating func array(_ what: String, _ body: (inout JSONReader) throws(SyncError) -> Void) throws(SyncError)
    {
        guard consume(UInt8(ascii: "[")) else { throw error(expected: what) }
        depth += 1
        guard depth <= Self.maxDepth else { throw error(expected: "at most \(Self.maxDepth) levels of nesting") }
        if !consume(UInt8(ascii: "]")) {
            repeat {
                try body(&self)
            } while consume(UInt8(ascii: ","))
            guard consume(UInt8(ascii: "]")) else { throw error(expected: "',' or ']' in \(what)") }
        }
        depth -= 1
    }

    /// Whether the next element of the current array is there (after a `,`), for positional arrays.
    package mutating func nextElement() -> Bool {
        consume(UInt8(ascii: ","))
    }

    /// Skips a value of a key this version does not know (forward compatibility), bounded in depth.
    package mutating func skip() throws(SyncError) {
        switch peek() {
        case UInt8(ascii: "{"): try object("an object") { (reader, _) throws(SyncError) in try reader.skip() }
        case UInt8(ascii: "["): try array("an array") { (reader) throws(SyncError) in try reader.skip() }
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool("a boolean")
        default: _ = try value("a value")
        }
    }

    // MARK: Scalars

    package mutating func null() -> Bool {
        guard peek() == UInt8(ascii: "n"), literal("null") else { return false }
        return true
    }

    private mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard offset + count <= bytes.count else { return false }
        let matches = text.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[offset + $0] == expected[$0] }
        }
        if matches { offset += count }
        return matches
    }

    package mutating func bool(_ what: String) throws(SyncError) -> Bool {
        skipSpace()
        if literal("true") { return true }
        if literal("false") { return false }
        throw error(expected: what)
    }

    package mutating func string(_ what: String) throws(SyncError) -> String {
        guard consume(UInt8(ascii: "\"")) else { throw error(expected: what) }
        let start = offset
        var plain = true
        var ascii = true
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                plain = false
                offset += 2
                continue
            }
            if byte < 0x20 { throw error(expected: "a string without raw control characters") }
            ascii = ascii && byte < 0x80
            offset += 1
        }
        guard offset < bytes.count else {
            offset = start
            throw error(expected: "the end of a string")
        }
        let end = offset
        offset += 1
        guard end - start <= Self.maxStringBytes else {
            offset = start
            throw error(expected: "a string of at most \(Self.maxStringBytes) bytes")
        }
        if plain {
            let decoded = bytes.withUnsafeBufferPointer { buffer -> String? in
                let slice = UnsafeBufferPointer(rebasing: buffer[start..<end])
                // ASCII (ids, codes, most names) is valid UTF-8 as it is: skip the generic validation.
                return ascii ? String(decoding: slice, as: UTF8.self) : String(validating: slice, as: UTF8.self)
            }
            guard let text = decoded else {
                offset = start
                throw error(expected: "UTF-8 text")
            }
            return text
        }
        return try unescape(start..<end)
    }

    private func unescape(_ range: Range<Int>) throws(SyncError) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(range.count)
        var index = range.lowerBound
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= range.upperBound else { return nil }
            var value: UInt32 = 0
            for byte in bytes[at..<(at + 4)] {
                guard let digit = Character(UnicodeScalar(byte)).hexDigitValue else { return nil }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        while index < range.upperBound {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            guard index + 1 < range.upperBound else { throw error(expected: "an escape sequence") }
            let escape = bytes[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(index) else { throw error(expected: "four hex digits after \\u") }
                index += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    guard index + 6 <= range.upperBound, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u"), let low = hex4(index + 2),
                        (0xDC00..<0xE000).contains(low)
                    else { throw error(expected: "a low surrogate after a high surrogate") }
                    index += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = UnicodeScalar(scalar) else { throw error(expected: "a valid \\u escape") }
                output.append(contentsOf: String(Character(unicode)).utf8)
            default: throw error(expected: "a valid escape sequence")
            }
        }
        guard let text = String(validating: output, as: UTF8.self) else { throw error(expected: "UTF-8 text") }
        return text
    }

    /// A JSON number without fraction or exponent that fits in 64 bits.
    package mutating func int(_ what: String) throws(SyncError) -> Int64 {
        skipSpace()
        let start = offset
        guard case .integer(let value) = try number(what) else {
            offset = start
            throw error(expected: what + " (an integer)")
        }
        return value
    }

    /// An integer within `range`; one outside it is refused like a value of the wrong type (never clamped
    /// silently, never left to trap the arithmetic that follows).
    package mutating func int(_ what: String, in range: ClosedRange<Int64>) throws(SyncError) -> Int64 {
        skipSpace()
        let start = offset
        let value = try int(what)
        guard range.contains(value) else {
            offset = start
            throw error(expected: "\(what) from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A field value: null, a number (integer or real) or a string.
    package mutating func value(_ what: String) throws(SyncError) -> Value {
        switch peek() {
        case UInt8(ascii: "\""): return .text(try string(what))
        case UInt8(ascii: "n"):
            if null() { return .null }
            throw error(expected: what)
        default: return try number(what)
        }
    }

    private mutating func number(_ what: String) throws(SyncError) -> Value {
        skipSpace()
        let start = offset
        var negative = false
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "-") {
            negative = true
            offset += 1
        }
        var magnitude: UInt64 = 0
        var overflow = false
        let digitsStart = offset
        while offset < bytes.count, bytes[offset] >= 0x30, bytes[offset] <= 0x39 {
            let (times, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (plus, o2) = times.addingReportingOverflow(UInt64(bytes[offset] - 0x30))
            overflow = overflow || o1 || o2
            magnitude = plus
            offset += 1
        }
        guard offset > digitsStart else {
            offset = start
            throw error(expected: what)
        }
        if offset - digitsStart > 1, bytes[digitsStart] == 0x30 {
            offset = start
            throw error(expected: "a number without leading zeros")
        }
        var isReal = false
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            isReal = true
            offset += 1
            let fraction = offset
            while offset < bytes.count, bytes[offset] >= 0x30, bytes[offset] <= 0x39 { offset += 1 }
            guard offset > fraction else { throw error(expected: "digits after '.'") }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            isReal = true
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") {
                offset += 1
            }
            let exponent = offset
            while offset < bytes.count, bytes[offset] >= 0x30, bytes[offset] <= 0x39 { offset += 1 }
            guard offset > exponent else { throw error(expected: "digits in the exponent") }
        }
        if isReal {
            guard let real = Double(String(decoding: bytes[start..<offset], as: UTF8.self)),
                real.isFinite
            else {
                offset = start
                throw error(expected: "a finite number")
            }
            return .real(real)
        }
        if negative {
            guard !overflow, magnitude <= UInt64(Int64.max) + 1 else {
                offset = start
                throw error(expected: "an integer within 64 bits")
            }
            return .integer(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude))
        }
        guard !overflow, magnitude <= UInt64(Int64.max) else {
            offset = start
            throw error(expected: "an integer within 64 bits")
        }
        return .integer(Int64(magnitude))
    }
}
