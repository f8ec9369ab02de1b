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
}
