/// The bearer tokens a server keeps: the part of ``SyncStore`` that the `token` commands use, and that
/// a store being set up (central on PostgreSQL, before it serves) answers on its own.
public protocol TokenStore: Sendable {
    /// The token stored under `hash` (SHA-256 of the bearer token), with the stored hash.
    func token(hash: [UInt8]) async throws -> StoredToken?

    /// Stores a new token under `hash`.
    func addToken(_ token: TokenRecord, hash: [UInt8]) async throws

    /// Every token, oldest first.
    func tokens() async throws -> [TokenRecord]

    /// Revokes the tokens with this id or name at `now`; returns them.
    func revokeTokens(idOrName: String, now: Int64) async throws -> [TokenRecord]

    /// The node a token is bound to, if it is.
    func boundNode(token id: String) async throws -> NodeID?

    /// Binds a token to the node of its first sync; returns the bound node, nil when another token
    /// holds `node` (a node id belongs to one token).
    func bind(token id: String, to node: NodeID) async throws -> NodeID?

    /// Moves a token bound to `old` (found duplicated) to `new`, unless another token holds `new`;
    /// returns the bound node (unchanged when another request moved it first).
    func rebind(token id: String, from old: NodeID, to new: NodeID) async throws -> NodeID?
}
