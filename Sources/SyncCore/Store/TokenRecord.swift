/// A bearer token as a store keeps it: who it speaks for, and the node of its first sync. The token
/// itself is never kept, only its SHA-256 hash.
public struct TokenRecord: Sendable, Equatable {
    public var id: String
    public var role: Principal.Role
    public var city: String?
    public var name: String
    /// The node the token is bound to (its first sync).
    public var node: NodeID?
    public var createdMillis: Int64
    public var revokedMillis: Int64?

    public init(
        id: String, role: Principal.Role, city: String?, name: String, node: NodeID? = nil, createdMillis: Int64,
        revokedMillis: Int64? = nil
    ) {
        self.id = id
        self.role = role
        self.city = city
        self.name = name
        self.node = node
        self.createdMillis = createdMillis
        self.revokedMillis = revokedMillis
    }

    public var principal: Principal { Principal(role: role, city: city, name: name) }
}

/// A token found under a hash, with the hash as stored (compared again in constant time by the caller).
public struct StoredToken: Sendable, Equatable {
    public var record: TokenRecord
    public var hash: [UInt8]

    public init(record: TokenRecord, hash: [UInt8]) {
        self.record = record
        self.hash = hash
    }
}
