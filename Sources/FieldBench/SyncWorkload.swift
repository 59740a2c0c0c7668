import FieldDomain
import Foundation
import GRDB
import SyncCore

/// The data of the sync benchmarks: realistic deliveries and families, generated from a seed.
struct SyncWorkload {
    static let city = "Tunis"
    static let volunteers = (0..<60).map {
        "vol-\($0)-" + ["amina", "youssef", "leila", "karim", "sana", "omar"][$0 % 6]
    }
    static let notes = ["porte bleue, 2e étage", "absent, laissé au voisin", "عائلة كبيرة", "rappeler avant de passer"]

    /// A replica file with the given durability (the benchmarks' nodes are devices and central: FULL).
    static func replica(_ path: String, durability: ReplicaConfiguration.Durability = .full) throws -> Replica {
        var configuration = ReplicaConfiguration()
        configuration.durability = durability
        return try Replica(path: path, schema: .fieldSync, configuration: configuration, logger: benchLogger)
    }

    /// Logs `count` deliveries to families drawn from a pool of `count / 8`, 1,000 per transaction.
    static func logDeliveries(_ replica: Replica, count: Int, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let start = SystemClock().nowMillis() - 30 * 86_400_000
        let families = (0..<max(1, count / 8)).map { _ in RecordID.make(millis: start, using: &rng) }
        var done = 0
        var deliveredAt = start
        while done < count {
            let chunk = min(1000, count - done)
            var rows: [NewDelivery] = []
            for _ in 0..<chunk {
                deliveredAt += UInt64.random(in: 5_000...600_000, using: &rng)
                rows.append(
                    NewDelivery(
                        city: city, family: families.randomElement(using: &rng)!,
                        item: DeliveryItem.allCases.randomElement(using: &rng)!,
                        quantity: Int.random(in: 1...3, using: &rng),
                        campaign: Bool.random(using: &rng) ? "2026-winter" : "2026-spring", deliveredAt: deliveredAt,
                        volunteer: volunteers.randomElement(using: &rng)!,
                        note: Int.random(in: 0..<10, using: &rng) == 0 ? notes.randomElement(using: &rng)! : nil))
            }
            let batch = rows
            try replica.write { tx in for row in batch { _ = try tx.logDelivery(row) } }
            done += chunk
        }
    }

    /// Registers `count` families, 1,000 per transaction; returns their ids.
    static func registerFamilies(_ replica: Replica, count: Int, seed: UInt64) throws -> [String] {
        var rng = SplitMix64(seed: seed)
        var ids: [String] = []
        for chunkStart in stride(from: 0, to: count, by: 1000) {
            let chunk = min(1000, count - chunkStart)
            let families = (0..<chunk).map { index in
                NewFamily(
                    city: city, reference: "TUN-\(chunkStart + index)", headName: "Famille \(chunkStart + index)",
                    phone: "0\(Int.random(in: 600_000_000...799_999_999, using: &rng))",
                    householdSize: Int.random(in: 1...9, using: &rng),
                    district: "District \(Int.random(in: 1...20, using: &rng))")
            }
            let created = try replica.write { tx in try families.map { try tx.addFamily($0) } }
            ids += created
        }
        return ids
    }

    /// Changes one field (the phone) of each family, 1,000 per transaction.
    static func editPhones(_ replica: Replica, ids: [String], seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        for chunkStart in stride(from: 0, to: ids.count, by: 1000) {
            let chunk = Array(ids[chunkStart..<min(ids.count, chunkStart + 1000)])
            let phones = chunk.map { _ in "0\(Int.random(in: 600_000_000...799_999_999, using: &rng))" }
            try replica.write { tx in
                for (id, phone) in zip(chunk, phones) { try tx.editFamily(id, ["phone": .text(phone)]) }
            }
        }
    }

    /// gzip (level 6, as on the wire) of an RFC 4180 CSV of the deliveries, with its header line.
    static func gzippedCSV(_ replica: Replica) throws -> Int {
        let csv: [UInt8] = try replica.read { db in
            var text = "id,city,family,item,quantity,campaign,delivered_at,volunteer,note\r\n"
            let rows = try Row.fetchCursor(
                db,
                sql:
                    "SELECT id, city, family, item, quantity, campaign, delivered_at, volunteer, note FROM deliveries ORDER BY rowid"
            )
            while let row = try rows.next() {
                let fields: [String] = (0..<9).map { index in
                    let value: DatabaseValue = row[index]
                    switch value.storage {
                    case .null: return ""
                    case .int64(let number): return String(number)
                    case .double(let number): return String(number)
                    case .string(let string):
                        return string.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                            ? "\"" + string.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : string
                    case .blob: return ""
                    }
                }
                text += fields.joined(separator: ",") + "\r\n"
            }
            return Array(text.utf8)
        }
        return Gzip.compress(csv, level: 6).count  // the gzip command's default level
    }

    /// The feed pages of `replica` (every change, `limit` per page).
    /// A fresh directory under the temporary one, named `prefix-<uuid>`; the caller removes it.
    static func scratchDirectory(_ prefix: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func pages(_ replica: Replica, limit: Int) throws -> [ChangeBatch] {
        var cursor = FeedCursor.start
        var batches: [ChangeBatch] = []
        while true {
            let page = try replica.changes(since: cursor, limit: limit)
            if !page.batch.isEmpty { batches.append(page.batch) }
            cursor = page.cursor
            if !page.hasMore { return batches }
        }
    }
}
