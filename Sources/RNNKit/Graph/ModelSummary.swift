import Foundation

/// What Keras's `model.summary()` reports: each layer's output shape and parameter count, and
/// the totals. Sequential models hide their InputLayer, as Keras does.
public struct ModelSummary: Sendable, Encodable {
    /// One layer's line of the summary.
    public struct Row: Sendable, Equatable {
        /// The layer's name.
        public var name: String
        /// Its Keras class.
        public var className: String
        /// One shape per output of the layer's first call (several with return_state).
        public var outputShapes: [Shape]
        /// Its parameter count, as Keras counts it.
        public var params: Int
        /// Whether those parameters count as trainable.
        public var trainable: Bool
        /// How many of them train: all of a trainable layer's but BatchNormalization's moving
        /// statistics; none of a frozen layer's.
        public var trainableParams: Int
    }

    /// The model's name, as in Keras's `Model: "name"` line.
    public var modelName: String
    /// The layers' lines, in Keras's order.
    public var rows: [Row]

    /// The summary of `model`, also of one with problems: shapes that cannot be inferred are
    /// left empty, and their layers count no parameters.
    public init(_ model: Model) {
        let analysis = GraphAnalysis(model)
        let specs = WeightBinding.specs(of: model, analysis)
        modelName = model.name
        rows = []
        for (index, layer) in model.layers.enumerated() {
            if model.isSequential && layer.isInput { continue }
            // Keras 3 operations are not layers; tf_keras's TFOpLambda layers are.
            if case .operation? = layer.kind, !TensorOperation.tfKerasClasses.contains(layer.className) { continue }
            let params = specs[index]?.parameterCount ?? 0
            let trainableParams = layer.trainable ? (specs[index]?.filter(\.trainable).parameterCount ?? 0) : 0
            // A nested model is one row, as in Keras: its output shape and all its layers' parameters.
            if let origin = layer.nestedIn {
                if let last = rows.indices.last, rows[last].name == origin.model {
                    rows[last].params += params
                    rows[last].trainableParams += trainableParams
                    rows[last].trainable = rows[last].trainable || layer.trainable
                    continue
                }
                let output = model.layerIndex(named: origin.output.layer).map {
                    GraphAnalysis.NodeID(layer: $0, node: origin.output.node)
                }
                let shapes = output.flatMap { analysis.outputShapes[$0] } ?? []
                let shape = shapes.indices.contains(origin.output.index) ? [shapes[origin.output.index]] : []
                rows.append(Row(name: origin.model, className: origin.className, outputShapes: shape,
                                params: params, trainable: layer.trainable, trainableParams: trainableParams))
                continue
            }
            let node = GraphAnalysis.NodeID(layer: index, node: 0)
            rows.append(Row(name: layer.name, className: layer.className,
                            outputShapes: analysis.outputShapes[node] ?? [],
                            params: params, trainable: layer.trainable, trainableParams: trainableParams))
        }
    }

    /// All parameters.
    public var totalParams: Int { rows.reduce(0) { $0 + $1.params } }
    /// The trainable parameters of trainable layers.
    public var trainableParams: Int { rows.reduce(0) { $0 + $1.trainableParams } }
    /// The others (frozen layers, moving statistics).
    public var nonTrainableParams: Int { totalParams - trainableParams }

    private enum CodingKeys: String, CodingKey {
        case totalParams = "total_params", trainableParams = "trainable_params"
        case nonTrainableParams = "non_trainable_params", layers
    }

    private enum RowKeys: String, CodingKey {
        case name, className = "class_name", outputShape = "output_shape", params
    }

    /// `{"total_params", "trainable_params", "non_trainable_params", "layers": [{"name",
    /// "class_name", "output_shape", "params"}]}`; `output_shape` is a list of shapes for a layer
    /// with several outputs, and an unknown dimension is `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(totalParams, forKey: .totalParams)
        try container.encode(trainableParams, forKey: .trainableParams)
        try container.encode(nonTrainableParams, forKey: .nonTrainableParams)
        var layers = container.nestedUnkeyedContainer(forKey: .layers)
        for row in rows {
            var layer = layers.nestedContainer(keyedBy: RowKeys.self)
            try layer.encode(row.name, forKey: .name)
            try layer.encode(row.className, forKey: .className)
            if row.outputShapes.count == 1 {
                try layer.encode(row.outputShapes[0], forKey: .outputShape)
            } else {
                try layer.encode(row.outputShapes, forKey: .outputShape)
            }
            try layer.encode(row.params, forKey: .params)
        }
    }

    /// A table laid out like Keras 2's summary.
    public var table: String {
        let header = ["Layer (type)", "Output Shape", "Param #"]
        let cells = rows.map { row -> [String] in
            let shapes = row.outputShapes.map(formatShape)
            return ["\(row.name) (\(row.className))",
                    shapes.count == 1 ? shapes[0] : "[" + shapes.joined(separator: ", ") + "]",
                    String(row.params)]
        }
        var widths = header.map(\.count)
        for row in cells {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        func line(_ values: [String]) -> String {
            " " + zip(values, widths).map { $0.padding(toLength: $1 + 4, withPad: " ", startingAt: 0) }
                .joined().trimmingTrailingSpaces()
        }
        let ruleWidth = widths.reduce(0, +) + 13
        let thin = String(repeating: "_", count: ruleWidth)
        let thick = String(repeating: "=", count: ruleWidth)
        var lines = ["Model: \"\(modelName)\"", thin, line(header), thick]
        lines += cells.map(line)
        lines += [thick, "Total params: \(totalParams)", "Trainable params: \(trainableParams)",
                  "Non-trainable params: \(nonTrainableParams)", thin]
        return lines.joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
