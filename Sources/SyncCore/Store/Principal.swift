/// Who is calling, as established by the server from a bearer token.
public struct Principal: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        /// A volunteer's device: its city's records, its own changes only.
        case device
        /// A city hub: its city's records, relaying its devices' changes.
        case hub
        /// The admin: everything.
        case admin
    }

    public var role: Role
    /// The city a device or hub token is limited to; nil for admin.
    public var city: String?
    /// The token's label (for logs and the stale devices view; never the token itself).
    public var name: String

    public init(role: Role, city: String?, name: String) {
        self.role = role
        self.city = city
        self.name = name
    }

    /// The scope value records must carry, or nil when the principal sees everything.
    public var scope: String? { role == .admin ? nil : city }
}
