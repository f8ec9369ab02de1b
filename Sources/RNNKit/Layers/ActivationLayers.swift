import Foundation

/// Keras `ReLU` with its three options, computed as Keras computes it (the same in Keras 3 and
/// tf_keras): the positive part (x where x > threshold, else 0; plain max(x, 0) without a
/// threshold), clipped to [0, max_value] when given, minus negative_slope · max(threshold − x, 0).
struct ReLULayer: Equatable, Sendable {
    var maxValue: Double?
    var negativeSlope: Double
    var threshold: Double

    func callAsFunction(_ x: Float) -> Float {
        let threshold = Float(self.threshold), slope = Float(negativeSlope)
        if slope != 0, maxValue == nil, threshold == 0 { return x > 0 ? x : x * slope }  // leaky_relu
        var result = threshold != 0 ? (x > threshold ? x : 0) : max(x, 0)
        if let maxValue { result = min(max(result, 0), Float(maxValue)) }
        if slope != 0 { result -= slope * max(threshold - x, 0) }
        return result
    }
}

/// Keras `LeakyReLU`: x for x > 0, else negative_slope · x (`alpha` in Keras 2 files).
struct LeakyReLULayer: Equatable, Sendable {
    var negativeSlope: Double

    func callAsFunction(_ x: Float) -> Float { x > 0 ? x : x * Float(negativeSlope) }
}

/// Keras `ELU`: x for x > 0, else alpha · (exp(x) − 1).
struct ELULayer: Equatable, Sendable {
    var alpha: Double

    func callAsFunction(_ x: Float) -> Float { x > 0 ? x : Float(alpha) * Foundation.expm1(x) }
}

/// Keras `Softmax` along one axis. Where a mask of the same shape as the input comes with it (a
/// [B, T] input of scores), masked positions get −1e9 added first, as Keras does; any other mask
/// passes through untouched.
struct SoftmaxLayer: Equatable, Sendable {
    var axis: Int

    func resolvedAxis(rank: Int) throws -> Int {
        try ShapeCheck.axis(axis, rank: rank, "Softmax")
    }

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.single(inputs, "Softmax")
        _ = try resolvedAxis(rank: shape.count)
        return [shape]
    }

    func forward(_ input: LayerValue) throws -> LayerValue {
        var tensor = input.tensor
        let axis = try resolvedAxis(rank: tensor.rank)
        if let mask = input.mask, mask.count == tensor.count {
            for index in mask.indices where !mask[index] { tensor.scalars[index] += -1e9 }
        }
        let size = tensor.shape[axis], inner = tensor.shape[(axis + 1)...].reduce(1, *)
        let outer = size == 0 || inner == 0 ? 0 : tensor.count / (size * inner)
        for block in 0..<outer {
            for offset in 0..<inner {
                let base = block * size * inner + offset
                var largest = -Float.infinity
                for j in 0..<size { largest = max(largest, tensor.scalars[base + j * inner]) }
                var total: Float = 0
                for j in 0..<size {
                    let value = Foundation.exp(tensor.scalars[base + j * inner] - largest)
                    tensor.scalars[base + j * inner] = value
                    total += value
                }
                for j in 0..<size { tensor.scalars[base + j * inner] /= total }
            }
        }
        return LayerValue(tensor, mask: input.mask)
    }
}

extension LayerValue {
    /// The same value with `function` applied to every scalar; the mask passes through.
    func mapScalars(_ function: (Float) -> Float) -> LayerValue {
        var tensor = self.tensor
        for index in tensor.scalars.indices { tensor.scalars[index] = function(tensor.scalars[index]) }
        return LayerValue(tensor, mask: mask)
    }
}
