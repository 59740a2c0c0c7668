import ArgumentParser
import FieldDomain
import Foundation
import SyncCore

/// The language `field` speaks to the volunteer: English, French or Arabic (decision record 0018).
///
/// Chosen once per run, before the arguments are parsed (the help is in it too), in this order: `--lang` on
/// the command line, the device's saved choice (`field init --lang`), the environment (`LC_ALL`, then
/// `LC_MESSAGES`, then `LANG`: the first that is set decides), and English.
enum Language: String, CaseIterable, Sendable, ExpressibleByArgument {
    case en, fr, ar

    /// The language of this run; set once by ``FieldCommand/main()`` before anything reads it.
    // nonisolated(unsafe): written once on the main thread before parsing, only read afterwards.
    nonisolated(unsafe) static var current = Language.en

    /// The language a locale name asks for: `fr_MA.UTF-8` → fr, `ar_MA.UTF-8` or `ar` → ar, anything else
    /// (`C`, `POSIX`, `en_US.UTF-8`, `de_DE`) → en.
    static func of(locale: String) -> Language {
        let lower = locale.lowercased()
        let code = lower.prefix { $0.isLetter }
        return Language(rawValue: String(code)) ?? .en
    }

    /// The language the environment asks for: the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that is set and
    /// not empty (POSIX's order), or nil when none is.
    static func fromEnvironment(_ environment: [String: String]) -> Language? {
        for name in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let value = environment[name], !value.isEmpty { return of(locale: value) }
        }
        return nil
    }

    /// The flag wins, then the saved choice, then the environment, then English.
    static func resolve(flag: Language?, saved: Language?, environment: Language?) -> Language {
        flag ?? saved ?? environment ?? .en
    }

    /// The value of `--lang X` or `--lang=X` among `arguments`, when it is a language (otherwise the parser
    /// reports the bad value later).
    static func flag(in arguments: [String]) -> Language? {
        for (index, argument) in arguments.enumerated() {
            if argument == "--lang", index + 1 < arguments.count { return Language(rawValue: arguments[index + 1]) }
            if argument.hasPrefix("--lang=") { return Language(rawValue: String(argument.dropFirst(7))) }
        }
        return nil
    }

    /// The replica file `arguments` name (`--db`), or `$FIELD_DB`, or the default.
    static func replicaPath(in arguments: [String], environment: [String: String]) -> String {
        for (index, argument) in arguments.enumerated() {
            if argument == "--db", index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix("--db=") { return String(argument.dropFirst(5)) }
        }
        return DeviceOptions.defaultPath(environment: environment)
    }

    /// The choice saved in the replica at `path` (nil when there is no replica there, or no choice).
    static func saved(at path: String, environment: [String: String]) -> Language? {
        var configuration = ReplicaConfiguration()
        configuration.clock = DeviceClock.quiet(environment)
        guard FileManager.default.fileExists(atPath: path),
            let replica = try? Replica(
                path: path, schema: .fieldSync, configuration: configuration, logger: Device.quietLogger),
            let value = try? replica.setting(Device.Key.language) ?? nil
        else { return nil }
        return Language(rawValue: value)
    }

    /// The language of a run with these arguments and this environment.
    static func select(arguments: [String], environment: [String: String]) -> Language {
        let flag = flag(in: arguments)
        if let flag { return flag }
        return resolve(
            flag: nil, saved: saved(at: replicaPath(in: arguments, environment: environment), environment: environment),
            environment: fromEnvironment(environment))
    }

    /// The language's own name: English, Français, العربية.
    var name: String {
        switch self {
        case .en: "English"
        case .fr: "Français"
        case .ar: "العربية"
        }
    }

    static let allValueStrings = allCases.map(\.rawValue)
}
