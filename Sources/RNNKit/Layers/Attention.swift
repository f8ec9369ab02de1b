import Foundation
internal import CRNNKitKernels

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
        let depth = query.shape[2], concatWeight = weights["concat_score_weight"]?.scalars.first ?? 1
        let scoresPerRow = queryLength * valueLength, perRow = scoresPerRow * (depth + valueDim)
        var weightsOut: [Float] = []
        let output = withStorage(query.scalars) { q in withStorage(key.scalars) { k in withStorage(value.scalars) { v in
            filledArray(count: batch * queryLength * valueDim) { o in
                weightsOut = filledArray(count: returnScores ? scoreCount : 0) { w in
                    // Each batch row reads and writes only its own rows of these.
                    nonisolated(unsafe) let (q, k, v, w, o) = (q, k, v, w, o)
                    RNNKitRuntime.forEachShare(of: batch, multiplyAddsPerItem: perRow) { rows in
                        // The weights of a row, where they are not an output.
                        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: returnScores ? 0 : scoresPerRow)
                        defer { scratch.deallocate() }
                        for row in rows {
                            let rowScores = returnScores ? w + row * scoresPerRow : scratch
                            let context = o + row * queryLength * valueDim
                            scores(query: q + row * queryLength * depth, key: k + row * valueLength * depth,
                                   queryLength: queryLength, keyLength: valueLength, depth: depth, scale: scale,
                                   concatWeight: concatWeight, into: rowScores)
                            let hidden: ((Int, Int) -> Bool)? = valueMask == nil && !useCausalMask ? nil : { i, j in
                                valueMask.map { !$0[row * valueLength + j] } == true || (useCausalMask && j > i)
                            }
                            AttentionWeights.softmax(rowScores, rows: queryLength, length: valueLength, hidden: hidden)
                            AttentionWeights.weigh(rowScores, rows: queryLength, length: valueLength,
                                                   value: v + row * valueLength * valueDim, valueStride: valueDim,
                                                   width: valueDim, into: context, contextStride: valueDim)
                            for i in 0..<queryLength where queryMask.map({ !$0[row * queryLength + i] }) == true {
                                (context + i * valueDim).update(repeating: 0, count: valueDim)
                            }
                        }
                    }
                }
            }
        }}}
        let attended = LayerValue(Tensor(shape: [batch, queryLength, valueDim], scalars: output), mask: queryMask)
        guard returnScores else { return [attended] }
        return [attended, LayerValue(Tensor(shape: [batch, queryLength, valueLength], scalars: weightsOut))]
    }

    /// The [Tq, Tk] scores of one batch row, before masking, into `scores`: query [Tq, D] and
    /// key [Tk, D].
    private func scores(query: UnsafePointer<Float>, key: UnsafePointer<Float>, queryLength: Int, keyLength: Int,
                        depth: Int, scale: [Float]?, concatWeight: Float, into scores: UnsafeMutablePointer<Float>) {
        switch score {
        case .dot:
            AttentionWeights.dotScores(query: query, queryStride: depth, queryLength: queryLength, key: key,
                                       keyStride: depth, keyLength: keyLength, depth: depth, scale: scale?.first,
                                       into: scores)
        case .concat, .additive:
            let inner = score == .concat ? scale?.first ?? 1 : 1
            for i in 0..<queryLength {
                for j in 0..<keyLength {
                    var total: Float = 0
                    for d in 0..<depth {
                        let activated = Foundation.tanh(inner * (query[i * depth + d] + key[j * depth + d]))
                        total += score == .additive ? (scale?[d] ?? 1) * activated : activated
                    }
                    scores[i * keyLength + j] = score == .concat ? concatWeight * total : total
                }
            }
        }
    }
}

/// The steps of an attention that both attention layers share, on one batch row (and head) of
/// their operands, read where they lie (row pointers and strides) and run on the calling thread.
enum AttentionWeights {
    /// The masking bias Keras subtracts from hidden scores in float32.
    static let maskBias: Float = 1e9

    /// (scale ·) q·kᵀ into `scores` [Tq, Tk]: query [Tq, D] and key [Tk, D], their rows
    /// `queryStride` and `keyStride` apart.
    static func dotScores(query: UnsafePointer<Float>, queryStride: Int, queryLength: Int, key: UnsafePointer<Float>,
                          keyStride: Int, keyLength: Int, depth: Int, scale: Float?,
                          into scores: UnsafeMutablePointer<Float>) {
        let keys = PackedMatrix(key, rows: depth, columns: keyLength, rowStride: keyStride, transposed: true)
        Kernels.gemm(m: queryLength, a: query, lda: queryStride, b: keys, c: scores, ldc: keyLength, accumulate: false,
                     threads: 1)
        if let scale { for index in 0..<queryLength * keyLength { scores[index] *= scale } }
    }

    /// The softmax of each row of `scores` [rows, length] in place, 1e9 subtracted first where
    /// `hidden(row, j)` and the largest then subtracted, as Keras does (a row hidden entirely
    /// ends up uniform). Returns the rows hidden entirely.
    @discardableResult
    static func softmax(_ scores: UnsafeMutablePointer<Float>, rows: Int, length: Int,
                        hidden: ((Int, Int) -> Bool)?) -> [Int] {
        var hiddenRows: [Int] = []
        if let hidden {
            for i in 0..<rows {
                var visible = false
                for j in 0..<length {
                    if hidden(i, j) { scores[i * length + j] -= maskBias } else { visible = true }
                }
                if !visible { hiddenRows.append(i) }
            }
        }
        rnnkit_softmax(scores, rows, length)
        return hiddenRows
    }

    /// weights [rows, length] · value [length, width] (rows `valueStride` apart) into `context`,
    /// rows `contextStride` apart.
    static func weigh(_ weights: UnsafePointer<Float>, rows: Int, length: Int, value: UnsafePointer<Float>,
                      valueStride: Int, width: Int, into context: UnsafeMutablePointer<Float>, contextStride: Int) {
        let values = PackedMatrix(value, rows: length, columns: width, rowStride: valueStride)
        Kernels.gemm(m: rows, a: weights, lda: length, b: values, c: context, ldc: contextStride, accumulate: false,
                     threads: 1)
    }
}
