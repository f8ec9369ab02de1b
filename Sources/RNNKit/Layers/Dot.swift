/// Keras `Dot`: the batch-wise dot product of two inputs along one axis of each (`axes`, one
/// integer for both or a pair; negatives count from each input's end), optionally of their
/// L2-normalized forms (cosine similarity). The output keeps the first input's other axes, then
/// the second's (without its batch axis), with a trailing 1 when nothing else is left, as
/// Keras's `batch_dot`. The mask is dropped, as Keras does.
struct Dot: Equatable, Sendable {
    var axes: [Int]
    var normalize: Bool
    /// How the L2 normalization stays finite (Keras 3 and tf_keras differ for a zero vector).
    var floor: L2Floor

    /// The contracted axis of each input, negatives resolved against that input's rank.
    func resolvedAxes(_ shapes: [Shape]) throws -> (Int, Int) {
        guard shapes.count == 2 else { throw RNNKitError(.invalidModel, "Dot takes exactly 2 inputs, got \(shapes.count)") }
        let pair = axes.count == 1 ? [axes[0], axes[0]] : axes
        let resolved = try zip(pair, shapes).map { axis, shape in
            guard shape.count >= 2 else {
                throw RNNKitError(.invalidModel, "Dot expects inputs of rank ≥ 2, got \(shapes.map(formatShape))")
            }
            return try ShapeCheck.axis(axis, rank: shape.count, "Dot")
        }
        return (resolved[0], resolved[1])
    }

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let (a, b) = try resolvedAxes(inputs)
        guard dimensionsAgree(inputs[0][a], inputs[1][b]), dimensionsAgree(inputs[0][0], inputs[1][0]) else {
            throw RNNKitError(.invalidModel, "Dot axes \(axes) do not match: inputs \(inputs.map(formatShape))")
        }
        var output = inputs[0]
        output.remove(at: a)
        output += inputs[1].enumerated().filter { $0.offset != 0 && $0.offset != b }.map(\.element)
        if let sample = Array(output.dropFirst()).concrete { try Self.checkSampleSize(sample, inputs) }
        return [output.count == 1 ? output + [1] : output]
    }

    /// The output of one sample grows as the product of both inputs' other axes: like Flatten,
    /// it must stay within `maximumDimension` values.
    private static func checkSampleSize(_ sample: [Int], _ inputs: [Shape]) throws {
        guard let size = Tensor.checkedElementCount(sample), size <= maximumDimension else {
            throw RNNKitError(.invalidModel, "Dot of \(inputs.map(formatShape)) gives more than \(maximumDimension) values per sample")
        }
    }

    func forward(_ inputs: [LayerValue]) throws -> LayerValue {
        var x = inputs[0].tensor, y = inputs[1].tensor
        let (a, b) = try resolvedAxes([x.shape, y.shape])
        guard x.shape[a] == y.shape[b], x.shape[0] == y.shape[0] else {
            throw RNNKitError(.badUsage, "Dot inputs \(formatShape(x.shape)) and \(formatShape(y.shape)) do not match on axes \(axes)")
        }
        if normalize {
            x = x.l2Normalized(along: [a], floor: floor)
            y = y.l2Normalized(along: [b], floor: floor)
        }
        // x as [B, M, K] (the contracted axis last), y as [B, K, N] (it first after the batch).
        x = x.permutingAxes((0..<x.rank).filter { $0 != a } + [a])
        y = y.permutingAxes([0, b] + (1..<y.rank).filter { $0 != b })
        let batch = x.shape[0], depth = x.shape[x.rank - 1]
        let m = x.shape.dropFirst().dropLast().reduce(1, *), n = y.shape.dropFirst(2).reduce(1, *)
        try Self.checkSampleSize([m, n], [x.shape, y.shape].map { $0.map(Optional.some) })
        // Products of activations, per sample: no weights to pack for the runtime's gemm.
        var scalars = [Float](repeating: 0, count: batch * m * n)
        for sample in 0..<batch {
            for row in 0..<m {
                let left = (sample * m + row) * depth
                for k in 0..<depth {
                    let value = x.scalars[left + k], right = (sample * depth + k) * n
                    for column in 0..<n { scalars[(sample * m + row) * n + column] += value * y.scalars[right + column] }
                }
            }
        }
        var output = Array(x.shape.dropLast()) + Array(y.shape.dropFirst(2))
        if output.count == 1 { output.append(1) }
        return LayerValue(Tensor(shape: output, scalars: scalars))
    }
}
