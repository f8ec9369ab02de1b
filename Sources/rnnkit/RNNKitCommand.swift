import ArgumentParser
import Foundation
import RNNKit

/// `rnnkit`: inspect, validate, run and convert Keras recurrent models.
///
/// Exit status: 0 success, 1 invalid model, 2 unreadable input or bad usage.
@main
struct RNNKitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnnkit",
        abstract: "Inspect, validate, run and convert Keras recurrent models (SimpleRNN, LSTM, GRU, Bidirectional).",
        subcommands: [Summary.self, Validate.self, Predict.self, Convert.self, Bench.self])

    static func main() {
        do {
            var command = try parseAsRoot()
            // Usage is checked here; the files themselves are read in an isolated child.
            if let reader = command as? ReadsModelFiles, !Isolation.isChild {
                Foundation.exit(Isolation.runInChild(naming: reader.modelArguments.model))
            }
            try command.run()
        } catch let error as RNNKitError {
            printError(error.description)
            Foundation.exit(error.exitCode)
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            // Help and version requests exit 0; every other parsing problem is bad usage (2).
            if exitCode(for: error) == .success { self.exit(withError: error) }
            printError(fullMessage(for: error))
            Foundation.exit(2)
        }
    }
}

/// A command that opens model files, which may be hostile: it runs in an isolated child.
protocol ReadsModelFiles {
    var modelArguments: ModelArguments { get }
}

/// The model file and its optional weights, shared by every command that reads a model.
struct ModelArguments: ParsableArguments {
    @Argument(help: "The model: Keras .h5, .keras, architecture JSON (with --weights) or RNNKit JSON.")
    var model: String

    @Option(help: "Weights for an architecture JSON: a legacy .h5 or a Keras 3 .weights.h5.")
    var weights: String?

    func load() throws -> Model {
        try Model.load(contentsOf: model, weights: weights)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("rnnkit: error: " + message + "\n").utf8))
}

func printJSON(_ value: JSONValue) {
    print(JSONWriter.string(value, pretty: true))
}
