package import GRDB

/// Reading columns whose values came from other nodes, without trapping.
///
/// GRDB's typed subscripts (`row["x"] as String`) stop the process on a NULL or on a value of another
/// type. A record's columns hold what clients sent, so a reader that shows them (the report, the
/// exports) takes them as they are: a NULL as nil, an integer where text was expected as its digits, a
/// text or real where an integer was expected as nil.
package extension Row {
    /// The column as text: text as is, a number in decimal, a blob as nil, NULL as nil.
    func text(_ column: String) -> String? {
        switch (self[column] as DatabaseValue).storage {
        case .null, .blob: nil
        case .string(let text): text
        case .int64(let value): String(value)
        case .double(let value): String(value)
        }
    }

    /// The column as an integer: an integer as is, anything else as nil.
    func integer(_ column: String) -> Int64? {
        if case .int64(let value) = (self[column] as DatabaseValue).storage { return value }
        return nil
    }
}
