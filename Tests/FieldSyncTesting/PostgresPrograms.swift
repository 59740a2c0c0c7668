import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// PostgreSQL's programs on this machine, and how ``PostgresCluster`` runs them: as `nobody` when the
/// tests run as root (PostgreSQL's server programs refuse root).
struct PostgresPrograms: Sendable {
    var initdb: String
    var pgCtl: String
    var psql: String
    /// When running as root: the user the server runs as (`nobody`), and how to become it.
    var server: ServerUser?

    struct ServerUser: Sendable {
        var uid: uid_t
        var gid: gid_t
        /// `setpriv …` or `runuser …`, to which the command is appended.
        var prefix: [String]
    }

    /// Finds `initdb` and `pg_ctl` on the PATH (this machine's /usr/local/bin) or in
    /// /usr/lib/postgresql/*/bin (where Debian's package puts them, newest version first), `psql` beside
    /// them or on the PATH.
    static func find() throws -> PostgresPrograms {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let debian = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted { $0.compare($1, options: .numeric) == .orderedDescending }
            .map { "/usr/lib/postgresql/\($0)/bin" }
        let executable = { (file: String) in FileManager.default.isExecutableFile(atPath: file) }
        guard let folder = (path + debian).first(where: { executable($0 + "/initdb") && executable($0 + "/pg_ctl") })
        else {
            let sudo = geteuid() == 0 ? "" : "sudo "
            throw PostgresClusterError(
                "PostgreSQL's server programs (initdb, pg_ctl) are neither on the PATH nor in "
                    + "/usr/lib/postgresql/*/bin, and the PostgreSQL tests need them (they never skip). Install "
                    + "them with: \(sudo)apt-get install -y postgresql")
        }
        guard let psql = ([folder] + path + debian).map({ $0 + "/psql" }).first(where: executable) else {
            let sudo = geteuid() == 0 ? "" : "sudo "
            throw PostgresClusterError(
                "psql is missing beside \(folder)/initdb: install it with: \(sudo)apt-get install -y postgresql")
        }
        return PostgresPrograms(
            initdb: folder + "/initdb", pgCtl: folder + "/pg_ctl", psql: psql,
            server: geteuid() == 0 ? try serverUser() : nil)
    }

    /// `nobody`, and `setpriv` (or `runuser`) to run as it.
    private static func serverUser() throws -> ServerUser {
        guard let entry = getpwnam("nobody") else {
            throw PostgresClusterError(
                "The tests run as root, PostgreSQL refuses root, and there is no user 'nobody' to run it as.")
        }
        let (uid, gid) = (entry.pointee.pw_uid, entry.pointee.pw_gid)
        let found = { (names: [String]) in
            names.first { FileManager.default.isExecutableFile(atPath: $0) }
        }
        if let setpriv = found(["/usr/bin/setpriv", "/bin/setpriv"]) {
            return ServerUser(
                uid: uid, gid: gid, prefix: [setpriv, "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--"])
        }
        if let runuser = found(["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]) {
            return ServerUser(uid: uid, gid: gid, prefix: [runuser, "-u", "nobody", "--"])
        }
        throw PostgresClusterError(
            "The tests run as root and PostgreSQL refuses root, but neither setpriv nor runuser is here to run it as "
                + "'nobody': install them with: apt-get install -y util-linux")
    }

    /// A new private folder for a cluster: short (a Unix socket's path has at most 107 bytes), under /tmp
    /// when the server runs as `nobody` (who must reach it).
    static func makeFolder(in parent: String?) throws -> String {
        var base = parent ?? FileManager.default.temporaryDirectory.path
        if parent == nil, geteuid() == 0 || base.utf8.count > 60 { base = "/tmp" }
        var template = Array((base + "/fieldsync-pg-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw PostgresClusterError("Cannot create a folder in \(base): \(String(cString: strerror(errno))).")
        }
        return String(cString: made)
    }

    /// Gives `folder` to the server's user when there is one (the folder is 0700).
    func giveAway(_ folder: String) throws {
        guard let server else { return }
        guard chown(folder, server.uid, server.gid) == 0 else {
            throw PostgresClusterError("Cannot give \(folder) to nobody: \(String(cString: strerror(errno))).")
        }
    }

    /// Runs `program` in `folder` (as the server's user when `asServer`), its input empty and its output
    /// kept; throws its output, and the tail of `log` when given, if it fails.
    func run(
        _ program: String, _ arguments: [String], in folder: String, asServer: Bool, log: String? = nil
    )
        async throws
    {
        // sh (as the caller) enters the folder, then becomes the program (as nobody, through the prefix).
        let command =
            ["/bin/sh", "-c", "cd -- \"$1\" && shift && exec \"$@\"", "sh", folder]
            + (asServer ? server?.prefix ?? [] : []) + [program] + arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-pg-\(UUID()).out")
        let fd = open(output.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw PostgresClusterError("Cannot create \(output.path): \(String(cString: strerror(errno))).")
        }
        defer { try? FileManager.default.removeItem(at: output) }
        // Without the caller's PG… variables (PGDATA, PGPORT, PGHOST would redirect the programs); messages
        // in English.
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
        environment["LC_ALL"] = "C"
        let status: Int32
        do {
            defer { close(fd) }
            status = try await Self.spawnAndWait(command, environment: environment, output: fd)
        }
        guard status == 0 else {
            let said = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            let logged = log.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }.map {
                "\nthe server's log ends with:\n" + $0.split(separator: "\n").suffix(15).joined(separator: "\n")
            }
            throw PostgresClusterError(
                "\((asServer ? server?.prefix ?? [] : []) + [program] + arguments) failed (status \(status)):\n"
                    + "\(said)\(logged ?? "")")
        }
    }

    /// Starts `command` (its input /dev/null, its output and errors to `output`, signals as a new process
    /// has them), waits for it off the cooperative pool, and returns its exit status (128 + the signal
    /// that ended it).
    ///
    /// Not Foundation's `Process`: on Linux it learns that a process ended when a socket the process
    /// inherits closes, and `pg_ctl start` hands that socket to the server it leaves running, so the
    /// end of `pg_ctl` is never seen.
    private static func spawnAndWait(
        _ command: [String], environment: [String: String], output: Int32
    )
        async throws -> Int32
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        var all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            throw PostgresClusterError("Cannot start \(command[0]): \(String(cString: strerror(spawned))).")
        }
        let child = pid
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var status: Int32 = 0
                while waitpid(child, &status, 0) < 0, errno == EINTR {}
                // WIFEXITED, WEXITSTATUS and WTERMSIG, which Swift does not import (macros).
                let signal = status & 0x7f
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
            }
        }
    }

    /// The server's process id, from `postmaster.pid`; nil when there is none.
    static func serverPID(dataDirectory: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
            let line = text.split(separator: "\n").first, let pid = pid_t(line.trimmingCharacters(in: .whitespaces)),
            pid > 0, isAlive(pid)
        else { return nil }
        return pid
    }

    /// SIGKILLs `pid` and its children (found before it dies, while they are still its), and waits up to
    /// 10 s until they are gone.
    static func killTree(_ pid: pid_t) throws {
        let children = Self.children(of: pid)
        for target in [pid] + children { _ = Glibc.kill(target, SIGKILL) }
        let deadline = Date().addingTimeInterval(10)
        while ([pid] + children).contains(where: isAlive) {
            guard Date() < deadline else {
                throw PostgresClusterError("The server's processes (\(pid), \(children)) outlived SIGKILL for 10 s.")
            }
            usleep(20_000)
        }
    }

    /// The processes whose parent is `pid`, from /proc.
    private static func children(of pid: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let child = pid_t(entry), let stat = Self.stat(child) else { return nil }
            return stat.parent == pid ? child : nil
        }
    }

    /// Whether `pid` runs (a zombie, dead but not yet reaped, does not).
    private static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = stat(pid) else { return false }
        return stat.state != "Z" && stat.state != "X"
    }

    /// A process's state letter and parent, from /proc/PID/stat (`pid (name) S ppid …`; the name may hold
    /// spaces and parentheses, so the fields are read after its last ')').
    private static func stat(_ pid: pid_t) -> (state: Character, parent: pid_t)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count >= 2, let state = fields[0].first, let parent = pid_t(fields[1]) else { return nil }
        return (state, parent)
    }
}
