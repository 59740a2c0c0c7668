import NIOCore

/// Who a connection comes from, for the limits per client: an IPv4 address, or the /64 prefix of an IPv6
/// one (a subscriber gets a whole /64, so a limit per IPv6 address would limit nothing).
struct ClientAddress: Hashable, Sendable, CustomStringConvertible {
    let description: String

    /// The key of a peer's socket address; nil for a peer without an IP address (a Unix socket).
    init?(_ address: SocketAddress?) {
        guard let address, let ip = address.ipAddress else { return nil }
        guard case .v6(let v6) = address else {
            description = ip
            return
        }
        let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        // An IPv4 client of a dual-stack socket (::ffff:a.b.c.d) is keyed by its IPv4 address.
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            description = bytes[12...].map(String.init).joined(separator: ".")
            return
        }
        let groups = stride(from: 0, to: 8, by: 2).map {
            String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16)
        }
        description = groups.joined(separator: ":") + "::/64"
    }
}
