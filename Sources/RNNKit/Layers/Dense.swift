/// Keras `Dense` on the last axis (any rank ≥ 2): kernel [I, units], bias [units].
public struct Dense: LayerDefinition {
    public static let className = "Dense"
    public var units: Int
    public var activation: Activation
    public var useBias: Bool

    public init(config: KerasConfig) throws {
        units = try config.dimension("units")
        activation = try config.activation("activation", default: "linear")
        useBias = try config.bool("use_bias", default: true)
    }

    public func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        var shape = try ShapeCheck.single(inputs, Self.className)
        guard shape.count >= 2 else {
            throw RNNKitError(.invalidModel, "Dense expects rank ≥ 2, got \(formatShape(shape))")
        }
        _ = try ShapeCheck.features(shape, Self.className)
        shape[shape.count - 1] = units
        return [shape]
    }

    public func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        let inputDim = try ShapeCheck.features(inputs[0], Self.className)
        var specs = [WeightSpec(name: "kernel", shape: [inputDim, units], keras3Path: "vars/0")]
        if useBias { specs.append(WeightSpec(name: "bias", shape: [units], keras3Path: "vars/1")) }
        return specs
    }

    public func kerasConfig() -> JSONObject {
        JSONObject([("units", .int(units)), ("activation", .string(activation.kerasName)),
                    ("use_bias", .bool(useBias))])
    }

    /// x·kernel + bias on the last axis, then the activation; a mask passes through.
    public func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] {
        guard let kernel = weights["kernel"] else { throw RNNKitError(.invalidModel, "Dense has no bound kernel") }
        let input = inputs[0].tensor
        var scalars = Kernels.affine(input.scalars, rows: input.rowCount, kernel: PackedMatrixCache.packed(kernel),
                                     bias: weights["bias"]?.scalars)
        activation.apply(to: &scalars, width: units)
        var shape = input.shape
        shape[shape.count - 1] = units
        return [LayerValue(Tensor(shape: shape, scalars: scalars), mask: inputs[0].mask)]
    }
}
