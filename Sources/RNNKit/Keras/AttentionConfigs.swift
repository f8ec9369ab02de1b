/// Keras's attention layers' configs, and the call arguments Keras keeps in inbound nodes.
///
/// Keras 3 and tf_keras agree on the config keys (`use_scale`, `score_mode`, `dropout`); tf_keras
/// also reads a deprecated `causal` key (before TF 2.10 causality was a config option), which
/// RNNKit reads as `use_causal_mask`. `use_causal_mask` and `return_attention_scores` are call
/// arguments: Keras 3 writes them in a node's `kwargs`, tf_keras in the kwargs of every
/// `[layer, node, index, kwargs]` entry of the node. The functional config parser folds them
/// into the layer's config object before it is decoded (RNNKit JSON writes them there).
///
/// Keras 3 quirks: its legacy `.h5` loader reads `score_mode: "dot"` as the function
/// `keras.ops.dot` and refuses the model, so the writers leave that default out; and Keras 3.15
/// saves the masks of a functional model as op nodes (NotEqual, Any, ConvertToTensor after an
/// attention layer whose mask is consumed) rather than leaving them implicit as tf_keras does.
extension DenseAttention {
    init(keras config: KerasConfig, additive: Bool) throws {
        score = additive ? .additive : try config.choice("score_mode", default: Score.dot, allowed: [.dot, .concat])
        useScale = try config.bool("use_scale", default: additive)
        dropout = try config.double("dropout", default: 0)
        useCausalMask = try config.bool("use_causal_mask", default: config.bool("causal", default: false))
        returnScores = try config.bool("return_attention_scores", default: false)
    }

    func kerasConfig() -> JSONObject {
        var object = JSONObject([("use_scale", .bool(useScale))])
        // "dot", the default, is left out: Keras 3's legacy .h5 loader deserializes the string
        // as the function keras.ops.dot and refuses the model, even one Keras 3 saved itself.
        if score == .concat { object["score_mode"] = .string(score.rawValue) }
        object["dropout"] = .double(dropout)
        return object
    }

    /// The call arguments that differ from Keras's defaults, as a node's kwargs hold them.
    var kerasCallArguments: JSONObject {
        var object = JSONObject()
        if useCausalMask { object["use_causal_mask"] = true }
        if returnScores { object["return_attention_scores"] = true }
        return object
    }
}

extension LayerKind {
    /// The non-tensor call arguments RNNKit reads from inbound nodes; Keras's others
    /// (`training`...) do not change inference.
    static let kerasCallArgumentKeys: Set<String> = ["use_causal_mask", "return_attention_scores"]

    /// The call arguments a node of this layer carries in Keras.
    var kerasCallArguments: JSONObject {
        if case .attention(let layer) = self { return layer.kerasCallArguments }
        return JSONObject()
    }
}
