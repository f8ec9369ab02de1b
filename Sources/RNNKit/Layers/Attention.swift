import Foundation

/// Keras `Attention` (Luong: score_mode "dot" or "concat") and `AdditiveAttention` (Bahdanau),
/// called on [query, value] or [query, value, key] of shapes [B, Tq, D], [B, Tv, Dv], [B, Tv, D].
///
/// Scores [B, Tq, Tv] (the key stands for the value when absent):
/// - dot: scale · q·kᵀ;
/// - concat: concat_score_weight · Σ_d tanh(scale · (q + k));
/// - additive: Σ_d scale[d] · tanh(q + k)
///
/// (scale is 1 without `use_scale`). Where the value mask or the causal mask (`use_causal_mask`:
/// query step i sees value steps j ≤ i) hides a step, 1e9 is subtracted from the score before
/// the softmax over Tv, as Keras does in float32 (a row hidden entirely ends up uniform). The
/// output is softmax·value, zeroed at masked query steps; its mask is the query's. With
/// `return_attention_scores` the softmax weights are a second output, without a mask. Dropout
/// only acts in training.
///
/// `use_causal_mask` and `return_attention_scores` are call arguments in Keras (inbound node
/// kwargs); RNNKit keeps them with the layer, which RNNKit JSON writes in its config.
struct DenseAttention: Equatable, Sendable {
    enum Score: String, Equatable, Sendable {
        case dot, concat, additive
    }

    var score: Score
    var useScale: Bool
    var dropout: Double
    var useCausalMask: Bool
    var returnScores: Bool

    var className: String { score == .additive ? "AdditiveAttention" : "Attention" }

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        guard inputs.count == 2 || inputs.count == 3 else {
            throw RNNKitError(.invalidModel, "\(className) takes [query, value] or [query, value, key], got \(inputs.count) inputs")
        }
        for shape in inputs { try ShapeCheck.rank(shape, 3, className) }
        let (query, value) = (inputs[0], inputs[1])
        let key = inputs.count == 3 ? inputs[2] : value
        let queryDim = try ShapeCheck.features(query, className)
        let keyDim = try ShapeCheck.features(key, className)
        let valueDim = try ShapeCheck.features(value, className)
        guard queryDim == keyDim, dimensionsAgree(key[1], value[1]),
              dimensionsAgree(query[0], value[0]), dimensionsAgree(key[0], value[0]) else {
            throw RNNKitError(.invalidModel, "\(className) query, value and key do not fit: "
                              + inputs.map(formatShape).joined(separator: ", "))
        }
        let output: Shape = [query[0], query[1], valueDim]
        return returnScores ? [output, [query[0], query[1], value[1] ?? key[1]]] : [output]
    }

    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        var specs: [WeightSpec] = []
        if useScale {
            let shape = score == .additive ? [try ShapeCheck.features(inputs[0], className)] : []
            specs.append(WeightSpec(name: "scale", shape: shape, keras3Path: "vars/0"))
        }
        if score == .concat {
            specs.append(WeightSpec(name: "concat_score_weight", shape: [], keras3Path: "vars/\(specs.count)"))
        }
        return specs
    }

    func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] {
        let query = inputs[0].tensor, value = inputs[1].tensor
        let key = inputs.count == 3 ? inputs[2].tensor : value
        let (batch, queryLength) = (query.shape[0], query.shape[1])
        let (valueLength, valueDim) = (value.shape[1], value.shape[2])
        // Lengths unknown until run time must still agree, and the weights grow as Tq·Tv.
        guard key.shape[0] == batch, value.shape[0] == batch, key.shape[1] == valueLength else {
            throw RNNKitError(.badUsage, "\(className) query, value and key do not fit: "
                              + [query, value, key].map { formatShape($0.shape) }.joined(separator: ", "))
        }
        guard let scoreCount = Tensor.checkedElementCount([batch, queryLength, valueLength]),
              scoreCount <= ReadLimits.default.maxBytes / MemoryLayout<Float>.size else {
            throw RNNKitError(.badUsage, "\(className) weights for \(batch) × \(queryLength) × \(valueLength) steps "
                              + "exceed \(ReadLimits.default.maxBytes) bytes")
        }
        let scale = weights["scale"]?.scalars
        guard !useScale || scale != nil, score != .concat || weights["concat_score_weight"] != nil else {
            throw RNNKitError(.invalidModel, "\(className) has no bound scale weights")
        }
        // Masks of other lengths than their tensor's steps are not Keras masks of these inputs.
        let valueMask = inputs[1].mask.flatMap { $0.count == batch * valueLength ? $0 : nil }
        let queryMask = inputs[0].mask.flatMap { $0.count == batch * queryLength ? $0 : nil }
        var weightsOut = [Float](repeating: 0, count: scoreCount)
        var output = [Float](repeating: 0, count: batch * queryLength * valueDim)
        for row in 0..<batch {
            var scores = rowScores(query: query, key: key, row: row, scale: scale,
                                   concatWeight: weights["concat_score_weight"]?.scalars.first ?? 1)
            for i in 0..<queryLength {
                AttentionWeights.softmax(&scores[i * valueLength..<(i + 1) * valueLength]) { j in
                    valueMask.map { !$0[row * valueLength + j] } == true || (useCausalMask && j > i)
                }
            }
            let product = Kernels.affine(scores, rows: queryLength, kernel: PackedMatrix(Self.matrix(value, row: row)),
                                         bias: nil)
            for i in 0..<queryLength where queryMask.map({ $0[row * queryLength + i] }) ?? true {
                let base = (row * queryLength + i) * valueDim
                output[base..<base + valueDim] = product[i * valueDim..<(i + 1) * valueDim]
            }
            let base = row * queryLength * valueLength
            weightsOut[base..<base + queryLength * valueLength] = scores[...]
        }
        let attended = LayerValue(Tensor(shape: [batch, queryLength, valueDim], scalars: output), mask: queryMask)
        guard returnScores else { return [attended] }
        return [attended, LayerValue(Tensor(shape: [batch, queryLength, valueLength], scalars: weightsOut))]
    }

    /// The [Tq, Tv] scores of batch row `row`, before masking.
    private func rowScores(query: Tensor, key: Tensor, row: Int, scale: [Float]?, concatWeight: Float) -> [Float] {
        let (queryLength, dim, keyLength) = (query.shape[1], query.shape[2], key.shape[1])
        let queryRows = Array(query.scalars[row * queryLength * dim..<(row + 1) * queryLength * dim])
        let keyRows = Self.matrix(key, row: row)
        switch score {
        case .dot:
            // q·kᵀ by the packed product: kᵀ is [D, Tk].
            let transposed = keyRows.permutingAxes([1, 0])
            var scores = Kernels.affine(queryRows, rows: queryLength, kernel: PackedMatrix(transposed), bias: nil)
            if let factor = scale?.first { for index in scores.indices { scores[index] *= factor } }
            return scores
        case .concat, .additive:
            var scores = [Float](repeating: 0, count: queryLength * keyLength)
            let inner = score == .concat ? scale?.first ?? 1 : 1
            for i in 0..<queryLength {
                for j in 0..<keyLength {
                    var total: Float = 0
                    for d in 0..<dim {
                        let activated = Foundation.tanh(inner * (queryRows[i * dim + d] + keyRows.scalars[j * dim + d]))
                        total += score == .additive ? (scale?[d] ?? 1) * activated : activated
                    }
                    scores[i * keyLength + j] = score == .concat ? concatWeight * total : total
                }
            }
            return scores
        }
    }

    /// Batch row `row` of a [B, T, D] tensor as a [T, D] matrix.
    private static func matrix(_ tensor: Tensor, row: Int) -> Tensor {
        let size = tensor.shape[1] * tensor.shape[2]
        return Tensor(shape: [tensor.shape[1], tensor.shape[2]],
                      scalars: Array(tensor.scalars[row * size..<(row + 1) * size]))
    }
}

/// The softmax of attention scores with hidden steps, shared by the attention layers.
enum AttentionWeights {
    /// The masking bias Keras subtracts from hidden scores in float32.
    static let maskBias: Float = 1e9

    /// Softmax of a row of scores in place, 1e9 subtracted first where `hidden(j)` (j counted from
    /// the row's start) and the largest then subtracted as Keras does (a row hidden entirely ends
    /// up uniform).
    static func softmax(_ row: inout ArraySlice<Float>, hidden: (Int) -> Bool) {
        let start = row.startIndex
        for index in row.indices where hidden(index - start) { row[index] -= maskBias }
        guard let largest = row.max() else { return }
        var total: Float = 0
        for index in row.indices {
            row[index] = Foundation.exp(row[index] - largest)
            total += row[index]
        }
        for index in row.indices { row[index] /= total }
    }
}
