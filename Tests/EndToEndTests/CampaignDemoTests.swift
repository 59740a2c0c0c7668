import Foundation
import Testing

/// `make demo`'s campaign at its real size (`scripts/demo.sh` on this build's binaries): 8 cities, 24
/// volunteers, 2,000 families, 5,200 recharge codes. The report must say exactly what the generator
/// planted (`expected.json`): every total, the family served twice with both deliveries as evidence, the
/// families registered twice in two scripts, every code handed out once, the stock, the clock a day ahead.
@Suite("Campaign demo", .serialized)
struct CampaignDemoTests {
    @Test func theCampaignsReportSaysExactlyWhatWasPlanted() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let (text, status, seconds, mark) = try DemoTests.play("demo.sh", out: out)
        #expect(status == 0, "\(text.suffix(3000))")
        print("campaign demo: \(Int(seconds)) s")
        #expect(processes(marked: mark).isEmpty)
        // A page, not thousands of lines.
        #expect(text.split(separator: "\n").count < 80, "\(text)")

        func json(_ name: String) throws -> [String: Any] {
            try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent(name)))
                    as? [String: Any])
        }
        let report = try json("report.json")
        let expected = try json("expected.json")

        // Totals: every city, item and campaign exactly as planted.
        var totals: [String: Int] = [:]
        var deliveries = 0
        for row in report["totals"] as? [[String: Any]] ?? [] {
            let key = [row["city"], row["item"], row["campaign"]].map { $0 as? String ?? "?" }.joined(separator: "|")
            totals[key, default: 0] += row["quantity"] as? Int ?? 0
            deliveries += row["deliveries"] as? Int ?? 0
        }
        #expect(totals == expected["totals"] as? [String: Int])
        #expect(deliveries == expected["deliveries"] as? Int)
        #expect(deliveries > 12_000)

        // The family served twice by two offline volunteers, with both deliveries as evidence; nothing else.
        let breaches = try #require(report["breaches"] as? [[String: Any]])
        let planted = try #require(expected["breaches"] as? [[String: Any]])
        #expect(
            breaches.map { [$0["reference"], $0["item"], $0["campaign"]].map { $0 as? String } }
                == planted.map { [$0["reference"], $0["item"], $0["campaign"]].map { $0 as? String } })
        let evidence = breaches.first?["evidence"] as? [[String: Any]] ?? []
        #expect(evidence.count == 2)
        #expect(Set(evidence.compactMap { $0["device"] as? String }).count == 2)
        #expect(Set(evidence.compactMap { $0["volunteer"] as? String }).count == 2)

        // The families registered twice (Arabic and Latin script) are found; false pairs within the bound
        // the duplicate matching measured (a genuine family in a false pair: under 1%).
        let pairs = (report["duplicates"] as? [[String: Any]] ?? []).map { duplicate in
            ((duplicate["families"] as? [[String: Any]]) ?? []).compactMap { $0["reference"] as? String }.sorted()
        }
        let plantedPairs = expected["duplicates"] as? [[String]] ?? []
        #expect(plantedPairs.count == 2)
        for pair in plantedPairs { #expect(pairs.contains(pair), "\(pair) not in \(pairs)") }
        let families = expected["families"] as? Int ?? 0
        let falsePairs = pairs.filter { !plantedPairs.contains($0) }
        #expect(falsePairs.count * 100 <= families, "\(falsePairs)")

        // Recharge codes: every recharge handed out a code, no code twice, the rest back with central.
        let vouchers = try #require(report["vouchers"] as? [String: Any])
        let cities = vouchers["cities"] as? [[String: Any]] ?? []
        let handedOut = cities.reduce(0) { $0 + ($1["handed_out"] as? Int ?? 0) }
        let unused = cities.reduce(0) { $0 + ($1["unused"] as? Int ?? 0) }
        #expect(handedOut == expected["recharges"] as? Int)
        #expect(handedOut + unused == expected["codes"] as? Int)
        #expect(cities.reduce(0) { $0 + ($1["devices"] as? Int ?? 0) } == 0, "every device gave its codes back")
        #expect((vouchers["refused_hand_outs"] as? [Any])?.isEmpty == true)
        let exported = try String(contentsOf: out.appendingPathComponent("deliveries.csv"), encoding: .utf8)
        let codes = exported.split(whereSeparator: \.isNewline).compactMap { line in
            line.split(separator: ",").first { $0.hasPrefix("rc-") }
        }
        #expect(codes.count == handedOut && Set(codes).count == codes.count)

        // Stock: what each hub received less what its city handed out; the planted overdraw flagged alone.
        let stock = report["stock"] as? [[String: Any]] ?? []
        let plantedStock = expected["stock"] as? [String: [String: Int]] ?? [:]
        #expect(stock.count == 16)
        for level in stock {
            let key = "\(level["city"] as? String ?? "?")|\(level["item"] as? String ?? "?")"
            if let planted = plantedStock[key] {
                #expect(level["received"] as? Int == planted["received"], "\(key)")
                #expect(level["handed_out"] as? Int == planted["handed_out"], "\(key)")
            }
            #expect(
                level["on_hand"] as? Int == (level["received"] as? Int ?? 0) - (level["handed_out"] as? Int ?? 0))
        }
        #expect(
            stock.filter { $0["overdrawn"] as? Bool == true }.map { "\($0["city"] ?? "")|\($0["item"] ?? "")" }
                == expected["overdrawn"] as? [String])

        // Every device and hub reported in; the volunteer a day ahead is flagged.
        let devices = report["devices"] as? [[String: Any]] ?? []
        #expect(devices.filter { $0["role"] as? String == "device" }.count == expected["devices"] as? Int)
        #expect(devices.filter { $0["role"] as? String == "hub" }.count == 8)
        let ahead = devices.filter { $0["clock_off"] as? Bool == true }
        #expect(ahead.count == 1 && abs(ahead.first?["clock_offset_ms"] as? Int ?? 0) > 23 * 3_600_000, "\(ahead)")
        #expect((report["refused"] as? [Any])?.isEmpty == true, "\(report["refused"] ?? "")")
    }
}
