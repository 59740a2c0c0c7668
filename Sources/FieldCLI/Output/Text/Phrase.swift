/// A sentence in each language `field` speaks; `{1}`, `{2}`, … stand for its arguments, in the order the
/// caller gives them (a language may place them anywhere, or use one twice).
///
/// Every text is plain Unicode, without bidirectional controls: an Arabic sentence with a reference or a
/// number in it is ordered by the terminal's own bidirectional algorithm (decision record 0018).
struct Phrase: Sendable {
    var en: String
    var fr: String
    var ar: String

    func text(_ language: Language) -> String {
        switch language {
        case .en: en
        case .fr: fr
        case .ar: ar
        }
    }
}

/// A table of phrases: one `enum` of keys, each with its ``Phrase`` (the `switch` that gives them is
/// exhaustive, so no key lacks a language). `volunteer` tables are what a volunteer reads: their texts
/// never say "replica", "node" or "token" (a test reads every table through `field phrases`).
protocol Phrasebook: CaseIterable, RawRepresentable<String>, Sendable {
    var phrase: Phrase { get }
    /// The table's name in `field phrases`.
    static var book: String { get }
}

extension Phrasebook {
    /// The phrase in this run's language with `arguments` in place of `{1}`, `{2}`, ….
    func callAsFunction(_ arguments: Any...) -> String {
        Self.fill(phrase.text(Language.current), arguments)
    }

    /// The phrase in `language`.
    func text(_ language: Language, _ arguments: Any...) -> String {
        Self.fill(phrase.text(language), arguments)
    }

    /// `template` with `{n}` replaced by the n-th argument, in one pass (an argument that holds `{2}`, a
    /// family's name, stays as it is); a `{n}` without its argument stays too.
    static func fill(_ template: String, _ arguments: [Any]) -> String {
        guard template.contains("{") else { return template }
        var text = ""
        var rest = template[...]
        while let open = rest.firstIndex(of: "{") {
            text += rest[..<open]
            let digits = rest[rest.index(after: open)...].prefix { $0.isASCII && $0.isNumber }
            let close = digits.endIndex
            if !digits.isEmpty, close < rest.endIndex, rest[close] == "}", let number = Int(digits),
                number >= 1, number <= arguments.count
            {
                text += "\(arguments[number - 1])"
                rest = rest[rest.index(after: close)...]
            } else {
                text += "{"
                rest = rest[rest.index(after: open)...]
            }
        }
        return text + rest
    }
}

/// Every table, for `field phrases` and its test.
enum Phrasebooks {
    static let all: [(book: String, phrases: [(key: String, phrase: Phrase)])] = [
        table(HelpText.self), table(OptionText.self), table(DeviceText.self), table(FamilyText.self),
        table(DeliveryText.self), table(SyncText.self), table(RefusalText.self), table(UsageText.self),
        table(MatchText.self), table(SheetText.self),
    ]

    static func table<Book: Phrasebook>(_ book: Book.Type) -> (book: String, phrases: [(key: String, phrase: Phrase)]) {
        (Book.book, Book.allCases.map { ($0.rawValue, $0.phrase) })
    }
}
