import Foundation

/// Where central's PostgreSQL store is and how a `sync-server` instance talks to it. Every property
/// documents its default.
///
/// Made from a URL, `postgres://USER@HOST:PORT/DATABASE` (or `postgresql://…`; the port defaults to 5432;
/// optional `?sslmode=disable|require`). The URL never holds the password: a command line shows in the
/// process list and the shell's history. The password comes from the environment or from a private file
/// (``password(file:environment:)``), or is nil for a server that trusts this user by other means.
package struct PostgresStoreConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is protected.
    package enum TLSMode: String, Sendable {
        /// Plain TCP: only for a server on this machine or across a private link.
        case disable
        /// TLS, the server's certificate verified against the system's roots and the host name (what libpq
        /// calls `verify-full`); a server without TLS is refused.
        case require
    }

    /// The server's host name or IP address (an IPv6 address without its brackets).
    package var host: String
    /// Default 5432.
    package var port: Int
    package var user: String
    package var database: String
    /// Default `require`: a password and the families' data cross the network only encrypted. Say
    /// `?sslmode=disable` for a server on this machine.
    package var tls: TLSMode
    /// Never in the URL and never printed (see ``description``). Default nil: no password.
    package var password: String?
    /// Connections this instance opens at most. Default 16: several stateless instances share one server,
    /// whose `max_connections` is 100 by default (97 for clients), so six instances fit without tuning it;
    /// and a connection is held for one short statement or transaction, so 16 serve many more concurrent
    /// requests than that, while a PostgreSQL server gains nothing from more active connections than it has
    /// cores (they only contend for locks and memory).
    package var poolSize = 16
    /// How long one statement may run before the server cancels it (`statement_timeout`, set on every
    /// connection). Default 30 s: a sync request's statements take milliseconds, so one that runs for
    /// 30 s is waiting on a lock or scanning what it should not; cancelled, it fails its request (the
    /// client retries) instead of holding a connection of the pool, and a lock, for minutes.
    package var statementTimeout: Duration = .seconds(30)
    /// How long a request waits for a connection of the pool before it fails as unavailable (a
    /// sync-server answers 503 with `Retry-After`, and the client retries). Default 5 s: long enough for a
    /// busy pool to free a connection, short enough that a server that is down (the pool retries it for a
    /// minute before it gives up on its own) neither holds clients nor hides from `/healthz`.
    package var connectionWait: Duration = .seconds(5)

    /// The largest pool accepted: PostgreSQL's own cap on `max_connections` is 262,143, but a pool far past
    /// a server's cores only queues inside the server.
    package static let maxPoolSize = 10_000

    /// Reads a `postgres://` or `postgresql://` URL.
    ///
    /// Throws when the URL is malformed, holds a password, names no user, host or database, has a port
    /// outside 1…65535, or a parameter other than `sslmode=disable|require`.
    package init(url: String, password: String? = nil) throws(PostgresConfigurationError) {
        var rest = Substring(url.trimmingCharacters(in: .whitespaces))
        guard let schemeEnd = rest.range(of: "://") else { throw .notAPostgresURL(scheme: nil) }
        let scheme = rest[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            let printable = !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0.isNumber || "+.-".contains($0) }
            throw .notAPostgresURL(scheme: printable ? scheme : nil)
        }
        rest = rest[schemeEnd.upperBound...]
        // Before anything is split (a password may hold '/', '?' or '@'), and before anything is echoed.
        if let at = rest.firstIndex(of: "@"), rest[..<at].contains(":") { throw .passwordInURL }
        var query: Substring?
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw .missingDatabase }
        let authority = rest[..<slash]
        let path = rest[rest.index(after: slash)...]

        guard let at = authority.lastIndex(of: "@") else { throw .missingUser }
        let userInfo = authority[..<at]
        let (host, port) = try Self.hostAndPort(authority[authority.index(after: at)...])
        let user = try Self.decode(userInfo, part: "user")
        guard !user.isEmpty else { throw .missingUser }
        let database = try Self.decode(path, part: "database")
        guard !database.isEmpty, !database.contains("/") else { throw .missingDatabase }

        var tls = TLSMode.require
        for parameter in query.map({ $0.split(separator: "&", omittingEmptySubsequences: true) }) ?? [] {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(pair[0], part: "parameter name")
            switch name {
            case "sslmode":
                let value = try Self.decode(pair.count > 1 ? pair[1] : "", part: "sslmode")
                guard let mode = TLSMode(rawValue: value) else { throw .badSSLMode(value) }
                tls = mode
            case "password": throw .passwordInURL
            default: throw .unknownParameter(name)
            }
        }
        self.host = host
        self.port = port
        self.user = user
        self.database = database
        self.tls = tls
        self.password = password
    }

    /// Throws when the pool size or the statement timeout is out of range (see ``PostgresConfigurationError``).
    package func validate() throws(PostgresConfigurationError) {
        guard (1...Self.maxPoolSize).contains(poolSize) else { throw .badPoolSize(poolSize) }
        guard statementTimeout >= .milliseconds(1), statementTimeout <= .seconds(86_400) else {
            throw .badStatementTimeout(statementTimeout)
        }
    }

    /// The URL without the password, which it never holds: safe to log.
    package var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(shownHost):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }

    /// `HOST`, `HOST:PORT`, `[IPV6]` or `[IPV6]:PORT`.
    private static func hostAndPort(
        _ text: Substring
    ) throws(PostgresConfigurationError) -> (host: String, port: Int) {
        var hostPart = text
        var portPart: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .missingHost }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .badPort(String(after)) }
                portPart = after.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        let host = try decode(hostPart, part: "host")
        guard !host.isEmpty else { throw .missingHost }
        guard let portPart else { return (host, 5432) }
        guard portPart.count <= 5, portPart.allSatisfy(\.isASCIIDigit), let port = Int(portPart), (1...65535) ~= port
        else { throw .badPort(String(portPart.prefix(20))) }
        return (host, port)
    }

    /// A part of the URL with its %-escapes decoded.
    private static func decode(_ text: Substring, part: String) throws(PostgresConfigurationError) -> String {
        guard text.contains("%") else { return String(text) }
        guard let decoded = String(text).removingPercentEncoding else { throw .badEscape(part: part) }
        return decoded
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
