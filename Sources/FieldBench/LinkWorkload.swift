import FieldDomain
import Foundation
import SyncCore

/// The link benchmark's city: families with Moroccan names in both scripts, their deliveries, a day's
/// sheet; and the product's CSV export of what a sync carried, gzipped.
enum LinkWorkload {
    static let city = "Casablanca"
    static func volunteer(_ run: Int) -> String { "bench-volunteer-\(run)" }
    private static let given = ["Fatima", "Khadija", "Mohamed", "Youssef", "Naima", "فاطمة", "محمد", "خديجة", "Said"]
    private static let names = ["Bennani", "El Idrissi", "Alaoui", "Tazi", "بناني", "العلوي", "Berrada", "الإدريسي"]
    private static let items = ["food_pack", "connectivity_pack", "internet_recharge"]

    /// `families` families of the city and `deliveries` deliveries to them, written at central.
    static func fillCity(_ path: String, families: Int, deliveries: Int) throws {
        let replica = try Replica(path: path, schema: .fieldSync, logger: benchLogger)
        var rng = SplitMix64(seed: 7)
        let ids = try replica.write { tx in
            try (0..<families).map { index in
                try tx.addFamily(
                    NewFamily(
                        city: city, reference: String(format: "CAS-%04d", index + 1),
                        headName: "\(given.randomElement(using: &rng)!) \(names.randomElement(using: &rng)!)",
                        phone: "06 \(Int.random(in: 10...99, using: &rng)) \(Int.random(in: 10...99, using: &rng)) "
                            + "\(Int.random(in: 10...99, using: &rng)) \(Int.random(in: 10...99, using: &rng))",
                        householdSize: Int.random(in: 1...9, using: &rng), district: "Hay Mohammadi"))
            }
        }
        let now = SystemClock().nowMillis()
        try replica.write { tx in
            for index in 0..<deliveries {
                try tx.logDelivery(
                    NewDelivery(
                        city: city, family: ids[index % ids.count], item: items[index % items.count],
                        campaign: "phase-1", deliveredAt: now - UInt64(index) * 60_000,
                        volunteer: "volunteer-\(index % 3 + 1)"))
            }
        }
    }

    /// A sheet of `deliveries` deliveries to the device's families (`field deliver --csv`).
    static func sheet(_ device: String, deliveries: Int, directory: URL, seed: UInt64) throws -> String {
        let replica = try Replica(path: device, schema: .fieldSync, logger: benchLogger)
        let references = try replica.records.records("families", limit: 100_000).compactMap {
            $0.values["reference"]?.textValue
        }
        var rng = SplitMix64(seed: seed)
        var text = "family,item,qty,campaign,note\n"
        for index in 0..<deliveries {
            text += "\(references.randomElement(using: &rng) ?? "CAS-0001"),\(items[index % items.count]),1,phase-1,\n"
        }
        let path = directory.appendingPathComponent("sheet-\(seed).csv").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// gzip -6 of `field export COLLECTION --csv` of the device, for each collection (summed); with
    /// `volunteer`, only the header and the rows that name them.
    static func exportedBytes(
        _ field: String, _ device: String, collections: [String], volunteer: String? = nil
    ) throws -> Int {
        var total = 0
        for collection in collections {
            let path = device + ".\(collection).csv"
            try runCommand(field, ["export", collection, "--csv", path, "--db", device])
            var lines = try String(contentsOfFile: path, encoding: .utf8).split(
                omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            if let volunteer {
                lines = [lines[0]] + lines.dropFirst().filter { $0.contains(",\(volunteer),") }
            }
            total += Gzip.compress(Array(lines.joined(separator: "\r\n").utf8), level: 6).count
        }
        return total
    }
}
