/// Keras `Embedding`: token ids [B, T] to vectors [B, T, output_dim] through
/// embeddings [input_dim, output_dim]. With mask_zero, id 0 is padding and masks its step.
struct Embedding: Equatable, Sendable {
    var inputDim: Int
    var outputDim: Int
    var maskZero: Bool

    /// Looks up each token id; ids outside [0, input_dim) are an error, as in Keras.
    func forward(_ input: LayerValue, weights: [String: Tensor]) throws -> LayerValue {
        guard let table = weights["embeddings"] else {
            throw RNNKitError(.invalidModel, "Embedding has no bound embeddings")
        }
        let ids = input.tensor, width = outputDim
        for value in ids.scalars {
            guard value == value.rounded(), value >= 0, value < Float(inputDim) else {
                throw RNNKitError(.badUsage, "token id \(value) is outside the vocabulary [0, \(inputDim))")
            }
        }
        var scalars = [Float](repeating: 0, count: ids.count * width)
        scalars.withUnsafeMutableBufferPointer { buffer in
            table.scalars.withUnsafeBufferPointer { table in
                // Each share copies the rows of its own tokens (none when there are no tokens).
                guard let output = buffer.baseAddress, let table = table.baseAddress else { return }
                RNNKitRuntime.forEachShare(of: ids.count, multiplyAddsPerItem: width) { tokens in
                    for token in tokens {
                        (output + token * width).update(from: table + Int(ids.scalars[token]) * width, count: width)
                    }
                }
            }
        }
        return LayerValue(Tensor(shape: ids.shape + [outputDim], scalars: scalars),
                          mask: maskZero ? ids.scalars.map { $0 != 0 } : input.mask)
    }
}
