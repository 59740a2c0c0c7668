import FieldDomain
import SyncCore
import Testing

@Suite("Schema declarations")
struct SchemaTests {
    func schemaError(_ body: () throws -> Schema) -> SyncError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? SyncError
        }
    }

    @Test(arguments: ["Families", "1st", "with space", "_hidden", "", "x-y"])
    func collectionNamesMustBePlainIdentifiers(_ name: String) {
        let error = schemaError { try Schema([CollectionSchema(name, kind: .fact, fields: [Field("a", .text)])]) }
        #expect(error?.code == .schema)
    }

    @Test func reservedAndDuplicateNamesAreRefused() {
        #expect(
            schemaError { try Schema([CollectionSchema("a", kind: .profile, fields: [Field("id", .text)])]) }?.code
                == .schema)
        #expect(
            schemaError {
                try Schema([CollectionSchema("a", kind: .profile, fields: [Field("x", .text), Field("x", .integer)])])
            }?.code == .schema)
        #expect(
            schemaError {
                try Schema([
                    CollectionSchema("a", kind: .fact, fields: [Field("x", .text)]),
                    CollectionSchema("a", kind: .fact, fields: [Field("y", .text)]),
                ])
            }?.code == .schema)
        #expect(
            schemaError {
                try Schema([CollectionSchema("a", kind: .profile, scope: "city", fields: [Field("x", .text)])])
            }?.code == .schema)
        let many = (0..<63).map { Field("f\($0)", .text) }
        #expect(schemaError { try Schema([CollectionSchema("a", kind: .profile, fields: many)]) }?.code == .schema)
    }

    @Test func theDomainSchemaIsValid() throws {
        let schema = Schema.fieldSync
        #expect(
            schema.collections.map(\.name) == [
                "associations", "families", "deliveries", "delivery_voids", "entitlements", "items", "campaigns",
                "distinct_families", "vouchers", "stock_moves",
            ])
        #expect(schema["deliveries"]?.kind == .fact)
        #expect(schema["families"]?.scopeField == "city")
        #expect(schema["entitlements"]?.scopeField == nil)
    }
}
