import Foundation

/// A field this version of the schema does not know, as kept in a row's `_extra` JSON.
///
/// Profiles keep the stamp (`h`, `n`) and local sequence (`s`) of each such register so that it merges
/// and forwards like a known one; facts keep only the value (the row's stamp covers it).
package struct ExtraCell: Codable, Hashable, Sendable {
    package var v: Value
    package var h: Int64?
    package var n: Int64?
    package var s: Int64?

    package init(v: Value, h: Int64? = nil, n: Int64? = nil, s: Int64? = nil) {
        self.v = v
        self.h = h
        self.n = n
        self.s = s
    }

    package var stamp: Stamp? {
        guard let h, let n, let node = NodeID(rawValue: n) else { return nil }
        return Stamp(hlc: HLCTimestamp(storage: h), node: node)
    }
}

/// Encoding of `_extra` (sorted keys, so equal contents give equal text).
package enum ExtraFields {
    package static func decode(_ text: String?) throws -> [String: ExtraCell] {
        guard let text, !text.isEmpty else { return [:] }
        do {
            return try JSONDecoder().decode([String: ExtraCell].self, from: Data(text.utf8))
        } catch {
            throw SyncError(.corruptReplica, "A row's '_extra' column is not valid JSON: \(error)")
        }
    }

    package static func encode(_ cells: [String: ExtraCell]) -> String? {
        guard !cells.isEmpty else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Values are validated (finite numbers) before they get here; a failure would be a bug, and an
        // unknown field is better dropped from `_extra` than the process crashed.
        guard let data = try? encoder.encode(cells) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
