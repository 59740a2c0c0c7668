import FieldDomain
import Foundation
import SyncCore
import Testing

/// The domain as the volunteers and the admin meet it through `field` and a real server: the catalogue
/// and campaigns the admin sets, merged families, rules of every campaign.
@Suite("Domain through the CLI", .serialized)
struct DomainCLITests {
    /// A device enrolled in Tunis, and an admin replica enrolled with the same server.
    struct Setup {
        let cli: FieldCLITests.Setup
        let adminDB: String

        func admin(_ arguments: [String]) throws -> CommandResult {
            try run(Binaries.field, arguments + ["--db", adminDB])
        }

        func syncBoth() throws {
            let admin = try admin(["sync"])
            #expect(admin.status == 0, "\(admin.stderr)")
            let device = try cli.field(["sync"])
            #expect(device.status == 0, "\(device.stderr)")
        }
    }

    static func setUp() throws -> Setup {
        let cli = try FieldCLITests.setUp()
        let hub = cli.directory.appendingPathComponent("hub.db").path
        let admin = try issueToken(db: hub, role: "admin", city: nil, name: "admin", directory: cli.directory)
        let adminDB = cli.directory.appendingPathComponent("admin.db").path
        let enrolled = try run(
            Binaries.field, ["init", "--server", cli.server.url, "--token-file", admin.file, "--db", adminDB])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        return Setup(cli: cli, adminDB: adminDB)
    }

    func stop(_ setup: Setup) {
        setup.cli.server.stop()
        try? FileManager.default.removeItem(at: setup.cli.directory)
    }

    @Test func aDeliveryAgainstAMergedFamilysCardCountsForTheKeptFamily() throws {
        let setup = try Self.setUp()
        defer { stop(setup) }
        #expect(
            try setup.admin(["admin", "rule", "set", "--item", "food_pack", "--campaign", "w", "--max", "1"]).status
                == 0)
        #expect(try setup.cli.field(["family", "add", "--reference", "TUN-1", "--head", "Fatma Ben Ali"]).status == 0)
        #expect(
            try setup.cli.field(["family", "add", "--reference", "TUN-2", "--head", "Khadija Trabelsi"]).status == 0)
        #expect(
            try setup.cli.field(["deliver", "--family", "TUN-1", "--item", "food_pack", "--campaign", "w"]).status == 0)
        try setup.syncBoth()
        try setup.syncBoth()
        let merged = try setup.admin(["admin", "merge-family", "TUN-2", "--into", "TUN-1"])
        #expect(merged.status == 0, "\(merged.stderr)")
        try setup.syncBoth()
        // The same family under its other card: a second winter pack is refused, with the first as evidence.
        let second = try setup.cli.field(["deliver", "--family", "TUN-2", "--item", "food_pack", "--campaign", "w"])
        #expect(second.status == 1, "\(second.stdout)")
        #expect(second.stderr.contains("at most 1 Food pack"), "\(second.stderr)")
    }

    @Test func aRuleWithoutACampaignCountsWithinEachCampaign() throws {
        let setup = try Self.setUp()
        defer { stop(setup) }
        #expect(try setup.admin(["admin", "rule", "set", "--item", "food_pack", "--max", "1"]).status == 0)
        try setup.syncBoth()
        #expect(try setup.cli.field(["family", "add", "--reference", "TUN-1", "--head", "Fatma Ben Ali"]).status == 0)
        for campaign in ["phase-1", "phase-2"] {
            let result = try setup.cli.field([
                "deliver", "--family", "TUN-1", "--item", "food_pack", "--campaign", campaign,
            ])
            #expect(result.status == 0, "\(campaign): \(result.stderr)")
        }
        let again = try setup.cli.field([
            "deliver", "--family", "TUN-1", "--item", "food_pack", "--campaign", "phase-1",
        ])
        #expect(again.status == 1 && again.stderr.contains("in each campaign"), "\(again.stderr)")
    }

    @Test func campaignsAndTheCatalogueAreTheAdminsAndEveryNodeChecksThem() throws {
        let setup = try Self.setUp()
        defer { stop(setup) }
        let today = FieldSyncRules.day(Int64(Date().timeIntervalSince1970 * 1000))
        let campaign = try setup.admin([
            "admin", "campaign", "set", "phase-1", "--name", "Phase 1", "--from", "2020-01-01", "--to", "2999-12-31",
            "--items", "food_pack:1,connectivity_pack:1",
        ])
        #expect(campaign.status == 0, "\(campaign.stderr)")
        #expect(try setup.admin(["admin", "item", "set", "tent", "--fr", "Tente", "--ar", "خيمة"]).status == 0)
        try setup.syncBoth()
        #expect(try setup.cli.field(["family", "add", "--reference", "TUN-1", "--head", "Fatma Ben Ali"]).status == 0)
        let cases: [([String], String)] = [
            (["--item", "food_pack", "--campaign", "phase1"], "Open on \(today): phase-1."),
            (["--item", "food_pack", "--campaign", "Phase-1"], "There is no campaign 'Phase-1'"),
            (["--item", "food_pack"], "A delivery names its campaign"),
            (["--item", "tent", "--campaign", "phase-1"], "does not give tent"),
            (["--item", "boat", "--campaign", "phase-1"], "not an item of the catalogue"),
        ]
        for (arguments, message) in cases {
            let result = try setup.cli.field(["deliver", "--family", "TUN-1"] + arguments)
            #expect(result.status == 1 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let good = try setup.cli.field(["deliver", "--family", "TUN-1", "--item", "food_pack", "--campaign", "phase-1"])
        #expect(good.status == 0, "\(good.stderr)")
        // The campaign's count per family is a rule like the admin's.
        let second = try setup.cli.field([
            "deliver", "--family", "TUN-1", "--item", "food_pack", "--campaign", "phase-1",
        ])
        #expect(second.status == 1 && second.stderr.contains("at most 1 Food pack per family in phase-1"))
        try setup.syncBoth()
        let report = try setup.admin(["report", "--json"])
        #expect(report.status == 0 && !report.stdout.contains("\"refused\":[{"), "\(report.stdout)")
    }

    @Test func familiesMarkedDifferentAreNeverPairedAgainAndTheCatalogueIsShown() throws {
        let setup = try Self.setUp()
        defer { stop(setup) }
        for (reference, head) in [("TUN-1", "Fatma Ben Ali"), ("TUN-2", "Fatima Benali")] {
            let added = try setup.cli.field([
                "family", "add", "--reference", reference, "--head", head, "--phone", "+216 98 123 456", "--force",
            ])
            #expect(added.status == 0, "\(added.stderr)")
        }
        try setup.syncBoth()
        try setup.syncBoth()
        func duplicates() throws -> Int {
            let report = try setup.admin(["report", "--json"])
            let object = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
            return (object?["duplicates"] as? [Any])?.count ?? -1
        }
        #expect(try duplicates() == 1)
        let marked = try setup.admin(["admin", "not-duplicate", "TUN-1", "TUN-2", "--note", "brothers"])
        #expect(marked.status == 0, "\(marked.stderr)")
        #expect(try duplicates() == 0)
        try setup.syncBoth()
        let catalogue = try setup.cli.field(["catalogue", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(catalogue.stdout.utf8)) as? [String: Any]
        let items = (object?["items"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(items == ["connectivity_pack", "food_pack", "internet_recharge"], "\(catalogue.stdout)")
        #expect(object?["campaigns_set_up"] as? Bool == false)
    }

    @Test func aVolunteersAssociationIsKeptOnEachDeliveryAndTotalled() throws {
        let setup = try Self.setUp()
        defer { stop(setup) }
        for (id, city, name) in [("amal-tunis", "Tunis", "Association Amal"), ("nour-sfax", "Sfax", "Nour")] {
            let added = try setup.admin(["admin", "association", "add", "--city", city, "--name", name, "--id", id])
            #expect(added.status == 0, "\(added.stderr)")
        }
        try setup.syncBoth()
        let token = setup.cli.directory.appendingPathComponent("amina.token").path
        func initWith(_ association: String) throws -> CommandResult {
            try setup.cli.field([
                "init", "--server", setup.cli.server.url, "--token-file", token, "--association", association,
            ])
        }
        #expect(try setup.cli.field(["family", "add", "--reference", "TUN-1", "--head", "Fatma Ben Ali"]).status == 0)
        // Another city's association: refused at entry, naming it.
        #expect(try initWith("nour-sfax").status == 0)
        let wrong = try setup.cli.field(["deliver", "--family", "TUN-1", "--item", "food_pack", "--campaign", "w"])
        #expect(wrong.status == 1 && wrong.stderr.contains("nour-sfax"), "\(wrong.stderr)")
        #expect(try initWith("amal-tunis").status == 0)
        let delivered = try setup.cli.field(["deliver", "--family", "TUN-1", "--item", "food_pack", "--campaign", "w"])
        #expect(delivered.status == 0, "\(delivered.stderr)")
        try setup.syncBoth()
        try setup.syncBoth()
        let report = try setup.admin(["report", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any]
        let totals = object?["totals"] as? [[String: Any]] ?? []
        #expect(totals.map { $0["association"] as? String } == ["Association Amal"], "\(report.stdout)")
    }
}
