import ArgumentParser

@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "field-bench",
        abstract: "FieldSync benchmarks: each figure is a ratio against a baseline measured in the same run.",
        discussion: """
            Run in release mode: swift run -c release field-bench core
            Ratios, not seconds, are what the targets are about: the machine is shared and noisy, so each
            suite measures its baseline side by side, several times, and reports the median ratio.
            """,
        subcommands: [
            All.self, CoreSuite.self, SyncSuite.self, CodecSuite.self, DeltaProbe.self, SyncClientCommand.self,
            SyncProbe.self, PrepareProbe.self, DuplicateSuite.self, CentralSuite.self, LinkSuite.self,
            FamilyAddSuite.self,
        ],
        defaultSubcommand: All.self
    )
}

struct All: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "all", abstract: "Runs every suite.")

    func run() throws {
        try CoreSuite.parse([]).run()
        try SyncSuite.parse([]).run()
    }
}
