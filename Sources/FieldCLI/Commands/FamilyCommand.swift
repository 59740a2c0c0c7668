import ArgumentParser
import FieldDomain
import Foundation
import GRDB
import SyncCore

struct FamilyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "family", abstract: "Register, find, show, edit and delete families (offline).",
        subcommands: [Add.self, List.self, Show.self, Edit.self, Delete.self])

    /// Fields a family command may set.
    struct FamilyFields: ParsableArguments {
        @Option(help: "The head of household's name.") var head: String?
        @Option(help: "Phone number.") var phone: String?
        @Option(name: .customLong("size"), help: "Household size (1 or more).") var householdSize: Int?
        @Option(help: "District.") var district: String?
        @Option(help: "Address.") var address: String?
        @Option(help: "Notes.") var notes: String?
        @Option(help: "The association's id.") var association: String?

        func validate() throws {
            if let householdSize, householdSize < 1 {
                throw ValidationError("--size must be at least 1, found \(householdSize).")
            }
            if let head, head.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--head is empty.") }
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
            abstract: "Register a family; likely duplicates are shown first.",
            discussion: """
                A family of the city that is likely the same (same reference or phone, the name in either script
                or another spelling, the district and household) is shown with its evidence, and the family is not
                added unless --force is given.
                Example:
                  field family add --reference TUN-0042 --head "Fatma Ben Ali" --phone "+216 98 123 456" --size 5
                """)
        @OptionGroup var device: DeviceOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "The family's reference code (on its card).") var reference: String
        @OptionGroup var fields: FamilyFields
        @Flag(help: "Add even if a likely duplicate exists.") var force = false

        func validate() throws {
            guard fields.head != nil else {
                throw ValidationError("--head (the head of household's name) is required.")
            }
            guard !reference.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--reference is empty.")
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
                Printer.note("Likely the same family, already registered:")
                FamilyIndex.print(duplicates.map(\.record), evidence: true)
                for (record, match) in duplicates {
                    Printer.note(
                        "\(record["reference"]?.description ?? ""): " + match.explanation.joined(separator: "; "))
                }
                throw CLIError(
                    "Not added. If this is really another family, run the command again with --force.",
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
                Printer.line("registered family \(reference) (\(id))")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List families, or search them by name, phone or reference.",
            discussion:
                "Examples:\n  field family list\n  field family list --search \"ben ali\"\n  field family list --search فاطمة"
        )
        @OptionGroup var device: DeviceOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Text to find in the name, phone or reference (accents and Arabic variants ignored).")
        var search: String?

        func run() throws {
            let device = try device.open()
            let families = try operation { try FamilyDirectory(device.replica.records).search(search) }
            if output.json {
                Printer.json(families.map(FamilyIndex.json))
            } else if families.isEmpty {
                Printer.line(search == nil ? "no families yet" : "no family matches '\(search ?? "")'")
            } else {
                FamilyIndex.print(families)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a family and its deliveries.", discussion: "Example:\n  field family show TUN-0042")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The family's reference or id.") var family: String

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
                    Printer.line(
                        field.replacingOccurrences(of: "_", with: " ").padding(
                            toLength: 15, withPad: " ", startingAt: 0) + value.description)
                }
            }
            Printer.line("")
            DeliveryIndex.print(deliveries)
        }
    }

    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change fields of a family.",
            discussion: "Example:\n  field family edit TUN-0042 --phone \"+216 98 000 111\"")
        @OptionGroup var device: DeviceOptions
        @Argument(help: "The family's reference or id.") var family: String
        @Option(help: "A new reference code.") var reference: String?
        @OptionGroup var fields: FamilyFields

        func validate() throws {
            guard !fields.values.isEmpty || reference != nil else {
                throw ValidationError("Give at least one field to change (--phone, --head, --size, …).")
            }
        }

        func run() throws {
            let (device, record, id) = try device.openFamily(family)
            var values = fields.values
            if let reference { values["reference"] = .text(reference) }
            try operation { try device.replica.write { tx in try tx.editFamily(id, values) } }
            Printer.line(
                "updated family \(record["reference"]?.description ?? id): \(values.keys.sorted().joined(separator: ", "))"
            )
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a family (its deliveries stay, for the record).",
            discussion: "Example:\n  field family delete TUN-0042")
        @OptionGroup var device: DeviceOptions
        @Argument(help: "The family's reference or id.") var family: String

        func run() throws {
            let (device, record, id) = try device.openFamily(family)
            try operation { try device.replica.write { tx in try tx.deleteFamily(id) } }
            Printer.line("deleted family \(record["reference"]?.description ?? id)")
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
            ["REFERENCE", "HEAD OF HOUSEHOLD", "PHONE", "SIZE", "ID"],
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
