import FieldDomain
import Foundation
import SyncCore
import Testing

/// A hub's stock through `field` and a real server (decision record 0020): the hub's operator records
/// what arrived, the volunteer's device warns when it runs out, the report flags a city that handed out
/// more than it received, and a volunteer cannot add stock.
@Suite("Stock through the CLI", .serialized)
struct StockCLITests {
    @Test func theHubRecordsStockADeviceWarnsWhenOutAndTheReportFlagsAnOverdraw() throws {
        let setup = try DomainCLITests.setUp()
        defer {
            setup.cli.server.stop()
            try? FileManager.default.removeItem(at: setup.cli.directory)
        }
        let hubDB = setup.cli.directory.appendingPathComponent("hub.db").path
        func hub(_ arguments: [String]) throws -> CommandResult {
            try run(Binaries.field, ["hub", "stock"] + arguments + ["--db", hubDB])
        }
        // The hub's operator, on the server's file: 3 packs arrive, 1 is damaged, a count finds 3.
        for arguments in [
            ["receive", "--city", "Tunis", "--item", "food_pack", "--qty", "3", "--note", "BL-118", "--by", "Youssef"],
            ["lost", "--city", "Tunis", "--item", "food_pack", "--qty", "1", "--note", "rain"],
            ["count", "--city", "Tunis", "--item", "food_pack", "--on-hand", "3"],
        ] {
            let result = try hub(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        #expect(
            try hub(["count", "--city", "Tunis", "--item", "food_pack", "--on-hand", "3"]).stdout.contains("matches"))
        let bad = try hub(["receive", "--city", "Tunis", "--item", "food_pack", "--qty", "0"])
        #expect(bad.status == 2 && bad.stderr.contains("--qty"), "\(bad.stderr)")
        let unknown = try hub(["receive", "--city", "Tunis", "--item", "gold_bar", "--qty", "2"])
        #expect(unknown.status == 1 && unknown.stderr.contains("not an item of the catalogue"), "\(unknown.stderr)")

        try setup.syncBoth()
        let stock = try #require(try setup.cli.fieldJSON(["stock"]) as? [String: Any])
        let level = try #require((stock["stock"] as? [[String: Any]])?.first)
        #expect(level["on_hand"] as? Int == 3 && level["corrected"] as? Int == 1, "\(level)")

        #expect(try setup.cli.field(["family", "add", "--reference", "TUN-1", "--head", "Fatma Ben Ali"]).status == 0)
        for quantity in ["2", "1", "1"] {
            let delivered = try setup.cli.field([
                "deliver", "--family", "TUN-1", "--item", "food_pack", "--qty", quantity, "--override", "test",
            ])
            #expect(delivered.status == 0, "\(delivered.stderr)")
            // A warning once the known stock is out, not a refusal: the volunteer may hold packs.
            #expect(
                delivered.stderr.contains("your hub has no Food pack left") == (quantity == "1"), "\(delivered.stderr)")
        }
        let json = try #require(
            try setup.cli.fieldJSON(["deliver", "--family", "TUN-1", "--item", "food_pack", "--override", "t"])
                as? [String: Any])
        #expect(json["stock_on_hand"] as? Int == -2)
        // Connectivity packs: no stock recorded, no warning.
        let other = try setup.cli.field(["deliver", "--family", "TUN-1", "--item", "connectivity_pack"])
        #expect(other.status == 0 && !other.stderr.contains("warning"), "\(other.stderr)")

        // A volunteer cannot add stock to hand out: their device's move is refused by the server.
        let forged = try setup.cli.field([
            "hub", "stock", "receive", "--city", "Tunis", "--item", "food_pack", "--qty", "500",
        ])
        #expect(forged.status == 0, "\(forged.stderr)")
        try setup.syncBoth()
        try setup.syncBoth()
        let report = try setup.admin(["report"])
        #expect(report.stdout.contains("Stock per hub (1 handed out more than received)"), "\(report.stdout)")
        #expect(report.stdout.contains("Tunis: handed out 5 food_pack but had 3"), "\(report.stdout)")
        let refused = try run(Binaries.field, ["admin", "refused", "list", "--json", "--db", hubDB])
        #expect(refused.stdout.contains("Only a hub's operator or the admin records stock"), "\(refused.stdout)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(setup.admin(["report", "--json"]).stdout.utf8))
                as? [String: Any])
        let levels = try #require(object["stock"] as? [[String: Any]])
        #expect(
            levels.count == 1 && levels.first?["received"] as? Int == 3 && levels.first?["overdrawn"] as? Bool == true)
    }
}
