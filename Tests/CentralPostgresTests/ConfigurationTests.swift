import CentralPostgres
import Foundation
import Testing

@Suite("PostgreSQL store configuration")
struct ConfigurationTests {
    @Test("a URL with every part")
    func fullURL() throws {
        let configuration = try PostgresStoreConfiguration(url: "postgres://fieldsync@db.example.org:6543/central")
        #expect(configuration.user == "fieldsync")
        #expect(configuration.host == "db.example.org")
        #expect(configuration.port == 6543)
        #expect(configuration.database == "central")
        #expect(configuration.tls == .require)
        #expect(configuration.password == nil)
        #expect(configuration.poolSize == 16)
        #expect(configuration.statementTimeout == .seconds(30))
    }

    @Test(
        "good URLs",
        arguments: [
            ("postgresql://u@h/d", "u", "h", 5432, "d", PostgresStoreConfiguration.TLSMode.require),
            ("POSTGRES://u@h:1/d?sslmode=disable", "u", "h", 1, "d", .disable),
            ("postgres://u@h:65535/d?sslmode=require", "u", "h", 65535, "d", .require),
            ("postgres://u@[::1]:5433/d", "u", "::1", 5433, "d", .require),
            ("postgres://u@[::1]/d", "u", "::1", 5432, "d", .require),
            ("postgres://sync%20user@127.0.0.1/caf%C3%A9", "sync user", "127.0.0.1", 5432, "café", .require),
            ("  postgres://u@h/d  ", "u", "h", 5432, "d", .require),
        ])
    func goodURL(
        url: String, user: String, host: String, port: Int, database: String, tls: PostgresStoreConfiguration.TLSMode
    )
        throws
    {
        let configuration = try PostgresStoreConfiguration(url: url)
        #expect(configuration.user == user)
        #expect(configuration.host == host)
        #expect(configuration.port == port)
        #expect(configuration.database == database)
        #expect(configuration.tls == tls)
    }

    @Test(
        "bad URLs: a typed error, never a crash",
        arguments: [
            ("", PostgresConfigurationError.notAPostgresURL(scheme: nil)),
            ("central.db", .notAPostgresURL(scheme: nil)),
            ("mysql://u@h/d", .notAPostgresURL(scheme: "mysql")),
            ("postgres://h/d", .missingUser),
            ("postgres://@h/d", .missingUser),
            ("postgres://u@/d", .missingHost),
            ("postgres://u@:5432/d", .missingHost),
            ("postgres://u@h:0/d", .badPort("0")),
            ("postgres://u@h:65536/d", .badPort("65536")),
            ("postgres://u@h:-1/d", .badPort("-1")),
            ("postgres://u@h:99999999999999999999/d", .badPort("99999999999999999999")),
            ("postgres://u@h:port/d", .badPort("port")),
            ("postgres://u@h:/d", .badPort("")),
            ("postgres://u@[::1/d", .missingHost),
            ("postgres://u@[::1]x/d", .badPort("x")),
            ("postgres://u@h", .missingDatabase),
            ("postgres://u@h/", .missingDatabase),
            ("postgres://u@h/a/b", .missingDatabase),
            ("postgres://u@h/%ZZ", .badEscape(part: "database")),
            ("postgres://u@h/d?sslmode=prefer", .badSSLMode("prefer")),
            ("postgres://u@h/d?sslmode", .badSSLMode("")),
            ("postgres://u@h/d?connect_timeout=5", .unknownParameter("connect_timeout")),
        ])
    func badURL(url: String, expected: PostgresConfigurationError) {
        #expect(throws: expected) { try PostgresStoreConfiguration(url: url) }
    }

    @Test(
        "a password in the URL is refused, and never repeated",
        arguments: [
            "postgres://u:s3cret@h/d", "postgresql://u:@h:5432/d", "postgres://u:s3/cr?et@h/d",
            "postgres://u@h/d?password=s3cret", "postgres://u:s3cret@h", "postgres://u:s3cret@h:bad/d",
        ])
    func passwordInURL(url: String) {
        #expect(throws: PostgresConfigurationError.passwordInURL) { try PostgresStoreConfiguration(url: url) }
        let message = PostgresConfigurationError.passwordInURL.description
        #expect(!message.contains("s3"))
        #expect(message.contains("FIELDSYNC_PG_PASSWORD"))
        #expect(message.contains("--store-password-file"))
    }

    @Test("an error message never repeats what precedes the scheme's end")
    func schemeNotEchoed() {
        #expect(throws: PostgresConfigurationError.notAPostgresURL(scheme: nil)) {
            try PostgresStoreConfiguration(url: "u:s3cret@h://x")
        }
    }

    @Test("the description shows no password")
    func description() throws {
        let configuration = try PostgresStoreConfiguration(url: "postgres://u@[::1]/d", password: "s3cret")
        #expect(configuration.description == "postgres://u@[::1]:5432/d?sslmode=require")
    }

    @Test("pool size and statement timeout are range-checked")
    func ranges() throws {
        var configuration = try PostgresStoreConfiguration(url: "postgres://u@h/d")
        try configuration.validate()
        for size in [0, -1, PostgresStoreConfiguration.maxPoolSize + 1] {
            configuration.poolSize = size
            #expect(throws: PostgresConfigurationError.badPoolSize(size)) { try configuration.validate() }
        }
        configuration.poolSize = 1
        for timeout in [Duration.zero, .seconds(-1), .seconds(86_401)] {
            configuration.statementTimeout = timeout
            #expect(throws: PostgresConfigurationError.badStatementTimeout(timeout)) { try configuration.validate() }
        }
        configuration.statementTimeout = .milliseconds(1)
        try configuration.validate()
    }

    @Test("the password: the file first, then FIELDSYNC_PG_PASSWORD, then PGPASSWORD")
    func passwordSources() throws {
        let both = ["FIELDSYNC_PG_PASSWORD": "ours", "PGPASSWORD": "libpq"]
        #expect(try PostgresStoreConfiguration.password(file: nil, environment: both) == "ours")
        #expect(try PostgresStoreConfiguration.password(file: nil, environment: ["PGPASSWORD": "libpq"]) == "libpq")
        let emptyOurs = ["FIELDSYNC_PG_PASSWORD": "", "PGPASSWORD": "libpq"]
        #expect(try PostgresStoreConfiguration.password(file: nil, environment: emptyOurs) == "libpq")
        #expect(try PostgresStoreConfiguration.password(file: nil, environment: [:]) == nil)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pg-password-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("password").path
        func write(_ text: String, mode: Int) throws {
            try? FileManager.default.removeItem(atPath: file)
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
        }
        try write("pass word with spaces\n", mode: 0o600)
        #expect(try PostgresStoreConfiguration.password(file: file, environment: both) == "pass word with spaces")
        try write("crlf\r\nsecond line\n", mode: 0o400)
        #expect(try PostgresStoreConfiguration.password(file: file, environment: [:]) == "crlf")
        try write("readable\n", mode: 0o644)
        #expect(throws: PostgresConfigurationError.passwordFileNotPrivate(file, mode: 0o644)) {
            try PostgresStoreConfiguration.password(file: file, environment: [:])
        }
        try write("\n", mode: 0o600)
        #expect(throws: PostgresConfigurationError.passwordFileEmpty(file)) {
            try PostgresStoreConfiguration.password(file: file, environment: both)
        }
        let missing = folder.appendingPathComponent("missing").path
        #expect(throws: PostgresConfigurationError.passwordFileUnreadable(missing)) {
            try PostgresStoreConfiguration.password(file: missing, environment: both)
        }
    }
}
