import ArgumentParser
import Foundation

/// `field phrases`: every phrase of every table in every language, as JSON (hidden: for the tests that
/// check that no table has a hole and that the volunteer's texts use the volunteer's words, and for
/// translators).
struct PhrasesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phrases", abstract: "Every phrase of the volunteer's texts, in every language (JSON).",
        shouldDisplay: false)

    func run() throws {
        Printer.json(
            Phrasebooks.all.flatMap { table in
                table.phrases.map { key, phrase in
                    ["book": table.book, "key": key, "en": phrase.en, "fr": phrase.fr, "ar": phrase.ar]
                }
            })
    }
}
