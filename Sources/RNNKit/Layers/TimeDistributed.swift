/// Keras `TimeDistributed`: applies its inner layer (a Dense) to every time step of [B, T, ...].
public struct TimeDistributed: LayerDefinition {
    public static let className = "TimeDistributed"
    public var inner: Dense

    public init(config: KerasConfig) throws {
        guard let wrapped = try config.nestedLayer("layer") else {
            throw config.error("layer", "TimeDistributed needs a 'layer'")
        }
        guard wrapped.className == Dense.className else {
            throw config.error("layer", "TimeDistributed of '\(wrapped.className)' is not supported (Dense only)")
        }
        inner = try Dense(config: wrapped.config)
    }

    public func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, Self.className)
        guard shape.count >= 3 else {
            throw RNNKitError(.invalidModel, "TimeDistributed expects rank ≥ 3, got \(formatShape(shape))")
        }
        let step = try inner.outputShapes(for: [[shape[0]] + shape.dropFirst(2)])[0]
        return [[shape[0], shape[1]] + step.dropFirst()]
    }

    public func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        try inner.weightSpecs(for: inputs).map {
            WeightSpec(name: $0.name, shape: $0.shape, keras3Path: "layer/" + $0.keras3Path)
        }
    }

    public func kerasConfig() -> JSONObject {
        JSONObject([("layer", ["class_name": "Dense", "config": .object(inner.kerasConfig())])])
    }

    public func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] {
        try inner.forward(inputs, weights: weights)
    }
}
