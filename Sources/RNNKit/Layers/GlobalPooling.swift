/// Keras `GlobalAveragePooling1D` and `GlobalMaxPooling1D`: [B, T, F] to [B, F] (or [B, 1, F]
/// with keepdims), ignoring masked steps.
public protocol GlobalPooling1D: LayerDefinition {
    var keepDims: Bool { get }
    init(keepDims: Bool)
}

extension GlobalPooling1D {
    public init(config: KerasConfig) throws {
        let format = try config.string("data_format", default: "channels_last")
        guard format == "channels_last" else {
            throw config.error("data_format", "\(Self.className) with data_format '\(format)' is not supported")
        }
        self.init(keepDims: try config.bool("keepdims", default: false))
    }

    public func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, Self.className)
        try ShapeCheck.rank(shape, 3, Self.className)
        return [keepDims ? [shape[0], 1, shape[2]] : [shape[0], shape[2]]]
    }

    public func kerasConfig() -> JSONObject {
        JSONObject([("data_format", "channels_last"), ("keepdims", .bool(keepDims))])
    }

    /// Reduces each (row, feature) series over time with `reduce(values, kept)`.
    func pool(_ input: LayerValue, _ reduce: ([Float], [Bool]) -> Float) -> LayerValue {
        let tensor = input.tensor
        let batch = tensor.shape[0], steps = tensor.shape[1], features = tensor.shape[2]
        var scalars = [Float](repeating: 0, count: batch * features)
        for row in 0..<batch {
            let kept = (0..<steps).map { input.mask?[row * steps + $0] ?? true }
            for feature in 0..<features {
                let series = (0..<steps).map { tensor.scalars[(row * steps + $0) * features + feature] }
                scalars[row * features + feature] = reduce(series, kept)
            }
        }
        return LayerValue(Tensor(shape: keepDims ? [batch, 1, features] : [batch, features], scalars: scalars))
    }
}

public struct GlobalAveragePooling1D: GlobalPooling1D {
    public static let className = "GlobalAveragePooling1D"
    public var keepDims: Bool
    public init(keepDims: Bool) { self.keepDims = keepDims }

    /// The mean over unmasked steps.
    public func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] {
        [pool(inputs[0]) { values, kept in
            var total: Float = 0, count: Float = 0
            for (value, keep) in zip(values, kept) where keep {
                total += value
                count += 1
            }
            return total / count
        }]
    }
}

public struct GlobalMaxPooling1D: GlobalPooling1D {
    public static let className = "GlobalMaxPooling1D"
    public var keepDims: Bool
    public init(keepDims: Bool) { self.keepDims = keepDims }

    /// The maximum over all steps: Keras's max pooling ignores the mask.
    public func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] {
        [pool(LayerValue(inputs[0].tensor)) { values, _ in values.max() ?? 0 }]
    }
}
