import ArgumentParser
import Foundation
import RNNKit

extension TensorFile.OutputFormat: ExpressibleByArgument {}
extension BatchScorer.ErrorPolicy: ExpressibleByArgument {}

extension RNNKitCommand {
    struct Predict: ParsableCommand, ReadsModelFiles {
        static let configuration = CommandConfiguration(
            abstract: "Run a model on input data and print or save its outputs.",
            discussion: """
                Inputs: .npy, .npz, .csv, .json or .ndjson/.jsonl files (after the model, or with \
                --input; - is NDJSON on standard input). Their arrays are bound to \
                the model's inputs by name when every array is named (.npz entries, JSON object \
                keys) after a model input; in order when none is (an .npy, a CSV, a JSON array, \
                .npz names such as arr_0). Anything else (some names matching and some not, a name \
                given twice, a model input without data) is refused, exit 2. Token ids must be \
                whole numbers within the vocabulary of the Embedding they feed. --max-bytes bounds \
                each input array read whole, and CSV records and JSON texts at an eighth and a \
                thirty-second of it.

                CSV: for an input of rank 3 (batch, steps, features) rows are time steps and \
                columns features: one sequence, or with --window W the overlapping windows of W \
                rows. For an input of rank 2, such as token ids (batch, steps), rows are sequences \
                and columns steps, or with --window W one column is cut into windows of W values. \
                NDJSON: one sample per line (a nested array, or an object of them named after \
                model inputs), and one line of outputs per line out.

                Scoring streams: CSV and NDJSON are read, run and written --batch-size samples at \
                a time, so memory stays bounded whatever the input's size. A bad CSV row or NDJSON \
                line stops the run (exit 2, naming the line; no output file is left), or with \
                --on-error skip is reported and skipped (NDJSON output gets {"line": N, "error": ...}).

                Outputs: keys output_0, output_1, ... in --format (npy for one output, npz, json, \
                csv or ndjson), to --output or to stdout (no --output, or -; ndjson when an input \
                is NDJSON, else json). --output never replaces an existing file unless --force, \
                and never an input file or the model. JSON holds NaN and infinities as null, with \
                a warning (refused with --strict). On a terminal, progress is shown on stderr \
                unless --quiet.
                """)

        @OptionGroup var model: ModelArguments

        @Argument(help: "Input data files (- for NDJSON on standard input); the same as --input.")
        var inputFiles: [String] = []

        @Option(name: .customLong("input"), help: "An input data file (repeat for several inputs).")
        var inputs: [String] = []

        // Unconditional, so that a negative count is reported as such, not as a missing value.
        @Option(parsing: .unconditional, help: "Cut a CSV series into overlapping windows of this many steps.")
        var window: Int?

        @Option(help: "Where to write the outputs (.npy, .npz, .json, .csv, .ndjson); - or none for stdout.")
        var output: String?

        @Option(help: "The output format: npy, npz, json, csv or ndjson (default: OUTPUT's extension; on stdout ndjson for NDJSON input, else json).")
        var format: TensorFile.OutputFormat?

        @Option(parsing: .unconditional, help: "Samples read, run and written at a time.")
        var batchSize = BatchScorer.Options().batchSize

        @Option(help: "What a bad CSV row or NDJSON line does: stop (exit 2) or skip (report it and go on).")
        var onError = BatchScorer.ErrorPolicy.stop

        @Option(parsing: .unconditional, help: "Threads that run the model.")
        var threads = 1

        @Flag(help: "Show no progress on a terminal.")
        var quiet = false

        @Flag(help: "Replace OUTPUT if it exists (never an input file or the model).")
        var force = false

        @Flag(help: "Refuse to write NaN or infinite outputs into JSON as null.")
        var strict = false

        /// The output file, nil for stdout.
        var outputFile: String? { output == "-" ? nil : output }

        var allInputs: [String] { inputFiles + inputs }

        func validate() throws {
            if allInputs.isEmpty { throw ValidationError("give at least one input file (- for standard input)") }
            try requirePositive(window, option: "--window", counting: "steps")
            try requirePositive(batchSize, option: "--batch-size", counting: "samples")
            try requirePositive(threads, option: "--threads", counting: "threads")
            if allInputs.filter({ $0 == "-" }).count > 1 {
                throw ValidationError("standard input (-) can be read only once")
            }
            _ = try outputFormat()
        }

        /// --format, else the output file's extension, else NDJSON for NDJSON input, else JSON.
        func outputFormat() throws -> TensorFile.OutputFormat {
            guard let outputFile else {
                let ndjson = allInputs.contains { input in
                    input == "-" || ["ndjson", "jsonl"].contains((input as NSString).pathExtension.lowercased())
                }
                return format ?? (ndjson ? .ndjson : .json)
            }
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
            Predictor.threadCount = threads
            // Refused before the inputs are read and the model run (a model's own errors come
            // first); checked again when the file is written.
            let protected = allInputs.filter { $0 != "-" } + model.files
            if let outputFile {
                try TensorFile.checkDestination(outputFile, replacing: force, protecting: protected)
            }
            var options = BatchScorer.Options()
            options.batchSize = batchSize
            options.window = window
            options.onError = onError
            options.refuseNonFinite = strict
            options.limits = model.dataFileLimits
            let scorer = try BatchScorer(predictor, options: options)
            let format = try outputFormat()
            let destination = outputFile ?? "standard output"
            let bar = quiet ? nil : ProgressBar()
            if outputFile == nil {
                // A closed pipe becomes a write error (EPIPE), reported in one line, not a signal.
                signal(SIGPIPE, SIG_IGN)
            }
            let result = try scorer.score(allInputs, as: format, to: outputFile.map { .file($0) } ?? .standardOutput,
                                          replacing: force, protecting: protected,
                                          progress: bar.map { bar in { bar.update($0) } },
                                          skipped: { printWarning("\($0.description) (skipped)") })
            bar?.finish(result)
            if format == .json || format == .ndjson, result.nonFinite > 0 {
                printWarning("\(destination): \(result.nonFinite) output value(s) are NaN or infinite, written as null")
            }
        }
    }
}
