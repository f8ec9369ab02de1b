import RNNKit

/// One named input or output of a served model, as TF Serving's signature_def describes it.
public struct TensorSignature: Sendable, Equatable {
    /// TF Serving's dtypes for what RNNKit models take and give.
    public enum DataType: String, Sendable {
        case float = "DT_FLOAT"
        case int32 = "DT_INT32"
    }

    public var name: String
    public var dataType: DataType
    /// With the batch dimension first; nil for a dimension of any size. nil: rank unknown.
    public var shape: Shape?

    public init(name: String, dataType: DataType, shape: Shape?) {
        self.name = name
        self.dataType = dataType
        self.shape = shape
    }
}

extension TensorSignature {
    /// The inputs of a predictor: its InputLayers' names and shapes; token-id inputs are DT_INT32.
    static func inputs(of predictor: Predictor) -> [TensorSignature] {
        predictor.inputSpecs.map {
            TensorSignature(name: $0.name, dataType: $0.takesTokenIDs ? .int32 : .float, shape: $0.shape)
        }
    }

    /// The outputs of a model, named after the layers that make them (with `_N` for the Nth
    /// output of a layer that has several, or for a layer named twice), as Keras names
    /// a SavedModel's outputs; shapes from the model's summary.
    static func outputs(of model: Model) -> [TensorSignature] {
        let rows = ModelSummary(model).rows
        var used = Set<String>()
        return model.outputs.map { reference in
            var name = reference.index == 0 ? reference.layer : "\(reference.layer)_\(reference.index)"
            var suffix = 1
            while used.contains(name) {
                name = "\(reference.layer)_\(suffix)"
                suffix += 1
            }
            used.insert(name)
            let row = rows.first { $0.name == reference.layer }
            let shape = reference.node == 0 ? row?.outputShapes.dropFirst(reference.index).first : nil
            return TensorSignature(name: name, dataType: .float, shape: shape)
        }
    }
}
