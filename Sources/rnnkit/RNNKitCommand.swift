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
        subcommands: [Summary.self, Validate.self, Predict.self, Convert.self, Bench.self, Serve.self])

    static func main() {
        do {
            var command = try parseAsRoot()
            // Usage is checked here; the files themselves are read in an isolated child.
            if let reader = command as? ReadsModelFiles, !Isolation.isChild {
                Foundation.exit(Isolation.runInChild(reading: reader.modelArguments))
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

    @Option(help: ArgumentHelp(
        "Largest piece of a file read into memory at once (an archive entry, a JSON text, an array), "
            + "e.g. 512M or 8G.",
        valueName: "bytes"))
    var maxBytes = ByteCount(ModelReadLimits.default.maxBytes)

    var files: [String] { [model] + (weights.map { [$0] } ?? []) }

    var limits: ModelReadLimits { ModelReadLimits(maxBytes: maxBytes.value) }

    /// Reads the model within the time and memory bounds of an isolated reader.
    func load() throws -> Model {
        try Isolation.withReadingBounds(for: self) {
            try Model.load(contentsOf: model, weights: weights, limits: limits)
        }
    }
}

/// A number of bytes given as 1048576, 1024K, 1M or 1G (powers of 1024).
struct ByteCount: ExpressibleByArgument {
    let value: Int

    init(_ value: Int) {
        self.value = value
    }

    init?(argument: String) {
        let units: [Character: Int] = ["K": 10, "M": 20, "G": 30, "T": 40]
        var digits = Substring(argument.uppercased())
        if digits.hasSuffix("IB") { digits = digits.dropLast(2) } else if digits.hasSuffix("B") { digits = digits.dropLast() }
        let shift = digits.last.flatMap { units[$0] } ?? 0
        if shift > 0 { digits = digits.dropLast() }
        guard let number = Int(digits), number > 0 else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow else { return nil }
        value = bytes
    }

    var defaultValueDescription: String { "\(value >> 30)G" }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("rnnkit: error: " + message + "\n").utf8))
}

func printJSON(_ value: JSONValue) {
    print(JSONWriter.string(value, pretty: true))
}
