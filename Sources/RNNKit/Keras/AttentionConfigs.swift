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
        LayerKind.kerasCallArguments(useCausalMask: useCausalMask, returnScores: returnScores)
    }
}

/// `MultiHeadAttention`: Keras 3 and tf_keras share `num_heads`, `key_dim`, `value_dim` (null:
/// key_dim), `use_bias`, `output_shape` (an int or a list; RNNKit takes one width),
/// `attention_axes` (RNNKit attends over the sequence axis only) and `dropout`; Keras 3 adds
/// `use_gate` and `sliding_window`, tf_keras `softmax_robust_masking`, refused unless at their
/// defaults. Its tensor call arguments
/// (value, key, attention_mask) are in a node's kwargs, references in both formats
/// (`kerasInputs`).
extension MultiHeadAttention {
    init(keras config: KerasConfig) throws {
        heads = try config.dimension("num_heads")
        keyDim = try config.dimension("key_dim")
        valueDim = try config.dimension("value_dim", default: keyDim)
        useBias = try config.bool("use_bias", default: true)
        dropout = try config.double("dropout", default: 0)
        switch config.value("output_shape") {
        case nil, .null?: outputDim = nil
        case .array(let items)? where items.count != 1:
            throw config.error("output_shape", "output_shape \(items.count)-dimensional: RNNKit supports one width")
        default: outputDim = try config.size1D("output_shape")
        }
        // Axis 1 (or -2) of a rank-3 input is the sequence, Keras's default.
        switch config.value("attention_axes") {
        case nil, .null?: break
        case let value?:
            let axes = value.arrayValue ?? [value]
            guard axes.count == 1, let axis = axes[0].intValue, axis == 1 || axis == -2 else {
                throw config.error("attention_axes", "attention_axes other than the sequence axis are not supported")
            }
        }
        guard try !config.bool("use_gate", default: false) else {
            throw config.error("use_gate", "use_gate is not supported")
        }
        guard !config.has("sliding_window") else {
            throw config.error("sliding_window", "sliding_window is not supported")
        }
        guard try !config.bool("softmax_robust_masking", default: false) else {
            throw config.error("softmax_robust_masking", "softmax_robust_masking is not supported")
        }
        useCausalMask = try config.bool("use_causal_mask", default: false)
        returnScores = try config.bool("return_attention_scores", default: false)
        // Keras 3 takes its Softmax-layer path (zeroing fully hidden rows) for these two.
        zeroesHiddenRows = config.kerasMajorVersion >= 3 && (returnScores || dropout > 0)
    }

    func kerasConfig() -> JSONObject {
        JSONObject([("num_heads", .int(heads)), ("key_dim", .int(keyDim)), ("value_dim", .int(valueDim)),
                    ("dropout", .double(dropout)), ("use_bias", .bool(useBias)),
                    ("output_shape", outputDim.map { .array([.int($0)]) } ?? .null), ("attention_axes", .null)])
    }

    var kerasCallArguments: JSONObject {
        LayerKind.kerasCallArguments(useCausalMask: useCausalMask, returnScores: returnScores)
    }

    /// The tensor arguments of Keras's call in RNNKit's input order.
    static let kerasTensorArguments = ["query", "value", "key", "attention_mask"]

    /// RNNKit's inputs [query, value, key, attention_mask?] from a call's positional tensors and
    /// its named ones (tensor kwargs); the key is the value when the call has none.
    static func inputs(positional: [TensorRef], named: [(String, TensorRef)], pointer: String) throws -> [TensorRef] {
        var slots = [TensorRef?](repeating: nil, count: kerasTensorArguments.count)
        guard positional.count <= slots.count else {
            throw RNNKitError(.invalidModel, "\(className) takes at most \(slots.count) tensors", location: pointer)
        }
        for (index, reference) in positional.enumerated() { slots[index] = reference }
        for (name, reference) in named {
            guard let index = kerasTensorArguments.firstIndex(of: name), slots[index] == nil else {
                throw RNNKitError(.invalidModel, "\(className) tensor argument '\(name)' is not supported or repeated",
                                  location: pointer + "/" + name)
            }
            slots[index] = reference
        }
        guard let query = slots[0], let value = slots[1] else {
            throw RNNKitError(.invalidModel, "\(className) needs a query and a value", location: pointer)
        }
        return [query, value, slots[2] ?? value] + (slots[3].map { [$0] } ?? [])
    }
}

extension LayerKind {
    /// The non-tensor call arguments RNNKit reads from inbound nodes; Keras's others
    /// (`training`...) do not change inference.
    static let kerasCallArgumentKeys: Set<String> = ["use_causal_mask", "return_attention_scores"]

    /// The attention layers' call arguments that differ from Keras's defaults, as a node's kwargs
    /// hold them.
    static func kerasCallArguments(useCausalMask: Bool, returnScores: Bool) -> JSONObject {
        var object = JSONObject()
        if useCausalMask { object["use_causal_mask"] = true }
        if returnScores { object["return_attention_scores"] = true }
        return object
    }

    /// The call arguments a node of this layer carries in Keras.
    var kerasCallArguments: JSONObject {
        if case .attention(let layer) = self { return layer.kerasCallArguments }
        if case .multiHeadAttention(let layer) = self { return layer.kerasCallArguments }
        return JSONObject()
    }
}
