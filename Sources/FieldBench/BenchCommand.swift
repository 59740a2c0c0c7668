import ArgumentParser

@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "field-bench",
        abstract: "FieldSync benchmarks: ratios against baselines measured in the same run."
    )
}
