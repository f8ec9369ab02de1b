/// Keras `TimeDistributed`: applies its inner layer to every time step of [B, T, ...], each step
/// a [B, ...] input (computed at once as [B·T, ...], the same numbers). The inner layer is any
/// kind with one input and one output that keeps no state between steps (LayerConfigs refuses
/// the others). Its weights are the inner layer's, under the TimeDistributed layer's name (Keras 3
/// stores them below `layer/`). The inner layer sees no mask; the input's mask passes through, as
/// Keras does.
struct TimeDistributed: Equatable, Sendable {
    static let className = "TimeDistributed"

    var inner: LayerKind

    /// The shape of one time step's input: the time axis dropped.
    private func stepShape(_ inputs: [Shape]) throws -> Shape {
        let shape = try ShapeCheck.single(inputs, "TimeDistributed")
        guard shape.count >= 3 else {
            throw RNNKitError(.invalidModel, "TimeDistributed expects rank ≥ 3, got \(formatShape(shape))")
        }
        return [shape[0]] + shape.dropFirst(2)
    }

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let step = try inner.outputShapes(for: [stepShape(inputs)])[0]
        return [[inputs[0][0], inputs[0][1]] + step.dropFirst()]
    }

    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        try inner.weightSpecs(for: [stepShape(inputs)]).map {
            WeightSpec(name: $0.name, shape: $0.shape, keras3Path: "layer/" + $0.keras3Path, trainable: $0.trainable)
        }
    }

    func forward(_ input: LayerValue, weights: [String: Tensor], prepared: PreparedWeights) throws -> LayerValue {
        let tensor = input.tensor
        let batch = tensor.shape[0], steps = tensor.shape[1]
        let folded = LayerValue(tensor.reshaped([batch * steps] + tensor.shape.dropFirst(2)))
        let output = try inner.forward([folded], weights: weights, prepared: prepared, carry: nil).outputs[0].tensor
        return LayerValue(output.reshaped([batch, steps] + output.shape.dropFirst()), mask: input.mask)
    }
}
