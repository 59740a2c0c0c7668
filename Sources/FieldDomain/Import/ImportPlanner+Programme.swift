public import SyncCore

extension ImportPlanner {
    /// Associations by id: a new id adds one, a known id changes its name (or its city, while no family
    /// belongs to it).
    static func associations(_ rows: [ImportRow], _ state: ImportState) -> [PlannedRow] {
        let cities = state.cities
        let ids = rows.map { row in (row.line, row["id"].flatMap { $0.isEmpty ? nil : $0 }) }
        let repeated = CellCheck.repeatedKeys(ids)
        let existing = Dictionary(state.associations.map { ($0.id, $0) }) { first, _ in first }
        var members: [String: Int] = [:]
        for family in state.families {
            if let association = family.values["association"]?.textValue { members[association, default: 0] += 1 }
        }
        return rows.map { row in
            let id = row["id"] ?? ""
            var problems = row.problems()
            var values: [String: Value] = [:]
            if !id.isEmpty, !CellCheck.isValidID(id) {
                problems.append("bad id '\(id.prefix(40))': 1 to 64 letters, digits, '-', '_' or '.' (no spaces)")
            }
            if let lines = repeated[id] {
                problems.append("id \(id) is on lines \(lines.map(String.init).joined(separator: ", ")) of the file")
            }
            if state.deletedIDs.contains(id) {
                problems.append("id \(id) belonged to an association that was deleted: give another id")
            }
            if let name = row["name"], !name.isEmpty { values["name"] = .text(name) }
            if let city = row["city"], !city.isEmpty {
                // A known city's spelling is kept: "fes" is the city "Fès", not a new one.
                values["city"] = .text(ImportState.city(city, among: cities) ?? city)
            }
            if let old = existing[id], let city = values["city"], old.values["city"] != city,
                members[id, default: 0] > 0
            {
                problems.append(
                    "association \(id) works in \(old.values["city"]?.textValue ?? "?") and \(members[id]!) "
                        + "families belong to it there: it cannot move to \(city.textValue ?? "?")")
            }
            guard problems.isEmpty else { return PlannedRow(line: row.line, key: id, verdict: .refused(problems)) }
            if let old = existing[id] { return PlannedRow(line: row.line, key: id, verdict: change(old, to: values)) }
            return PlannedRow(line: row.line, key: id, verdict: .new(id: id, values: values))
        }
    }

    /// Campaigns by code: a new code adds one, a known code changes it.
    static func campaigns(_ rows: [ImportRow], _ state: ImportState) -> [PlannedRow] {
        let codes = rows.map { row in (row.line, row["code"].flatMap { $0.isEmpty ? nil : $0 }) }
        let repeated = CellCheck.repeatedKeys(codes)
        let existing = Dictionary(state.campaigns.map { ($0.id, $0) }) { first, _ in first }
        return rows.map { row in
            let code = row["code"] ?? ""
            var problems = row.problems()
            if !code.isEmpty, !Item.isValidCode(code) {
                problems.append("bad code '\(code.prefix(40))': 1 to 40 lowercase letters, digits, '_' or '-'")
            }
            if let lines = repeated[code] {
                problems.append(
                    "code \(code) is on lines \(lines.map(String.init).joined(separator: ", ")) of the file")
            }
            if state.deletedIDs.contains(code) {
                problems.append("campaign \(code) was deleted: give another code")
            }
            var phase: Int?
            if let text = row["phase"], !text.isEmpty {
                phase = CellCheck.integer(text).flatMap { (1...99).contains($0) ? $0 : nil }
                if phase == nil { problems.append("bad phase '\(text.prefix(20))': a whole number from 1 to 99") }
            }
            let starts = row["from"].flatMap { $0.isEmpty ? nil : $0 }.map { ($0, CampaignDays.start(of: $0)) }
            let ends = row["to"].flatMap { $0.isEmpty ? nil : $0 }.map { ($0, CampaignDays.start(of: $0)) }
            for (column, day) in [("from", starts), ("to", ends)] {
                if let day, day.1 == nil {
                    problems.append("bad \(column) '\(day.0.prefix(20))': a day like 2026-12-01")
                }
            }
            if let from = starts?.1, let to = ends?.1, to < from {
                problems.append("the campaign ends (\(ends!.0)) before it starts (\(starts!.0))")
            }
            var items: [String: Int?] = [:]
            if let text = row["items"], !text.isEmpty {
                do {
                    items = try Campaign.parseItems(text)
                    let unknown = items.keys.sorted().filter { state.catalogue.items[$0]?.active != true }
                    if !unknown.isEmpty {
                        problems.append(
                            "items not in the catalogue (or inactive): \(unknown.joined(separator: ", ")); the catalogue "
                                + "has \(state.catalogue.activeItems.map(\.code).joined(separator: ", "))")
                    }
                } catch let problem as RecordProblem {
                    problems.append("bad items: \(problem.detail)")
                } catch {
                    problems.append("bad items: \(error)")
                }
            }
            guard problems.isEmpty, let from = starts?.1, let to = ends?.1 else {
                return PlannedRow(line: row.line, key: code, verdict: .refused(problems))
            }
            let campaign = Campaign(
                code: code, name: row["name"] ?? code, phase: phase, startsAt: from, endsAt: to + 86_400_000 - 1,
                items: items, nameFR: row["name_fr"].flatMap { $0.isEmpty ? nil : $0 },
                nameAR: row["name_ar"].flatMap { $0.isEmpty ? nil : $0 })
            var values = campaign.values
            if row["phase"] == nil { values["phase"] = nil }  // a file without the column leaves it as it is
            if let old = existing[code] {
                return PlannedRow(line: row.line, key: code, verdict: change(old, to: values))
            }
            return PlannedRow(line: row.line, key: code, verdict: .new(id: code, values: values))
        }
    }
}
