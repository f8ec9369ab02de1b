/// Keras `TimeDistributed`: applies its inner layer (a Dense) to every time step of [B, T, ...].
struct TimeDistributed: Equatable, Sendable {
    var inner: Dense

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, "TimeDistributed")
        guard shape.count >= 3 else {
            throw RNNKitError(.invalidModel, "TimeDistributed expects rank ≥ 3, got \(formatShape(shape))")
        }
        let step = try inner.outputShapes(for: [[shape[0]] + shape.dropFirst(2)])[0]
        return [[shape[0], shape[1]] + step.dropFirst()]
    }

    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        try inner.weightSpecs(for: inputs).map {
            WeightSpec(name: $0.name, shape: $0.shape, keras3Path: "layer/" + $0.keras3Path)
        }
    }
}
