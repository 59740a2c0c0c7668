import ArgumentParser
import FieldDomain
import Foundation
import GRDB
import SyncCore

struct FamilyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "family", abstract: HelpText.family(),
        subcommands: [Add.self, List.self, Show.self, Edit.self, Delete.self])

    /// Fields a family command may set.
    struct FamilyFields: ParsableArguments {
        @Option(help: OptionText.head.help) var head: String?
        @Option(help: OptionText.phone.help) var phone: String?
        @Option(name: .customLong("size"), help: OptionText.size.help) var householdSize: Int?
        @Option(help: OptionText.district.help) var district: String?
        @Option(help: OptionText.address.help) var address: String?
        @Option(help: OptionText.notes.help) var notes: String?
        @Option(help: OptionText.associationID.help) var association: String?

        func validate() throws {
            if let householdSize, householdSize < 1 { throw ValidationError(UsageText.size(householdSize)) }
            if let head, head.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError(UsageText.headEmpty())
            }
        }

        var values: [String: Value] {
            var values: [String: Value] = [:]
            values["head_name"] = head.map(Value.text)
            values["phone"] = phone.map(Value.text)
            values["household_size"] = householdSize.map { .integer(Int64($0)) }
            values["district"] = district.map(Value.text)
            values["address"] = address.map(Value.text)
            values["notes"] = notes.map(Value.text)
            values["association"] = association.map(Value.text)
            return values
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: HelpText.familyAdd(),
            discussion: HelpText.discussion(
                .familyAddDiscussion,
                examples: [
                    "field family add --reference TUN-0042 --head \"Fatma Ben Ali\" --phone \"+216 98 123 456\" --size 5"
                ]))
        @OptionGroup var device: DeviceOptions
        @OptionGroup var output: OutputOptions
        @Option(help: OptionText.reference.help) var reference: String
        @OptionGroup var fields: FamilyFields
        @Flag(help: OptionText.force.help) var force = false

        func validate() throws {
            guard fields.head != nil else { throw ValidationError(UsageText.headRequired()) }
            guard !reference.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError(UsageText.referenceEmpty())
            }
        }

        func run() throws {
            let device = try device.open()
            let city = try device.requireCity()
            let candidate = FamilyCandidate(
                id: "", city: city, reference: reference, headName: fields.head ?? "", phone: fields.phone,
                district: fields.district, address: fields.address, householdSize: fields.householdSize,
                association: fields.association)
            let duplicates = try operation { try FamilyDirectory(device.replica).likelyDuplicates(candidate) }
            if !duplicates.isEmpty, !force {
                Printer.note(FamilyText.likelySame())
                FamilyIndex.print(duplicates.map(\.record), evidence: true)
                for (record, match) in duplicates {
                    Printer.note("\(record["reference"]?.description ?? ""): " + Localized.evidence(match))
                }
                throw CLIError(
                    FamilyText.notAdded(),
                    records: [
                        "duplicates": duplicates.map { record, match in
                            record.merging(["evidence": .text(match.explanation.joined(separator: "; "))]) { a, _ in a }
                        }
                    ])
            }
            let id = try operation {
                try device.replica.write { tx in
                    var values = fields.values
                    values["city"] = .text(city)
                    values["reference"] = .text(reference)
                    return try tx.create("families", values: values)
                }
            }
            if output.json {
                Printer.json(["id": id, "reference": reference, "duplicates_overridden": duplicates.count])
            } else {
                Printer.line(FamilyText.registered(reference, id))
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: HelpText.familyList(),
            discussion: HelpText.discussion(
                nil,
                examples: [
                    "field family list", "field family list --search \"ben ali\"", "field family list --search فاطمة",
                ]))
        @OptionGroup var device: DeviceOptions
        @OptionGroup var output: OutputOptions
        @Option(help: OptionText.search.help) var search: String?

        func run() throws {
            let device = try device.open()
            let families = try operation { try FamilyDirectory(device.replica.records).search(search) }
            if output.json {
                Printer.json(families.map(FamilyIndex.json))
            } else if families.isEmpty {
                Printer.line(search.map { FamilyText.noMatch($0) } ?? FamilyText.noneYet())
            } else {
                FamilyIndex.print(families)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: HelpText.familyShow(),
            discussion: HelpText.discussion(nil, examples: ["field family show TUN-0042"]))
        @OptionGroup var device: DeviceOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: OptionText.familyRef.help) var family: String

        func run() throws {
            let (device, record, id) = try device.openFamily(family)
            let ledger = DeliveryLedger(device.replica)
            let deliveries = try operation {
                let groups = try ledger.familyGroups()
                return try ledger.deliveries(of: groups.members(of: groups.root(id)))
            }
            if output.json {
                var object = FamilyIndex.json(record)
                object["deliveries"] = deliveries.map(DeliveryIndex.json)
                Printer.json(object)
                return
            }
            for field in [
                "reference", "head_name", "phone", "household_size", "district", "address", "notes", "city",
                "association", "merged_into", "id",
            ] {
                if let value = record[field], !value.isNull {
                    let label = FamilyText.field(field)
                    Printer.line(label + String(repeating: " ", count: max(1, 17 - label.count)) + value.description)
                }
            }
            Printer.line("")
            DeliveryIndex.print(deliveries, catalogue: try? Catalogue(device.replica.records))
        }
    }

    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: HelpText.familyEdit(),
            discussion: HelpText.discussion(nil, examples: ["field family edit TUN-0042 --phone \"+216 98 000 111\""]))
        @OptionGroup var device: DeviceOptions
        @Argument(help: OptionText.familyRef.help) var family: String
        @Option(help: OptionText.newReference.help) var reference: String?
        @OptionGroup var fields: FamilyFields

        func validate() throws {
            guard !fields.values.isEmpty || reference != nil else { throw ValidationError(UsageText.editNothing()) }
        }

        func run() throws {
            let (device, record, id) = try device.openFamily(family)
            var values = fields.values
            if let reference { values["reference"] = .text(reference) }
            try operation { try device.replica.write { tx in try tx.editFamily(id, values) } }
            Printer.line(
                FamilyText.updated(
                    record["reference"]?.description ?? id,
                    values.keys.sorted().map(FamilyText.field).joined(separator: ", ")))
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: HelpText.familyDelete(),
            discussion: HelpText.discussion(nil, examples: ["field family delete TUN-0042"]))
        @OptionGroup var device: DeviceOptions
        @Argument(help: OptionText.familyRef.help) var family: String

        func run() throws {
            let (device, record, id) = try device.openFamily(family)
            try operation { try device.replica.write { tx in try tx.deleteFamily(id) } }
            Printer.line(FamilyText.deleted(record["reference"]?.description ?? id))
        }
    }
}

/// Families of this device's replica, found by name, phone or reference.
/// How the CLI shows families (found with ``FamilyDirectory``).
enum FamilyIndex {
    static func json(_ family: [String: Value]) -> [String: Any] {
        var object: [String: Any] = [:]
        for (key, value) in family where key != "_deleted" { object[key] = Printer.jsonValue(value) }
        return object
    }

    static func print(_ families: [[String: Value]], evidence: Bool = false) {
        Printer.table(
            [
                FamilyText.colReference(), FamilyText.colHead(), FamilyText.colPhone(), FamilyText.colSize(),
                FamilyText.colID(),
            ],
            families.map { family in
                [
                    family["reference"]?.description ?? "", family["head_name"]?.description ?? "",
                    family["phone"]?.textValue ?? "",
                    family["household_size"].map { $0.isNull ? "" : $0.description } ?? "",
                    family["id"]?.description ?? "",
                ]
            }, evidence: evidence)
    }
}
