import ArgumentParser
import Foundation
import RNNKit

/// `rnnkit`: inspect, validate, run and convert Keras recurrent models.
///
/// Exit status: 0 success, 1 invalid model, 2 unreadable input or bad usage. Every error is
/// one line on stderr; usage is shown by --help only.
@main
struct RNNKitCommand: ParsableCommand {
    // Computed: --version reports the libraries actually loaded, asked at run time.
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "rnnkit",
            abstract: "Inspect, validate, run, convert, draw and serve Keras recurrent models (SimpleRNN, LSTM, GRU, Bidirectional).",
            version: Versions.description,
            subcommands: [Summary.self, Validate.self, Predict.self, Convert.self, Plot.self, Serve.self, Bench.self])
    }

    static func main() {
        do {
            var command = try parseAsRoot()
            // Usage is checked here; the files themselves are read in an isolated child.
            if let reader = command as? ReadsModelFiles, !Isolation.isChild {
                Foundation.exit(Isolation.runInChild(reading: reader.model))
            }
            try command.run()
        } catch let error as RNNKitError {
            printError(commandLineMessage(for: error))
            Foundation.exit(exitStatus(for: error))
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            // Help and version requests exit 0; every other parsing problem is bad usage (2).
            if exitCode(for: error) == .success { self.exit(withError: error) }
            let message = self.message(for: error)
            printError(message.isEmpty ? "no command given; see 'rnnkit --help'" : oneLine(message))
            Foundation.exit(2)
        }
    }

    /// 1 for an invalid model, 2 for an unreadable input or bad usage.
    static func exitStatus(for error: RNNKitError) -> Int32 {
        switch error.kind {
        case .invalidModel: 1
        case .unreadable, .badUsage: 2
        }
    }

    /// The library's message, with the option that lifts a refusal named: the library itself
    /// knows its settings, not this tool's options.
    static func commandLineMessage(for error: RNNKitError) -> String {
        switch error.liftedBy {
        case .replacing?:
            var reworded = error
            reworded.message = "already exists; use --force to replace it"
            return reworded.description
        case .byteLimit?:
            return error.description + "; --max-bytes raises the limit"
        case nil:
            return error.description
        }
    }
}

/// `text` on one line: ArgumentParser's messages may hold line breaks.
private func oneLine(_ text: String) -> String {
    text.split(whereSeparator: \.isNewline).joined(separator: " ")
}

/// Refuses a count below 1, naming the option and what it counts; `given` is the value as
/// written, when it differs from the number (`-5K`).
func requirePositive(_ value: Int?, option: String, counting what: String, given: String? = nil) throws {
    if let value, value < 1 {
        throw ValidationError("\(option) must be a positive number of \(what), not \(given ?? String(value))")
    }
}

/// A command that opens model files, which may be hostile: it runs in an isolated child.
protocol ReadsModelFiles {
    var model: ModelArguments { get }
}

/// The model file and its optional weights, shared by every command that reads a model.
struct ModelArguments: ParsableArguments {
    @Argument(help: "The model: Keras .h5, .keras, architecture JSON (with --weights) or RNNKit JSON.")
    var model: String

    @Option(help: "Weights for an architecture JSON: a legacy .h5 or a Keras 3 .weights.h5.")
    var weights: String?

    // Unconditional, so that a negative size is reported as such, not as a missing value.
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Largest piece of a file read into memory at once (an archive entry, a JSON text, an array), "
            + "e.g. 512M or 8G.",
        valueName: "bytes"))
    var maxBytes = ByteCount(ReadLimits.default.maxBytes)

    func validate() throws {
        try requirePositive(maxBytes.value, option: "--max-bytes", counting: "bytes", given: maxBytes.argument)
    }

    var files: [String] { [model] + (weights.map { [$0] } ?? []) }

    var limits: ReadLimits { ReadLimits(maxBytes: maxBytes.value) }

    /// Bounds for prediction data files: --max-bytes per array; CSV and JSON texts, which take
    /// several times their size in memory, in the same proportion to it as the library's
    /// defaults (256 MiB and 64 MiB of text for the default 2 GiB).
    var dataFileLimits: ReadLimits {
        var data = limits
        let defaults = ReadLimits.default
        data.maxCSVBytes = maxBytes.value / (defaults.maxBytes / defaults.maxCSVBytes)
        data.maxJSONBytes = maxBytes.value / (defaults.maxBytes / defaults.maxJSONBytes)
        return data
    }

    /// Reads the model within the time and memory bounds of an isolated reader.
    func load() throws -> Model {
        try Isolation.withReadingBounds(for: self) {
            try Model.load(contentsOf: model, weights: weights, limits: limits)
        }
    }
}

/// A number of bytes given as 1048576, 1024K, 1M or 1G (powers of 1024). Zero and negative
/// numbers parse, so that `ModelArguments.validate` can say what is wrong with them.
struct ByteCount: ExpressibleByArgument {
    let value: Int
    /// As the user wrote it, for messages.
    let argument: String

    init(_ value: Int) {
        self.value = value
        argument = String(value)
    }

    init?(argument: String) {
        let units: [Character: Int] = ["K": 10, "M": 20, "G": 30, "T": 40]
        var digits = Substring(argument.uppercased())
        if digits.hasSuffix("IB") { digits = digits.dropLast(2) } else if digits.hasSuffix("B") { digits = digits.dropLast() }
        let shift = digits.last.flatMap { units[$0] } ?? 0
        if shift > 0 { digits = digits.dropLast() }
        guard let number = Int(digits) else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow else { return nil }
        value = bytes
        self.argument = argument
    }

    var defaultValueDescription: String { "\(value >> 30)G" }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("rnnkit: error: " + message + "\n").utf8))
}

func printWarning(_ message: String) {
    FileHandle.standardError.write(Data(("rnnkit: warning: " + message + "\n").utf8))
}

/// `value` as indented JSON with sorted keys on stdout.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
