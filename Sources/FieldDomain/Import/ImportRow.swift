/// A row of an import file, its cells by column name.
struct ImportRow {
    var kind: ImportKind
    var line: Int
    var cells: [String]
    var positions: [String: Int]
    var headerCount: Int

    /// The cell of `column`: nil when the header has no such column, "" when the row leaves it empty.
    subscript(column: String) -> String? {
        guard let position = positions[column] else { return nil }
        return position < cells.count ? cells[position] : ""
    }

    /// The problems every kind checks: required columns left empty, control characters, cells past the header.
    func problems(multiline: Set<String> = []) -> [String] {
        var problems: [String] = []
        for (column, position) in positions.sorted(by: { $0.value < $1.value }) {
            let text = position < cells.count ? cells[position] : ""
            if let problem = CellCheck.problem(text, column: column, multiline: multiline.contains(column)) {
                problems.append(problem)
            }
        }
        let empty = kind.columns.filter { $0.required && (self[$0.name] ?? "").isEmpty }.map(\.name)
        if !empty.isEmpty {
            problems.append("no value in \(empty.joined(separator: ", ")) (required)")
        }
        let extra = cells.dropFirst(headerCount).filter { !$0.isEmpty }
        if !extra.isEmpty {
            problems.append(
                "\(extra.count) cell(s) past the last column of the header ('\(extra[0].prefix(30))'): "
                    + "a separator too many, or a value with a separator not in quotes")
        }
        return problems
    }
}
