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
            guard let shapes = analysis.inputShapes(ofLayer: index, in: concrete), let input = shapes.first?.concrete
            else { continue }
            let rows = Double(input.dropLast().reduce(1, *)), features = Double(input.last ?? 0)
            func recurrentFlops(_ layer: RecurrentLayer) -> Double {
                let units = Double(layer.options.units)
                return 2 * rows * (features + units) * Double(layer.cell.gateCount) * units
            }
            switch layer.kind {
            case .recurrent(let recurrent)?: total += recurrentFlops(recurrent)
            case .bidirectional(let wrapper)?: total += recurrentFlops(wrapper.forward) + recurrentFlops(wrapper.backward)
            case .dense(let dense)?: total += 2 * rows * features * Double(dense.units)
            case .timeDistributed(let wrapper)?: total += 2 * rows * features * Double(wrapper.inner.units)
            case .conv1D(let conv)?:
                // Each output step is a product of the window's steps by the kernel.
                let outputRows = Double(input[0] * conv.window.outputLength(input[1]))
                total += 2 * outputRows * Double(conv.window.size) * features / Double(conv.groups) * Double(conv.filters)
            case .attention?:
                // Scores [Tq, Tv] over the query's features, then the weights times the value.
                guard shapes.count >= 2, let value = shapes[1].concrete, value.count == 3 else { break }
                total += 2 * rows * Double(value[1]) * (features + Double(value[2]))
            case .multiHeadAttention(let attention)?:
                guard shapes.count >= 3, let value = shapes[1].concrete, let key = shapes[2].concrete,
                      value.count == 3, key.count == 3 else { break }
                total += attention.operationCount(queryRows: rows, queryFeatures: features, value: value, keyFeatures: key[2])
            case .input?, .embedding?, .masking?, .dropout?, .spatialDropout1D?, .gaussianNoise?, .activation?,
                 .repeatVector?, .flatten?, .concatenate?, .merge?, .globalAveragePooling1D?, .globalMaxPooling1D?,
                 .maxPooling1D?, .averagePooling1D?, .batchNormalization?, .layerNormalization?,
                 .relu?, .leakyReLU?, .elu?, .softmax?, .reshape?, .permute?, .timeResampling?, nil:
                break
            }
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
