import ArgumentParser
import RNNKit

extension RNNKitCommand {
    struct Summary: ParsableCommand, ReadsModelFiles {
        static let configuration = CommandConfiguration(
            abstract: "Print the layers, output shapes and parameter counts, as Keras's model.summary().")

        @OptionGroup var model: ModelArguments

        @Flag(help: "Print JSON: total, trainable and non-trainable params and one entry per layer.")
        var json = false

        func run() throws {
            let summary = ModelSummary(try model.load())
            if json { try printJSON(summary) } else { print(summary.table) }
        }
    }
}
