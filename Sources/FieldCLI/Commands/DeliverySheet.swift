import FieldDomain
import Foundation
import SyncCore

/// A paper sheet of deliveries typed in after a day without the phone (`field deliver --csv FILE`): columns
/// `family` (reference or id), `item`, and optionally `qty` (default 1), `campaign`, `note`.
///
/// Every row is checked as `field deliver` checks one (the family is on this device, the rules, the
/// catalogue, a recharge code to hand out), counting the sheet's earlier rows; the sheet is logged whole
/// or not at all. A sheet with any bad row writes nothing and names every bad row by its line: fix them
/// and run it again (running a half-logged sheet again would log its good rows twice).
struct DeliverySheet {
    static let columns = ["family", "item", "qty", "campaign", "note"]
    static let maxRows = 5_000

    struct Planned {
        var line: Int
        var reference: String
        var delivery: NewDelivery
        var code: String?
    }

    let device: Device
    let city: String

    func run(path: String, dryRun: Bool, json: Bool) throws {
        let table = try Self.read(path)
        let (planned, problems) = try plan(table)
        var failed = problems
        var logged: [(Planned, String)] = []
        // Set when the transaction is given up on purpose (the replica reports any throw as its own failure).
        var rolledBack = false
        do {
            try device.replica.write { tx in
                for entry in planned {
                    do {
                        let id =
                            try entry.code.map { try tx.handOutVoucher($0, delivery: entry.delivery) }
                            ?? tx.logDelivery(entry.delivery)
                        logged.append((entry, id))
                    } catch {
                        failed.append((entry.line, CLIError(error).message))
                    }
                }
                // Nothing stays unless every row could be logged (and this is no dry run).
                if !failed.isEmpty || dryRun {
                    rolledBack = true
                    throw Rollback()
                }
            }
        } catch {
            if !rolledBack { throw CLIError(error) }
        }
        failed.sort { $0.0 < $1.0 }
        guard failed.isEmpty else {
            for (line, message) in failed { Printer.note(SheetText.line(line, message)) }
            throw CLIError(
                SheetText.nothingLogged(failed.count, table.rows.count),
                records: ["rows": failed.map { ["line": .integer(Int64($0.0)), "error": .text($0.1)] }])
        }
        report(logged, dryRun: dryRun, json: json)
    }

    private struct Rollback: Error {}

    static func read(_ path: String) throws -> CSVTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError(SheetText.cannotRead(path))
        }
        let table = try csv(data)
        let header = table.header.map { $0.lowercased() }
        let unknown = header.filter { !columns.contains($0) }
        guard unknown.isEmpty, header.contains("family"), header.contains("item"), Set(header).count == header.count
        else {
            throw CLIError(SheetText.columns(table.header.joined(separator: ", ")))
        }
        // Each row is checked against the ones before it: a day's sheet is a few hundred rows.
        guard table.rows.count <= maxRows else { throw CLIError(SheetText.tooLong(table.rows.count, maxRows)) }
        return table
    }

    /// The CSV reader's error as this command's (a helper: a typed throw caught in a closure crashed the
    /// compiler).
    private static func csv(_ data: Data) throws -> CSVTable {
        do { return try CSVTable(data) } catch { throw CLIError(error.message) }
    }

    /// Each row checked against this device and the sheet's earlier rows: the deliveries to log, the bad rows.
    private func plan(_ table: CSVTable) throws -> ([Planned], [(Int, String)]) {
        let header = table.header.map { $0.lowercased() }
        let ledger = DeliveryLedger(device.replica)
        let catalogue = try? Catalogue(device.replica.records)
        var codes = try operation {
            try device.replica.records.records("vouchers", limit: 1).isEmpty
                ? nil
                : Vouchers.unused(device.replica.records, holder: .device(device.replica.nodeID), city: nil)
                    .map(\.code)[...]
        }
        let now = try operation { try device.replica.correctedNowMillis() }
        var planned: [Planned] = []
        var problems: [(Int, String)] = []
        var pending: [LedgerDelivery] = []
        for row in table.rows {
            func cell(_ name: String) -> String? {
                guard let index = header.firstIndex(of: name), index < row.cells.count, !row.cells[index].isEmpty
                else { return nil }
                return row.cells[index]
            }
            guard let ref = cell("family"), let item = cell("item") else {
                problems.append((row.line, SheetText.needsFamilyAndItem()))
                continue
            }
            guard let quantity = cell("qty").map({ Int($0) }) ?? 1, (1...1000).contains(quantity) else {
                problems.append((row.line, SheetText.quantity(cell("qty") ?? "")))
                continue
            }
            let family: [String: Value]
            do {
                guard let found = try device.family(ref) else {
                    problems.append((row.line, SheetText.noFamily(ref)))
                    continue
                }
                family = found
            } catch {
                problems.append((row.line, CLIError(error).message))
                continue
            }
            let delivery = NewDelivery(
                city: city, family: family["id"]?.textValue ?? ref, item: item, quantity: quantity,
                campaign: cell("campaign"), deliveredAt: now, volunteer: device.volunteer, note: cell("note"),
                association: device.association)
            let verdict = try operation { try ledger.verdict(for: delivery, pending: pending) }
            if let breach = verdict.breaches.first {
                let given = verdict.evidence.map { "\(Printer.date($0.deliveredAt)) (\($0.volunteer))" }
                let rule = Localized.rule(breach.rule, catalogue: catalogue)
                problems.append((row.line, SheetText.breach(ref, rule, given.joined(separator: ", "))))
                continue
            }
            var code: String?
            if item == Vouchers.item, codes != nil {
                guard quantity == 1 else {
                    problems.append((row.line, SheetText.oneCode()))
                    continue
                }
                guard let next = codes?.popFirst() else {
                    problems.append((row.line, SheetText.noMoreCodes()))
                    continue
                }
                code = next
            }
            planned.append(
                Planned(
                    line: row.line, reference: family["reference"]?.textValue ?? ref, delivery: delivery, code: code))
            pending.append(LedgerDelivery(pending: delivery, id: "line \(row.line)"))
        }
        return (planned, problems)
    }

    private func report(_ logged: [(Planned, String)], dryRun: Bool, json: Bool) {
        if json {
            return Printer.json([
                "dry_run": dryRun,
                "logged": logged.map { entry, id in
                    [
                        "line": entry.line, "id": dryRun ? NSNull() : id as Any, "family": entry.delivery.family,
                        "item": entry.delivery.item, "quantity": entry.delivery.quantity,
                        // A dry run hands out nothing: its codes are not shown (one read off it could reach
                        // a family while the device still counts it unused).
                        "voucher": dryRun ? NSNull() : entry.code as Any? ?? NSNull(),
                    ] as [String: Any]
                },
            ])
        }
        for (entry, _) in logged where entry.code != nil && !dryRun {
            Printer.line(SheetText.rechargeCode(entry.line, entry.code!, entry.reference))
        }
        let codes = logged.filter { $0.0.code != nil }.count
        Printer.line(
            (dryRun ? SheetText.wouldLog(logged.count) : SheetText.logged(logged.count))
                + (codes > 0 ? SheetText.withCodes(codes) : ""))
    }
}
