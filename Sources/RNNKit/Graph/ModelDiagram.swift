import Foundation

/// A picture of a model's layer graph in Graphviz's DOT language, drawn as Keras's
/// `keras.utils.plot_model` draws it: one box per layer (its name and class, with the shapes,
/// dtypes and parameter counts asked for), an arrow wherever a layer is called on another's
/// output (tensors between the same two layers share one arrow, as in Keras).
///
/// Sequential models hide their InputLayer, as Keras does. Initial states of recurrent layers
/// arrive on dashed arrows labelled with their positions (`initial_state[0, 1]`). Bidirectional and TimeDistributed show
/// the layer they wrap. A layer called more than once shows `?` for its shapes, as in Keras.
/// Masks passed explicitly (`mask=`, as Keras 3 files pass them from their NotEqual operations)
/// arrive on dashed arrows labelled `mask`; masks that ride along with the tensors (tf_keras
/// files) take no arrow of their own, as in Keras.
///
/// Every name read from the file is escaped, so a hostile layer name cannot change the DOT
/// syntax or add attributes; control characters show as `\n`, `\u{1b}`.
///
/// ```swift
/// let diagram = try ModelDiagram(model, options: .init(showShapes: true))
/// try diagram.write(to: "model.svg")  // or print(diagram.dot)
/// ```
public struct ModelDiagram: Sendable {
    /// What the boxes show and how the graph is laid out.
    public struct Options: Equatable, Sendable {
        /// `rankdir`: inputs at the top (`TB`) or on the left (`LR`).
        public enum Direction: String, CaseIterable, Sendable {
            case topToBottom = "TB"
            case leftToRight = "LR"
        }

        /// Each layer's input and output shapes (the batch dimension as `None`).
        public var showShapes: Bool
        /// The dtype of each layer's outputs: a model input's declared dtype, else float32, what
        /// RNNKit computes in.
        public var showDType: Bool
        /// Each layer's parameter count, as ``ModelSummary`` counts it.
        public var showParams: Bool
        /// Which way the arrows run, as plot_model's `rankdir`.
        public var direction: Direction
        /// Nested models' layers inside a box named after the model, as Keras's `expand_nested`;
        /// without it each nested model is one box, as in Keras.
        public var expandNested: Bool

        /// plot_model's defaults: names and classes only, top to bottom.
        public init(showShapes: Bool = false, showDType: Bool = false, showParams: Bool = false,
                    direction: Direction = .topToBottom, expandNested: Bool = false) {
            self.showShapes = showShapes
            self.showDType = showDType
            self.showParams = showParams
            self.direction = direction
            self.expandNested = expandNested
        }
    }

    /// The Graphviz source, ending with a newline.
    public let dot: String

    /// Draws `model`; throws the first of its errors (``RNNKitError/Kind/invalidModel``) if it
    /// has any.
    public init(_ model: Model, options: Options = Options()) throws {
        dot = try DiagramGraph(model.checked(), options: options).dot
    }

    /// Writes the picture to `path`, in the format its extension names: `.dot` (the Graphviz
    /// source), `.svg` or `.png` (rendered by Graphviz's `dot` command, which must be installed).
    /// Writes atomically; refuses an existing file unless `replacing`, and any of `inputs`.
    public func write(to path: String, replacing: Bool = false, inputs: [String] = []) throws {
        let format = try DiagramFormat(path: path)
        let renderer = format == .dot ? nil : try Graphviz.dotCommand(for: path)
        try AtomicFile.write(to: path, replacing: replacing, protecting: inputs) { temporary in
            if let renderer {
                try Graphviz.render(dot, format: format, with: renderer, to: temporary, target: path)
            } else {
                try FileSink.write(to: temporary) { try $0.write(Data(dot.utf8)) }
            }
        }
    }
}

/// The file kinds a diagram is written as, by extension.
enum DiagramFormat: String, CaseIterable {
    case dot, svg, png

    init(path: String) throws {
        guard let format = DiagramFormat(rawValue: (path as NSString).pathExtension.lowercased()) else {
            throw RNNKitError(.badUsage, "cannot tell the picture format from the name; use one of .dot, .svg, .png",
                              file: path)
        }
        self = format
    }
}

/// The boxes and arrows of a checked model, and their DOT text.
struct DiagramGraph {
    /// One arrow: every tensor `from` passes to `to` in the same role. As in plot_model, tensors
    /// between the same two layers share an arrow; initial states get their own.
    struct Edge: Equatable {
        var from: Int
        var to: Int
        /// The positions among `to`'s initial states of the tensors this arrow carries; empty
        /// for an arrow of ordinary inputs.
        var initialStates: [Int] = []
        /// Whether the arrow carries only a mask passed explicitly (`mask=`).
        var carriesMask = false
    }

    /// Indices into `model.layers` of the layers drawn, in Keras's order; a nested model drawn
    /// as one box (without `expandNested`) is drawn at its first layer's index.
    private(set) var shown: [Int] = []
    private(set) var edges: [Edge] = []
    /// The names of the boxes drawn, by index in `shown`: a layer's name or a nested model's.
    private(set) var boxNames: [Int: String] = [:]
    /// The nested models' boxes (with `expandNested`), in the order their first layers are drawn.
    private(set) var clusters: [(origin: NestedOrigin, members: [Int])] = []
    private let labels: [Int: String]
    private let options: ModelDiagram.Options

    init(_ model: Model, options: ModelDiagram.Options) {
        self.options = options
        let analysis = GraphAnalysis(model)
        let params = WeightBinding.specs(of: model, analysis)
        let indices = Dictionary(model.layers.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        // Without expandNested a nested model is one box, as Keras draws it: its layers' arrows
        // start and end at its first layer's index, and arrows between them are left out.
        var nestedBoxes: [String: Int] = [:]
        var box: [Int: Int] = [:]
        for (index, layer) in model.layers.enumerated() {
            guard !options.expandNested, let origin = layer.nestedIn else { continue }
            box[index] = nestedBoxes[origin.model, default: index]
            nestedBoxes[origin.model] = box[index]
        }
        var labels: [Int: String] = [:]
        for (index, layer) in model.layers.enumerated() where !(model.isSequential && layer.isInput) {
            let drawnAt = box[index] ?? index
            if drawnAt == index {
                shown.append(index)
                boxNames[index] = box[index] == nil ? layer.name : layer.nestedIn?.model
                labels[index] = Self.label(of: layer, at: index, in: model, analysis: analysis,
                                           params: params[index]?.parameterCount ?? 0, options: options)
            }
            if let origin = layer.nestedIn {
                if box[index] != nil {
                    labels[drawnAt] = Self.nestedLabel(origin, firstLayer: model.layers[drawnAt], in: model,
                        analysis: analysis, params: box.filter { $0.value == drawnAt }.keys.reduce(0) {
                            $0 + (params[$1]?.parameterCount ?? 0)
                        }, options: options)
                } else if let cluster = clusters.firstIndex(where: { $0.origin.model == origin.model }) {
                    clusters[cluster].members.append(index)
                } else {
                    clusters.append((origin, [index]))
                }
            }
            let takesStates = layer.kind?.takesInitialStates ?? false
            // An InputLayer is called by nothing, whatever its config lists (as in GraphAnalysis).
            for node in layer.isInput ? [] : layer.nodes {
                let arrivals = node.inputs.enumerated().map { position, input in
                    (input, takesStates && position > 0 ? Optional(position - 1) : nil, false)
                } + node.masks.compactMap { $0 }.map { ($0, Int?.none, true) }
                for (input, state, isMask) in arrivals {
                    guard let layerSource = indices[input.layer],
                          !(model.isSequential && model.layers[layerSource].isInput) else { continue }
                    let source = box[layerSource] ?? layerSource
                    guard source != drawnAt else { continue }
                    if isMask {
                        // A mask from a layer that already sends a tensor here shares its arrow.
                        if !edges.contains(where: { $0.from == source && $0.to == drawnAt }) {
                            edges.append(Edge(from: source, to: drawnAt, carriesMask: true))
                        }
                        continue
                    }
                    if let existing = edges.firstIndex(where: {
                        $0.from == source && $0.to == drawnAt && $0.initialStates.isEmpty == (state == nil)
                    }) {
                        if let state, !edges[existing].initialStates.contains(state) {
                            edges[existing].initialStates.append(state)
                        }
                    } else {
                        edges.append(Edge(from: source, to: drawnAt, initialStates: state.map { [$0] } ?? []))
                    }
                }
            }
        }
        self.labels = labels
    }

    /// A nested model's one box: its name and class, the shapes its first layer takes and its
    /// output has, and all its layers' parameters.
    private static func nestedLabel(_ origin: NestedOrigin, firstLayer: ModelLayer, in model: Model,
                                    analysis: GraphAnalysis, params: Int, options: ModelDiagram.Options) -> String {
        let outputLayer = model.layerIndex(named: origin.output.layer) ?? 0
        let box = ModelLayer(name: origin.model, className: origin.className, kind: nil,
                             nodes: firstLayer.nodes.prefix(1).map { LayerNode(inputs: $0.inputs) })
        return label(of: box, at: outputLayer, in: model, analysis: analysis, params: params, options: options)
    }

    var dot: String {
        var lines = ["digraph G {",
                     "  graph [rankdir=\(options.direction.rawValue), concentrate=true, splines=ortho];",
                     "  node [shape=record, fontname=\"Helvetica\", margin=0];",
                     "  edge [penwidth=2];"]
        lines += shown.map { "  layer\($0) [label=<\(labels[$0] ?? "")>];" }
        for (number, cluster) in clusters.enumerated() {
            let title = "<b>\(Self.escaped(cluster.origin.model))</b> (\(Self.escaped(cluster.origin.className)))"
            lines.append("  subgraph cluster_\(number) {")
            lines.append("    label=<\(title)>; fontname=\"Helvetica\"; style=dashed;")
            lines += cluster.members.map { "    layer\($0);" }
            lines.append("  }")
        }
        lines += edges.map { edge in
            let arrow = "  layer\(edge.from) -> layer\(edge.to)"
            if edge.carriesMask { return arrow + " [style=dashed, xlabel=\"mask\", fontname=\"Helvetica\"];" }
            guard !edge.initialStates.isEmpty else { return arrow + ";" }
            let positions = edge.initialStates.map(String.init).joined(separator: ", ")
            return arrow + " [style=dashed, xlabel=\"initial_state[\(positions)]\", fontname=\"Helvetica\"];"
        }
        return (lines + ["}"]).joined(separator: "\n") + "\n"
    }

    /// An HTML-like label laid out as plot_model's: a black title row, then a row for the layer a
    /// wrapper holds, then one white cell per shape, dtype and parameter count asked for.
    private static func label(of layer: ModelLayer, at index: Int, in model: Model, analysis: GraphAnalysis,
                              params: Int, options: ModelDiagram.Options) -> String {
        let calls = layer.isInput ? 1 : layer.nodes.count
        let outputs = calls == 1 ? analysis.outputShapes[GraphAnalysis.NodeID(layer: index, node: 0)] : nil
        var cells: [String] = []
        if options.showShapes {
            if !layer.isInput {
                let inputs = calls == 1 ? layer.nodes[0].inputs.map { analysis.shape(of: $0, in: model) } : nil
                cells.append("Input shape: <b>\(shapeText(inputs))</b>")
            }
            cells.append("Output shape: <b>\(shapeText(outputs))</b>")
        }
        if options.showDType {
            let dtype = layer.kind?.inputLayer?.dtype ?? "float32"
            let count = outputs?.count ?? 1
            cells.append("Output dtype: <b>\(count == 1 ? dtype : "[" + Array(repeating: dtype, count: count).joined(separator: ", ") + "]")</b>")
        }
        if options.showParams { cells.append("Params: <b>\(params)</b>") }
        let span = max(1, cells.count)
        var rows = ["<tr><td colspan=\"\(span)\" bgcolor=\"black\"><font point-size=\"16\" color=\"white\">"
            + "<b>\(escaped(layer.name))</b> (\(escaped(layer.className)))</font></td></tr>"]
        if let inner = layer.kind.flatMap(wrappedLayer) {
            rows.append("<tr><td colspan=\"\(span)\" bgcolor=\"white\"><font point-size=\"14\">\(inner)</font></td></tr>")
        }
        if !cells.isEmpty {
            rows.append("<tr>" + cells.map { "<td bgcolor=\"white\"><font point-size=\"14\">\($0)</font></td>" }
                .joined() + "</tr>")
        }
        return "<table border=\"0\" cellborder=\"1\" bgcolor=\"black\" cellpadding=\"10\">" + rows.joined() + "</table>"
    }

    /// What a wrapper runs inside, for its box; nil for the other kinds.
    private static func wrappedLayer(_ kind: LayerKind) -> String? {
        switch kind {
        case .bidirectional(let layer):
            let merge = layer.mergeMode?.rawValue ?? "None"
            return "<b>\(layer.forward.cell.className)</b> forward and backward, "
                + "\(layer.forward.options.units) units each, merge_mode <b>\(merge)</b>"
        case .timeDistributed(let layer):
            let units = if case .dense(let dense) = layer.inner { ", \(dense.units) units" } else { "" }
            return "<b>\(layer.inner.className)</b> on every time step" + units
        case .input, .recurrent, .dense, .embedding, .masking, .dropout, .spatialDropout1D, .gaussianNoise,
             .activation, .repeatVector, .flatten, .concatenate, .merge, .globalAveragePooling1D, .globalMaxPooling1D,
             .conv1D, .maxPooling1D, .averagePooling1D,
             .batchNormalization, .layerNormalization,
             .relu, .leakyReLU, .elu, .softmax, .reshape, .permute, .timeResampling,
             .attention,
             .multiHeadAttention,
             .rnn,
             .unitNormalization,
             .prelu,
             .dot,
             .conv2D,
             .maxPooling2D,
             .averagePooling2D,
             .globalAveragePooling2D,
             .globalMaxPooling2D,
             .imageBorder2D,
             .depthwiseConvolution:
            return nil
        case .operation(let operation):
            return "operation <b>\(operation.kerasClassName)</b>"
        case .convLSTM:
            return nil
        }
    }

    /// Keras's notation: `(None, 4)` for one tensor, `[(None, 4), (None, 5)]` for several, `?`
    /// when unknown.
    private static func shapeText(_ shapes: [Shape?]?) -> String {
        guard let shapes, !shapes.isEmpty, shapes.allSatisfy({ $0 != nil }) else { return "?" }
        let texts = shapes.map { formatShape($0!) }
        return texts.count == 1 ? texts[0] : "[" + texts.joined(separator: ", ") + "]"
    }

    /// `text` made safe inside an HTML-like label of a record node: markup characters as
    /// entities; `{`, `}` and `|` too, which Graphviz's record parser would otherwise read; `\`
    /// doubled, so that `\N` or `\L` are not expanded; control characters and noncharacters
    /// (which XML refuses) as visible escapes (`\n`, `\u{fffe}`).
    static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in oneLine(text).unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "{": result += "&#123;"
            case "}": result += "&#125;"
            case "|": result += "&#124;"
            case "\\": result += "\\\\"
            case _ where scalar.properties.isNoncharacterCodePoint:
                result += "\\\\u&#123;\(String(scalar.value, radix: 16))&#125;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// Graphviz's `dot` command, which renders the DOT text as SVG or PNG.
enum Graphviz {
    /// `dot` from the PATH; when it is missing, the error says how to get it or what to write instead.
    static func dotCommand(for path: String) throws -> String {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        for folder in folders where !folder.isEmpty {
            let candidate = "\(folder)/dot"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw RNNKitError(.badUsage, "Graphviz's dot is not installed: install it (apt-get install graphviz) "
                          + "or write a .dot file", file: path)
    }

    /// Runs `dot` on the text, writing `output`. The text goes through a file beside `output`,
    /// removed afterwards, so that no pipe can block or break. Graphviz's own warnings are not
    /// passed on; when it fails, its first line of complaint becomes the error.
    static func render(_ text: String, format: DiagramFormat, with command: String, to output: String,
                       target: String) throws {
        let source = output + ".dot"
        defer { unlink(source) }
        try FileSink.write(to: source) { try $0.write(Data(text.utf8)) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        // plot_model's resolution for bitmaps.
        process.arguments = ["-T\(format.rawValue)"] + (format == .png ? ["-Gdpi=200"] : []) + ["-o", output, source]
        let errors = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw RNNKitError(.badUsage, "cannot run \(command): \(error.localizedDescription)", file: target)
        }
        let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let first = complaint.split(separator: "\n").first.map(String.init) ?? "status \(process.terminationStatus)"
            throw RNNKitError(.badUsage, "Graphviz's dot failed: \(first)", file: target)
        }
    }
}
