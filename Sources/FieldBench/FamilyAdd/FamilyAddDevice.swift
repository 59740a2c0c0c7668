import FieldDomain
import Foundation
import SyncCore

/// A device replica file holding families of one city, as `field init --city` and a volunteer's registrations
/// would leave it, and the `field family add` runs against it.
struct FamilyAddDevice {
    let path: String
    let city: String
    /// The families on the device, as the duplicate check reads them (ids as stored).
    private(set) var families: [FamilyCandidate]

    /// Creates the replica at `path`: the city setting, the city's associations, then `families` (their own ids)
    /// through the typed API, 1,000 a transaction.
    static func make(path: String, city: String, families: [FamilyCandidate]) throws -> FamilyAddDevice {
        let replica = try Replica(path: path, schema: .fieldSync, logger: benchLogger)
        try replica.saveSettings(["city": city, "volunteer": "bench"])
        let associations = Set(families.compactMap(\.association)).sorted()
        try replica.write { tx in
            for association in associations {
                _ = try tx.create(
                    "associations", id: association, values: ["name": .text(association), "city": .text(city)])
            }
        }
        var start = 0
        while start < families.count {
            let batch = families[start..<min(families.count, start + 1000)]
            try replica.write { tx in
                for family in batch { _ = try tx.create("families", id: family.id, values: values(family)) }
            }
            start += batch.count
        }
        try replica.checkpoint()
        return FamilyAddDevice(path: path, city: city, families: families)
    }

    static func values(_ family: FamilyCandidate) -> [String: Value] {
        var values: [String: Value] = [
            "city": .text(family.city), "reference": .text(family.reference), "head_name": .text(family.headName),
        ]
        values["phone"] = family.phone.map(Value.text)
        values["district"] = family.district.map(Value.text)
        values["address"] = family.address.map(Value.text)
        values["household_size"] = family.householdSize.map { .integer(Int64($0)) }
        values["association"] = family.association.map(Value.text)
        return values
    }

    /// The arguments of `field family add` registering `family` on this device, with `--json`.
    func arguments(_ family: FamilyCandidate) -> [String] {
        var arguments = [
            "family", "add", "--db", path, "--json", "--reference", family.reference, "--head", family.headName,
        ]
        if let phone = family.phone { arguments += ["--phone", phone] }
        if let size = family.householdSize { arguments += ["--size", String(size)] }
        if let district = family.district { arguments += ["--district", district] }
        if let address = family.address { arguments += ["--address", address] }
        if let association = family.association { arguments += ["--association", association] }
        return arguments
    }

    /// What one `field family add` did, and how long the process took, start to exit.
    struct Outcome {
        var seconds: Double
        /// The new family's id, or nil when it was refused.
        var added: String?
        /// The ids of the likely duplicates shown (refused), sorted.
        var duplicates: [String]
    }

    /// Runs the real `field family add` for `family`; the family is added to `families` when the command added it.
    mutating func add(_ family: FamilyCandidate, field: String) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: field)
        process.arguments = arguments(family)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let start = monotonicSeconds()
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let seconds = monotonicSeconds() - start
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        if process.terminationStatus == 0, let id = object["id"] as? String {
            var stored = family
            stored.id = id
            families.append(stored)
            return Outcome(seconds: seconds, added: id, duplicates: [])
        }
        guard let shown = object["duplicates"] as? [[String: Any]] else {
            throw SyncError(
                .storage,
                "field \(arguments(family).joined(separator: " ")) failed (\(process.terminationStatus)): "
                    + String(decoding: data, as: UTF8.self))
        }
        return Outcome(seconds: seconds, added: nil, duplicates: shown.compactMap { $0["id"] as? String }.sorted())
    }

    /// The likely duplicates of `family` among the device's families by the full scan (``FamilyMatcher`` over every
    /// family of the city), sorted: what `field family add` must report.
    func expectedDuplicates(_ family: FamilyCandidate) -> [String] {
        var query = family
        query.id = ""
        return FamilyMatcher(families: families.filter { $0.city == city }).matches(for: query).map(\.family.id)
            .sorted()
    }
}
