/// Which node a token speaks for: bound at its first sync, moved once to a duplicated node's new id.
extension SyncService {
    /// Checks that `request` comes from the node `token` is bound to, binding it first when it is not.
    ///
    /// A device or hub token belongs to the node of its first sync (a write only then), and moves to the
    /// new id of that node once, when this server found the old one duplicated (logged as a warning). A
    /// node id this server knows already (another token's, or seen in its data: every pulled page shows
    /// node ids) is never bound to a fresh token: that request is refused as `node-taken` and logged.
    /// Another node presenting a bound token is refused as `wrong-node`. Admin tokens are not bound.
    public func bindNode(_ token: TokenRecord, to request: SyncRequest) async throws {
        guard token.role != .admin else { return }
        let node = request.node
        // A request sent beside the first one (the push window) finds the token bound since it was read.
        var bound: NodeID?
        if let known = token.node { bound = known } else { bound = try await store.boundNode(token: token.id) }
        if bound == nil {
            if try await store.hasSeen(node) {
                // Seen because its twin request bound the token and wrote in between: that is this device.
                guard try await store.boundNode(token: token.id) == node else { throw nodeTaken(token, node) }
                bound = node
            } else {
                // nil after the bind: another token holds the node.
                guard let now = try await store.bind(token: token.id, to: node) else { throw nodeTaken(token, node) }
                bound = now
            }
        }
        if bound != node, let old = request.rekeyedFrom, old == bound, try await store.isDuplicated(old) {
            guard try await !store.hasSeen(node) else { throw nodeTaken(token, node) }
            bound = try await store.rebind(token: token.id, from: old, to: node)
            logger.warning(
                "token moved to a new node id (its old one was duplicated)",
                metadata: ["sync.token": "\(token.name)", "sync.node.previous": "\(old)", "sync.client": "\(node)"])
        }
        guard bound == node else {
            throw SyncError(
                .wrongNode,
                "This token belongs to node \(bound.map(\.description) ?? "?"); this request comes from node \(node). "
                    + "Each device enrols with its own token"
                    + (request.rekeyedFrom != nil
                        ? " (another copy of this device already moved the token to its new node id)." : "."))
        }
    }

    /// The refusal of a node id that belongs to another device, logged for the admin.
    private func nodeTaken(_ token: TokenRecord, _ node: NodeID) -> SyncError {
        logger.warning(
            "token refused a node id known from another device",
            metadata: ["sync.token": "\(token.name)", "sync.client": "\(node)"])
        return SyncError(
            .nodeTaken,
            "Node \(node) belongs to another device known to this server; a token binds only to a node id of its "
                + "own. Nothing was applied. A client that meets this takes a new node id (its pending writes move "
                + "to it) and syncs again.")
    }
}
