/// Keras `RepeatVector`: [B, F] to [B, n, F], the same vector at every step.
public struct RepeatVector: LayerDefinition {
    public static let className = "RepeatVector"
    public var count: Int

    public init(config: KerasConfig) throws { count = try config.dimension("n") }

    public func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, Self.className)
        try ShapeCheck.rank(shape, 2, Self.className)
        return [[shape[0], count, shape[1]]]
    }

    public func kerasConfig() -> JSONObject { JSONObject([("n", .int(count))]) }

    public func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] {
        let input = inputs[0].tensor
        let batch = input.shape[0], features = input.shape[1]
        var scalars: [Float] = []
        scalars.reserveCapacity(batch * count * features)
        for row in 0..<batch {
            let vector = input.scalars[row * features..<(row + 1) * features]
            for _ in 0..<count { scalars += vector }
        }
        return [LayerValue(Tensor(shape: [batch, count, features], scalars: scalars))]
    }
}

/// Keras `Flatten`: [B, d1, d2, ...] to [B, d1·d2·...]; the dimensions must be known.
public struct Flatten: LayerDefinition {
    public static let className = "Flatten"

    public init(config: KerasConfig) throws {
        let format = try config.string("data_format", default: "channels_last")
        guard format == "channels_last" else {
            throw config.error("data_format", "Flatten with data_format '\(format)' is not supported")
        }
    }

    public func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, Self.className)
        guard shape.count >= 2, let inner = Array(shape.dropFirst()).concrete,
              let size = Tensor.checkedElementCount(inner), size <= maximumDimension
        else {
            throw RNNKitError(.invalidModel, "Flatten needs known dimensions, got \(formatShape(shape))")
        }
        return [[shape[0], size]]
    }

    public func kerasConfig() -> JSONObject { JSONObject([("data_format", "channels_last")]) }

    public func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] {
        let input = inputs[0].tensor
        let batch = input.shape[0]
        return [LayerValue(input.reshaped([batch, batch == 0 ? 0 : input.count / batch]))]
    }
}
