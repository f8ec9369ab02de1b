import ArgumentParser
import RNNKit

extension RNNKitCommand {
    struct Predict: ParsableCommand, ReadsModelFiles {
        static let configuration = CommandConfiguration(
            abstract: "Run a model on input data and print or save its outputs.",
            discussion: """
                Inputs (.npy, .npz, .csv, .json) are taken in model input order; an .npz may name \
                its arrays after the model's inputs. Outputs go to --output (.npy for one output, \
                .npz with keys output_0, output_1, ..., or .json), or as JSON to stdout.
                """)

        @OptionGroup var model: ModelArguments
        var modelArguments: ModelArguments { model }

        @Option(name: .customLong("input"), help: "An input data file (repeat for several inputs).")
        var inputs: [String] = []

        @Option(help: "Turn a CSV series into overlapping windows of this many steps.")
        var window: Int?

        @Option(help: "Where to write the outputs (.npy, .npz or .json); stdout when omitted.")
        var output: String?

        func validate() throws {
            if inputs.isEmpty { throw ValidationError("give at least one --input file") }
            if let window, window < 1 { throw ValidationError("--window must be at least 1") }
        }

        func run() throws {
            let predictor = try Predictor(try model.load())
            let data = try inputs.flatMap {
                try TensorFile.read($0, csvWindow: window, limits: model.limits)
            }
            let ordered = try PredictionInputs.arrange(data, for: predictor.inputSpecs)
            let outputs = try predictor.predict(ordered).enumerated().map {
                NamedTensor(name: "output_\($0)", tensor: $1, elementType: .float32)
            }
            if let output {
                try TensorFile.write(outputs, to: output)
            } else {
                printJSON(TensorFile.jsonValue(outputs))
            }
        }
    }
}
