import Crypto
import Foundation
package import SyncCore

/// Bearer tokens: made here, kept by the store as SHA-256 hashes (never the token itself).
///
/// Every request looks its token up in the store, so a token revoked by `sync-server token revoke`
/// (another process) is refused on its very next request, and after a restart.
package enum Tokens {
    package static func hash(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }

    /// A new token and its record (not stored yet: ``SyncStore/addToken(_:hash:)``).
    package static func make(
        role: Principal.Role, city: String?, name: String, now: Int64
    ) -> (token: String, record: TokenRecord) {
        var random = SystemRandomNumberGenerator()
        let secret = (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
        let token = "fs1_" + secret
        let id = "tok_" + hash(token).prefix(5).map { String(format: "%02x", $0) }.joined()
        return (token, TokenRecord(id: id, role: role, city: city, name: name, createdMillis: now))
    }

    enum Verdict: Sendable {
        case valid(TokenRecord)
        case unknown
        case revoked
    }

    /// Looks a presented token up by its hash and compares the hashes in constant time.
    static func verdict(on presented: String, in store: any SyncStore) async throws -> Verdict {
        let digest = hash(presented)
        guard let stored = try await store.token(hash: digest), constantTimeEqual(stored.hash, digest) else {
            return .unknown
        }
        return stored.record.revokedMillis == nil ? .valid(stored.record) : .revoked
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

extension TokenRecord {
    /// `"role":…,"city":…,"name":…,"node":…` (never the token), for JSON answers and listings.
    func writeFields(into writer: inout JSONWriter) {
        writer.raw("\"role\":")
        writer.string(role.rawValue)
        writer.raw(",\"city\":")
        if let city { writer.string(city) } else { writer.raw("null") }
        writer.raw(",\"name\":")
        writer.string(name)
        writer.raw(",\"node\":")
        if let node { writer.string(node.description) } else { writer.raw("null") }
    }
}
