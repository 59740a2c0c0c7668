import Foundation
import GRDB
import SyncCore

/// The domain's index of a replica's families for the duplicate check at entry (decision record 0019): each live
/// family's household keys (reference, phone, district, address, size, association, as ``FamilyFeatures`` computes
/// them) and the spellings and skeletons of its name words, in tables beside the replica's.
///
/// The tables are a cache of the `families` table, kept in step by its local sequence: before each check, the
/// families changed since the last one (every write bumps a row's `_seq`: local edits, merges from a sync,
/// imports) and those that left the replica (`_departures`) are read again. So any writer, an older `field`
/// included, leaves them right; a change to how the keys are computed bumps ``version``, which rebuilds them.
/// Texts are stored in Unicode's composed form (NFC): SQLite compares bytes, Swift canonical equivalents.
enum FamilyKeys {
    /// The version of the keys: bump it when ``FamilyFeatures`` or ``NameTransliteration`` change what they give.
    static let version: Int64 = 1

    /// Word kinds in `_family_words`.
    static let form: Int64 = 0
    static let skeleton: Int64 = 1

    static func createTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS _family_keys_state (
                    version INTEGER NOT NULL,
                    seq INTEGER NOT NULL
                );
                CREATE TABLE IF NOT EXISTS _family_keys (
                    id TEXT PRIMARY KEY NOT NULL,
                    city TEXT NOT NULL,
                    reference TEXT,
                    phone TEXT,
                    district TEXT,
                    address TEXT,
                    size INTEGER,
                    association TEXT
                );
                CREATE INDEX IF NOT EXISTS _family_keys_by_phone ON _family_keys(city, phone);
                CREATE INDEX IF NOT EXISTS _family_keys_by_reference ON _family_keys(city, reference);
                CREATE INDEX IF NOT EXISTS _family_keys_by_address ON _family_keys(city, address);
                CREATE INDEX IF NOT EXISTS _family_keys_by_district ON _family_keys(city, district);
                CREATE INDEX IF NOT EXISTS _family_keys_by_size ON _family_keys(city, size);
                CREATE INDEX IF NOT EXISTS _family_keys_by_association ON _family_keys(city, association);
                CREATE TABLE IF NOT EXISTS _family_words (
                    city TEXT NOT NULL,
                    kind INTEGER NOT NULL,
                    word TEXT NOT NULL,
                    id TEXT NOT NULL,
                    PRIMARY KEY (city, kind, word, id)
                ) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS _family_words_by_id ON _family_words(id);
                """)
    }

    /// The local sequence the keys are up to date with, or nil when they must be built (none yet, or another
    /// version's).
    static func position(_ db: Database) throws -> Int64? {
        guard try db.tableExists("_family_keys_state"),
            let row = try Row.fetchOne(db, sql: "SELECT version, seq FROM _family_keys_state LIMIT 1"),
            row[0] as Int64 == version
        else { return nil }
        return row[1]
    }

    /// The local sequence of the last change of a family, or of a family's departure.
    static func head(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(
            db,
            sql: """
                SELECT max(coalesce((SELECT max(_seq) FROM families), 0),
                           coalesce((SELECT seq FROM _departures WHERE collection = 'families' ORDER BY seq DESC LIMIT 1), 0))
                """) ?? 0
    }

    /// Brings the keys up to date with the families of `replica` (on `db`, in a write transaction).
    static func catchUp(_ db: Database, _ replica: Replica) throws {
        try createTables(db)
        var from = try position(db) ?? -1
        if from < 0 {
            try db.execute(sql: "DELETE FROM _family_keys; DELETE FROM _family_words; DELETE FROM _family_keys_state")
            from = 0
        }
        var last = from
        let forget = try db.makeStatement(sql: "DELETE FROM _family_keys WHERE id = ?")
        let forgetWords = try db.makeStatement(sql: "DELETE FROM _family_words WHERE id = ?")
        let insert = try db.makeStatement(
            sql: """
                INSERT INTO _family_keys (id, city, reference, phone, district, address, size, association)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let insertWord = try db.makeStatement(
            sql: "INSERT OR IGNORE INTO _family_words (city, kind, word, id) VALUES (?, ?, ?, ?)")
        // Departures first: a family present now came back after any departure of it.
        for (id, seq) in try replica.departures(db, "families", after: from) {
            try forget.execute(arguments: [id])
            try forgetWords.execute(arguments: [id])
            last = max(last, seq)
        }
        for (id, seq, values) in try replica.changedRecords(db, "families", after: from) {
            last = max(last, seq)
            try forget.execute(arguments: [id])
            try forgetWords.execute(arguments: [id])
            // The families of ``FamilyDirectory/all()``: not deleted, not merged into another.
            guard values["_deleted"]?.isNull ?? true, values["merged_into"]?.textValue == nil,
                let family = FamilyCandidate(record: values.merging(["id": .text(id)]) { a, _ in a })
            else { continue }
            let features = FamilyFeatures(family)
            let city = nfc(family.city)
            try insert.execute(arguments: [
                id, city, features.reference.map(nfc), features.phone?.digits, features.district.map(nfc),
                features.address.map(nfc), features.size, features.association.map(nfc),
            ])
            for word in Set(features.tokens.map(\.form)) {
                try insertWord.execute(arguments: [city, form, nfc(word), id])
            }
            for word in Set(features.tokens.flatMap(\.skeletons)) where !word.isEmpty {
                try insertWord.execute(arguments: [city, skeleton, nfc(word), id])
            }
        }
        try db.execute(sql: "DELETE FROM _family_keys_state")
        try db.execute(
            sql: "INSERT INTO _family_keys_state (version, seq) VALUES (?, ?)", arguments: [version, last])
    }

    /// `text` in Unicode's composed form: equal for SQLite exactly when equal for Swift.
    static func nfc(_ text: String) -> String {
        text.utf8.allSatisfy { $0 < 0x80 } ? text : text.precomposedStringWithCanonicalMapping
    }
}
