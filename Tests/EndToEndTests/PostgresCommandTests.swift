import FieldSyncTesting
import Foundation
import SyncClient
import Testing

/// `sync-server migrate` and the `token` commands against central on PostgreSQL, as an operator runs them:
/// real processes, a real cluster, the password from the environment and never from the URL.
@Suite("sync-server commands on PostgreSQL")
struct PostgresCommandTests {
    @Test func migrateAndTokensWorkOnPostgresAndRefuseWhatTheyCannotDo() async throws {
        let cluster = try await PostgresCluster.start()
        do {
            try await check(url: cluster.url(database: try await cluster.createDatabase()))
        } catch {
            try? await cluster.stop()
            throw error
        }
        try await cluster.stop()
    }

    private func check(url: String) async throws {
        let server = Binaries.syncServer

        let first = try run(server, ["migrate", "--store", url])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("schema at version 6"))
        let again = try run(server, ["migrate", "--store", url])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == first.stdout)

        let issued = try run(
            server, ["token", "issue", "--store", url, "--role", "hub", "--city", "Fès", "--name", "hub-fes"])
        #expect(issued.status == 0, "\(issued.stderr)")
        #expect(issued.stdout.hasPrefix("fs1_"))
        let listed = try run(server, ["token", "list", "--store", url])
        #expect(listed.stdout.contains("hub-fes") && listed.stdout.contains("active"))
        let revoked = try run(server, ["token", "revoke", "--store", url, "hub-fes"])
        #expect(revoked.status == 0 && revoked.stdout.contains("revoked"))
        #expect(try run(server, ["token", "list", "--store", url]).stdout.contains("revoked"))

        // A password on the command line is refused, and not repeated.
        let withPassword = url.replacingOccurrences(of: "postgres@", with: "postgres:s3cret@")
        let refused = try run(server, ["token", "list", "--store", withPassword])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("FIELDSYNC_PG_PASSWORD"))
        #expect(!refused.stderr.contains("s3cret"))
        // Central on PostgreSQL serves; a hub keeps a replica file, and is refused before it starts.
        let serving = try ServerProcess(store: url)
        let health = try CurlTransport(
            configuration: ClientConfiguration(serverURL: serving.url, token: ""), logger: quietLogger
        ).raw(method: "GET", path: "/healthz", headers: [], body: nil)
        #expect(health.status == 200)
        #expect(String(decoding: health.body, as: UTF8.self).contains("\"mode\":\"central\""))
        serving.stop()
        let hub = try run(
            server, ["serve", "--store", url, "--upstream", "http://127.0.0.1:1", "--upstream-token-file", "t"])
        #expect(hub.status != 0 && hub.stderr.contains("--db"))
        let both = try run(server, ["token", "list", "--store", url, "--db", "central.db"])
        #expect(both.status != 0 && both.stderr.contains("give one"))
    }
}
