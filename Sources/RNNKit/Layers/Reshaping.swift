/// Keras `RepeatVector`: [B, F] to [B, n, F], the same vector at every step.
struct RepeatVector: Equatable, Sendable {
    var count: Int

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.rank(ShapeCheck.single(inputs, "RepeatVector"), 2, "RepeatVector")
        return [[shape[0], count, shape[1]]]
    }

    func forward(_ value: LayerValue) -> LayerValue {
        let input = value.tensor
        let batch = input.shape[0], features = input.shape[1]
        var scalars: [Float] = []
        scalars.reserveCapacity(batch * count * features)
        for row in 0..<batch {
            let vector = input.scalars[row * features..<(row + 1) * features]
            for _ in 0..<count { scalars += vector }
        }
        return LayerValue(Tensor(shape: [batch, count, features], scalars: scalars))
    }
}

/// Keras `Flatten` (channels_last): [B, d1, d2, ...] to [B, d1·d2·...]; the dimensions must be known.
enum Flatten {
    static func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, "Flatten")
        guard shape.count >= 2, let inner = Array(shape.dropFirst()).concrete,
              let size = Tensor.checkedElementCount(inner), size <= maximumDimension
        else {
            throw RNNKitError(.invalidModel, "Flatten needs known dimensions, got \(formatShape(shape))")
        }
        return [[shape[0], size]]
    }

    static func forward(_ value: LayerValue) -> LayerValue {
        let input = value.tensor
        let batch = input.shape[0]
        return LayerValue(input.reshaped([batch, batch == 0 ? 0 : input.count / batch]))
    }
}
