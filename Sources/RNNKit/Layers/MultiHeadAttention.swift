import Foundation

/// Keras `MultiHeadAttention` over the sequence axis, called on query [B, Tq, Dq], value
/// [B, Tv, Dv], key [B, Tv, Dk] (RNNKit's third input is the value again when Keras's call has no
/// key) and optionally an `attention_mask` [B, Tq, Tv] (nonzero: may attend), a fourth input.
///
/// Head h projects qₕ = query·Wq[:, h] + bq[h] and kₕ (key_dim wide) and vₕ (value_dim wide)
/// likewise; its weights are softmax(qₕ·kₕᵀ / √key_dim) over Tv, where the attention mask, the
/// causal mask (`use_causal_mask`), the query's mask (whole rows) and the value's and key's masks
/// (columns) hide steps as `AttentionWeights` does. The heads' weighted values, side by side, are
/// projected by the output kernel [heads, value_dim, d_out] (+ bias) to d_out (`output_shape`,
/// else Dq). The output keeps the query's mask, its masked steps not zeroed; with
/// `return_attention_scores` the weights [B, heads, Tq, Tv] are a second output, without a mask.
/// Dropout only acts in training. A query step that sees no value step (a masked query step)
/// gets uniform weights, or zeros where Keras 3 gives them (`zeroesHiddenRows`). Einsum kernels [D, heads, width] are [D, heads·width] matrices
/// in row-major order, which the packed product takes as they are.
struct MultiHeadAttention: Equatable, Sendable {
    var heads: Int
    var keyDim: Int
    var valueDim: Int
    var useBias: Bool
    /// `output_shape`: the output's feature width, nil for the query's.
    var outputDim: Int?
    var dropout: Double
    var useCausalMask: Bool
    var returnScores: Bool
    /// Whether a query step that sees no value step gets zero weights rather than uniform ones:
    /// Keras 3 zeroes them when it computes the weights with its Softmax layer (to return them,
    /// or with dropout); its fused dot_product_attention and tf_keras leave them uniform.
    var zeroesHiddenRows: Bool

    static let className = "MultiHeadAttention"

    /// The three projections in Keras's weight order: RNNKit's name (Keras's sublayer name in
    /// legacy .h5 files), the Keras 3 sublayer group, and the input they project.
    private static let projections = [("query", "query_dense", 0), ("key", "key_dense", 2), ("value", "value_dense", 1)]

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let (query, value, outputWidth) = try checkedShapes(inputs)
        let output: Shape = [query[0], query[1], outputWidth]
        return returnScores ? [output, [query[0], heads, query[1], value[1]]] : [output]
    }

    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        let outputWidth = try checkedShapes(inputs).outputWidth
        var specs: [WeightSpec] = []
        for (name, group, input) in Self.projections {
            let width = name == "value" ? valueDim : keyDim
            let inputWidth = try ShapeCheck.features(inputs[input], Self.className)
            specs.append(WeightSpec(name: name + "/kernel", shape: [inputWidth, heads, width], keras3Path: group + "/vars/0"))
            if useBias {
                specs.append(WeightSpec(name: name + "/bias", shape: [heads, width], keras3Path: group + "/vars/1"))
            }
        }
        specs.append(WeightSpec(name: "attention_output/kernel", shape: [heads, valueDim, outputWidth],
                                keras3Path: "output_dense/vars/0"))
        if useBias {
            specs.append(WeightSpec(name: "attention_output/bias", shape: [outputWidth], keras3Path: "output_dense/vars/1"))
        }
        return specs
    }

    /// Query and value shapes and the output width, once the inputs are checked to fit.
    private func checkedShapes(_ inputs: [Shape]) throws -> (query: Shape, value: Shape, outputWidth: Int) {
        guard inputs.count == 3 || inputs.count == 4 else {
            throw RNNKitError(.invalidModel, "\(Self.className) takes query, value, key and an optional attention_mask, "
                              + "got \(inputs.count) inputs")
        }
        for shape in inputs { try ShapeCheck.rank(shape, 3, Self.className) }
        let (query, value, key) = (inputs[0], inputs[1], inputs[2])
        var fits = dimensionsAgree(key[1], value[1]) && dimensionsAgree(query[0], value[0]) && dimensionsAgree(key[0], value[0])
        if inputs.count == 4 {
            let mask = inputs[3]
            fits = fits && dimensionsAgree(mask[0], query[0]) && dimensionsAgree(mask[1], query[1])
                && dimensionsAgree(mask[2], value[1])
        }
        guard fits else {
            throw RNNKitError(.invalidModel, "\(Self.className) query, value, key and attention_mask do not fit: "
                              + inputs.map(formatShape).joined(separator: ", "))
        }
        return (query, value, try outputDim ?? ShapeCheck.features(query, Self.className))
    }

    func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] {
        let query = inputs[0].tensor, value = inputs[1].tensor, key = inputs[2].tensor
        let (batch, queryLength, valueLength) = (query.shape[0], query.shape[1], value.shape[1])
        // Lengths unknown until run time must still agree; the weights grow as heads·Tq·Tv and the
        // projections as T·heads·width.
        let attentionMask = inputs.count == 4 ? inputs[3].tensor : nil
        guard key.shape[0] == batch, value.shape[0] == batch, key.shape[1] == valueLength,
              attentionMask.map({ $0.shape == [batch, queryLength, valueLength] }) ?? true else {
            throw RNNKitError(.badUsage, "\(Self.className) query, value, key and attention_mask do not fit: "
                              + inputs.map { formatShape($0.tensor.shape) }.joined(separator: ", "))
        }
        let limit = ReadLimits.default.maxBytes / MemoryLayout<Float>.size
        guard let scoreCount = Tensor.checkedElementCount([batch, heads, queryLength, valueLength]), scoreCount <= limit,
              let projectionCount = Tensor.checkedElementCount([batch, max(queryLength, valueLength), heads,
                                                                max(keyDim, valueDim)]), projectionCount <= limit else {
            throw RNNKitError(.badUsage, "\(Self.className) weights or projections for \(batch) × \(heads) heads × "
                              + "\(queryLength) × \(valueLength) steps exceed \(ReadLimits.default.maxBytes) bytes")
        }
        var projected: [String: [Float]] = [:]
        for (name, _, input) in Self.projections {
            projected[name] = try project(inputs[input].tensor, weights: weights, prefix: name,
                                          width: heads * (name == "value" ? valueDim : keyDim))
        }
        // Masks of other lengths than their tensor's steps are not Keras masks of these inputs.
        func mask(_ input: Int, length: Int) -> [Bool]? {
            inputs[input].mask.flatMap { $0.count == batch * length ? $0 : nil }
        }
        let queryMask = mask(0, length: queryLength)
        let columnMasks = [mask(1, length: valueLength), mask(2, length: valueLength)].compactMap { $0 }
        let scale = 1 / Float(keyDim).squareRoot()
        let contextWidth = heads * valueDim, contextCount = batch * queryLength * contextWidth
        let masked = queryMask != nil || useCausalMask || attentionMask != nil || !columnMasks.isEmpty
        var scores: [Float] = []
        let context = withStorage(projected["query"]!) { q in withStorage(projected["key"]!) { k in
        withStorage(projected["value"]!) { v in
            filledArray(count: contextCount) { o in
                scores = filledArray(count: scoreCount) { w in
                    // Each (batch row, head) reads and writes only its own columns and rows of these.
                    nonisolated(unsafe) let (q, k, v, w, o) = (q, k, v, w, o)
                    RNNKitRuntime.forEachShare(of: batch * heads,
                                               multiplyAddsPerItem: queryLength * valueLength * (keyDim + valueDim)) {
                        for item in $0 {
                            let (row, head) = item.quotientAndRemainder(dividingBy: heads)
                            let headScores = w + item * queryLength * valueLength
                            let headContext = o + row * queryLength * contextWidth + head * valueDim
                            AttentionWeights.dotScores(query: q + row * queryLength * heads * keyDim + head * keyDim,
                                                       queryStride: heads * keyDim, queryLength: queryLength,
                                                       key: k + row * valueLength * heads * keyDim + head * keyDim,
                                                       keyStride: heads * keyDim, keyLength: valueLength, depth: keyDim,
                                                       scale: scale, into: headScores)
                            let hidden: ((Int, Int) -> Bool)? = !masked ? nil : { i, j in
                                queryMask.map { !$0[row * queryLength + i] } == true || (useCausalMask && j > i)
                                    || attentionMask.map { $0.scalars[(row * queryLength + i) * valueLength + j] == 0 } == true
                                    || columnMasks.contains { !$0[row * valueLength + j] }
                            }
                            let hiddenRows = AttentionWeights.softmax(headScores, rows: queryLength, length: valueLength,
                                                                      hidden: hidden)
                            if zeroesHiddenRows {
                                for i in hiddenRows { (headScores + i * valueLength).update(repeating: 0, count: valueLength) }
                            }
                            AttentionWeights.weigh(headScores, rows: queryLength, length: valueLength,
                                                   value: v + row * valueLength * contextWidth + head * valueDim,
                                                   valueStride: contextWidth, width: valueDim, into: headContext,
                                                   contextStride: contextWidth)
                        }
                    }
                }
            }
        }}}
        let contextTensor = Tensor(shape: [batch, queryLength, heads * valueDim], scalars: context)
        let outputWidth = outputDim ?? query.shape[2]
        let output = try project(contextTensor, weights: weights, prefix: "attention_output", width: outputWidth)
        let attended = LayerValue(Tensor(shape: [batch, queryLength, outputWidth], scalars: output), mask: queryMask)
        guard returnScores else { return [attended] }
        return [attended, LayerValue(Tensor(shape: [batch, heads, queryLength, valueLength], scalars: scores))]
    }

    /// Multiply-adds (two operations each) of `queryRows` query steps of `queryFeatures` against
    /// `value` [B, Tv, Dv] with keys of `keyFeatures`: the projections, scores, weighted values
    /// and output.
    func operationCount(queryRows: Double, queryFeatures: Double, value: [Int], keyFeatures: Int) -> Double {
        let valueRows = Double(value[0] * value[1]), width = Double(heads)
        let projections = queryRows * queryFeatures * width * Double(keyDim)
            + valueRows * width * (Double(keyFeatures * keyDim) + Double(value[2] * valueDim))
        let attention = queryRows * width * Double(value[1]) * Double(keyDim + valueDim)
        let output = queryRows * width * Double(valueDim) * (outputDim.map(Double.init) ?? queryFeatures)
        return 2 * (projections + attention + output)
    }

    /// `input` [B, T, D] times the einsum kernel `prefix/kernel` seen as [D, width], plus its bias:
    /// [B·T, width] row-major.
    private func project(_ input: Tensor, weights: [String: Tensor], prefix: String, width: Int) throws -> [Float] {
        let rows = input.shape[0] * input.shape[1], depth = input.shape[2]
        let bias = useBias ? weights[prefix + "/bias"]?.scalars : nil
        guard let kernel = weights[prefix + "/kernel"], kernel.scalars.count == depth * width,
              !useBias || bias?.count == width else {
            throw RNNKitError(.invalidModel, "\(Self.className) has no bound \(prefix) weights for \(depth) × \(width)")
        }
        let matrix = Tensor(shape: [depth, width], scalars: kernel.scalars)
        return Kernels.affine(input.scalars, rows: rows, kernel: PackedMatrix(matrix), bias: bias)
    }
}
