import ArgumentParser
import CentralPostgres
import FieldDomain
import Foundation
import SyncCore

/// `sync-server migrate`: brings a store's schema up to this version, and nothing else.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring the store's schema up to this version (safe to run again, and from several instances).",
        discussion: """
            On PostgreSQL: applies the versioned migrations the database lacks, each in a transaction of its own
            (an instance that migrates at the same time waits, then finds nothing to do), and makes the tables
            of the collections and the columns of fields added since. On a replica file: opens it, which
            migrates it. Prints what it did.
            Examples:
              FIELDSYNC_PG_PASSWORD=… sync-server migrate --store postgres://fieldsync@db.example:5432/central
              sync-server migrate --db central.db
            """)

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        do {
            if let url = database.store {
                let (applied, node) = try await database.withPostgres(url) { store in
                    (try await store.database.appliedMigrations(), store.nodeID)
                }
                print("central on PostgreSQL: schema at version \(applied.max() ?? 0), node \(node)")
            } else {
                let replica = try Replica(path: try database.replicaPath(for: "migrate"), schema: .fieldSync)
                print("replica \(replica.path ?? ""): schema up to date, node \(replica.nodeID)")
            }
        } catch let error as SyncError {
            throw fail(error.message)
        }
    }
}
