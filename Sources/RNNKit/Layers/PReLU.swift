/// Keras `PReLU`: max(x, 0) − alpha · max(−x, 0), alpha a learned weight of the input's shape
/// without the batch axis, of size 1 along each of `sharedAxes` (counted from 1, as in Keras).
/// The mask passes through.
struct PReLULayer: Equatable, Sendable {
    var sharedAxes: [Int]

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, "PReLU")
        _ = try alphaShape(shape)
        return [shape]
    }

    /// alpha's shape for an input of `shape`: its non-batch dimensions, 1 on the shared axes;
    /// the others must be known.
    func alphaShape(_ shape: Shape) throws -> [Int] {
        guard shape.count >= 2 else {
            throw RNNKitError(.invalidModel, "PReLU expects rank ≥ 2, got \(formatShape(shape))")
        }
        if let axis = sharedAxes.first(where: { !(1..<shape.count).contains($0) }) {
            throw RNNKitError(.invalidModel, "PReLU shared axis \(axis) does not fit input shape \(formatShape(shape))")
        }
        return try (1..<shape.count).map { axis in
            if sharedAxes.contains(axis) { return 1 }
            guard let size = shape[axis] else {
                throw RNNKitError(.invalidModel, "PReLU needs a known size on axis \(axis) (or the axis in "
                                  + "shared_axes), got shape \(formatShape(shape))")
            }
            return size
        }
    }

    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        [WeightSpec(name: "alpha", shape: try alphaShape(ShapeCheck.single(inputs, "PReLU")), keras3Path: "vars/0")]
    }

    func forward(_ input: LayerValue, weights: [String: Tensor]) throws -> LayerValue {
        guard let alpha = weights["alpha"] else { throw RNNKitError(.invalidModel, "PReLU has no bound alpha") }
        var tensor = input.tensor
        let sample = Array(tensor.shape.dropFirst())
        guard alpha.rank == sample.count, zip(alpha.shape, sample).allSatisfy({ $0 == $1 || $0 == 1 }) else {
            throw RNNKitError(.invalidModel, "PReLU alpha of shape \(formatShape(alpha.shape)) does not fit input shape "
                              + formatShape(tensor.shape))
        }
        let slopes = alpha.broadcast(to: sample).scalars
        guard !slopes.isEmpty else { return input }
        for index in tensor.scalars.indices {
            let x = tensor.scalars[index]
            // Keras's relu(x) − alpha · relu(−x), in that order of operations.
            tensor.scalars[index] = max(x, 0) + -slopes[index % slopes.count] * max(-x, 0)
        }
        return LayerValue(tensor, mask: input.mask)
    }
}
