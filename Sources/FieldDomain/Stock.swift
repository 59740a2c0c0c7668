public import GRDB
public import SyncCore

/// A hub's stock (decision record 0020): what it received from the warehouse, sent back, lost, corrected
/// after a count, and what its city handed out (its deliveries, voids aside). Only the hub's operator and
/// the admin record moves; a device reads them, with its city's deliveries, to warn a volunteer whose hub
/// has run out.
public enum Stock {
    /// What a move says happened to the hub's stock.
    public enum Kind: String, Sendable, CaseIterable {
        /// Packs arrived from the warehouse (a positive quantity).
        case received
        /// Packs sent back to the warehouse (a positive quantity, taken off).
        case returned
        /// Packs damaged, spoiled or stolen (a positive quantity, taken off).
        case lost
        /// The difference a count found (signed: the count minus what the records said).
        case corrected

        /// What the move adds to the stock on hand.
        public func effect(_ quantity: Int) -> Int {
            switch self {
            case .received, .corrected: quantity
            case .returned, .lost: -quantity
            }
        }
    }

    /// A city's stock of one item, as this node knows it.
    public struct Level: Sendable, Hashable {
        public var city: String
        public var item: String
        public var received = 0
        public var returned = 0
        public var lost = 0
        /// The corrections' sum (signed).
        public var corrected = 0
        /// The quantity of the city's deliveries of the item, voided ones aside.
        public var handedOut = 0

        public init(city: String, item: String) {
            self.city = city
            self.item = item
        }

        /// What the hub had to hand out: received, less returned and lost, plus corrections.
        public var available: Int { received - returned - lost + corrected }
        public var onHand: Int { available - handedOut }
        /// The city handed out more than its hub had.
        public var isOverdrawn: Bool { onHand < 0 }
    }

    /// Every city's stock of every item it has a move of (an item never received is not tracked: a
    /// programme that records no stock sees nothing), by city then item. `city`/`item` narrow it.
    public static func levels(_ replica: Replica, city: String? = nil, item: String? = nil) throws -> [Level] {
        try replica.read { db in
            var filters: [String] = []
            var arguments: [(any DatabaseValueConvertible)?] = []
            if let city {
                filters.append("city = ?")
                arguments.append(city)
            }
            if let item {
                filters.append("item = ?")
                arguments.append(item)
            }
            let filter = filters.isEmpty ? "" : " AND " + filters.joined(separator: " AND ")
            var levels: [String: Level] = [:]
            func key(_ city: String, _ item: String) -> String { city + "\u{0}" + item }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT city, item, kind, SUM(quantity) AS total FROM stock_moves WHERE 1\(filter)
                    GROUP BY city, item, kind
                    """, arguments: StatementArguments(arguments) ?? [])
            {
                guard let city = row.text("city"), let item = row.text("item"),
                    let kind = row.text("kind").flatMap(Kind.init(rawValue:))
                else { continue }
                var level = levels[key(city, item)] ?? Level(city: city, item: item)
                let total = Int(clamping: row.integer("total") ?? 0)
                switch kind {
                case .received: level.received = total
                case .returned: level.returned = total
                case .lost: level.lost = total
                case .corrected: level.corrected = total
                }
                levels[key(city, item)] = level
            }
            guard !levels.isEmpty else { return [] }
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT city, item, SUM(quantity) AS total FROM deliveries
                    WHERE id NOT IN (SELECT delivery FROM delivery_voids)\(filter) GROUP BY city, item
                    """, arguments: StatementArguments(arguments) ?? [])
            {
                guard let city = row.text("city"), let item = row.text("item") else { continue }
                levels[key(city, item)]?.handedOut = Int(clamping: row.integer("total") ?? 0)
            }
            return levels.values.sorted { ($0.city, $0.item) < ($1.city, $1.item) }
        }
    }
}

/// A stock move to record.
public struct NewStockMove: Sendable, Hashable {
    public var city: String
    public var item: String
    public var kind: Stock.Kind
    /// Positive, except for a correction (signed, not zero).
    public var quantity: Int
    public var movedAt: UInt64
    /// Who recorded it (the hub's operator).
    public var operatorName: String
    public var note: String?

    public init(
        city: String, item: String, kind: Stock.Kind, quantity: Int, movedAt: UInt64, operatorName: String,
        note: String? = nil
    ) {
        self.city = city
        self.item = item
        self.kind = kind
        self.quantity = quantity
        self.movedAt = movedAt
        self.operatorName = operatorName
        self.note = note
    }
}

extension ReplicaTransaction {
    /// Records a stock move and returns its id (the rules check it: ``StockRules``).
    @discardableResult
    public func recordStockMove(_ move: NewStockMove) throws -> String {
        var values: [String: Value] = [
            "city": .text(move.city), "item": .text(move.item), "kind": .text(move.kind.rawValue),
            "quantity": .integer(Int64(move.quantity)), "moved_at": .integer(Int64(clamping: move.movedAt)),
            "operator": .text(move.operatorName),
        ]
        values["note"] = move.note.map(Value.text)
        return try insert("stock_moves", values: values)
    }
}

/// The rules on stock moves, at every node: a kind it knows, a quantity that fits it, an item of the
/// catalogue, written by a hub or the admin (a volunteer's device cannot add stock it would then hand out).
enum StockRules {
    static func move(_ record: CheckedRecord, _ store: any RecordSource) throws -> RecordProblem? {
        switch record.writer?.standing {
        case .client(.device)?, .client(nil)?, .relayed?:
            return RecordProblem(field: "kind", "Only a hub's operator or the admin records stock.")
        case .local?, .client(.hub)?, .client(.admin)?, nil: break
        }
        guard let kind = record["kind"].textValue.flatMap(Stock.Kind.init(rawValue:)) else {
            return RecordProblem(
                field: "kind",
                "A stock move is \(Stock.Kind.allCases.map(\.rawValue).joined(separator: ", ")) "
                    + "(got '\(record["kind"].description.prefix(40))').")
        }
        let quantity = record["quantity"].integerValue ?? 0
        switch kind {
        case .corrected where quantity == 0:
            return RecordProblem(field: "quantity", "A correction changes the stock (a quantity other than 0).")
        case .received, .returned, .lost:
            if quantity < 1 {
                return RecordProblem(field: "quantity", "A stock move of \(kind.rawValue) packs counts 1 or more.")
            }
        default: break
        }
        guard case .text(let item) = record["item"] else { return nil }
        return try FieldSyncRules.itemProblem(item, field: "item", store)
    }
}
