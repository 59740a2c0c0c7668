public import Foundation
public import SyncCore

/// The journal of one import: what it wrote and what each record held before, so that `undo` can put it
/// back. Kept in the replica's own settings (local, never synced: it holds families' data), written in the
/// same transaction as the import's records.
public struct ImportRecord: Sendable, Codable, Hashable {
    /// 1, 2, 3… on this replica.
    public var id: Int
    public var kind: ImportKind
    /// The file's name, as given.
    public var file: String
    /// When it ran (Unix ms).
    public var at: Int64
    public var created: Int
    public var changed: Int
    public var unchanged: Int
    /// Rows refused or likely duplicates left out.
    public var skipped: Int
    public var writes: [Write]
    /// When it was undone (Unix ms), or nil.
    public var undoneAt: Int64?

    /// One record the import created or changed.
    public struct Write: Sendable, Codable, Hashable {
        public var collection: String
        public var id: String
        /// The row's key (reference, id or code) and line, for messages.
        public var key: String
        public var line: Int
        /// nil: the import created the record.
        public var before: [String: Value]?
        /// The fields the import wrote, with their values.
        public var after: [String: Value]

        public var isCreation: Bool { before == nil }
    }

    /// The settings key of import `id`.
    static func key(_ id: Int) -> String { "import.\(id)" }
    static let keyPrefix = "import."

    func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    static func decoded(_ text: String) throws -> ImportRecord {
        try JSONDecoder().decode(ImportRecord.self, from: Data(text.utf8))
    }
}
