/// Keras `GlobalAveragePooling1D` and `GlobalMaxPooling1D`: [B, T, F] to [B, F] (or [B, 1, F]
/// with keepdims); channels_first pools [B, F, T] over its last axis (to [B, F, 1] with
/// keepdims). Averaging skips masked steps; Keras's max pooling ignores the mask.
struct GlobalPooling1D: Equatable, Sendable {
    var keepDims: Bool
    var dataFormat: DataFormat = .channelsLast

    /// The axis pooled over.
    var stepsAxis: Int64 { dataFormat == .channelsLast ? 1 : 2 }

    func outputShapes(for inputs: [Shape], className: String) throws -> [Shape] {
        let shape = dataFormat.channelsLast(try ShapeCheck.rank(ShapeCheck.single(inputs, className), 3, className))
        return [keepDims ? dataFormat.fromChannelsLast([shape[0], 1, shape[2]]) : [shape[0], shape[2]]]
    }

    /// The mean over unmasked steps.
    func average(_ input: LayerValue) -> LayerValue {
        pool(input) { values, kept in
            var total: Float = 0, count: Float = 0
            for (value, keep) in zip(values, kept) where keep {
                total += value
                count += 1
            }
            return total / count
        }
    }

    /// The maximum over all steps, masked or not.
    func maximum(_ input: LayerValue) -> LayerValue {
        pool(LayerValue(input.tensor)) { values, _ in values.max() ?? 0 }
    }

    /// Reduces each (row, feature) series over time with `reduce(values, kept)`.
    private func pool(_ input: LayerValue, _ reduce: ([Float], [Bool]) -> Float) -> LayerValue {
        let tensor = dataFormat.channelsLast(input.tensor)
        let batch = tensor.shape[0], steps = tensor.shape[1], features = tensor.shape[2]
        var scalars = [Float](repeating: 0, count: batch * features)
        for row in 0..<batch {
            let kept = (0..<steps).map { input.mask?[row * steps + $0] ?? true }
            for feature in 0..<features {
                let series = (0..<steps).map { tensor.scalars[(row * steps + $0) * features + feature] }
                scalars[row * features + feature] = reduce(series, kept)
            }
        }
        // With keepdims both formats hold the features in the same order.
        let shape = keepDims ? dataFormat.fromChannelsLast([batch, 1, features]) : [batch, features]
        return LayerValue(Tensor(shape: shape, scalars: scalars))
    }
}
