package import SyncCore

/// Central's records as its dump shows them (the SQLite replica's `dump()` format, which every engine's
/// store writes): the checks read them so, whichever engine central runs on.
///
/// A line is `collection t"id"`, then for a profile `field=VALUE@HLC:NODE` per register ever written, for
/// a fact `@HLC:NODE` then `field=VALUE` per field; unknown fields follow as `~field=VALUE[@HLC:NODE]`.
/// A VALUE is `null`, `i<integer>`, `r<real>` or `t"<text>"` (Swift's escapes).
package struct SimRecords {
    package struct Record {
        package var values: [String: Value] = [:]
        package var stamps: [String: Stamp] = [:]
    }

    /// By collection, then id.
    private(set) var collections: [String: [String: Record]] = [:]

    package init(dump: String) throws {
        for line in dump.split(separator: "\n") {
            var scanner = Scanner(Array(line.unicodeScalars))
            let collection = scanner.word()
            guard scanner.take(" "), case .text(let id) = try scanner.value() else {
                throw SimRecordsError(line: String(line))
            }
            var record = Record()
            var factStamp: Stamp?
            while scanner.take(" ") {
                if scanner.take("@") {
                    factStamp = try scanner.stamp()
                    continue
                }
                let extra = scanner.take("~")
                let field = scanner.word(until: "=")
                guard scanner.take("=") else { throw SimRecordsError(line: String(line)) }
                record.values[field] = try scanner.value()
                if scanner.take("@") {
                    record.stamps[field] = try scanner.stamp()
                } else if !extra, let factStamp {
                    record.stamps[field] = factStamp
                }
            }
            guard scanner.atEnd else { throw SimRecordsError(line: String(line)) }
            collections[collection, default: [:]][id] = record
        }
    }

    package func record(_ collection: String, id: String) -> Record? { collections[collection]?[id] }

    /// The ids of `collection` and each record's city, in id order (bytes, as SQLite's and PostgreSQL's
    /// "C" collation sort them).
    func cities(_ collection: String, live: Bool = false) -> [(id: String, city: String?)] {
        (collections[collection] ?? [:])
            .filter { !live || ($0.value.values["_deleted"] ?? .null).isNull }
            .map { (id: $0.key, city: $0.value.values["city"]?.textValue) }
            .sorted { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
    }
}

struct SimRecordsError: Error, CustomStringConvertible {
    var line: String
    var description: String { "a dump line the simulation cannot read: \(line)" }
}

private struct Scanner {
    let scalars: [Unicode.Scalar]
    var index = 0

    init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

    var atEnd: Bool { index == scalars.count }

    mutating func take(_ scalar: Unicode.Scalar) -> Bool {
        guard index < scalars.count, scalars[index] == scalar else { return false }
        index += 1
        return true
    }

    mutating func word(until stop: Unicode.Scalar = " ") -> String {
        var word = String.UnicodeScalarView()
        while index < scalars.count, scalars[index] != stop, scalars[index] != " " {
            word.append(scalars[index])
            index += 1
        }
        return String(word)
    }

    /// `HLC:NODE`, both decimal.
    mutating func stamp() throws -> Stamp {
        let text = word()
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hlc = Int64(parts[0]), let raw = Int64(parts[1]), let node = NodeID(rawValue: raw)
        else { throw SimRecordsError(line: "stamp \(text)") }
        return Stamp(hlc: HLCTimestamp(storage: hlc), node: node)
    }

    mutating func value() throws -> Value {
        guard index < scalars.count else { throw SimRecordsError(line: "a value at the end") }
        let kind = scalars[index]
        index += 1
        switch kind {
        case "n":
            guard word(until: "@") == "ull" else { throw SimRecordsError(line: "null") }
            return .null
        case "i":
            let text = word(until: "@")
            guard let number = Int64(text) else { throw SimRecordsError(line: "integer \(text)") }
            return .integer(number)
        case "r":
            let text = word(until: "@")
            guard let number = Double(text) else { throw SimRecordsError(line: "real \(text)") }
            return .real(number)
        case "t":
            return .text(try quoted())
        default:
            throw SimRecordsError(line: "a value of kind \(kind)")
        }
    }

    /// A Swift string literal as `debugDescription` writes it.
    private mutating func quoted() throws -> String {
        guard take("\"") else { throw SimRecordsError(line: "text without its quote") }
        var text = String.UnicodeScalarView()
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            if scalar == "\"" { return String(text) }
            guard scalar == "\\" else {
                text.append(scalar)
                continue
            }
            guard index < scalars.count else { break }
            let escaped = scalars[index]
            index += 1
            switch escaped {
            case "0": text.append("\0")
            case "t": text.append("\t")
            case "n": text.append("\n")
            case "r": text.append("\r")
            case "u":
                guard take("{") else { throw SimRecordsError(line: "\\u without {") }
                let hex = word(until: "}")
                guard take("}"), let code = UInt32(hex, radix: 16), let decoded = Unicode.Scalar(code) else {
                    throw SimRecordsError(line: "\\u{\(hex)}")
                }
                text.append(decoded)
            default: text.append(escaped)
            }
        }
        throw SimRecordsError(line: "text without its closing quote")
    }
}
