public import SyncCore

/// What an import would do with each row of its file, decided before anything is written (a pure value:
/// ``ImportPlanner`` makes it from the file and what the node holds; the replica performs it).
public struct ImportPlan: Sendable {
    public var kind: ImportKind
    /// Every row with content, in the file's order.
    public var rows: [PlannedRow]

    public struct Counts: Sendable, Hashable {
        public var new = 0
        public var changed = 0
        public var unchanged = 0
        public var refused = 0
        public var likelyDuplicates = 0
    }

    public var counts: Counts {
        var counts = Counts()
        for row in rows {
            switch row.verdict {
            case .new: counts.new += 1
            case .changed: counts.changed += 1
            case .unchanged: counts.unchanged += 1
            case .refused: counts.refused += 1
            case .likelyDuplicate: counts.likelyDuplicates += 1
            }
        }
        return counts
    }

    public var refused: [PlannedRow] { rows.filter(\.isRefused) }
    public var likelyDuplicates: [PlannedRow] { rows.filter(\.isLikelyDuplicate) }

    /// The rows to write: new and changed ones, and the likely duplicates `accept` lets through.
    public func writes(accepting accept: (PlannedRow) -> Bool) -> [PlannedRow] {
        rows.filter { row in
            switch row.verdict {
            case .new, .changed: true
            case .likelyDuplicate: accept(row)
            case .unchanged, .refused: false
            }
        }
    }
}

/// One row of the file and what the import does with it.
public struct PlannedRow: Sendable {
    /// The spreadsheet's row number (the header is 1).
    public var line: Int
    /// What identifies the row for the admin: the family's reference, the association's id, the campaign's code.
    public var key: String
    public var verdict: Verdict

    public enum Verdict: Sendable {
        /// A record to create (`id` nil: a new id; associations and campaigns name theirs).
        case new(id: String?, values: [String: Value])
        /// An existing record whose fields in `after` change (`before` holds their values now).
        case changed(id: String, before: [String: Value], after: [String: Value])
        /// An existing record the row leaves as it is.
        case unchanged(id: String)
        /// A row the import cannot take, with every reason (sentences an admin reads).
        case refused([String])
        /// A new family that is likely one already registered (or one of an earlier row): written only if
        /// the admin accepts it.
        case likelyDuplicate(values: [String: Value], of: [LikelyDuplicate])
    }

    public var isRefused: Bool { if case .refused = verdict { true } else { false } }
    public var isLikelyDuplicate: Bool { if case .likelyDuplicate = verdict { true } else { false } }
}

/// A family an incoming row is likely to be, with the evidence (``FamilyMatcher``).
public struct LikelyDuplicate: Sendable {
    /// The existing family's id, or nil for an earlier row of the same file.
    public var familyID: String?
    /// The earlier row's line, for a duplicate within the file.
    public var line: Int?
    /// "AM-0012 Fatima Zahra Bennani (id 01M…)" or "line 14: AM-0099 Fatima Bennani".
    public var label: String
    /// One line per piece of evidence, strongest first: "+21.3 same phone (0612…78)".
    public var evidence: [String]
    /// How far above the city's bar (0: as likely one family as two).
    public var margin: Double
}
