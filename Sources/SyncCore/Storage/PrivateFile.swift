package import Foundation

/// Files that hold tokens or family data: created with mode 0600, never reached through a symbolic link,
/// checked before they are used.
package enum PrivateFile {
    /// Opens the replica file at `path` (creating it with mode 0600 when `create`, skipping it when it is
    /// missing otherwise), refusing a symbolic link or anything but a regular file.
    ///
    /// A link is refused (O_NOFOLLOW) so that FieldSync never adds its tables to the file behind it, another
    /// application's database say. An existing file that others may read or write is tightened to 0600
    /// rather than refused: it is ours (a copy made with a loose umask, a restored backup), tightening loses
    /// nothing, and a volunteer on a phone could not run the `chmod` a refusal would ask for. Only when the
    /// change is not allowed (another user's file) is it refused, with the command that fixes it.
    package static func prepareReplica(_ path: String, create: Bool) throws(SyncError) {
        let fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0o600)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT, !create { return }
            if code == ELOOP { throw linkError(path) }
            throw SyncError(.storage, "Cannot open the replica file \(path): \(String(cString: strerror(code))).")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw SyncError(.storage, "\(path) is not a regular file: give the path of a replica file.")
        }
        guard info.st_mode & 0o077 != 0 else { return }
        guard fchmod(fd, 0o600) == 0 else {
            throw SyncError(
                .storage,
                "\(path) can be read by other users of this machine (mode \(String(info.st_mode & 0o777, radix: 8)))"
                    + " and this user cannot change that. Its owner can: chmod 600 \(path)")
        }
    }

    /// The replica files SQLite opens beside `path`: the database, its write-ahead log and its index.
    package static func prepareReplicaFiles(_ path: String) throws(SyncError) {
        try prepareReplica(path, create: true)
        for suffix in ["-wal", "-shm"] { try prepareReplica(path + suffix, create: false) }
    }

    /// Creates `path` with mode 0600 and writes `contents()` into it; refused when anything is at `path`
    /// already (a file, or a link: O_EXCL follows none). `contents` runs once the file is ours; when it
    /// throws, or the write fails, the file is removed.
    package static func create(_ path: String, contents: () throws -> Data) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason =
                errno == EEXIST
                ? "it already exists; remove it or choose another name" : String(cString: strerror(errno))
            throw SyncError(.storage, "Cannot create \(path): \(reason).")
        }
        var done = false
        defer {
            close(fd)
            if !done { unlink(path) }
        }
        let data = try contents()
        var offset = 0
        while offset < data.count {
            let written = data.withUnsafeBytes { write(fd, $0.baseAddress! + offset, data.count - offset) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else {
                throw SyncError(.storage, "Cannot write \(path): \(String(cString: strerror(errno))).")
            }
            offset += written
        }
        guard fsync(fd) == 0 else {
            throw SyncError(.storage, "Cannot write \(path): \(String(cString: strerror(errno))).")
        }
        done = true
    }

    /// The contents of `path` and its permission bits, both from the one open file (a link is followed:
    /// the bits are those of the file read).
    package static func read(_ path: String) throws -> (data: Data, mode: mode_t) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SyncError(.notFound, "Cannot read \(path): \(String(cString: strerror(errno))).")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw SyncError(.notFound, "Cannot read \(path): \(String(cString: strerror(errno))).")
        }
        return (try handle.readToEnd() ?? Data(), info.st_mode & 0o777)
    }

    static func linkError(_ path: String) -> SyncError {
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)).map { " (to \($0))" } ?? ""
        return SyncError(
            .storage,
            "\(path) is a symbolic link\(target). A replica is opened only at its real path, so that FieldSync "
                + "never adds its tables to another file: give the path of the replica file itself.")
    }
}
