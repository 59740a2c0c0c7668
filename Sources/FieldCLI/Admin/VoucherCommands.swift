import ArgumentParser
import FieldDomain
import Foundation
import SyncCore

/// `field admin vouchers …`: the admin's recharge codes (decision record 0017).
struct AdminVouchersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vouchers", abstract: "Recharge codes: import, allot to a city's hub, reclaim.",
        discussion: """
            Each code is held by one node at a time: central, a city's hub, or a device. Only its holder or the
            admin hands it on; a device hands a family only a code it holds.
            Examples:
              field admin vouchers import --csv codes.csv --db central.db
              field admin vouchers allot --city Fès --count 500 --db central.db
              field admin vouchers reclaim --device 6d08dfa3025de592 --db central.db   # a lost phone
            """,
        subcommands: [Import.self, Allot.self, Reclaim.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add codes to central's pool from a CSV file: code[,operator[,amount]] a line.",
            discussion:
                "UTF-8 with or without BOM, ',' or ';'. Bad and repeated lines are reported; importing again adds nothing."
        )
        @OptionGroup var device: DeviceOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "The CSV file.") var csv: String

        func run() throws {
            let device = try device.open()
            guard let data = FileManager.default.contents(atPath: csv) else { throw CLIError("Cannot read \(csv).") }
            let parsed = VoucherImport(data: data)
            for problem in parsed.problems { Printer.note("line \(problem.line): \(problem.message)") }
            let added = try operation { try parsed.apply(to: device.replica) }
            let known = parsed.rows.count - added
            if output.json {
                return Printer.json([
                    "added": added, "already_here": known,
                    "problems": parsed.problems.map { ["line": $0.line, "message": $0.message] as [String: Any] },
                ])
            }
            Printer.line("imported \(added) codes (\(known) already here, \(parsed.problems.count) lines skipped)")
        }
    }

    struct Allot: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give codes of central's pool to a city's hub.")
        @OptionGroup var device: DeviceOptions
        @Option(help: "The city whose hub receives them.") var city: String
        @Option(help: "How many codes.") var count: Int

        func validate() throws {
            guard count >= 1 else { throw ValidationError("--count must be at least 1.") }
        }

        func run() throws {
            let device = try device.open()
            let pool = try operation {
                try Vouchers.unused(device.replica.records, holder: .central, city: nil).filter { $0.city == nil }
            }
            guard pool.count >= count else {
                throw CLIError("Central's pool has \(pool.count) unused codes, fewer than \(count).")
            }
            try operation {
                try device.replica.write { tx in
                    for voucher in pool.prefix(count) { try tx.moveVoucher(voucher.code, to: .hub, city: city) }
                }
            }
            Printer.line("allotted \(count) codes to the hub of \(city) (\(pool.count - count) left in the pool)")
        }
    }

    struct Reclaim: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take back a device's (or one) unused codes into central's pool: a lost phone.",
            discussion: "The device's later hand-outs of them are refused, and listed in the report.")
        @OptionGroup var device: DeviceOptions
        @Option(help: "The device's node id (the report's DEVICE) or name.") var from: String?
        @Option(help: "One code.") var code: String?

        func validate() throws {
            guard (from == nil) != (code == nil) else { throw ValidationError("Give --from NODE or --code CODE.") }
        }

        func run() throws {
            let device = try device.open()
            let replica = device.replica
            let node = try from.map { name in
                guard let node = try operation({ try Vouchers.deviceNode(name, in: replica) }) else {
                    throw CLIError("No device '\(name)' here: give its node id (16 hex digits).")
                }
                return node
            }
            let held = try operation { try Vouchers.all(replica.records) }.filter { voucher in
                if let code { return voucher.code == code }
                return voucher.holder == .device(node!)
            }
            let handed = try Set(
                held.filter { try replica.record("deliveries", id: Vouchers.deliveryID(for: $0.code)) != nil }.map(
                    \.code))
            let unused = held.filter { !handed.contains($0.code) && $0.holder != .central }
            try operation {
                try replica.write { tx in
                    for voucher in unused { try tx.reclaimVoucher(voucher.code, from: voucher.holder!) }
                }
            }
            Printer.line(
                "reclaimed \(unused.count) codes\(handed.isEmpty ? "" : " (\(handed.count) already handed out)")")
        }
    }
}

/// `field hub …`: what a hub's operator does on the hub's replica (`--db hub.db`).
struct HubCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub", abstract: "A hub operator's work on the hub's replica: recharge codes, stock.",
        subcommands: [Vouchers.self, HubStockCommand.self])

    struct Vouchers: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "vouchers", abstract: "Give the hub's codes to a device of its city, or back to central.",
            discussion: """
                Examples:
                  field hub vouchers allot --device amina-phone --count 20 --db hub-fes.db
                  field hub vouchers return --count 100 --db hub-fes.db
                """,
            subcommands: [Allot.self, Return.self])
    }

    struct Allot: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give unused hub codes to a device.")
        @OptionGroup var device: DeviceOptions
        @Option(name: .customLong("device"), help: "The device's token name (it has synced here) or node id.")
        var target: String
        @Option(help: "How many codes.") var count: Int
        @Option(help: "The hub's city (default: every code the hub holds).") var city: String?

        func run() throws {
            let hub = try device.open()
            guard let node = try operation({ try FieldDomain.Vouchers.deviceNode(target, in: hub.replica) }) else {
                throw CLIError("No device '\(target)' has synced with this hub yet: it syncs once, then try again.")
            }
            let codes = try operation { try FieldDomain.Vouchers.all(hub.replica.records) }.filter {
                $0.holder == .hub && (city == nil || $0.city == city)
            }.filter { try hub.replica.record("deliveries", id: FieldDomain.Vouchers.deliveryID(for: $0.code)) == nil }
            guard codes.count >= count else {
                throw CLIError("The hub holds \(codes.count) unused codes, fewer than \(count).")
            }
            try operation {
                try hub.replica.write { tx in
                    for voucher in codes.prefix(count) { try tx.moveVoucher(voucher.code, to: .device(node)) }
                }
            }
            Printer.line("allotted \(count) codes to \(target) (\(codes.count - count) left at the hub)")
        }
    }

    struct Return: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give unused hub codes back to central.")
        @OptionGroup var device: DeviceOptions
        @Option(help: "How many codes (default: all).") var count: Int?

        func run() throws {
            let hub = try device.open()
            let codes = try operation { try FieldDomain.Vouchers.all(hub.replica.records) }.filter { $0.holder == .hub }
                .filter {
                    try hub.replica.record("deliveries", id: FieldDomain.Vouchers.deliveryID(for: $0.code)) == nil
                }
            let given = codes.prefix(count ?? codes.count)
            try operation {
                try hub.replica.write { tx in for voucher in given { try tx.moveVoucher(voucher.code, to: .central) } }
            }
            Printer.line("returned \(given.count) codes to central")
        }
    }
}

/// `field vouchers`: the codes this device holds, and giving unused ones back to the hub.
struct VouchersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vouchers", abstract: HelpText.vouchers(),
        discussion: HelpText.discussion(nil, examples: ["field vouchers", "field vouchers return --all"]),
        subcommands: [List.self, Return.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: HelpText.vouchersList())
        @OptionGroup var device: DeviceOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let device = try device.open()
            let codes = try operation {
                try Vouchers.unused(device.replica.records, holder: .device(device.replica.nodeID), city: nil)
            }
            if output.json { return Printer.json(["codes": codes.map(\.code)]) }
            Printer.line(DeliveryText.codesHere(codes.count))
            for voucher in codes { Printer.line("  \(voucher.code)\(voucher.operatorName.map { " (\($0))" } ?? "")") }
        }
    }

    struct Return: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: HelpText.vouchersReturn())
        @OptionGroup var device: DeviceOptions
        @Option(help: OptionText.count.help) var count: Int?
        @Flag(help: OptionText.all.help) var all = false

        func validate() throws {
            guard (count != nil) != all else { throw ValidationError(UsageText.countOrAll()) }
        }

        func run() throws {
            let device = try device.open()
            let codes = try operation {
                try Vouchers.unused(device.replica.records, holder: .device(device.replica.nodeID), city: nil)
            }
            let given = codes.prefix(count ?? codes.count)
            try operation {
                try device.replica.write { tx in for voucher in given { try tx.moveVoucher(voucher.code, to: .hub) } }
            }
            Printer.line(DeliveryText.returned(given.count))
        }
    }
}
