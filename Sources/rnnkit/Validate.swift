import ArgumentParser
import RNNKit

extension RNNKitCommand {
    struct Validate: ParsableCommand, ReadsModelFiles {
        static let configuration = CommandConfiguration(
            abstract: "Check a model: weights present and shaped as the config implies, no NaN, a sound graph.",
            discussion: """
                Exit status 0 when valid, 1 when invalid (every problem listed), 2 when unreadable. \
                An ONNX model is checked as a graph: every value made before use and once, every \
                output made, every initializer's data filling its shape.
                """)

        @OptionGroup var model: ModelArguments

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() throws {
            if let onnx = try model.loadONNX() {
                try report(onnx.problems, source: onnx.source)
            } else {
                let loaded = try model.load()
                try report(loaded.problems, source: loaded.source)
            }
        }

        /// Prints the problems (or the JSON report); exit status 1 when there is an error.
        private func report(_ problems: [Problem], source: String) throws {
            let errors = problems.filter { $0.severity == .error }
            let warnings = problems.filter { $0.severity == .warning }
            if json {
                try printJSON(Report(file: source, valid: errors.isEmpty,
                                     errors: errors.map(Report.Entry.init), warnings: warnings.map(Report.Entry.init)))
            } else {
                for problem in problems { print("\(source): \(problem)") }
                print(errors.isEmpty
                      ? "\(source): valid (\(warnings.count) warning(s))"
                      : "\(source): invalid: \(errors.count) error(s), \(warnings.count) warning(s)")
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
