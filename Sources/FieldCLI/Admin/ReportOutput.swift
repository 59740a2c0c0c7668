import FieldDomain
import Foundation
import GRDB
import SyncCore

/// The report as text tables.
enum ReportText {
    static func print(_ report: Report) {
        Printer.line("== Totals (deliveries not voided; merged families counted once) ==")
        Printer.table(
            ["CITY", "ASSOCIATION", "ITEM", "CAMPAIGN", "DELIVERIES", "QUANTITY", "FAMILIES"],
            report.totals.map {
                [
                    $0.city, $0.association, $0.item, $0.campaign, String($0.deliveries), String($0.quantity),
                    String($0.families),
                ]
            })
        let byCity = Dictionary(grouping: report.totals, by: \.city).sorted { $0.key < $1.key }
        for (city, totals) in byCity {
            Printer.line("  \(city): \(totals.reduce(0) { $0 + $1.deliveries }) deliveries")
        }
        Printer.line("")
        Printer.line("== Entitlement breaches (\(report.breaches.count)) ==")
        for breach in report.breaches {
            Printer.line(
                "\(breach.city) family \(breach.reference): received \(breach.received) \(breach.item)"
                    + "\(breach.campaign.map { " in \($0)" } ?? ""), allowed \(breach.max)")
            Printer.table(
                ["  WHEN", "VOLUNTEER", "DEVICE", "QTY", "DELIVERY"],
                breach.evidence.map {
                    ["  " + Printer.date($0.deliveredAt), $0.volunteer, $0.node, String($0.quantity), $0.id]
                })
        }
        Printer.line("")
        Printer.line("== Likely duplicate families (\(report.duplicates.count)) ==")
        for duplicate in report.duplicates {
            Printer.line("\(duplicate.city), \(duplicate.reason):")
            Printer.table(
                ["  REFERENCE", "HEAD OF HOUSEHOLD", "PHONE", "ID"],
                duplicate.families.map { ["  " + $0.reference, $0.head, $0.phone, $0.id] })
        }
        Printer.line("")
        Printer.line(
            "== Conflicts: values overwritten by another node's concurrent write (\(report.conflicts.count)) ==")
        if !report.conflicts.isEmpty {
            Printer.table(
                ["RECORD", "FIELD", "LOST VALUE", "WRITTEN", "BY NODE", "KEPT VALUE WRITTEN", "BY NODE"],
                report.conflicts.map {
                    [
                        $0.reference.map { "family \($0)" } ?? "\($0.collection)/\($0.record)", $0.field, $0.lost,
                        Printer.date($0.lostAt), $0.lostBy,
                        Printer.date($0.keptAt), $0.keptBy,
                    ]
                })
        }
        Printer.line("")
        Printer.line("== Refused records: kept aside, not applied (\(report.refused.count)) ==")
        for entry in report.refused {
            Printer.line(
                "#\(entry.id) \(entry.refusal.collection)/\(entry.refusal.id) from \(entry.source ?? "-"): \(entry.refusal.detail)"
            )
        }
        Printer.line("")
        Printer.line("== References to records never received (\(report.dangling.count)) ==")
        for reference in report.dangling {
            Printer.line("\(reference.collection)/\(reference.id): \(reference.field) names \(reference.target)")
        }
        Printer.line("")
        Printer.line("== Devices and hubs (last sync) ==")
        if !report.devices.isEmpty {
            Printer.table(
                ["NAME", "ROLE", "CITY", "VIA", "LAST SEEN", "BACKLOG", "CLOCK OFFSET", "STATE"],
                report.devices.map {
                    [
                        $0.name, $0.role, $0.city, $0.via == nil ? "direct" : "hub", Printer.date($0.lastSeen),
                        String($0.backlog),
                        "\($0.clockOffset / 1000) s",
                        [
                            $0.stale ? "stale" : nil, $0.skewed ? "clock off" : nil,
                            $0.lastError.map { _ in "last sync failed" },
                        ]
                        .compactMap { $0 }.joined(separator: ", "),
                    ]
                })
        }
        if let vouchers = report.vouchers, !vouchers.cities.isEmpty || !vouchers.refused.isEmpty {
            VoucherOutput.print(vouchers)
        }
        if !report.stock.isEmpty {
            let overdrawn = report.stock.filter(\.isOverdrawn)
            Printer.line("")
            Printer.line("== Stock per hub (\(overdrawn.count) handed out more than received) ==")
            StockOutput.table(report.stock, language: .en)
            for level in overdrawn {
                Printer.line(
                    "\(level.city): handed out \(level.handedOut) \(level.item) but had \(level.available) (received "
                        + "\(level.received), returned \(level.returned), lost \(level.lost), corrected "
                        + "\(level.corrected)): \(-level.onHand) more than received")
            }
        }
    }
}

/// The report as one JSON object.
enum ReportJSON {
    static func object(_ report: Report) -> [String: Any] {
        var object = fields(report)
        if let vouchers = report.vouchers { object["vouchers"] = VoucherOutput.json(vouchers) }
        object["stock"] = report.stock.map(StockOutput.object)
        return object
    }

    private static func fields(_ report: Report) -> [String: Any] {
        [
            "totals": report.totals.map {
                [
                    "city": $0.city, "association": $0.association, "item": $0.item, "campaign": $0.campaign,
                    "deliveries": $0.deliveries, "quantity": $0.quantity, "families": $0.families,
                ] as [String: Any]
            },
            "breaches": report.breaches.map { breach in
                [
                    "city": breach.city, "family": breach.family, "reference": breach.reference, "item": breach.item,
                    "campaign": breach.campaign as Any? ?? NSNull(), "max": breach.max, "received": breach.received,
                    "evidence": breach.evidence.map(delivery),
                ] as [String: Any]
            },
            "duplicates": report.duplicates.map { duplicate in
                [
                    "city": duplicate.city, "reason": duplicate.reason,
                    "families": duplicate.families.map {
                        ["id": $0.id, "reference": $0.reference, "head_name": $0.head, "phone": $0.phone]
                    },
                ] as [String: Any]
            },
            "conflicts": report.conflicts.map {
                [
                    "collection": $0.collection, "record": $0.record, "reference": $0.reference as Any? ?? NSNull(),
                    "field": $0.field, "lost_value": $0.lost,
                    "lost_at": Printer.date($0.lostAt), "lost_by": $0.lostBy, "kept_at": Printer.date($0.keptAt),
                    "kept_by": $0.keptBy,
                ] as [String: Any]
            },
            "refused": report.refused.map(RefusedJSON.object),
            "dangling": report.dangling.map {
                ["collection": $0.collection, "id": $0.id, "field": $0.field, "target": $0.target]
            },
            "devices": report.devices.map {
                [
                    "node": $0.node, "name": $0.name, "role": $0.role, "city": $0.city,
                    "last_seen": Printer.date($0.lastSeen),
                    "backlog": $0.backlog, "clock_offset_ms": $0.clockOffset, "stale": $0.stale, "clock_off": $0.skewed,
                    "last_error": $0.lastError as Any? ?? NSNull(), "via": $0.via as Any? ?? NSNull(),
                ] as [String: Any]
            },
        ]
    }

    static func delivery(_ delivery: Report.Delivery) -> [String: Any] {
        [
            "id": delivery.id, "city": delivery.city, "family": delivery.family, "reference": delivery.reference,
            "item": delivery.item, "quantity": delivery.quantity, "campaign": delivery.campaign as Any? ?? NSNull(),
            "delivered_at": Printer.date(delivery.deliveredAt), "volunteer": delivery.volunteer,
            "device": delivery.node,
            "note": delivery.note as Any? ?? NSNull(),
        ]
    }
}

/// The CSV exports.
enum ReportCSV {
    /// A domain table as text: times as dates, nulls empty.
    static func strings(_ table: ExportTable) -> (header: [String], rows: [[String]]) {
        (
            table.header,
            table.rows.map { row in
                row.enumerated().map { column, value in
                    if table.timeColumns.contains(column), let millis = value.integerValue {
                        return Printer.date(millis)
                    }
                    return value.isNull ? "" : value.description
                }
            }
        )
    }

    static func table(_ what: String, report: Report, replica: Replica) throws -> (header: [String], rows: [[String]]) {
        switch what {
        case "families":
            return strings(try Exports.families(replica))
        case "breaches":
            return (
                [
                    "city", "family_reference", "item", "campaign", "allowed", "received", "delivery", "delivered_at",
                    "volunteer", "device",
                ],
                report.breaches.flatMap { breach in
                    breach.evidence.map {
                        [
                            breach.city, breach.reference, breach.item, breach.campaign ?? "", String(breach.max),
                            String(breach.received), $0.id, Printer.date($0.deliveredAt), $0.volunteer, $0.node,
                        ]
                    }
                }
            )
        default:
            return strings(try Exports.deliveries(replica))
        }
    }
}
