package import PostgresNIO
package import SyncCore

/// A merge's changed rows written back in one statement per table: each column of the page as one binary
/// array parameter, turned back into rows by `unnest` (PostgreSQL decodes binary arrays without parsing
/// text; measured against the rows as one JSON document, R11 in docs/benchmarks.md).
extension PostgresLayout {
    /// `INSERT … SELECT … FROM unnest(…) [WHERE condition] ON CONFLICT (id) DO UPDATE`, its parameters numbered
    /// from `first`, for ``appendUpsertBindings(_:to:)``. With `sequence`, each sequence is written as the SQL
    /// expression it makes of the one bound.
    ///
    /// Parameters: the ids, then one array per register (NULLs allowed), then `_seq`, `_extra`; then the
    /// stamps: a fact's `_hlc` and `_node` as two more unnested arrays, a profile's three arrays of
    /// `rows × registers` entries, each row's slice taken by its ordinal.
    package func upsertSQL(
        from first: Int = 1, when condition: String? = nil, sequence: ((String) -> String)? = nil
    ) -> String {
        let count = registers.count
        var types = ["text"] + kinds.map(\.columnType) + ["bigint", "text"]
        if !isProfile { types += ["bigint", "bigint"] }
        let aliases = (0..<types.count).map { "c\($0)" }
        let unnested = types.enumerated().map { "$\(first + $0.offset)::\($0.element)[]" }.joined(separator: ", ")
        var selected = aliases.prefix(1 + count + 1).map { "u.\($0)" }  // id, registers, _seq
        var stamps: [String]
        if isProfile {
            let slice = "[(u.i - 1) * \(count) + 1 : u.i * \(count)]"
            stamps = (0..<3).map { "($\(first + types.count + $0)::bigint[])\(slice)" }
            if let sequence {
                // The registers' sequences made once for the page (an uncorrelated subquery), then sliced.
                stamps[2] =
                    "(ARRAY(SELECT \(sequence("x")) FROM unnest($\(first + types.count + 2)::bigint[]) "
                    + "WITH ORDINALITY AS r(x, o) ORDER BY o))\(slice)"
            }
        } else {
            stamps = ["ARRAY[u.\(aliases[count + 3])]", "ARRAY[u.\(aliases[count + 4])]"]
        }
        if let sequence { selected[count + 1] = sequence(selected[count + 1]) }
        let columns = (["id"] + registers + bookkeeping).map(quoted)
        let values = selected + stamps + ["u.\(aliases[count + 2])"]
        return "INSERT INTO \(table) (\(columns.joined(separator: ", "))) SELECT \(values.joined(separator: ", ")) "
            + "FROM unnest(\(unnested)) WITH ORDINALITY AS u(\(aliases.joined(separator: ", ")), i) "
            + (condition.map { "WHERE \($0) " } ?? "") + "ON CONFLICT (id) DO UPDATE SET "
            + columns.dropFirst().map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
    }

    /// Appends the parameters of ``upsertSQL(from:when:)`` for `rows` (ids in the order given).
    package func appendUpsertBindings(_ rows: [(id: String, row: MergedRow)], to binds: inout PostgresBindings) throws {
        binds.append(rows.map(\.id))
        for (register, kind) in kinds.enumerated() {
            try binds.append(ColumnArray(kind: kind, values: rows.map { $0.row.values[register] }))
        }
        binds.append(Int64Array(rows.map(\.row.sequence)))
        try binds.append(
            ColumnArray(kind: .text, values: rows.map { ExtraFields.encode($0.row.extra).map(Value.text) ?? .null }))
        if isProfile {
            binds.append(Int64Array(rows.flatMap(\.row.hlc)))
            binds.append(Int64Array(rows.flatMap(\.row.node)))
            binds.append(Int64Array(rows.flatMap(\.row.registerSequence)))
        } else {
            binds.append(Int64Array(rows.map { $0.row.hlc[0] }))
            binds.append(Int64Array(rows.map { $0.row.node[0] }))
        }
    }
}

/// One column of a page of rows as a PostgreSQL array in binary form, NULLs included (PostgresNIO's own
/// arrays take no NULL).
package struct ColumnArray: PostgresThrowingDynamicTypeEncodable {
    package let kind: PostgresLayout.Kind
    package let values: [Value]

    package init(kind: PostgresLayout.Kind, values: [Value]) {
        self.kind = kind
        self.values = values
    }

    package var psqlType: PostgresDataType {
        switch kind {
        case .text: .textArray
        case .integer: .int8Array
        case .real: .float8Array
        }
    }

    package var psqlFormat: PostgresFormat { .binary }

    package func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) throws {
        let element: PostgresDataType =
            switch kind {
            case .text: .text
            case .integer: .int8
            case .real: .float8
            }
        // The size first (each value's kind checked), then every byte in one pass over a buffer reserved
        // at once: element by element through `ByteBuffer`, the columns took a tenth of a merge's write.
        var size = 20
        var nulls: Int32 = 0
        for value in values {
            switch (kind, value) {
            case (_, .null): (size, nulls) = (size + 4, 1)
            case (.text, .text(let text)): size += 4 + text.utf8.count
            case (.integer, .integer), (.real, .real), (.real, .integer): size += 12
            default:
                throw SyncError(
                    .invalidValue, "A value of another type than its column's (\(kind.columnType)) cannot be stored.")
            }
        }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { bytes in
            var offset = 0
            func put<Number: FixedWidthInteger>(_ number: Number) {
                bytes.storeBytes(of: number.bigEndian, toByteOffset: offset, as: Number.self)
                offset += MemoryLayout<Number>.size
            }
            // One dimension, a NULL flag, the element type, then the dimension's length and lower bound.
            put(Int32(1))
            put(nulls)
            put(element.rawValue)
            put(Int32(values.count))
            put(Int32(1))
            for value in values {
                switch value {
                case .null:
                    put(Int32(-1))
                case .text(var text):
                    text.withUTF8 { utf8 in
                        put(Int32(utf8.count))
                        UnsafeMutableRawBufferPointer(rebasing: bytes[offset..<offset + utf8.count])
                            .copyMemory(from: UnsafeRawBufferPointer(utf8))
                        offset += utf8.count
                    }
                case .integer(let number) where kind == .real:
                    put(Int32(8))
                    put(Double(number).bitPattern)
                case .integer(let number):
                    put(Int32(8))
                    put(number)
                case .real(let number):
                    put(Int32(8))
                    put(number.bitPattern)
                }
            }
            return offset
        }
    }
}

/// Numbers as a PostgreSQL `bigint[]` in binary form, written in one pass over a buffer reserved at once
/// (PostgresNIO's own arrays write each element through its generic encoder, then its length back: a
/// tenth of a merge's write in `perf`).
package struct Int64Array: PostgresDynamicTypeEncodable {
    package let values: [Int64]

    package init(_ values: [Int64]) { self.values = values }

    package var psqlType: PostgresDataType { .int8Array }
    package var psqlFormat: PostgresFormat { .binary }

    package func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        // One dimension, no NULL, the element type, then the dimension's length and lower bound.
        buffer.writeInteger(Int32(1))
        buffer.writeInteger(Int32(0))
        buffer.writeInteger(PostgresDataType.int8.rawValue)
        buffer.writeInteger(Int32(values.count))
        buffer.writeInteger(Int32(1))
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 12 * values.count) { bytes in
            var offset = 0
            for value in values {
                bytes.storeBytes(of: Int32(8).bigEndian, toByteOffset: offset, as: Int32.self)
                bytes.storeBytes(of: value.bigEndian, toByteOffset: offset + 4, as: Int64.self)
                offset += 12
            }
            return offset
        }
    }
}
