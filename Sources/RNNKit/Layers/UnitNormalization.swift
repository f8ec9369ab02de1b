/// Keras `UnitNormalization`: each sample scaled to unit L2 norm over `axes` (the features by
/// default). No weights; the mask passes through.
struct UnitNormalization: Equatable, Sendable {
    /// As written in the config (negatives count from the end).
    var axes: [Int]
    /// How small a norm may get before the scale stops growing: Keras 3 multiplies by
    /// min(1/√Σx², 1e12), tf_keras's `tf.math.l2_normalize` by 1/√max(Σx², 1e-12).
    var floor: L2Floor

    func resolvedAxes(rank: Int) throws -> [Int] {
        let resolved = try axes.map { try ShapeCheck.axis($0, rank: rank, "UnitNormalization") }
        guard Set(resolved).count == resolved.count else {
            throw RNNKitError(.invalidModel, "UnitNormalization axis \(axes) repeats an axis")
        }
        return resolved.sorted()
    }

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, "UnitNormalization")
        _ = try resolvedAxes(rank: shape.count)
        return [shape]
    }

    func forward(_ input: LayerValue) throws -> LayerValue {
        let axes = try resolvedAxes(rank: input.tensor.rank)
        return LayerValue(input.tensor.l2Normalized(along: axes, floor: floor), mask: input.mask)
    }
}

/// The two ways Keras keeps an L2 normalization finite for a (near) zero vector: a cap on
/// 1/‖x‖ (Keras 3's `ops.normalize`, 1/epsilon) or a floor under Σx² (`tf.math.l2_normalize`).
enum L2Floor: Equatable, Sendable {
    case maximumInverseNorm(Float)
    case minimumSquaredSum(Float)

    /// Keras 3's UnitNormalization (epsilon 1e-12) or tf_keras's `l2_normalize` (1e-12).
    static func unitNormalization(keras2: Bool) -> L2Floor {
        keras2 ? .minimumSquaredSum(1e-12) : .maximumInverseNorm(1e12)
    }

    /// Keras 3's Dot(normalize=True) (`ops.normalize` with backend epsilon 1e-7) or tf_keras's
    /// `l2_normalize` (1e-12).
    static func dot(keras2: Bool) -> L2Floor {
        keras2 ? .minimumSquaredSum(1e-12) : .maximumInverseNorm(1e7)
    }

    func inverseNorm(squaredSum: Float) -> Float {
        switch self {
        case .maximumInverseNorm(let cap): min(1 / squaredSum.squareRoot(), cap)
        case .minimumSquaredSum(let floor): 1 / max(squaredSum, floor).squareRoot()
        }
    }
}

extension Tensor {
    /// The tensor with each slice over `axes` (sorted, without the batch axis) scaled to unit
    /// L2 norm: the axes are moved last, each contiguous row normalized, and moved back.
    func l2Normalized(along axes: [Int], floor: L2Floor) -> Tensor {
        let kept = (0..<rank).filter { !axes.contains($0) }
        let order = kept + axes
        var moved = permutingAxes(order)
        let width = axes.map { shape[$0] }.reduce(1, *)
        if width > 0 {
            for start in stride(from: 0, to: moved.count, by: width) {
                var squaredSum: Float = 0
                for j in start..<start + width { squaredSum += moved.scalars[j] * moved.scalars[j] }
                let scale = floor.inverseNorm(squaredSum: squaredSum)
                for j in start..<start + width { moved.scalars[j] *= scale }
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (position, axis) in order.enumerated() { inverse[axis] = position }
        return moved.permutingAxes(inverse)
    }
}
