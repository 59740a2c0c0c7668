/// Everything a sync server keeps, behind one interface: the server side (``SyncService``, the HTTP
/// routes, the token commands) reaches storage through it alone.
///
/// ``ReplicaStore`` implements it over an embedded SQLite replica (a hub, or a central that needs
/// nothing else to start); another engine implements the same methods with the same meaning (the next
/// one is PostgreSQL). Methods are `async`: an implementation does its blocking work off the
/// cooperative pool and off event loops. Each table has one owner, the implementation; the checks that
/// need no storage (the clock bound, the origins of a push) are the service's, done before it calls here.
///
/// Failures are `SyncError`s: `.storage` and `.diskFull` for the engine's own, and the protocol's
/// (`.duplicateNode`, `.outOfOrder`, `.clockDrift`, `.invalidBatch`…) as the methods say.
public protocol SyncStore: TokenStore {
    /// The server's node id: it stamps the server's own writes and answers every request.
    var nodeID: NodeID { get }
    /// How far a client's clock, or a stamp it pushes, may be ahead of or behind the server's (ms).
    var maxClockDriftMillis: UInt64 { get }

    /// The feed's head: where a client that pulled everything stands. A health check asks it (the store
    /// answers).
    func head() async throws -> FeedCursor

    // MARK: Sync

    /// Applies a client's push in one transaction, with every check that reads what is stored: the
    /// records' scope (a stored record of another scope is refused), their references (a record naming
    /// one of another scope is refused), the domain's rules (``Schema/rules``), stamps ahead of the
    /// server's clock (`.clockDrift`, the whole push), and the client's lease move (`.duplicateNode` or
    /// `.outOfOrder`, nothing applied; a duplicate found is remembered even so). The sequences it takes
    /// are the client's echo: never sent back to it. Refused records are reported one by one
    /// (``ApplyReport/refused``) and kept for the admin; the rest is applied.
    func apply(_ push: ClientPush) async throws -> ApplyReport

    /// A stream that applies the push of `client` as it decodes (see ``PushStream``), or nil when this store
    /// applies pushes whole. The caller must not write to the store between the first run it offers and
    /// the stream's end (the stream may hold the write lock): it streams only a push whose token is
    /// already bound to its node. `scope` and `now` as in ``ClientPush``.
    func beginPush(client: NodeID, scope: String?, role: Principal.Role?, now: Int64) -> (any PushStream)?

    /// Checks and moves a client's lease without a push (see ``Lease``), in its own transaction; a
    /// duplicate found is remembered (every later request of either copy is refused).
    func moveLease(_ move: LeaseMove) async throws -> LeaseCheck

    /// Up to `limit` records changed after `cursor`, as `filter` allows (a principal's scope, without the
    /// echo of the client asking): a page of the change feed. Gap-free: a page never passes a change that
    /// a later page would then miss.
    func changes(since cursor: FeedCursor, limit: Int, filter: FeedFilter) async throws -> FeedPage

    /// Conflicts a hub saw, for the admin; those about records outside `scope` are skipped. Returns how many
    /// were kept (a conflict already kept is not counted again).
    func recordConflicts(_ entries: [HistoryEntry], scope: String?) async throws -> Int

    /// Saves client statuses: a client's own with its sync (`via` nil), or those a hub relays (`via` the
    /// hub; skipped, and counted in the result, when they name the hub itself, this server, a client
    /// that syncs here directly, or a device another hub speaks for). An older status never replaces a
    /// newer one.
    @discardableResult
    func recordStatuses(_ statuses: [DeviceStatus], via hub: NodeID?) async throws -> Int

    // MARK: Nodes

    /// Whether `node` is known here: this server, a client with a lease, a status, a token bound to
    /// it, or a stamp in the data.
    func hasSeen(_ node: NodeID) async throws -> Bool

    /// Whether two copies of `node` were found syncing here.
    func isDuplicated(_ node: NodeID) async throws -> Bool

    // MARK: Settings

    /// A server setting (the hub's upstream…).
    func setting(_ key: String) async throws -> String?

    /// Saves settings in one transaction (nil removes a key).
    func saveSettings(_ values: [String: String?]) async throws
}

/// A client's push as a store applies it: the records and who sends them, and what moves with them.
public struct ClientPush: Sendable {
    public var batch: ChangeBatch
    /// The client: every stamp it made is held to the drift bound, and the sequences the push takes are
    /// its echo.
    public var client: NodeID
    /// The principal's scope; nil for the admin.
    public var scope: String?
    /// The principal's role, for rules that let only some nodes write a field (``RecordWriter``); nil:
    /// not said (taken for a device's).
    public var role: Principal.Role?
    /// The client's lease move, in the same transaction; nil from a client that predates leases.
    public var lease: LeaseMove?
    /// The client's pull cursor base: echo ranges below it are no longer needed.
    public var pruneEchoBelow: Int64?
    /// Server time (Unix ms): the bound the push's stamps are checked against.
    public var now: Int64

    public init(
        batch: ChangeBatch, client: NodeID, scope: String?, role: Principal.Role? = nil, lease: LeaseMove?,
        pruneEchoBelow: Int64?, now: Int64
    ) {
        self.batch = batch
        self.client = client
        self.scope = scope
        self.role = role
        self.lease = lease
        self.pruneEchoBelow = pruneEchoBelow
        self.now = now
    }

    /// The key under which a client's echo ranges and positions are kept.
    public static func peerKey(client node: NodeID) -> String { "client:\(node)" }
}
