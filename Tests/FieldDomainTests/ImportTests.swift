import FieldDomain
import Foundation
import SyncCore
import Testing

/// Bulk import at central: the report on a bad file, upsert by reference, duplicates, undo.
@Suite("Import: families, associations, campaigns")
struct ImportTests {
    static let header = "\u{FEFF}city;association;reference;head_name;phone;household_size;district\r\n"

    /// Central with the programme of `Support.swift` and two families of Fès registered by volunteers.
    static func central() throws -> Replica {
        let central = try programme()
        try central.write { tx in
            try tx.addFamily(
                NewFamily(
                    city: "Fès", reference: "AM-0001", headName: "Fatima Zahra Bennani", association: "amal",
                    phone: "0612345678", householdSize: 5, district: "Fès el Bali"))
            try tx.addFamily(
                NewFamily(
                    city: "Fès", reference: "V-17", headName: "Mohamed Alaoui", phone: "0661000111", householdSize: 3,
                    district: "Saiss"))
        }
        return central
    }

    static func run(
        _ central: Replica, _ text: String, kind: ImportKind = .families,
        _ adjust: (inout ImportOptions) -> Void = { _ in }
    ) throws -> ImportOutcome {
        var options = ImportOptions()
        adjust(&options)
        return try central.runImport(kind, try CSVTable(Data(text.utf8)), file: "test.csv", options: options, now: 1)
    }

    @Test func aFileWithEveryKindOfBadRowIsReportedAndWritesNothing() throws {
        let central = try Self.central()
        let file =
            Self.header
            + "Fès;amal;AM-0100;Khadija Tazi;0655443322;4;Agdal\r\n"  // 2: good
            + "Fès;amal;AM-0101;;0655443323;4;Agdal\r\n"  // 3: no head of household
            + "Fès;amal;AM-0102;Said Idrissi;06-AB-12;4;Agdal\r\n"  // 4: bad phone
            + "Tanger;amal;AM-0103;Nadia Chraibi;0655443324;2;\r\n"  // 5: unknown city
            + "Fès;hilal;AM-0104;Omar Fassi;0655443325;3;\r\n"  // 6: unknown association
            + "Fès;amal;AM-0105;Samira Berrada;0655443326;3;\r\n"  // 7: reference twice in the file
            + "Fès;amal;AM-0105;Samira Berada;0655443326;3;\r\n"  // 8
            + "Fès;amal;AM-0106;Youssef Kettani;0655443327;zero;\r\n"  // 9: bad household size
            + "Fès;amal;AM-0107;Fatima-Zahra Benani;06 12 34 56 78;5;Fès el Bali\r\n"  // 10: likely AM-0001
            + "Fès;nour;AM-0108;Rachid Lahlou;0655443328;1;\r\n"  // 11: an association of Rabat
        let before = try central.dump()
        for dryRun in [true, false] {
            let outcome = try Self.run(central, file) { $0.dryRun = dryRun }
            #expect(outcome.result == (dryRun ? .dryRun : .refused))
            let counts = outcome.plan.counts
            #expect(counts.new == 1 && counts.refused == 8 && counts.likelyDuplicates == 1, "\(counts)")
            let reasons = Dictionary(
                outcome.plan.refused.map { row in
                    guard case .refused(let reasons) = row.verdict else { return (row.line, "") }
                    return (row.line, reasons.joined(separator: "; "))
                }, uniquingKeysWith: { a, _ in a })
            #expect(reasons[3]?.contains("no value in head_name") == true, "\(reasons[3] ?? "")")
            #expect(reasons[4]?.contains("bad phone '06-AB-12'") == true)
            #expect(reasons[5]?.contains("unknown city 'Tanger': the cities are Fès, Rabat") == true)
            #expect(reasons[6]?.contains("unknown association 'hilal' in Fès") == true)
            #expect(reasons[7]?.contains("reference AM-0105 is on lines 7, 8") == true)
            #expect(reasons[8]?.contains("reference AM-0105 is on lines 7, 8") == true)
            #expect(reasons[9]?.contains("bad household size 'zero'") == true)
            #expect(reasons[11]?.contains("association 'nour' works in Rabat, not in Fès") == true)
            guard case .likelyDuplicate(_, let matches) = outcome.plan.likelyDuplicates.first?.verdict else {
                Issue.record("no likely duplicate")
                continue
            }
            #expect(outcome.plan.likelyDuplicates.first?.line == 10)
            #expect(matches.first?.label.hasPrefix("AM-0001 Fatima Zahra Bennani") == true)
            #expect(matches.first?.evidence.contains { $0.contains("same phone") } == true, "\(matches)")
        }
        #expect(try central.dump() == before)
        #expect(try central.imports().isEmpty)

        // --skip-bad-rows: the good row only (the likely duplicate left out).
        let outcome = try Self.run(central, file) { $0.skipBadRows = true }
        guard case .imported(let record) = outcome.result else { Issue.record("\(outcome.result)"); return }
        #expect(record.created == 1 && record.changed == 0 && record.skipped == 9)
        #expect(
            try FamilyDirectory(central.records).all().compactMap { $0["reference"]?.textValue }.sorted() == [
                "AM-0001", "AM-0100", "V-17",
            ])
    }

    @Test func aLikelyDuplicateIsWrittenOnlyWhenAccepted() throws {
        let central = try Self.central()
        let file = Self.header + "fes;Amal;AM-0107;فاطمة الزهراء بناني;+212 612-345-678;5;Fès el Bali\r\n"
        let skipped = try Self.run(central, file)
        #expect(skipped.result == .nothingToWrite && skipped.plan.counts.likelyDuplicates == 1)
        let accepted = try Self.run(central, file) { $0.accepted = ["AM-0107"] }
        guard case .imported(let record) = accepted.result else { Issue.record("\(accepted.result)"); return }
        #expect(record.created == 1)
        // The city and association were written as central knows them.
        let family = try #require(try central.record("families", id: record.writes[0].id))
        #expect(family["city"] == "Fès" && family["association"] == "amal")
    }

    @Test func reimportingTheSameFileWritesNothing() throws {
        let central = try Self.central()
        let file =
            Self.header + "Fès;amal;AM-0001;Fatima Zahra Bennani;0612345678;6;Fès el Bali\r\n"
            + "Fès;amal;AM-0200;Hassan Amrani;0677000001;2;Zouagha\r\n"
            + "Fès;Amal;AM-0201;\"Aicha \"\"Lalla\"\" Sqalli\";0655123987;;\r\n"
        let first = try Self.run(central, file)
        guard case .imported(let record) = first.result else { Issue.record("\(first.result)"); return }
        #expect(record.created == 2 && record.changed == 1)
        let after = try central.dump()
        let again = try Self.run(central, file)
        #expect(again.result == .nothingToWrite)
        #expect(again.plan.counts.unchanged == 3 && again.plan.counts.new == 0 && again.plan.counts.changed == 0)
        #expect(try central.dump() == after)  // stamps included: not one register written
        #expect(try central.imports().count == 1)
    }

    @Test func undoRestoresTheStateBeforeTheImport() throws {
        let central = try Self.central()
        let before = try DomainDump(central)
        let exportBefore = try Exports.families(central).rows
        let file =
            Self.header + "Fès;amal;AM-0001;Fatima Zahra Bennani;;6;Fès Jdid\r\n"  // changes size, district, phone
            + "Fès;amal;AM-0300;Hassan Amrani;0677000001;2;Zouagha\r\n"
            + "Rabat;nour;NR-1;نادية الشرايبي;0539871234;4;Agdal\r\n"
        let outcome = try Self.run(central, file)
        guard case .imported(let record) = outcome.result else { Issue.record("\(outcome.result)"); return }
        #expect(try DomainDump(central) != before)
        let undone = try central.undoImport(record.id, now: 2)
        #expect(undone.deleted == 2 && undone.restored == 1)
        #expect(try DomainDump(central) == before)
        #expect(try Exports.families(central).rows == exportBefore)
        #expect(try central.imports().first?.undoneAt == 2)
        #expect(throws: ImportError.self) { try central.undoImport(record.id, now: 3) }
        #expect(throws: ImportError.self) { try central.undoImport(99, now: 3) }
    }

    @Test func undoIsRefusedWhenARecordChangedSince() throws {
        let central = try Self.central()
        let outcome = try Self.run(central, Self.header + "Fès;amal;AM-0300;Hassan Amrani;0677000001;2;Zouagha\r\n")
        guard case .imported(let record) = outcome.result else { Issue.record("\(outcome.result)"); return }
        let id = record.writes[0].id
        try central.write { tx in try tx.editFamily(id, ["phone": "0677000009"]) }
        let edited = try central.dump()
        #expect {
            try central.undoImport(record.id, now: 2)
        } throws: { error in
            (error as? ImportError)?.message.contains("line 2 (AM-0300): phone changed since the import") == true
        }
        #expect(try central.dump() == edited)
        try central.write { tx in
            try tx.editFamily(id, ["phone": "0677000001"])
            try tx.logDelivery(
                NewDelivery(
                    city: "Fès", family: id, item: "food_pack", campaign: "phase-1", deliveredAt: day0 + 1,
                    volunteer: "Amina"))
        }
        #expect {
            try central.undoImport(record.id, now: 2)
        } throws: { error in
            (error as? ImportError)?.message.contains("is now named by delivery") == true
        }
    }

    @Test func associationsAndCampaignsImportAndUndo() throws {
        let central = try Self.central()
        let before = try DomainDump(central)
        let associations = "id,name,city\nhilal-fes,Association Hilal,fes\namal,Amal Fès,Fès\nbad id,X,Fès\n"
        let refused = try Self.run(central, associations, kind: .associations)
        #expect(refused.result == .refused && refused.plan.counts.refused == 1)
        let done = try Self.run(central, associations, kind: .associations) { $0.skipBadRows = true }
        guard case .imported(let first) = done.result else { Issue.record("\(done.result)"); return }
        #expect(first.created == 1 && first.changed == 1)
        #expect(try central.record("associations", id: "hilal-fes")?["city"] == "Fès")
        let campaigns =
            "code;name;phase;from;to;items\nramadan;Ramadan;3;2027-02-08;2027-03-09;food_pack:1\n"
            + "phase-1;Phase 1;1;2026-12-06;2027-01-05;food_pack:2\nwinter;Hiver;;2027-01-01;2026-12-01;tent:1\n"
        let plan = try Self.run(central, campaigns, kind: .campaigns) { $0.dryRun = true }.plan
        #expect(plan.counts.new == 1 && plan.counts.changed == 1 && plan.counts.refused == 1)
        guard case .refused(let reasons) = plan.refused.first?.verdict else { Issue.record("no refusal"); return }
        #expect(reasons.contains { $0.contains("ends (2026-12-01) before it starts") })
        #expect(reasons.contains { $0.contains("items not in the catalogue (or inactive): tent") })
        let second = try Self.run(central, campaigns, kind: .campaigns) { $0.skipBadRows = true }
        guard case .imported(let record) = second.result else { Issue.record("\(second.result)"); return }
        _ = try central.undoImport(record.id, now: 3)
        _ = try central.undoImport(first.id, now: 4)
        #expect(try DomainDump(central) == before)
        // A deleted code cannot come back: the row says so rather than the write failing.
        let again = try Self.run(central, campaigns, kind: .campaigns) { $0.dryRun = true }
        #expect(again.plan.refused.contains { $0.key == "ramadan" })
    }

    @Test func twoThousandFamiliesImportInWellUnderAFewSeconds() throws {
        let central = try Self.central()
        let given = ["Fatima", "Mohamed", "Khadija", "Ahmed", "Aicha", "Youssef", "Naima", "Hassan", "Zineb", "Omar"]
        let family = ["Bennani", "Alaoui", "Tazi", "Idrissi", "Fassi", "Berrada", "Chraibi", "Kettani", "Lahlou"]
        var file = Self.header
        for index in 0..<2_000 {
            let city = index % 2 == 0 ? "Fès;amal" : "Rabat;nour"
            let name = "\(given[index % 10]) \(family[(index / 10) % 9]) \(given[(index / 90) % 10])"
            let phone = "06\(String(format: "%08d", (index * 7_919_113 + 12_345) % 100_000_000))"
            file += "\(city);B-\(index);\(name);\(phone);\(1 + index % 9);District \(index % 40)\r\n"
        }
        let clock = ContinuousClock()
        var outcome: ImportOutcome?
        let elapsed = try clock.measure { outcome = try Self.run(central, file) { $0.acceptDuplicates = true } }
        guard case .imported(let record)? = outcome?.result else {
            Issue.record("\(String(describing: outcome))"); return
        }
        #expect(record.created == 2_000)
        let again = try clock.measure { outcome = try Self.run(central, file) }
        #expect(outcome?.result == .nothingToWrite)
        print("import of 2,000 families: \(elapsed) (again, unchanged: \(again))")
        #expect(elapsed < .seconds(5) && again < .seconds(5))
    }
}

/// The domain's live records and their values (no stamps): what an admin's lists and exports show.
struct DomainDump: Equatable, CustomStringConvertible {
    var lines: [String]

    init(_ replica: Replica) throws {
        lines = []
        for collection in ["associations", "families", "campaigns", "items", "entitlements", "distinct_families"] {
            for record in try replica.records.records(collection, limit: 1_000_000) {
                let values = record.values.filter { !$0.value.isNull && $0.key != "_deleted" }
                lines.append(
                    "\(collection) \(record.id) "
                        + values.keys.sorted().map { "\($0)=\(values[$0]!)" }.joined(separator: " "))
            }
        }
    }

    var description: String { lines.joined(separator: "\n") }
}
