/// Keras `Dense` on the last axis (any rank ≥ 2): kernel [I, units], bias [units].
struct Dense: Equatable, Sendable {
    var units: Int
    var activation: Activation
    var useBias: Bool

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        var shape = try ShapeCheck.single(inputs, "Dense")
        guard shape.count >= 2 else {
            throw RNNKitError(.invalidModel, "Dense expects rank ≥ 2, got \(formatShape(shape))")
        }
        _ = try ShapeCheck.features(shape, "Dense")
        shape[shape.count - 1] = units
        return [shape]
    }

    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        let inputDim = try ShapeCheck.features(inputs[0], "Dense")
        var specs = [WeightSpec(name: "kernel", shape: [inputDim, units], keras3Path: "vars/0")]
        if useBias { specs.append(WeightSpec(name: "bias", shape: [units], keras3Path: "vars/1")) }
        return specs
    }

    /// x·kernel + bias on the last axis, then the activation; a mask passes through. `prepared`
    /// keeps the packed kernel from one prediction to the next.
    func forward(_ input: LayerValue, weights: [String: Tensor],
                 prepared: PreparedWeights = PreparedWeights()) throws -> LayerValue {
        let affine = try prepared.affine {
            guard let kernel = weights["kernel"] else { throw RNNKitError(.invalidModel, "Dense has no bound kernel") }
            return AffineWeights(kernel: PackedMatrixCache.packed(kernel), bias: weights["bias"]?.scalars)
        }
        let tensor = input.tensor
        var scalars = Kernels.affine(tensor.scalars, rows: tensor.rowCount, kernel: affine.kernel, bias: affine.bias)
        activation.apply(to: &scalars, width: units)
        var shape = tensor.shape
        shape[shape.count - 1] = units
        return LayerValue(Tensor(shape: shape, scalars: scalars), mask: input.mask)
    }
}
