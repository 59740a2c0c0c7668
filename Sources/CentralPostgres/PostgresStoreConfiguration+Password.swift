import Foundation
import SyncCore

extension PostgresStoreConfiguration {
    /// The environment variable FieldSync reads the password from first.
    package static let passwordVariable = "FIELDSYNC_PG_PASSWORD"
    /// libpq's, read when ``passwordVariable`` is not set.
    package static let libpqPasswordVariable = "PGPASSWORD"

    /// The password to connect with: the first line of `file` when one is given (`--store-password-file`),
    /// else `FIELDSYNC_PG_PASSWORD`, else `PGPASSWORD` (an empty one is unset), else nil (the server trusts this user otherwise:
    /// a local socket, a certificate).
    ///
    /// Throws when the file cannot be read, is empty, or may be read by other users of the machine (with
    /// it, anyone logged in could read and write every city's families).
    package static func password(
        file: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(PostgresConfigurationError) -> String? {
        guard let file else {
            // An empty variable is no password, as libpq reads it.
            return [passwordVariable, libpqPasswordVariable].lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        }
        let contents: (data: Data, mode: mode_t)
        do {
            contents = try PrivateFile.read(file)
        } catch {
            throw .passwordFileUnreadable(file)
        }
        guard contents.mode & 0o077 == 0 else {
            throw .passwordFileNotPrivate(file, mode: UInt32(contents.mode))
        }
        // The first line, as written: a password may hold spaces, but not the editor's final newline.
        // Bytes, not Characters: to Swift, "\r\n" is one Character and no "\n".
        var line = contents.data.prefix { $0 != UInt8(ascii: "\n") }
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        let password = String(decoding: line, as: UTF8.self)
        guard !password.isEmpty else { throw .passwordFileEmpty(file) }
        return password
    }
}
