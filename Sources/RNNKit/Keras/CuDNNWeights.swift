/// Keras 2's CuDNNLSTM and CuDNNGRU weights (tf.keras 1.x, Keras ≥ 2.0.9, tf_keras), converted
/// as tf_keras's `load_weights` converts them (`_convert_rnn_weights` in
/// tf_keras/src/saving/legacy/hdf5_format.py), and the plain layers the Keras writers put in their
/// place.
///
/// cuDNN's kernels have Keras's shapes and gate blocks (LSTM i, f, c, o; GRU z, r, h), but each
/// block's values, in C order, are cuDNN's row-major [U, I] matrix; its bias is [2·G·U], the input
/// biases then the recurrent ones. tf_keras recognises them by that flat bias and converts, per
/// gate block p of U columns:
/// - kernel: `K[k, p·U + j] = flat_p[j·I + k]`, where flat_p is block p in C order (numpy's
///   `block.T.reshape(block.shape, order="F")`);
/// - recurrent kernel: each [U, U] block transposed (the same formula with I = U);
/// - bias: kept as the two rows [2, G·U] (a CuDNN layer, a GRU with reset_after), or summed into
///   one (an LSTM, as tf_keras does when it loads them into one).
enum CuDNNWeights {
    /// A layer's weights as read from a legacy `.h5` (in `weight_names` order), converted from
    /// cuDNN's form where they are in it: each recurrent cell whose stored bias is flat with
    /// 2·G·U values, going into a CuDNN layer, an LSTM or a GRU with reset_after. Anything
    /// else is left for the shape checks to report.
    static func converted(_ stored: [StoredWeight], for kind: LayerKind) -> [StoredWeight] {
        let cells: [RecurrentLayer]
        switch kind {
        case .recurrent(let layer): cells = [layer]
        case .bidirectional(let wrapper): cells = [wrapper.forward, wrapper.backward]
        case .rnn(let rnn): cells = rnn.cells
        case .input, .dense, .embedding, .timeDistributed, .masking, .dropout, .spatialDropout1D, .gaussianNoise,
             .activation, .repeatVector, .flatten, .concatenate, .merge, .globalAveragePooling1D, .globalMaxPooling1D,
             .conv1D, .maxPooling1D, .averagePooling1D, .batchNormalization, .layerNormalization,
             .relu, .leakyReLU, .elu, .softmax, .reshape, .permute, .timeResampling,
             .attention,
             .unitNormalization,
             .prelu,
             .dot,
             .conv2D,
             .maxPooling2D,
             .averagePooling2D,
             .globalAveragePooling2D,
             .globalMaxPooling2D,
             .imageBorder2D,
             .depthwiseConvolution,
             .operation,
             .multiHeadAttention,
             .convLSTM:
            return stored
        }
        guard stored.count == 3 * cells.count else { return stored }
        var result = stored
        for (index, layer) in cells.enumerated() {
            let first = 3 * index
            guard let native = nativeWeights(stored[first].tensor, stored[first + 1].tensor, stored[first + 2].tensor,
                                             for: layer)
            else { continue }
            for offset in 0..<3 { result[first + offset].tensor = native[offset] }
        }
        return result
    }

    /// [kernel, recurrent_kernel, bias] in `layer`'s form, or nil when they are not cuDNN's.
    private static func nativeWeights(_ kernel: Tensor, _ recurrent: Tensor, _ bias: Tensor,
                                      for layer: RecurrentLayer) -> [Tensor]? {
        switch layer.cell {
        case .simpleRNN, .gru(resetAfter: false): return nil
        case .lstm, .gru(resetAfter: true): break
        }
        let units = layer.options.units, width = layer.cell.gateCount * units
        guard kernel.rank == 2, kernel.shape[1] == width, recurrent.shape == [units, width],
              bias.shape == [2 * width]
        else { return nil }
        let nativeBias = layer.hasRecurrentBias
            ? Tensor(shape: [2, width], scalars: bias.scalars)
            : summedRows(Tensor(shape: [2, width], scalars: bias.scalars))
        return [blocksFromCuDNN(kernel, units: units), blocksFromCuDNN(recurrent, units: units), nativeBias]
    }

    /// A cuDNN kernel [N, G·U] in Keras's form: `out[k, p·U + j] = flat_p[j·N + k]`.
    static func blocksFromCuDNN(_ matrix: Tensor, units: Int) -> Tensor {
        let rows = matrix.shape[0], width = matrix.shape[1]
        var out = [Float](repeating: 0, count: rows * width)
        for block in stride(from: 0, to: width, by: units) {
            for k in 0..<rows {
                for j in 0..<units {
                    let flat = j * rows + k  // the index within block p's C-order values
                    out[k * width + block + j] = matrix.scalars[flat / units * width + block + flat % units]
                }
            }
        }
        return Tensor(shape: matrix.shape, scalars: out)
    }

    /// `model` as the Keras writers save it: each CuDNN layer (also inside a Bidirectional) as
    /// the LSTM or GRU(reset_after=True) that tf_keras loads its weights into, a CuDNNLSTM's two
    /// biases summed. Keras 3 has no CuDNN classes and neither Keras runs them without a GPU; the
    /// outputs are the same.
    static func plain(_ model: Model) -> Model {
        var result = model
        for index in result.layers.indices {
            var layer = result.layers[index]
            if case .recurrent(let recurrent)? = layer.kind, recurrent.isCuDNN {
                layer.kind = .recurrent(plain(recurrent, weights: &layer.weights, prefix: ""))
            } else if case .bidirectional(var wrapper)? = layer.kind, wrapper.forward.isCuDNN {
                wrapper.forward = plain(wrapper.forward, weights: &layer.weights, prefix: "forward.")
                wrapper.backward = plain(wrapper.backward, weights: &layer.weights, prefix: "backward.")
                layer.kind = .bidirectional(wrapper)
            } else {
                continue
            }
            layer.className = layer.kind!.className
            result.layers[index] = layer
        }
        return result
    }

    private static func plain(_ layer: RecurrentLayer, weights: inout [String: Tensor], prefix: String) -> RecurrentLayer {
        var plain = layer
        plain.isCuDNN = false
        if !plain.hasRecurrentBias, let bias = weights[prefix + "bias"], bias.rank == 2 {
            weights[prefix + "bias"] = summedRows(bias)
        }
        return plain
    }

    /// An input and a recurrent bias [2, W] as one [W], their sum in float32 as numpy's.
    private static func summedRows(_ bias: Tensor) -> Tensor {
        let width = bias.shape[1]
        return Tensor(shape: [width], scalars: zip(bias.scalars.prefix(width), bias.scalars.suffix(width)).map { $0 + $1 })
    }
}
