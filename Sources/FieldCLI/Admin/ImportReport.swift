import FieldDomain
import Foundation
import SyncCore

/// An import's report: the counts, a few example rows, every refused row and every likely duplicate.
enum ImportReport {
    /// How many rows of each kind the text report shows as examples.
    static let examples = 3

    static func print(_ outcome: ImportOutcome, separator: Character) {
        let plan = outcome.plan
        let counts = plan.counts
        let cells = separator == "\t" ? "tabs" : "'\(separator)'"
        Printer.line(
            "\(plan.kind.rawValue): \(plan.rows.count) row(s) (cells separated by \(cells)): \(counts.new) new, "
                + "\(counts.changed) changed, \(counts.unchanged) unchanged, \(counts.refused) refused, "
                + "\(counts.likelyDuplicates) likely duplicate(s)")
        let new = plan.rows.filter { if case .new = $0.verdict { true } else { false } }
        if !new.isEmpty {
            Printer.line("New, for example:")
            for row in new.prefix(examples) { Printer.line("  line \(row.line): \(row.key)") }
        }
        let changed = plan.rows.compactMap { row -> (PlannedRow, [String: Value], [String: Value])? in
            if case .changed(_, let before, let after) = row.verdict { (row, before, after) } else { nil }
        }
        if !changed.isEmpty {
            Printer.line("Changed, for example:")
            for (row, before, after) in changed.prefix(examples) {
                let fields = after.keys.sorted().map {
                    "\($0) '\(before[$0]?.textOrEmpty ?? "")' → '\(after[$0]!.textOrEmpty)'"
                }
                Printer.line("  line \(row.line): \(row.key): \(fields.joined(separator: ", "))")
            }
        }
        if !plan.refused.isEmpty {
            Printer.line("Refused rows (\(plan.refused.count)):")
            for row in plan.refused {
                guard case .refused(let reasons) = row.verdict else { continue }
                Printer.line(
                    "  line \(row.line)\(row.key.isEmpty ? "" : " (\(row.key))"): \(reasons.joined(separator: "; "))")
            }
        }
        if !plan.likelyDuplicates.isEmpty {
            Printer.line(
                "Likely duplicates (\(plan.likelyDuplicates.count)), left out unless accepted (--accept REFERENCE or "
                    + "--accept-duplicates):")
            for row in plan.likelyDuplicates {
                guard case .likelyDuplicate(let values, let matches) = row.verdict else { continue }
                Printer.line("  line \(row.line) (\(row.key) \(values["head_name"]?.textOrEmpty ?? "")) is likely:")
                for match in matches.prefix(3) {
                    Printer.line("    \(match.label): \(match.evidence.joined(separator: ", "))")
                }
            }
        }
        switch outcome.result {
        case .imported(let record):
            Printer.line(
                "import \(record.id): \(record.created) created, \(record.changed) changed, \(record.unchanged) "
                    + "unchanged, \(record.skipped) left out. Undo with: field admin import undo \(record.id)")
        case .dryRun where plan.refused.isEmpty:
            Printer.line("Dry run: nothing was written.")
        case .nothingToWrite:
            Printer.line("Nothing to write: the replica already holds every row as it is.")
        case .dryRun, .refused:
            break  // the command fails with what to do
        }
    }

    static func json(_ outcome: ImportOutcome) -> [String: Any] {
        let counts = outcome.plan.counts
        var object: [String: Any] = [
            "kind": outcome.plan.kind.rawValue,
            "counts": [
                "new": counts.new, "changed": counts.changed, "unchanged": counts.unchanged,
                "refused": counts.refused, "likely_duplicates": counts.likelyDuplicates,
            ],
            "refused": outcome.plan.refused.map { row -> [String: Any] in
                guard case .refused(let reasons) = row.verdict else { return [:] }
                return ["line": row.line, "key": row.key, "reasons": reasons]
            },
            "likely_duplicates": outcome.plan.likelyDuplicates.map { row -> [String: Any] in
                guard case .likelyDuplicate(_, let matches) = row.verdict else { return [:] }
                return [
                    "line": row.line, "key": row.key,
                    "matches": matches.map {
                        [
                            "label": $0.label, "family": $0.familyID as Any? ?? NSNull(),
                            "line": $0.line as Any? ?? NSNull(), "evidence": $0.evidence,
                        ]
                    },
                ]
            },
        ]
        switch outcome.result {
        case .imported(let record): object["import"] = recordJSON(record)
        case .dryRun: object["dry_run"] = true
        case .refused, .nothingToWrite: object["import"] = NSNull()
        }
        return object
    }

    static func recordJSON(_ record: ImportRecord) -> [String: Any] {
        [
            "id": record.id, "kind": record.kind.rawValue, "file": record.file, "at": Printer.date(record.at),
            "created": record.created, "changed": record.changed, "unchanged": record.unchanged,
            "left_out": record.skipped, "undone_at": record.undoneAt.map(Printer.date) as Any? ?? NSNull(),
        ]
    }
}

extension Value {
    /// The value as a cell shows it ("" for no value).
    fileprivate var textOrEmpty: String { isNull ? "" : description }
}
