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
}

public struct GlobalAveragePooling1D: GlobalPooling1D {
    public static let className = "GlobalAveragePooling1D"
    public var keepDims: Bool
    public init(keepDims: Bool) { self.keepDims = keepDims }
}

public struct GlobalMaxPooling1D: GlobalPooling1D {
    public static let className = "GlobalMaxPooling1D"
    public var keepDims: Bool
    public init(keepDims: Bool) { self.keepDims = keepDims }
}
