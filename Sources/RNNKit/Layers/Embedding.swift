/// Keras `Embedding`: token ids [B, T] to vectors [B, T, output_dim] through
/// embeddings [input_dim, output_dim]. With mask_zero, id 0 is padding and masks its step.
public struct Embedding: LayerDefinition {
    public static let className = "Embedding"
    public var inputDim: Int
    public var outputDim: Int
    public var maskZero: Bool

    public init(config: KerasConfig) throws {
        inputDim = try config.dimension("input_dim")
        outputDim = try config.dimension("output_dim")
        maskZero = try config.bool("mask_zero", default: false)
    }

    public func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, Self.className)
        return [shape + [outputDim]]
    }

    public func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        [WeightSpec(name: "embeddings", shape: [inputDim, outputDim], keras3Path: "vars/0")]
    }

    public func kerasConfig() -> JSONObject {
        JSONObject([("input_dim", .int(inputDim)), ("output_dim", .int(outputDim)),
                    ("mask_zero", .bool(maskZero))])
    }

    /// Looks up each token id; ids outside [0, input_dim) are an error, as in Keras.
    public func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] {
        guard let table = weights["embeddings"] else {
            throw RNNKitError(.invalidModel, "Embedding has no bound embeddings")
        }
        let ids = inputs[0].tensor
        var scalars: [Float] = []
        scalars.reserveCapacity(ids.count * outputDim)
        for value in ids.scalars {
            guard value == value.rounded(), value >= 0, value < Float(inputDim) else {
                throw RNNKitError(.badUsage, "token id \(value) is outside the vocabulary [0, \(inputDim))")
            }
            let row = Int(value) * outputDim
            scalars += table.scalars[row..<row + outputDim]
        }
        return [LayerValue(Tensor(shape: ids.shape + [outputDim], scalars: scalars),
                           mask: maskZero ? ids.scalars.map { $0 != 0 } : inputs[0].mask)]
    }
}
