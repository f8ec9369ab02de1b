import ArgumentParser
import RNNKit

extension WeightLayout: ExpressibleByArgument {}

extension RNNKitCommand {
    struct Convert: ParsableCommand, ReadsModelFiles {
        static let configuration = CommandConfiguration(
            abstract: "Write a model in another file format and weight layout.",
            discussion: """
                The format follows OUTPUT's extension: .h5 (Keras legacy, loads in Keras 3 and \
                tf_keras), .keras (Keras 3), .json (RNNKit JSON), .safetensors, .npz, .onnx (an \
                ONNX model for ONNX Runtime and others). Layouts (keras, split, pytorch, onnx) \
                apply to .json, .safetensors and .npz. For .onnx, --opset picks the operator set, \
                \(Model.onnxOpsets.lowerBound) to \(Model.onnxOpsets.upperBound) (default \
                \(Model.defaultONNXOpset)); what ONNX's operators cannot compute as Keras does \
                (masked recurrent layers, activations the recurrent operators lack) is refused \
                with the reason.
                """)

        @OptionGroup var model: ModelArguments

        @Argument(help: "The file to write.")
        var output: String

        @Option(help: "Weight layout: keras, split, pytorch or onnx.")
        var layout: WeightLayout = .keras

        @Option(help: ArgumentHelp(
            "ONNX operator set for .onnx, \(Model.onnxOpsets.lowerBound) to \(Model.onnxOpsets.upperBound) "
                + "(default \(Model.defaultONNXOpset)).",
            valueName: "n"))
        var opset: Int?

        @Flag(help: ArgumentHelp(
            "For .onnx: write the weights to OUTPUT.data beside the model (ONNX external data); "
                + "automatic when they pass 2 GB."))
        var externalData = false

        @Flag(help: "Replace OUTPUT if it exists.")
        var force = false

        func validate() throws {
            if let opset, !Model.onnxOpsets.contains(opset) {
                throw ValidationError("--opset \(opset) is not one RNNKit writes: use "
                                      + "\(Model.onnxOpsets.lowerBound) to \(Model.onnxOpsets.upperBound)")
            }
            for (given, option) in [(opset != nil, "--opset"), (externalData, "--external-data")]
            where given && !output.lowercased().hasSuffix(".onnx") {
                throw ValidationError("\(option) is for .onnx outputs")
            }
        }

        func run() throws {
            let loaded = try model.load()
            try loaded.write(to: output, layout: layout, replacing: force,
                             inputs: [model.model] + (model.weights.map { [$0] } ?? []), opset: opset,
                             externalData: externalData)
        }
    }
}
