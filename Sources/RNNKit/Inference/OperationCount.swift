extension Predictor {
    /// Floating-point operations of one prediction on `batch` sequences of `steps` time steps
    /// (where the model's time axis is free): the multiply-adds of recurrent and dense layers,
    /// counted as two operations each. Benchmarks divide it by the time taken.
    public func flops(batch: Int, steps: Int) throws -> Double {
        var concrete = model
        for (spec, reference) in zip(inputSpecs, model.inputs) {
            guard let index = concrete.layerIndex(named: reference.layer),
                  let input = concrete.layers[index].kind?.inputLayer else { continue }
            let shape = try spec.concreteShape(batch: batch, steps: steps)
            concrete.layers[index].kind = .input(InputLayer(batchShape: shape, dtype: input.dtype))
        }
        let analysis = GraphAnalysis(concrete)
        var total = 0.0
        for (index, layer) in concrete.layers.enumerated() {
            guard let shapes = analysis.inputShapes(ofLayer: index, in: concrete), shapes.first?.concrete != nil
            else { continue }
            total += layer.kind?.operationCount(inputs: shapes.map { $0.concrete ?? [] }) ?? 0
        }
        return total
    }

    /// The smallest `input_dim` of the model's Embedding layers: token ids below it are valid for
    /// every one of them. nil for a model without Embedding.
    public var tokenIDLimit: Int? {
        model.layers.compactMap { layer -> Int? in
            guard case .embedding(let embedding)? = layer.kind else { return nil }
            return embedding.inputDim
        }.min()
    }
}

extension Predictor.InputSpec {
    /// The input's shape with `batch` rows and `steps` time steps where the time axis is free
    /// (a fixed length wins over `steps`). Throws for any other unknown dimension.
    public func concreteShape(batch: Int, steps: Int) throws -> [Int] {
        try shape.enumerated().map { axis, dimension in
            if axis == 0 { return batch }
            if let dimension { return dimension }
            guard axis == 1 else {
                throw RNNKitError(.badUsage, "input '\(name)' has an unknown dimension \(axis)")
            }
            return steps
        }
    }
}

extension LayerKind {
    /// The multiply-adds (two operations each) of one call on inputs of shapes `inputs` (the first
    /// is the main input; an unknown shape is empty).
    func operationCount(inputs: [[Int]]) -> Double {
        guard let input = inputs.first, !input.isEmpty else { return 0 }
        let rows = Double(input.dropLast().reduce(1, *)), features = Double(input.last ?? 0)
        func recurrentFlops(_ layer: RecurrentLayer, features: Double) -> Double {
            let units = Double(layer.options.units)
            return 2 * rows * (features + units) * Double(layer.cell.gateCount) * units
        }
        switch self {
        case .recurrent(let recurrent): return recurrentFlops(recurrent, features: features)
        case .rnn(let rnn):
            // Each cell of a stack reads the one before.
            var total = 0.0, width = features
            for cell in rnn.cells {
                total += recurrentFlops(cell, features: width)
                width = Double(cell.options.units)
            }
            return total
        case .bidirectional(let wrapper):
            return recurrentFlops(wrapper.forward, features: features) + recurrentFlops(wrapper.backward, features: features)
        case .dense(let dense): return 2 * rows * features * Double(dense.units)
        case .timeDistributed(let wrapper):
            // The time steps folded into the batch.
            guard input.count >= 3 else { return 0 }
            return wrapper.inner.operationCount(inputs: [[input[0] * input[1]] + input.dropFirst(2)])
        case .conv1D(let conv):
            // Each output step is a product of the window's steps by the kernel.
            let sequences = conv.dataFormat.channelsLast(input)
            let outputRows = Double(input[0] * conv.window.outputLength(sequences[1]))
            return 2 * outputRows * Double(conv.window.size * sequences[2] / conv.groups * conv.filters)
        case .conv2D(let conv):
            // Each output cell is a product of the window's cells by the kernel.
            let image = conv.dataFormat.channelsLast(input)
            let outputCells = input[0] * conv.windows.rows.outputLength(image[1]) * conv.windows.columns.outputLength(image[2])
            let window = conv.windows.rows.size * conv.windows.columns.size * image[3] / conv.groups
            return 2 * Double(outputCells) * Double(window) * Double(conv.filters)
        case .depthwiseConvolution(let conv):
            // Each output cell: the window's cells by each channel's multipliers, then the
            // pointwise product.
            let sequence = conv.dataFormat.channelsLast(input)
            let outputCells = zip(conv.windows, sequence.dropFirst()).reduce(input[0]) { $0 * $1.0.outputLength($1.1) }
            let depthwise = sequence[sequence.count - 1] * conv.depthMultiplier
            let window = conv.windows.reduce(1) { $0 * $1.size }
            return 2 * Double(outputCells) * Double(depthwise) * Double(window + (conv.pointwiseFilters ?? 0))
        case .multiHeadAttention(let attention):
            guard inputs.count >= 3, inputs[1].count == 3, inputs[2].count == 3 else { return 0 }
            return attention.operationCount(queryRows: rows, queryFeatures: features, value: inputs[1],
                                            keyFeatures: inputs[2][2])
        case .attention:
            // Scores [Tq, Tv] over the query's features, then the weights times the value.
            guard inputs.count >= 2, inputs[1].count == 3 else { return 0 }
            return 2 * rows * Double(inputs[1][1]) * (features + Double(inputs[1][2]))
        case .input, .embedding, .masking, .dropout, .spatialDropout1D, .gaussianNoise, .activation,
             .repeatVector, .flatten, .concatenate, .merge, .globalAveragePooling1D, .globalMaxPooling1D,
             .maxPooling1D, .averagePooling1D, .batchNormalization, .layerNormalization,
             .relu, .leakyReLU, .elu, .softmax, .reshape, .permute, .timeResampling,
             .unitNormalization,
             .prelu,
             .dot,
             .maxPooling2D,
             .averagePooling2D,
             .globalAveragePooling2D,
             .globalMaxPooling2D,
             .imageBorder2D,
             .operation:
            return 0
        case .convLSTM(let layer):
            // Every step, each output cell: the window of x_t by the kernel and of h by the
            // recurrent kernel, 4F columns.
            guard input.count == layer.windows.count + 3 else { return 0 }
            let cells = zip(layer.windows, input.dropFirst(2)).reduce(input[0] * input[1]) { $0 * $1.0.outputLength($1.1) }
            let window = layer.windows.reduce(1) { $0 * $1.size }
            return 2 * Double(cells) * Double(window * (input[input.count - 1] + layer.filters)) * Double(4 * layer.filters)
        }
    }
}
