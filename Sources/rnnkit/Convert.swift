import ArgumentParser
import RNNKit

extension WeightLayout: ExpressibleByArgument {}

extension RNNKitCommand {
    struct Convert: ParsableCommand, ReadsModelFiles {
        static let configuration = CommandConfiguration(
            abstract: "Write a model in another file format and weight layout.",
            discussion: """
                The format follows OUTPUT's extension: .h5 (Keras legacy, loads in Keras 3 and \
                tf_keras), .keras (Keras 3), .json (RNNKit JSON), .safetensors, .npz. Layouts \
                (keras, split, pytorch, onnx) apply to .json, .safetensors and .npz.
                """)

        @OptionGroup var model: ModelArguments

        @Argument(help: "The file to write.")
        var output: String

        @Option(help: "Weight layout: keras, split, pytorch or onnx.")
        var layout: WeightLayout = .keras

        @Flag(help: "Replace OUTPUT if it exists.")
        var force = false

        func run() throws {
            let loaded = try model.load()
            try loaded.write(to: output, layout: layout, replacing: force,
                             inputs: [model.model] + (model.weights.map { [$0] } ?? []))
        }
    }
}
