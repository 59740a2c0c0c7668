public import SyncCore

/// Makes an import's plan: each row of a checked file against what the node holds (pure; no database).
public enum ImportPlanner {
    /// The plan for `table` as a `kind` import. Throws when the header does not fit the kind.
    public static func plan(
        _ kind: ImportKind, _ table: CSVTable, state: ImportState
    ) throws(ImportError)
        -> ImportPlan
    {
        let positions = try kind.columnPositions(table.header)
        let rows = table.rows.map { row in
            ImportRow(
                kind: kind, line: row.line, cells: row.cells, positions: positions, headerCount: table.header.count)
        }
        switch kind {
        case .families: return ImportPlan(kind: kind, rows: families(rows, state))
        case .associations: return ImportPlan(kind: kind, rows: associations(rows, state))
        case .campaigns: return ImportPlan(kind: kind, rows: campaigns(rows, state))
        }
    }

    /// A family row as checked: its values, or the reasons it is refused.
    struct FamilyRow {
        var line: Int
        var reference: String
        var values: [String: Value] = [:]
        var problems: [String] = []
        /// Association id and folded reference: what identifies the family.
        var key: String? = nil
    }

    static func families(_ rows: [ImportRow], _ state: ImportState) -> [PlannedRow] {
        let cities = state.cities
        let checked = rows.map { checkFamily($0, state: state, cities: cities) }
        let repeated = CellCheck.repeatedKeys(checked.map { ($0.line, $0.key) })
        var existing: [String: [(id: String, values: [String: Value])]] = [:]
        for family in state.families {
            guard case .text(let association) = family.values["association"] ?? .null,
                case .text(let reference) = family.values["reference"] ?? .null
            else { continue }
            existing[familyKey(association, reference), default: []].append(family)
        }
        var planned: [PlannedRow] = []
        var incoming: [(row: Int, candidate: FamilyCandidate)] = []
        for row in checked {
            var problems = row.problems
            if let key = row.key, let lines = repeated[key] {
                problems.append(
                    "reference \(row.reference) is on lines \(lines.map(String.init).joined(separator: ", ")) of the "
                        + "file (one row per family)")
            }
            let matches = row.key.flatMap { existing[$0] } ?? []
            let live = matches.filter { $0.values["merged_into"]?.textValue == nil }
            let found = live.isEmpty ? matches : live
            if found.count > 1 {
                problems.append(
                    "\(found.count) families already have reference \(row.reference) in this association "
                        + "(ids \(found.map(\.id).joined(separator: ", "))): merge them first")
            }
            guard problems.isEmpty else {
                planned.append(PlannedRow(line: row.line, key: row.reference, verdict: .refused(problems)))
                continue
            }
            if let family = found.first {
                planned.append(PlannedRow(line: row.line, key: row.reference, verdict: change(family, to: row.values)))
            } else {
                planned.append(
                    PlannedRow(line: row.line, key: row.reference, verdict: .new(id: nil, values: row.values)))
                var record = row.values
                record["id"] = .text("line:\(row.line)")
                if let candidate = FamilyCandidate(record: record) { incoming.append((planned.count - 1, candidate)) }
            }
        }
        return markDuplicates(planned, incoming: incoming, state: state)
    }

    /// The change a row makes to an existing record: only the columns it gives, empty text as no value.
    static func change(
        _ record: (id: String, values: [String: Value]), to values: [String: Value]
    )
        -> PlannedRow.Verdict
    {
        var before: [String: Value] = [:]
        var after: [String: Value] = [:]
        for (field, value) in values where (record.values[field] ?? .null).imported != value.imported {
            before[field] = record.values[field] ?? .null
            after[field] = value
        }
        return after.isEmpty ? .unchanged(id: record.id) : .changed(id: record.id, before: before, after: after)
    }

    static func familyKey(_ association: String, _ reference: String) -> String {
        association + "\u{1F}" + reference.lowercased()
    }

    static func checkFamily(_ row: ImportRow, state: ImportState, cities: [String]) -> FamilyRow {
        var family = FamilyRow(line: row.line, reference: row["reference"] ?? "")
        family.problems = row.problems(multiline: ["address", "notes"])
        for column in ["head_name", "district", "address", "notes"] {
            if let text = row[column] { family.values[column] = text.isEmpty ? .null : .text(text) }
        }
        family.values["reference"] = .text(family.reference)
        var city: String?
        if let text = row["city"], !text.isEmpty {
            city = ImportState.city(text, among: cities)
            if city == nil {
                family.problems.append(
                    "unknown city '\(text)': "
                        + (cities.isEmpty
                            ? "no association works anywhere yet (import the associations first)"
                            : "the cities are \(cities.prefix(12).joined(separator: ", "))"))
            }
        }
        if let city { family.values["city"] = .text(city) }
        if let text = row["association"], !text.isEmpty, let city {
            switch association(text, city: city, state) {
            case .success(let id):
                family.values["association"] = .text(id)
                if !family.reference.isEmpty { family.key = familyKey(id, family.reference) }
            case .failure(let problem): family.problems.append(problem.message)
            }
        }
        if let phone = row["phone"] {
            if phone.isEmpty {
                family.values["phone"] = .null
            } else if isPhone(phone) {
                family.values["phone"] = .text(phone)
            } else {
                family.problems.append(
                    "bad phone '\(phone.prefix(40))': a phone has 6 to 15 digits (spaces, dots, dashes, + and brackets allowed)"
                )
            }
        }
        if let size = row["household_size"] {
            if size.isEmpty {
                family.values["household_size"] = .null
            } else if let number = CellCheck.integer(size), (1...100).contains(number) {
                family.values["household_size"] = .integer(Int64(number))
            } else {
                family.problems.append("bad household size '\(size.prefix(20))': a whole number from 1 to 100")
            }
        }
        return family
    }

    /// The association a family row names, by id or by name among those of `city`.
    static func association(_ text: String, city: String, _ state: ImportState) -> Result<String, ImportError> {
        let ofCity = state.associations.filter { $0.values["city"]?.textValue == city }
        if let found = state.associations.first(where: { $0.id == text }) {
            guard found.values["city"]?.textValue == city else {
                return .failure(
                    ImportError(
                        "association '\(text)' works in \(found.values["city"]?.textValue ?? "?"), not in \(city)"))
            }
            return .success(found.id)
        }
        let key = TextMatch.normalize(text)
        let named = ofCity.filter { TextMatch.normalize($0.values["name"]?.textValue ?? "") == key }
        if named.count == 1 { return .success(named[0].id) }
        let known = ofCity.prefix(8).map { "\($0.id) (\($0.values["name"]?.textValue ?? ""))" }
        return .failure(
            ImportError(
                named.isEmpty
                    ? "unknown association '\(text)' in \(city): "
                        + (known.isEmpty
                            ? "\(city) has none" : "give the id of one of \(known.joined(separator: ", "))")
                    : "\(named.count) associations of \(city) are named '\(text)': give its id"))
    }

    /// Digits (ASCII or Arabic-Indic) with spaces, dots, dashes, slashes, brackets and a leading +; 6 to 15 digits.
    static func isPhone(_ text: String) -> Bool {
        var digits = 0
        for scalar in text.unicodeScalars {
            if PhoneKey.digit(scalar) != nil {
                digits += 1
            } else if !" .-/()+\u{A0}".unicodeScalars.contains(scalar) {
                return false
            }
        }
        return (6...15).contains(digits) && PhoneKey(text) != nil
    }
}
