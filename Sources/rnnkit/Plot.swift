import ArgumentParser
import RNNKit

extension ModelDiagram.Options.Direction: ExpressibleByArgument {}

extension RNNKitCommand {
    struct Plot: ParsableCommand, ReadsModelFiles {
        static let configuration = CommandConfiguration(
            abstract: "Draw the model's layer graph, as Keras's plot_model draws it.",
            discussion: """
                The format follows OUTPUT's extension: .dot (Graphviz source), .svg or .png \
                (rendered by Graphviz's dot: apt-get install graphviz). Initial states arrive on \
                dashed arrows. --expand-nested draws a nested model's layers in a box named after it.
                """)

        @OptionGroup var model: ModelArguments

        @Argument(help: "The picture to write: .dot, .svg or .png.")
        var output: String

        @Flag(help: "Show each layer's input and output shapes.")
        var showShapes = false

        @Flag(name: .customLong("show-dtype"), help: "Show each layer's output dtype.")
        var showDType = false

        @Flag(help: "Show each layer's parameter count.")
        var showParams = false

        @Option(help: "Layout: TB (top to bottom) or LR (left to right).")
        var rankdir: ModelDiagram.Options.Direction = .topToBottom

        @Flag(help: "Draw nested models as clusters (RNNKit reads none yet).")
        var expandNested = false

        @Flag(help: "Replace OUTPUT if it exists.")
        var force = false

        func run() throws {
            let options = ModelDiagram.Options(showShapes: showShapes, showDType: showDType, showParams: showParams,
                                               direction: rankdir, expandNested: expandNested)
            try ModelDiagram(try model.load(), options: options)
                .write(to: output, replacing: force, inputs: model.files)
        }
    }
}
