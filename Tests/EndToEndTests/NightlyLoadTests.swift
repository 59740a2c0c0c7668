import Foundation
import Testing

/// `field-bench central`, small, as the benchmark runs it: R11 (the merge, its floor and the baseline on a
/// throwaway cluster), then the nightly load on a SQLite central and PostgreSQL behind 1 and 2 instances,
/// real `sync-server` processes. The run itself fails when the merge does not converge to its source, a
/// push is refused, a sync fails or central lacks a delivery; here it must end well and report its keys.
@Suite("field-bench central, small: R11 and the nightly load")
struct NightlyLoadTests {
    @Test func aSmallNightRunsOnEachCentralWithEveryPushAccepted() throws {
        let bench = Binaries.directory.appendingPathComponent("field-bench").path
        let result = try run(
            bench,
            [
                "central", "--runs", "1", "--families", "200", "--edits", "400", "--deliveries", "1500",
                "--devices", "16", "--city-families", "10", "--concurrency", "4", "--json",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        for key in [
            "R11_merge", "R11_floor", "syncs_per_s_sqlite", "syncs_per_s_pg1", "syncs_per_s_pg2", "p99_ms_sqlite",
            "p99_ms_pg2",
            "instance_peak_mb", "pg_bytes_per_delivery",
        ] {
            #expect(((object[key] as? NSNumber)?.doubleValue ?? 0) > 0, "\(key) in \(result.stdout)")
        }
    }
}
