import ArgumentParser
import RNNKit

extension RNNKitCommand {
    struct Validate: ParsableCommand, ReadsModelFiles {
        static let configuration = CommandConfiguration(
            abstract: "Check a model: weights present and shaped as the config implies, no NaN, a sound graph.",
            discussion: "Exit status 0 when valid, 1 when invalid (every problem listed), 2 when unreadable.")

        @OptionGroup var model: ModelArguments
        var modelArguments: ModelArguments { model }

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() throws {
            let loaded = try model.load()
            let errors = loaded.errors
            if json {
                func entries(_ problems: [Problem]) -> JSONValue {
                    .array(problems.map { ["location": .string($0.location), "message": .string($0.message)] })
                }
                printJSON(["file": .string(loaded.source), "valid": .bool(errors.isEmpty),
                           "errors": entries(errors), "warnings": entries(loaded.warnings)])
            } else {
                for problem in loaded.problems { print("\(loaded.source): \(problem)") }
                print(errors.isEmpty
                      ? "\(loaded.source): valid (\(loaded.warnings.count) warning(s))"
                      : "\(loaded.source): invalid: \(errors.count) error(s), \(loaded.warnings.count) warning(s)")
            }
            if !errors.isEmpty { throw ExitCode(1) }
        }
    }
}
