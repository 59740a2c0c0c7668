import FieldDomain
import Foundation
import SyncCore

/// The report's recharge codes, as text and as JSON.
enum VoucherOutput {
    static func print(_ report: VoucherReport) {
        Printer.line("")
        Printer.line("== Recharge codes (unused: held by central / the hub / devices) ==")
        if !report.cities.isEmpty {
            Printer.table(
                ["CITY", "CENTRAL", "HUB", "DEVICES", "UNUSED", "HANDED OUT"],
                report.cities.map {
                    [
                        $0.city ?? "(central's pool)", String($0.central), String($0.hub), String($0.devices),
                        String($0.unused), String($0.handedOut),
                    ]
                })
        }
        for city in report.cities where !city.low.isEmpty {
            Printer.line("  \(city.city ?? "-"): devices running low (fewer than \(report.threshold) codes):")
            for device in city.low {
                Printer.line("    \(device.name.map { "\($0) " } ?? "")\(device.node): \(device.unused) left")
            }
        }
        Printer.line("")
        Printer.line("== Refused hand-outs of recharge codes (\(report.refused.count)) ==")
        if !report.refused.isEmpty {
            Printer.table(
                ["CODE", "FAMILY", "HANDED", "VOLUNTEER", "FROM", "WHY"],
                report.refused.map {
                    [$0.code, $0.family, Printer.date($0.deliveredAt), $0.volunteer, $0.source, $0.detail]
                })
        }
    }

    static func json(_ report: VoucherReport) -> [String: Any] {
        [
            "low_below": report.threshold,
            "cities": report.cities.map { city in
                [
                    "city": city.city as Any? ?? NSNull(), "central": city.central, "hub": city.hub,
                    "devices": city.devices, "unused": city.unused, "handed_out": city.handedOut,
                    "running_low": city.low.map {
                        ["node": $0.node, "name": $0.name as Any? ?? NSNull(), "unused": $0.unused] as [String: Any]
                    },
                ] as [String: Any]
            },
            "refused_hand_outs": report.refused.map {
                [
                    "code": $0.code, "family": $0.family, "delivered_at": Printer.date($0.deliveredAt),
                    "volunteer": $0.volunteer, "source": $0.source, "refused_at": Printer.date($0.refusedAt),
                    "detail": $0.detail,
                ] as [String: Any]
            },
        ]
    }
}
