import ArgumentParser
import Foundation
import RNNKit

extension TensorFile.OutputFormat: ExpressibleByArgument {}

extension RNNKitCommand {
    struct Predict: ParsableCommand, ReadsModelFiles {
        static let configuration = CommandConfiguration(
            abstract: "Run a model on input data and print or save its outputs.",
            discussion: """
                Inputs: .npy, .npz, .csv or .json files (repeat --input). Their arrays are bound to \
                the model's inputs by name when every array is named (.npz entries, JSON object \
                keys) after a model input; in order when none is (an .npy, a CSV, a JSON array, \
                .npz names such as arr_0). Anything else (some names matching and some not, a name \
                given twice, a model input without data) is refused, exit 2. Token ids must be \
                whole numbers within the vocabulary of the Embedding they feed. --max-bytes bounds \
                each input array, and CSV and JSON texts at an eighth and a thirty-second of it.

                CSV: for an input of rank 3 (batch, steps, features) rows are time steps and \
                columns features: one sequence, or with --window W the overlapping windows of W \
                rows. For an input of rank 2, such as token ids (batch, steps), rows are sequences \
                and columns steps, or with --window W one column is cut into windows of W values.

                Outputs: keys output_0, output_1, ... in --format (npy for one output, npz or json), \
                to --output or to stdout (no --output, or -). --output never replaces an existing \
                file unless --force, and never an input file or the model. JSON holds NaN and \
                infinities as null, with a warning (refused with --strict).
                """)

        @OptionGroup var model: ModelArguments

        @Option(name: .customLong("input"), help: "An input data file (repeat for several inputs).")
        var inputs: [String] = []

        // Unconditional, so that a negative count is reported as such, not as a missing value.
        @Option(parsing: .unconditional, help: "Cut a CSV series into overlapping windows of this many steps.")
        var window: Int?

        @Option(help: "Where to write the outputs (.npy, .npz or .json); - or none for stdout.")
        var output: String?

        @Option(help: "The output format: npy, npz or json (default: OUTPUT's extension; json on stdout).")
        var format: TensorFile.OutputFormat?

        @Flag(help: "Replace OUTPUT if it exists (never an input file or the model).")
        var force = false

        @Flag(help: "Refuse to write NaN or infinite outputs into JSON as null.")
        var strict = false

        /// The output file, nil for stdout.
        var outputFile: String? { output == "-" ? nil : output }

        func validate() throws {
            if inputs.isEmpty { throw ValidationError("give at least one --input file") }
            try requirePositive(window, option: "--window", counting: "steps")
            _ = try outputFormat()
        }

        /// --format, else the output file's extension, else JSON.
        func outputFormat() throws -> TensorFile.OutputFormat {
            guard let outputFile else { return format ?? .json }
            let named: TensorFile.OutputFormat
            do {
                named = try TensorFile.OutputFormat(path: outputFile)
            } catch let error as RNNKitError {
                throw ValidationError(error.description)
            }
            if let format, format != named {
                throw ValidationError("--format \(format.rawValue) disagrees with the extension of \(outputFile)")
            }
            return named
        }

        func run() throws {
            let predictor = try Predictor(try model.load())
            // Refused before the inputs are read and the model run (a model's own errors come
            // first); checked again when the file is written.
            if let outputFile {
                try TensorFile.checkDestination(outputFile, replacing: force, protecting: inputs + model.files)
            }
            let data = try PredictionInputs.read(inputs, for: predictor, csvWindow: window,
                                                 limits: model.dataFileLimits)
            let outputs = try predictor.predict(data).enumerated().map {
                NamedTensor(name: "output_\($0)", tensor: $1)
            }
            let format = try outputFormat()
            let destination = outputFile ?? "standard output"
            if format == .json, case let nonFinite = TensorFile.nonFiniteCount(outputs), nonFinite > 0 {
                if strict {
                    throw RNNKitError(.badUsage, "\(nonFinite) output value(s) are NaN or infinite, which JSON has "
                        + "no number for; refused by --strict (.npy and .npz keep them)", file: destination)
                }
                printWarning("\(destination): \(nonFinite) output value(s) are NaN or infinite, written as null")
            }
            if let outputFile {
                try TensorFile.write(outputs, as: format, to: .file(outputFile), replacing: force,
                                     protecting: inputs + model.files)
            } else {
                // A closed pipe becomes a write error (EPIPE), reported in one line, not a signal.
                signal(SIGPIPE, SIG_IGN)
                try TensorFile.write(outputs, as: format, to: .standardOutput)
            }
        }
    }
}
