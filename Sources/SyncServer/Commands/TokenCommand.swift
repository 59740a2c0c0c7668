import ArgumentParser
import FieldDomain
import Foundation
import SyncCore

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Issue, list and revoke the bearer tokens of devices, hubs and the admin.",
        subcommands: [Issue.self, Enrol.self, Template.self, List.self, Revoke.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token and print it once, or write it to a new file (only its SHA-256 hash is stored).",
            discussion: """
                With --out, the token goes to a new file of mode 0600 (not to a shell redirect, which leaves it
                readable by every user of the machine; a hub refuses such a file).
                Examples:
                  sync-server token issue --db central.db --role hub --city Tunis --name hub-tunis --out hub.token
                  sync-server token issue --db hub.db --role device --city Tunis --name amina-phone
                  sync-server token issue --db central.db --role admin --name admin
                """)

        @OptionGroup var database: DatabaseOptions
        @Option(help: "device, hub or admin.") var role: String
        @Option(help: "The city a device or hub token is limited to.") var city: String?
        @Option(help: "A label: the volunteer, the device, the hub.") var name: String
        @Option(help: "Write the token to this new file (mode 0600; refused if anything is there) instead of stdout.")
        var out: String?

        func validate() throws {
            guard let role = Principal.Role(rawValue: role) else {
                throw ValidationError("--role must be device, hub or admin; found '\(role)'.")
            }
            if role == .admin, city != nil { throw ValidationError("An admin token sees every city: drop --city.") }
            if role != .admin, (city ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("A \(role.rawValue) token needs --city (the city it may see and write).")
            }
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 100 else {
                throw ValidationError("--name must be 1…100 characters.")
            }
        }

        func run() async throws {
            do {
                try await database.withTokenStore { store in
                    let issued = Tokens.make(
                        role: Principal.Role(rawValue: role)!, city: city, name: name,
                        now: Int64(clamping: SystemClock().nowMillis()))
                    let id = issued.record.id
                    if let out {
                        // The file first: a token is issued only once it has a private place to go.
                        try PrivateFile.create(out) { Data((issued.token + "\n").utf8) }
                        do {
                            try await store.addToken(issued.record, hash: Tokens.hash(issued.token))
                        } catch {
                            try? FileManager.default.removeItem(atPath: out)
                            throw error
                        }
                    } else {
                        try await store.addToken(issued.record, hash: Tokens.hash(issued.token))
                        print(issued.token)
                    }
                    FileHandle.standardError.write(
                        Data(
                            ("issued \(id) (\(role)\(city.map { ", \($0)" } ?? ""), \(name))"
                                + (out.map { ": written to \($0) (mode 0600)" } ?? "")
                                + ": keep the token secret; it is not shown again\n").utf8))
                }
            } catch let error as SyncError {
                throw fail(error.message)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (ids, roles, cities; never the tokens).")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            do {
                let records = try await database.withTokenStore { try await $0.tokens() }
                if json {
                    var writer = JSONWriter()
                    writer.byte(UInt8(ascii: "["))
                    for (index, record) in records.enumerated() {
                        if index > 0 { writer.byte(UInt8(ascii: ",")) }
                        writer.raw("{\"id\":")
                        writer.string(record.id)
                        writer.byte(UInt8(ascii: ","))
                        record.writeFields(into: &writer)
                        writer.raw(",\"revoked\":")
                        writer.raw(record.revokedMillis == nil ? "false" : "true")
                        writer.byte(UInt8(ascii: "}"))
                    }
                    writer.byte(UInt8(ascii: "]"))
                    print(String(decoding: writer.bytes, as: UTF8.self))
                    return
                }
                print("ID              ROLE    CITY          NAME                  NODE              STATUS")
                for record in records {
                    let columns = [
                        record.id.padding(toLength: 15, withPad: " ", startingAt: 0),
                        record.role.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0),
                        (record.city ?? "-").padding(toLength: 13, withPad: " ", startingAt: 0),
                        record.name.padding(toLength: 21, withPad: " ", startingAt: 0),
                        (record.node?.description ?? "-").padding(toLength: 17, withPad: " ", startingAt: 0),
                        record.revokedMillis == nil ? "active" : "revoked",
                    ]
                    print(columns.joined(separator: " "))
                }
            } catch let error as SyncError {
                throw fail(error.message)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token by id or name: its next request gets 401.",
            discussion: "Example:\n  sync-server token revoke --db hub.db amina-phone")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The token's id (tok_…) or name.") var token: String

        func run() async throws {
            do {
                let revoked = try await database.withTokenStore {
                    try await $0.revokeTokens(idOrName: token, now: Int64(clamping: SystemClock().nowMillis()))
                }
                guard !revoked.isEmpty else { throw fail("No active token with id or name '\(token)'.") }
                for record in revoked { print("revoked \(record.id) (\(record.role.rawValue), \(record.name))") }
            } catch let error as SyncError {
                throw fail(error.message)
            }
        }
    }
}
