import SyncCore

/// Settings a server keeps in its store: the hub's upstream, for `sync-server sync-upstream`.
struct ServerSettings {
    let store: any SyncStore

    func saveUpstream(_ upstream: UpstreamConfiguration) async throws {
        try await store.saveSettings([
            "upstream_url": upstream.url, "upstream_token_file": upstream.tokenFile,
            "upstream_ca_file": upstream.caFile,
        ])
    }

    /// The upstream last given to `serve`, if any.
    func upstream() async throws -> UpstreamConfiguration? {
        guard let url = try await store.setting("upstream_url"),
            let file = try await store.setting("upstream_token_file")
        else { return nil }
        return UpstreamConfiguration(
            url: url, tokenFile: file, schedule: .manual, caFile: try await store.setting("upstream_ca_file"))
    }
}
