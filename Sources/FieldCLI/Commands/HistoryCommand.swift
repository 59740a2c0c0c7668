import ArgumentParser
import Foundation
import SyncCore

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: HelpText.history(), discussion: HelpText.discussion(nil, examples: ["field history TUN-0042"]))
    @OptionGroup var device: DeviceOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: OptionText.familyRef.help) var family: String

    func run() throws {
        let (device, record, id) = try device.openFamily(family)
        let stamps = try operation { try device.replica.stamps("families", id: id) }
        let history = try operation { try device.replica.history(collection: "families", recordID: id) }
        let own = device.replica.nodeID
        // JSON keeps its machine words; the text says who in the volunteer's words.
        func who(_ stamp: Stamp) -> String { stamp.node == own ? "this device" : "node \(stamp.node)" }
        func shown(_ stamp: Stamp) -> String {
            stamp.node == own ? FamilyText.thisPhone() : FamilyText.otherDevice(stamp.node)
        }
        let current = stamps.sorted { $0.value < $1.value }.map { field, stamp in
            (field, record[field] ?? .null, stamp)
        }
        if output.json {
            Printer.json([
                "id": id,
                "current": current.map {
                    [
                        "field": $0.0, "value": Printer.jsonValue($0.1), "at": Printer.date(Int64($0.2.hlc.millis)),
                        "by": who($0.2),
                    ]
                },
                "superseded": history.map {
                    [
                        "field": $0.field, "value": Printer.jsonValue($0.value),
                        "at": Printer.date(Int64($0.stamp.hlc.millis)),
                        "by": who($0.stamp), "replaced_at": Printer.date(Int64($0.winner.hlc.millis)),
                        "replaced_by": who($0.winner),
                        "conflict": $0.isConflict,
                    ] as [String: Any]
                },
            ])
            return
        }
        Printer.line(FamilyText.currentValues(record["reference"]?.description ?? id))
        Printer.table(
            [FamilyText.colField(), FamilyText.colValue(), FamilyText.colWhen(), FamilyText.colBy()],
            current.map {
                [FamilyText.field($0.0), $0.1.description, Printer.date(Int64($0.2.hlc.millis)), shown($0.2)]
            })
        if !history.isEmpty {
            Printer.line("")
            Printer.line(FamilyText.supersededValues())
            Printer.table(
                [
                    FamilyText.colField(), FamilyText.colValue(), FamilyText.colWhen(), FamilyText.colBy(),
                    FamilyText.colReplaced(), FamilyText.colBy(), FamilyText.colConflict(),
                ],
                history.map {
                    [
                        FamilyText.field($0.field), $0.value.description, Printer.date(Int64($0.stamp.hlc.millis)),
                        shown($0.stamp), Printer.date(Int64($0.winner.hlc.millis)), shown($0.winner),
                        $0.isConflict ? FamilyText.yes() : "",
                    ]
                })
        }
    }
}
