import Foundation

/// Attention, AdditiveAttention and MultiHeadAttention as MatMul, Softmax and element-wise
/// operators, computing what `DenseAttention` and `MultiHeadAttention` compute: hidden steps
/// (the causal mask, MultiHeadAttention's attention_mask input) have 1e9 subtracted from their
/// scores before the softmax, as Keras does in float32. Keras's implicit masks (Masking, Embedding
/// mask_zero, riding along as `ONNXValue.mask`) hide value (and key) steps the same way and query
/// steps as the runtime does: Attention zeroes their outputs, MultiHeadAttention hides their rows;
/// the output keeps the query's mask.
extension ONNXGraphBuilder {
    /// Attention (dot or concat scores) and AdditiveAttention on [query, value(, key)]; returns
    /// the output and, with `return_attention_scores`, the softmax weights.
    mutating func attention(_ name: String, _ attention: DenseAttention, kind: LayerKind, inputs: [ONNXValue],
                            weights: [String: Tensor]) throws -> [ONNXValue] {
        let tensors = try initializer(name, kind: kind, weights: weights)
        let (query, value) = (inputs[0].name, inputs[1].name)
        let key = inputs.count == 3 ? inputs[2].name : value
        var scores: String
        switch attention.score {
        case .dot:
            scores = node("MatMul", [query, node("Transpose", [key], attributes: [.ints("perm", [0, 2, 1])])])
            if let scale = tensors["scale"] { scores = node("Mul", [scores, scale]) }
        case .concat, .additive:
            // query [B, Tq, 1, D] + key [B, 1, Tv, D], through tanh, summed over D; concat scales
            // inside the tanh, additive (a scale per feature) outside.
            var sum = node("Add", [node("Unsqueeze", [query, ints([2])]), node("Unsqueeze", [key, ints([1])])])
            if attention.score == .concat, let scale = tensors["scale"] { sum = node("Mul", [sum, scale]) }
            var activated = node("Tanh", [sum])
            if attention.score == .additive, let scale = tensors["scale"] { activated = node("Mul", [activated, scale]) }
            scores = node("ReduceSum", [activated, ints([-1])], attributes: [.int("keepdims", 0)])
            if let weight = tensors["concat_score_weight"] { scores = node("Mul", [scores, weight]) }
        }
        // Keras's Attention reads the query's and the value's masks only.
        var hidden: [String] = []
        if let valueMask = inputs[1].mask { hidden.append(hiddenSteps(valueMask, axes: [1])) }
        if attention.useCausalMask { hidden.append(causalHidden(query: query, value: value)) }
        if let first = hidden.first { scores = hide(scores, where: hidden.dropFirst().reduce(first) { node("Max", [$0, $1]) }) }
        let attentionWeights = node("Softmax", [scores], attributes: [.int("axis", -1)])
        var output = node("MatMul", [attentionWeights, value])
        if let queryMask = inputs[0].mask {
            output = node("Mul", [output, node("Sub", [scalar(1), hiddenSteps(queryMask, axes: [-1])])])
        }
        let attended = ONNXValue(name: output, mask: inputs[0].mask)
        return attention.returnScores ? [attended, ONNXValue(name: attentionWeights)] : [attended]
    }

    /// MultiHeadAttention on [query, value, key(, attention_mask)]; returns the output and, with
    /// `return_attention_scores`, the weights [B, heads, Tq, Tv].
    mutating func multiHeadAttention(_ name: String, _ attention: MultiHeadAttention, kind: LayerKind,
                                     inputs: [ONNXValue], weights: [String: Tensor]) throws -> [ONNXValue] {
        let tensors = try initializer(name, kind: kind, weights: weights)
        let heads = Int64(attention.heads), (keyDim, valueDim) = (Int64(attention.keyDim), Int64(attention.valueDim))
        let query = headProjection(inputs[0].name, tensors, "query", heads: heads, width: keyDim)
        let value = headProjection(inputs[1].name, tensors, "value", heads: heads, width: valueDim)
        let key = headProjection(inputs[2].name, tensors, "key", heads: heads, width: keyDim)
        var scores = node("MatMul", [query, node("Transpose", [key], attributes: [.ints("perm", [0, 1, 3, 2])])])
        scores = node("Mul", [scores, scalar(1 / Float(attention.keyDim).squareRoot())])
        var hidden: [String] = []
        if inputs.count == 4 {
            // attention_mask [B, Tq, Tv] (float, as every input but Embedding's): zero hides; the
            // same for every head.
            let zero = asFloat(node("Equal", [inputs[3].name, scalar(0)]))
            hidden.append(node("Unsqueeze", [zero, ints([1])]))
        }
        if attention.useCausalMask { hidden.append(causalHidden(query: inputs[0].name, value: inputs[1].name)) }
        // The query's mask hides whole rows [B, 1, Tq, 1]; the value's and key's, columns [B, 1, 1, Tv].
        if let queryMask = inputs[0].mask { hidden.append(hiddenSteps(queryMask, axes: [1, 3])) }
        for columnMask in inputs[1...2].compactMap(\.mask) { hidden.append(hiddenSteps(columnMask, axes: [1, 2])) }
        var attentionWeights: String
        if let first = hidden.first {
            let allHidden = hidden.dropFirst().reduce(first) { node("Max", [$0, $1]) }
            attentionWeights = node("Softmax", [hide(scores, where: allHidden)], attributes: [.int("axis", -1)])
            if attention.zeroesHiddenRows {
                // A query step that sees no value step gets zero weights rather than uniform ones.
                let rowHidden = reduce("ReduceMin", allHidden, axes: [-1], keepDims: true)
                attentionWeights = node("Mul", [attentionWeights, node("Sub", [scalar(1), rowHidden])])
            }
        } else {
            attentionWeights = node("Softmax", [scores], attributes: [.int("axis", -1)])
        }
        // The heads' weighted values side by side [B, Tq, heads·value_dim], then the output kernel.
        let context = node("Reshape", [node("Transpose", [node("MatMul", [attentionWeights, value])],
                                            attributes: [.ints("perm", [0, 2, 1, 3])]),
                                       ints([0, 0, heads * valueDim])])
        let kernel = node("Reshape", [tensors["attention_output/kernel"]!, ints([heads * valueDim, -1])])
        var output = node("MatMul", [context, kernel])
        if let bias = tensors["attention_output/bias"] { output = node("Add", [output, bias]) }
        let attended = ONNXValue(name: output, mask: inputs[0].mask)
        return attention.returnScores ? [attended, ONNXValue(name: attentionWeights)] : [attended]
    }

    /// The projection of `x` [B, T, D] by the einsum kernel `<prefix>/kernel` [D, heads, width]
    /// (seen as [D, heads·width]) plus its bias, as [B, heads, T, width].
    private mutating func headProjection(_ x: String, _ tensors: [String: String], _ prefix: String,
                                         heads: Int64, width: Int64) -> String {
        let kernel = node("Reshape", [tensors[prefix + "/kernel"]!, ints([-1, heads * width])])
        var projected = node("MatMul", [x, kernel])
        if let bias = tensors[prefix + "/bias"] {
            projected = node("Add", [projected, node("Reshape", [bias, ints([-1])])])
        }
        return node("Transpose", [node("Reshape", [projected, ints([0, 0, heads, width])])],
                    attributes: [.ints("perm", [0, 2, 1, 3])])
    }

    /// The causal mask as [Tq, Tv] floats, 1 where value step j is after query step i (the
    /// lengths read at run time, either may be dynamic).
    private mutating func causalHidden(query: String, value: String) -> String {
        let rows = node("Unsqueeze", [steps(of: query), ints([1])])
        let columns = node("Unsqueeze", [steps(of: value), ints([0])])
        return asFloat(node("Greater", [columns, rows]))
    }

    /// 0, 1, ..., T - 1 for the steps (axis 1) of `x`.
    private mutating func steps(of x: String) -> String {
        let length = node("Gather", [node("Shape", [x]), node("Constant", [], attributes: [.int("value_int", 1)])])
        return node("Range", [node("Constant", [], attributes: [.int("value_int", 0)]), length,
                              node("Constant", [], attributes: [.int("value_int", 1)])])
    }

    /// `scores` with 1e9 subtracted where `hidden` (floats, 1 or 0, broadcast) is 1.
    private mutating func hide(_ scores: String, where hidden: String) -> String {
        node("Sub", [scores, node("Mul", [hidden, scalar(AttentionWeights.maskBias)])])
    }

    /// A Keras mask [B, T] (true: kept) as floats, 1 where a step is hidden, with size-1 `axes`
    /// inserted to broadcast against the scores.
    private mutating func hiddenSteps(_ mask: String, axes: [Int64]) -> String {
        node("Unsqueeze", [asFloat(node("Not", [mask])), ints(axes)])
    }
}
