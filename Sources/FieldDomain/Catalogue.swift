public import SyncCore

/// An item the programme hands out (a record of `items`, which the admin manages).
public struct Item: Sendable, Hashable {
    /// Its code, what a delivery names: lowercase letters, digits and `_`.
    public var code: String
    public var nameFR: String
    public var nameAR: String?
    public var nameEN: String?
    public var unit: String?
    public var active: Bool

    public init(
        code: String, nameFR: String, nameAR: String? = nil, nameEN: String? = nil, unit: String? = nil,
        active: Bool = true
    ) {
        self.code = code
        self.nameFR = nameFR
        self.nameAR = nameAR
        self.nameEN = nameEN
        self.unit = unit
        self.active = active
    }

    init(code: String, _ values: [String: Value]) {
        self.init(
            code: code, nameFR: values["name_fr"]?.textValue ?? code, nameAR: values["name_ar"]?.textValue,
            nameEN: values["name_en"]?.textValue, unit: values["unit"]?.textValue,
            active: values["active"]?.integerValue != 0)
    }

    var values: [String: Value] {
        [
            "name_fr": .text(nameFR), "name_ar": nameAR.map(Value.text) ?? .null,
            "name_en": nameEN.map(Value.text) ?? .null, "unit": unit.map(Value.text) ?? .null,
            "active": .integer(active ? 1 : 0),
        ]
    }

    /// Item and campaign codes: 1 to 40 lowercase letters, digits, `_` and `-`, starting with a letter or
    /// digit (they are record ids, and people type them).
    public static func isValidCode(_ code: String) -> Bool {
        let bytes = Array(code.utf8)
        guard (1...40).contains(bytes.count), bytes[0] != UInt8(ascii: "-"), bytes[0] != UInt8(ascii: "_") else {
            return false
        }
        return bytes.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45 }
    }

    /// The items of version 1, which a replica whose admin has not set up a catalogue still accepts.
    public static let builtIn: [Item] = [
        Item(code: "food_pack", nameFR: "Panier alimentaire", nameAR: "قفة غذائية", nameEN: "Food pack"),
        Item(
            code: "connectivity_pack", nameFR: "Pack connectivité", nameAR: "حزمة الاتصال", nameEN: "Connectivity pack"),
        Item(
            code: "internet_recharge", nameFR: "Recharge internet", nameAR: "تعبئة الإنترنت",
            nameEN: "Internet recharge",
            unit: "recharge"),
    ]
}

/// A campaign: a phase of the programme, open between two dates, giving some items (so many per family).
public struct Campaign: Sendable, Hashable {
    /// Its code, what a delivery names (`phase-1`).
    public var code: String
    public var name: String
    /// Its name in French and in Arabic, when the admin gave them (`name` otherwise).
    public var nameFR: String?
    public var nameAR: String?
    public var phase: Int?
    /// Open from the first to the last millisecond (Unix ms, both included).
    public var startsAt: Int64
    public var endsAt: Int64
    /// The items it gives, each with the most a family receives in it (nil: no limit).
    public var items: [String: Int?]

    public init(
        code: String, name: String, phase: Int? = nil, startsAt: Int64, endsAt: Int64, items: [String: Int?],
        nameFR: String? = nil, nameAR: String? = nil
    ) {
        self.code = code
        self.name = name
        self.nameFR = nameFR
        self.nameAR = nameAR
        self.phase = phase
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.items = items
    }

    /// nil when the record's `items` does not parse.
    init?(code: String, _ values: [String: Value]) {
        guard let starts = values["starts_at"]?.integerValue, let ends = values["ends_at"]?.integerValue,
            let items = try? Self.parseItems(values["items"]?.textValue ?? "")
        else { return nil }
        self.init(
            code: code, name: values["name"]?.textValue ?? code,
            phase: values["phase"]?.integerValue.map { Int(clamping: $0) }, startsAt: starts, endsAt: ends,
            items: items, nameFR: values["name_fr"]?.textValue, nameAR: values["name_ar"]?.textValue)
    }

    /// Its fields as stored; a French or Arabic name not given is left as it is.
    var values: [String: Value] {
        var values: [String: Value] = [
            "name": .text(name), "phase": phase.map { .integer(Int64($0)) } ?? .null, "starts_at": .integer(startsAt),
            "ends_at": .integer(endsAt), "items": .text(Self.formatItems(items)),
        ]
        values["name_fr"] = nameFR.map(Value.text)
        values["name_ar"] = nameAR.map(Value.text)
        return values
    }

    public func isOpen(at millis: Int64) -> Bool { startsAt <= millis && millis <= endsAt }

    /// "food_pack:1,internet_recharge:3,connectivity_pack" → codes and counts. Throws a sentence.
    public static func parseItems(_ text: String) throws(RecordProblem) -> [String: Int?] {
        var items: [String: Int?] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.trimmingSpaces.split(separator: ":", omittingEmptySubsequences: false)
            let code = pieces.first.map { String($0).trimmingSpaces } ?? ""
            guard Item.isValidCode(code), pieces.count <= 2 else {
                throw RecordProblem(
                    field: "items", "'\(part.prefix(40))' is not an item code with an optional count (food_pack:1).")
            }
            var count: Int?
            if pieces.count == 2 {
                guard let number = Int(String(pieces[1]).trimmingSpaces), (0...1000).contains(number) else {
                    throw RecordProblem(field: "items", "The count of \(code) must be a number from 0 to 1000.")
                }
                count = number
            }
            guard items.updateValue(count, forKey: code) == nil else {
                throw RecordProblem(field: "items", "\(code) is listed twice.")
            }
        }
        guard !items.isEmpty else { throw RecordProblem(field: "items", "A campaign gives at least one item.") }
        return items
    }

    public static func formatItems(_ items: [String: Int?]) -> String {
        items.keys.sorted().map { code in items[code]!.map { "\(code):\($0)" } ?? code }.joined(separator: ",")
    }
}

/// The items and campaigns a node holds (synced down from the admin like the rules).
public struct Catalogue: Sendable {
    public var items: [String: Item]
    public var campaigns: [String: Campaign]
    /// The admin has set up no catalogue: the built-in items stand in.
    public var isBuiltIn: Bool

    /// The most catalogue records read (a programme has tens).
    static let maxRecords = 10_000

    public init(items: [Item], campaigns: [Campaign]) {
        self.isBuiltIn = items.isEmpty
        self.items = Dictionary((items.isEmpty ? Item.builtIn : items).map { ($0.code, $0) }) { first, _ in first }
        self.campaigns = Dictionary(campaigns.map { ($0.code, $0) }) { first, _ in first }
    }

    public init(_ store: any RecordSource) throws {
        self.init(
            items: try store.records("items", limit: Self.maxRecords).map { Item(code: $0.id, $0.values) },
            campaigns: try store.records("campaigns", limit: Self.maxRecords).compactMap {
                Campaign(code: $0.id, $0.values)
            })
    }

    /// Active items, by code.
    public var activeItems: [Item] { items.values.filter(\.active).sorted { $0.code < $1.code } }

    /// Campaigns open at `millis`, by code.
    public func openCampaigns(at millis: Int64) -> [Campaign] {
        campaigns.values.filter { $0.isOpen(at: millis) }.sorted { $0.code < $1.code }
    }
}

extension StringProtocol {
    /// Without its leading and trailing spaces (by bytes: a space is one byte in UTF-8, so the cuts fall
    /// between characters; a campaign's item list is parsed for every delivery a rule checks).
    var trimmingSpaces: String {
        let text = Substring(self)
        guard let first = text.utf8.firstIndex(where: { $0 != UInt8(ascii: " ") }),
            let last = text.utf8.lastIndex(where: { $0 != UInt8(ascii: " ") })
        else { return "" }
        return String(text[first...last])
    }
}
