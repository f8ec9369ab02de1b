import Foundation

/// Keras `BatchNormalization` at inference: along one `axis` (the features by default), each
/// channel c becomes x·inv + (beta − moving_mean·inv) with inv = gamma / sqrt(moving_variance +
/// epsilon), TensorFlow's order of operations. Weights [C] each, in Keras's order gamma (with
/// `scale`), beta (with `center`), then the non-trainable moving_mean and moving_variance. The
/// mask passes through.
struct BatchNormalization: Equatable, Sendable {
    /// As written in the config: negative counts from the end.
    var axis: Int
    var epsilon: Double
    var center: Bool
    var scale: Bool

    func resolvedAxis(rank: Int) throws -> Int {
        try ShapeCheck.axis(axis, rank: rank, "BatchNormalization")
    }

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, "BatchNormalization")
        _ = try channels(shape)
        return [shape]
    }

    private func channels(_ shape: Shape) throws -> Int {
        guard let size = shape[try resolvedAxis(rank: shape.count)] else {
            throw RNNKitError(.invalidModel,
                              "BatchNormalization needs a known size on axis \(axis), got shape \(formatShape(shape))")
        }
        return size
    }

    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        let size = try channels(ShapeCheck.single(inputs, "BatchNormalization"))
        var names = (scale ? ["gamma"] : []) + (center ? ["beta"] : [])
        let trainable = names.count
        names += ["moving_mean", "moving_variance"]
        return names.enumerated().map { index, name in
            WeightSpec(name: name, shape: [size], keras3Path: "vars/\(index)", trainable: index < trainable)
        }
    }

    func forward(_ input: LayerValue, weights: [String: Tensor]) throws -> LayerValue {
        guard let mean = weights["moving_mean"], let variance = weights["moving_variance"] else {
            throw RNNKitError(.invalidModel, "BatchNormalization has no bound moving statistics")
        }
        var tensor = input.tensor
        let axis = try resolvedAxis(rank: tensor.rank)
        let size = tensor.shape[axis], inner = tensor.shape[(axis + 1)...].reduce(1, *)
        let epsilon = Float(self.epsilon)
        let inv = (0..<size).map { c in (1 / (variance.scalars[c] + epsilon).squareRoot()) * (weights["gamma"]?.scalars[c] ?? 1) }
        let offset = (0..<size).map { c in (weights["beta"]?.scalars[c] ?? 0) - mean.scalars[c] * inv[c] }
        for index in tensor.scalars.indices {
            let c = (index / inner) % size
            tensor.scalars[index] = tensor.scalars[index] * inv[c] + offset[c]
        }
        return LayerValue(tensor, mask: input.mask)
    }
}

/// Keras `LayerNormalization` over the trailing `axes` of each sample: x·inv + (beta − mean·inv)
/// with inv = gamma / sqrt(variance + epsilon), mean and (biased) variance taken over those axes.
/// With Keras 3's `rms_scaling`, x·gamma / sqrt(variance + epsilon): the variance is still taken
/// about the mean, but x is not centred, gamma is always there and beta never. gamma and beta
/// span the normalized axes. The mask passes through.
struct LayerNormalization: Equatable, Sendable {
    /// As written in the config (negatives count from the end).
    var axes: [Int]
    var epsilon: Double
    var center: Bool
    var scale: Bool
    var rmsScaling: Bool

    /// The normalized axes as indices, sorted; they must be the last ones, contiguous.
    func resolvedAxes(rank: Int) throws -> [Int] {
        let resolved = axes.map { $0 < 0 ? rank + $0 : $0 }.sorted()
        guard !resolved.isEmpty, resolved.first! >= 1, resolved == Array((rank - resolved.count)..<rank) else {
            throw RNNKitError(.invalidModel, "LayerNormalization axis \(axes) is not supported for a rank-\(rank) input "
                              + "(RNNKit normalizes the last axes, without the batch axis)")
        }
        return resolved
    }

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, "LayerNormalization")
        _ = try parameterShape(shape)
        return [shape]
    }

    private func parameterShape(_ shape: Shape) throws -> [Int] {
        let dims = try resolvedAxes(rank: shape.count).map { shape[$0] }
        guard let known = dims.concrete else {
            throw RNNKitError(.invalidModel,
                              "LayerNormalization needs known sizes on axis \(axes), got shape \(formatShape(shape))")
        }
        return known
    }

    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        let shape = try parameterShape(ShapeCheck.single(inputs, "LayerNormalization"))
        let names = (scale || rmsScaling ? ["gamma"] : []) + (center && !rmsScaling ? ["beta"] : [])
        return names.enumerated().map { WeightSpec(name: $1, shape: shape, keras3Path: "vars/\($0)") }
    }

    func forward(_ input: LayerValue, weights: [String: Tensor]) throws -> LayerValue {
        var tensor = input.tensor
        let width = try resolvedAxes(rank: tensor.rank).map { tensor.shape[$0] }.reduce(1, *)
        let gamma = weights["gamma"]?.scalars, beta = weights["beta"]?.scalars
        let epsilon = Float(self.epsilon)
        for start in stride(from: 0, to: tensor.count, by: max(width, 1)) {
            let values = tensor.scalars[start..<start + width]
            let mean = values.reduce(0, +) / Float(width)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(width)
            let root = 1 / (variance + epsilon).squareRoot()
            for j in 0..<width {
                let inv = root * (gamma?[j] ?? 1)
                let x = tensor.scalars[start + j]
                tensor.scalars[start + j] = rmsScaling ? x * inv : x * inv + ((beta?[j] ?? 0) - mean * inv)
            }
        }
        return LayerValue(tensor, mask: input.mask)
    }
}
