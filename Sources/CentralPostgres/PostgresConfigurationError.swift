/// A PostgreSQL store's configuration that cannot be used: a bad URL, a password where none may be, a
/// password file others can read, a pool size or a timeout out of range.
///
/// Its ``description`` says what to write instead; it never repeats a password (nor a URL that holds one).
package enum PostgresConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not `postgres://…` or `postgresql://…`; carries the scheme found, if any (never the whole text, which
    /// may hold a password).
    case notAPostgresURL(scheme: String?)
    /// The URL holds a password (`USER:PASSWORD@`, or `?password=`).
    case passwordInURL
    /// No `USER@` before the host.
    case missingUser
    /// Nothing between `@` and the port or the database.
    case missingHost
    /// A port that is not a number from 1 to 65535; carries what was given.
    case badPort(String)
    /// No database after the host (`…/DATABASE`), or an empty one.
    case missingDatabase
    /// A percent-escape that does not decode to UTF-8, in the named part of the URL.
    case badEscape(part: String)
    /// An `sslmode` other than `disable` or `require`; carries what was given.
    case badSSLMode(String)
    /// A query parameter this version does not know; carries its name.
    case unknownParameter(String)
    /// The password file cannot be read; carries its path.
    case passwordFileUnreadable(String)
    /// The password file may be read by other users of the machine; carries its path and mode.
    case passwordFileNotPrivate(String, mode: UInt32)
    /// The password file is empty; carries its path.
    case passwordFileEmpty(String)
    /// A pool size below 1 or above ``PostgresStoreConfiguration/maxPoolSize``.
    case badPoolSize(Int)
    /// A statement timeout below 1 ms or above one day.
    case badStatementTimeout(Duration)

    package var description: String {
        let form = "postgres://USER@HOST:PORT/DATABASE (or postgresql://…; optional ?sslmode=disable or require)"
        switch self {
        case .notAPostgresURL(let scheme):
            let found = scheme.map { "it starts with '\($0)://'" } ?? "it has no scheme"
            return "The store is not a PostgreSQL URL (\(found)): write \(form)."
        case .passwordInURL:
            return "The PostgreSQL URL holds a password, which would show in the process list and the shell's "
                + "history: remove it from the URL and give it in the environment variable FIELDSYNC_PG_PASSWORD "
                + "(or PGPASSWORD), or in a file readable only by you (--store-password-file FILE)."
        case .missingUser:
            return "The PostgreSQL URL names no user: write \(form)."
        case .missingHost:
            return "The PostgreSQL URL names no host: write \(form)."
        case .badPort(let given):
            return "The PostgreSQL URL's port '\(given)' is not a number from 1 to 65535 (PostgreSQL's is 5432)."
        case .missingDatabase:
            return "The PostgreSQL URL names no database: write \(form)."
        case .badEscape(let part):
            return "The PostgreSQL URL's \(part) has a %-escape that is not UTF-8: write \(form)."
        case .badSSLMode(let given):
            return "sslmode '\(given)' is not understood: write ?sslmode=require (the default: TLS, the server's "
                + "certificate verified) or ?sslmode=disable (only for a server on this machine or a private link)."
        case .unknownParameter(let name):
            return "The PostgreSQL URL's parameter '\(name)' is not understood: the only one is sslmode."
        case .passwordFileUnreadable(let path):
            return "Cannot read the PostgreSQL password file \(path): check the path and its permissions."
        case .passwordFileNotPrivate(let path, let mode):
            return "The PostgreSQL password file \(path) can be read by other users of this machine (mode "
                + "\(String(mode, radix: 8))). Make it private, then start again: chmod 600 \(path)"
        case .passwordFileEmpty(let path):
            return "The PostgreSQL password file \(path) is empty: write the password in it (one line)."
        case .badPoolSize(let size):
            return "A pool of \(size) connections is out of range: give 1 to "
                + "\(PostgresStoreConfiguration.maxPoolSize) (the default is 16)."
        case .badStatementTimeout(let timeout):
            return "A statement timeout of \(timeout) is out of range: give 1 ms to 1 day (the default is 30 s)."
        }
    }
}
