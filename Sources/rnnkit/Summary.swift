import ArgumentParser
import RNNKit

extension RNNKitCommand {
    struct Summary: ParsableCommand, ReadsModelFiles {
        static let configuration = CommandConfiguration(
            abstract: "Print the layers, output shapes and parameter counts, as Keras's model.summary().",
            discussion: "For an ONNX model: its inputs, outputs, opsets, operator counts and initializers.")

        @OptionGroup var model: ModelArguments

        @Flag(help: "Print JSON: total, trainable and non-trainable params and one entry per layer.")
        var json = false

        func run() throws {
            if let onnx = try model.loadONNX() {
                if json { try printJSON(ONNXSummaryReport(onnx)) } else { print(onnx.table) }
                return
            }
            let summary = ModelSummary(try model.load())
            if json { try printJSON(summary) } else { print(summary.table) }
        }
    }
}
