import Foundation

/// ArgumentParser's own words in a help or usage message ("USAGE:", "OPTIONS:", "Error: ", …), put in
/// this run's language after ArgumentParser has written them (it has no hook for them).
enum UsageWords {
    static func translate(_ text: String) -> String {
        guard Language.current != .en else { return text }
        return text.components(separatedBy: "\n").map(line).joined(separator: "\n")
    }

    private static let prefixes: [(String, UsageText)] = [
        ("OVERVIEW: ", .overview), ("USAGE: ", .usage), ("Error: ", .errorPrefix), ("Help:  ", .helpPrefix),
        ("Usage: ", .usagePrefix),
    ]
    private static let headings: [(String, UsageText)] = [
        ("ARGUMENTS:", .arguments), ("OPTIONS:", .options), ("SUBCOMMANDS:", .subcommands),
    ]
    private static let phrases: [(String, UsageText)] = [
        ("Show help information.", .showHelp), ("Show the version.", .showVersion),
        ("Missing expected argument", .missingArgument), ("Unknown option", .unknownOption),
        ("Unexpected argument", .unexpectedArgument),
    ]

    private static func line(_ line: String) -> String {
        var line = line
        for (english, key) in prefixes where line.hasPrefix(english) {
            // The words keep their column: "USAGE: " is followed by text aligned under it.
            let word = key().trimmingCharacters(in: .whitespaces) + " "
            line = word + line.dropFirst(english.count)
        }
        for (english, key) in headings where line == english { line = key() }
        for (english, key) in phrases { line = line.replacingOccurrences(of: english, with: key()) }
        if let range = line.range(of: #"See '(.+) <subcommand>' for detailed help\."#, options: .regularExpression) {
            let command = line[range].dropFirst(5).prefix { $0 != "<" }.trimmingCharacters(in: .whitespaces)
            line.replaceSubrange(range, with: UsageText.seeHelp(command))
        }
        if let range = line.range(of: #"See '(.+)' for more information\."#, options: .regularExpression) {
            let command = line[range].dropFirst(5).dropLast(23)
            line.replaceSubrange(range, with: UsageText.moreInformation(command))
        }
        if let range = line.range(of: #"\(default: [^)]*\)"#, options: .regularExpression) {
            line.replaceSubrange(range, with: UsageText.defaultValue(line[range].dropFirst(10).dropLast()))
        }
        if let range = line.range(of: #"\(values: [^)]*\)"#, options: .regularExpression) {
            line.replaceSubrange(range, with: UsageText.values(line[range].dropFirst(9).dropLast()))
        }
        return line
    }
}
