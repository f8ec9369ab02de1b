import ArgumentParser
import RNNKit

extension RNNKitCommand {
    struct Validate: ParsableCommand, ReadsModelFiles {
        static let configuration = CommandConfiguration(
            abstract: "Check a model: weights present and shaped as the config implies, no NaN, a sound graph.",
            discussion: "Exit status 0 when valid, 1 when invalid (every problem listed), 2 when unreadable.")

        @OptionGroup var model: ModelArguments

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() throws {
            let loaded = try model.load()
            let errors = loaded.errors
            if json {
                try printJSON(Report(file: loaded.source, valid: errors.isEmpty,
                                     errors: errors.map(Report.Entry.init), warnings: loaded.warnings.map(Report.Entry.init)))
            } else {
                for problem in loaded.problems { print("\(loaded.source): \(problem)") }
                print(errors.isEmpty
                      ? "\(loaded.source): valid (\(loaded.warnings.count) warning(s))"
                      : "\(loaded.source): invalid: \(errors.count) error(s), \(loaded.warnings.count) warning(s)")
            }
            if !errors.isEmpty { throw ExitCode(1) }
        }

        /// `validate --json`: the file, whether it is valid, and its problems.
        struct Report: Encodable {
            struct Entry: Encodable {
                var location: String
                var message: String
                init(_ problem: Problem) { (location, message) = (problem.location, problem.message) }
            }
            var file: String
            var valid: Bool
            var errors: [Entry]
            var warnings: [Entry]
        }
    }
}
