/// Keras layer configs, both ways: decoding a `{"class_name", "config"}` pair into a `Layer`
/// (validating every field that changes the maths, each error located by its JSON pointer), and
/// the `config` object that re-creates a layer (name, trainable and dtype are the writer's).
extension LayerKind {
    /// Decodes a layer config, or throws naming the unknown class.
    init(kerasClass className: String, config: KerasConfig) throws {
        switch className {
        case "InputLayer": self = .input(try InputLayer(keras: config))
        case "SimpleRNN": self = .recurrent(try RecurrentLayer(keras: config, cell: .simpleRNN))
        case "LSTM":
            let unitForgetBias = try config.bool("unit_forget_bias", default: true)
            self = .recurrent(try RecurrentLayer(keras: config, cell: .lstm(unitForgetBias: unitForgetBias)))
        case "GRU":
            // A config without the key predates Keras 2.1.5, where the reset was applied before.
            let resetAfter = try config.bool("reset_after", default: false)
            self = .recurrent(try RecurrentLayer(keras: config, cell: .gru(resetAfter: resetAfter)))
        case "Bidirectional": self = .bidirectional(try Bidirectional(keras: config))
        case "Dense": self = .dense(try Dense(keras: config))
        case "Embedding":
            self = .embedding(Embedding(inputDim: try config.dimension("input_dim"),
                                        outputDim: try config.dimension("output_dim"),
                                        maskZero: try config.bool("mask_zero", default: false)))
        case "TimeDistributed": self = .timeDistributed(try TimeDistributed(keras: config))
        case "Masking": self = .masking(Masking(maskValue: Float(try config.double("mask_value", default: 0))))
        case "Dropout": self = .dropout(InferenceIdentity(parameter: try config.double("rate", default: 0)))
        case "SpatialDropout1D":
            self = .spatialDropout1D(InferenceIdentity(parameter: try config.double("rate", default: 0)))
        case "GaussianNoise":
            self = .gaussianNoise(InferenceIdentity(parameter: try config.double("stddev", default: 0)))
        case "Activation":
            self = .activation(ActivationLayer(activation: try config.activation("activation", default: "linear")))
        case "RepeatVector": self = .repeatVector(RepeatVector(count: try config.dimension("n")))
        case "Flatten":
            try config.requireChannelsLast(className)
            self = .flatten
        case "Concatenate": self = .concatenate(Concatenate(axis: try config.int("axis", default: -1)))
        case "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum":
            self = .merge(ElementwiseMerge(rawValue: className)!)
        case "ReLU": self = .relu(try ReLULayer(keras: config))
        case "LeakyReLU":
            // Keras 3 writes negative_slope; Keras 2 and tf_keras alpha.
            let key = config.has("negative_slope") || !config.has("alpha") ? "negative_slope" : "alpha"
            self = .leakyReLU(LeakyReLULayer(negativeSlope: try config.double(key, default: 0.3)))
        case "ELU": self = .elu(ELULayer(alpha: try config.double("alpha", default: 1)))
        case "Softmax":
            let axes = try config.axes("axis", default: -1)
            guard axes.count == 1 else { throw config.error("axis", "Softmax over several axes \(axes) is not supported") }
            self = .softmax(SoftmaxLayer(axis: axes[0]))
        case "Reshape": self = .reshape(try Reshape(keras: config))
        case "Permute": self = .permute(try Permute(keras: config))
        case "ZeroPadding1D":
            try config.requireChannelsLast(className)
            let (before, after) = try config.pair("padding", default: 1)
            self = .timeResampling(TimeResampling(operation: .zeroPadding(before: before, after: after)))
        case "Cropping1D":
            let (before, after) = try config.pair("cropping", default: 1)
            self = .timeResampling(TimeResampling(operation: .cropping(before: before, after: after)))
        case "UpSampling1D":
            self = .timeResampling(TimeResampling(operation: .upSampling(size: try config.dimension("size", default: 2))))
        case "GlobalAveragePooling1D": self = .globalAveragePooling1D(try GlobalPooling1D(keras: config, className))
        case "GlobalMaxPooling1D": self = .globalMaxPooling1D(try GlobalPooling1D(keras: config, className))
        case "Conv1D": self = .conv1D(try Conv1D(keras: config))
        case "MaxPooling1D": self = .maxPooling1D(try Pooling1D(keras: config, className))
        case "AveragePooling1D": self = .averagePooling1D(try Pooling1D(keras: config, className))
        case "BatchNormalization": self = .batchNormalization(try BatchNormalization(keras: config))
        case "LayerNormalization": self = .layerNormalization(try LayerNormalization(keras: config))
        case "Attention": self = .attention(try DenseAttention(keras: config, additive: false))
        case "AdditiveAttention": self = .attention(try DenseAttention(keras: config, additive: true))
        case "MultiHeadAttention": self = .multiHeadAttention(try MultiHeadAttention(keras: config))
        default:
            throw RNNKitError(.invalidModel, Self.unsupportedClassMessage(className), location: config.pointer)
        }
    }

    /// Why `className` is refused, in one sentence that says what to do when the layer is Python
    /// code (Lambda, TensorFlow operations tf_keras saves as layers) or a custom class registered
    /// in Python (Keras 3's `registered_name` "package>Class", or a module outside Keras).
    static func unsupportedClassMessage(_ className: String, registeredName: String? = nil,
                                        module: String? = nil) -> String {
        let refusal = "unsupported layer class '\(className)'"
        let advice = "replace it by built-in layers (Activation, Reshape, Permute, Add, Multiply...) and save the model again"
        if ["Lambda", "TFOpLambda", "SlicingOpLambda"].contains(className) {
            return refusal + ": it runs Python code saved with the model, which RNNKit cannot run; " + advice
        }
        let custom = className.contains(">") || registeredName.map { $0.contains(">") } == true
            || module.map { !$0.hasPrefix("keras") } == true
        if custom {
            let registered = registeredName.map { $0 == className ? "" : " (registered as '\($0)')" } ?? ""
            return refusal + registered + ": a custom class that only its own Python code defines; " + advice
        }
        return refusal
    }

    /// Whether `className` names a kind RNNKit decodes.
    static func isKnownKerasClass(_ className: String) -> Bool {
        kerasClassNames.contains(className)
    }

    /// The Keras classes `init(kerasClass:config:)` decodes (the RNNKit JSON schema lists them too).
    static let kerasClassNames: Set<String> = [
        "InputLayer", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "Dense", "Embedding", "TimeDistributed",
        "Masking", "Dropout", "SpatialDropout1D", "GaussianNoise", "Activation", "RepeatVector", "Flatten",
        "Concatenate", "Add", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "Conv1D", "MaxPooling1D",
        "AveragePooling1D", "BatchNormalization", "LayerNormalization",
        "Subtract", "Multiply", "Average", "Maximum", "Minimum", "ReLU", "LeakyReLU", "ELU", "Softmax", "Reshape",
        "Permute", "ZeroPadding1D", "Cropping1D", "UpSampling1D",
        "Attention", "AdditiveAttention",
        "MultiHeadAttention",
    ]

    /// The class-specific keys of the Keras `config` that re-creates this layer, in Keras's
    /// vocabulary. Wrapped layers (Bidirectional, TimeDistributed) are spelled here in the plain
    /// `{"class_name", "config"}` form; the Keras writers respell them for their Keras version.
    func kerasConfig() -> JSONObject {
        switch self {
        case .input(let layer):
            return JSONObject([("batch_shape", shapeJSON(layer.batchShape)), ("dtype", .string(layer.dtype))])
        case .recurrent(let layer): return layer.kerasConfig()
        case .bidirectional(let layer):
            func wrapped(_ layer: RecurrentLayer) -> JSONValue {
                ["class_name": .string(layer.cell.className), "config": .object(layer.kerasConfig())]
            }
            return JSONObject([
                ("merge_mode", layer.mergeMode.map { .string($0.rawValue) } ?? .null),
                ("layer", wrapped(layer.forward)),
                ("backward_layer", wrapped(layer.backward)),
            ])
        case .dense(let layer): return layer.kerasConfig()
        case .embedding(let layer):
            return JSONObject([("input_dim", .int(layer.inputDim)), ("output_dim", .int(layer.outputDim)),
                               ("mask_zero", .bool(layer.maskZero))])
        case .timeDistributed(let layer):
            return JSONObject([("layer", ["class_name": "Dense", "config": .object(layer.inner.kerasConfig())])])
        case .masking(let layer): return JSONObject([("mask_value", .float(layer.maskValue))])
        case .dropout(let layer), .spatialDropout1D(let layer): return JSONObject([("rate", .double(layer.parameter))])
        case .gaussianNoise(let layer): return JSONObject([("stddev", .double(layer.parameter))])
        case .activation(let layer): return JSONObject([("activation", .string(layer.activation.kerasName))])
        case .repeatVector(let layer): return JSONObject([("n", .int(layer.count))])
        case .flatten: return JSONObject([("data_format", "channels_last")])
        case .concatenate(let layer): return JSONObject([("axis", .int(layer.axis))])
        case .merge: return JSONObject()
        case .relu(let layer):
            return JSONObject([("max_value", layer.maxValue.map(JSONValue.double) ?? .null),
                               ("negative_slope", .double(layer.negativeSlope)), ("threshold", .double(layer.threshold))])
        case .leakyReLU(let layer): return JSONObject([("negative_slope", .double(layer.negativeSlope))])
        case .elu(let layer): return JSONObject([("alpha", .double(layer.alpha))])
        case .softmax(let layer): return JSONObject([("axis", .int(layer.axis))])
        case .reshape(let layer): return JSONObject([("target_shape", .array(layer.targetShape.map(JSONValue.int)))])
        case .permute(let layer): return JSONObject([("dims", .array(layer.dims.map(JSONValue.int)))])
        case .timeResampling(let layer):
            switch layer.operation {
            case .zeroPadding(let before, let after): return JSONObject([("padding", [.int(before), .int(after)])])
            case .cropping(let before, let after): return JSONObject([("cropping", [.int(before), .int(after)])])
            case .upSampling(let size): return JSONObject([("size", .int(size))])
            }
        case .globalAveragePooling1D(let layer), .globalMaxPooling1D(let layer):
            return JSONObject([("data_format", "channels_last"), ("keepdims", .bool(layer.keepDims))])
        case .conv1D(let layer): return layer.kerasConfig()
        case .maxPooling1D(let layer), .averagePooling1D(let layer): return layer.kerasConfig()
        case .batchNormalization(let layer): return layer.kerasConfig()
        case .layerNormalization(let layer): return layer.kerasConfig()
        case .attention(let layer): return layer.kerasConfig()
        case .multiHeadAttention(let layer): return layer.kerasConfig()
        }
    }

    /// Every activation the layer applies, as decoded (hard_sigmoid keeps its Keras version).
    var activations: [Activation] {
        switch self {
        case .recurrent(let layer): layer.activations
        case .bidirectional(let layer): layer.forward.activations + layer.backward.activations
        case .dense(let layer): [layer.activation]
        case .timeDistributed(let layer): [layer.inner.activation]
        case .activation(let layer): [layer.activation]
        case .conv1D(let layer): [layer.activation]
        case .input, .embedding, .masking, .dropout, .spatialDropout1D, .gaussianNoise, .repeatVector, .flatten,
             .concatenate, .merge, .globalAveragePooling1D, .globalMaxPooling1D, .maxPooling1D, .averagePooling1D,
             .batchNormalization, .layerNormalization, .relu, .leakyReLU, .elu, .softmax, .reshape, .permute, .timeResampling,
             .attention,
             .multiHeadAttention: []
        }
    }
}

extension InputLayer {
    init(keras config: KerasConfig) throws {
        // Keras 3 writes batch_shape; Keras 2 batch_input_shape.
        guard let shape = try config.shape("batch_shape") ?? config.shape("batch_input_shape") else {
            throw config.error("batch_shape", "InputLayer has no batch_shape")
        }
        guard !shape.isEmpty else { throw config.error("batch_shape", "InputLayer shape is empty") }
        batchShape = shape
        if case .object(let policy)? = config.value("dtype") {  // a Keras 3 DTypePolicy
            dtype = try KerasConfig(object: policy, pointer: config.path("dtype"),
                                    kerasMajorVersion: config.kerasMajorVersion)
                .nested("config")?.string("name", default: "float32") ?? "float32"
        } else {
            dtype = try config.string("dtype", default: "float32")
        }
    }
}

extension RecurrentLayer {
    init(keras config: KerasConfig, cell: Cell) throws {
        self.cell = cell
        let hasGates = cell.gateCount > 1
        options = RecurrentOptions(
            units: try config.dimension("units"),
            activation: try config.activation("activation", default: "tanh"),
            recurrentActivation: hasGates ? try config.activation("recurrent_activation", default: "sigmoid") : .sigmoid,
            useBias: try config.bool("use_bias", default: true),
            returnSequences: try config.bool("return_sequences", default: false),
            returnState: try config.bool("return_state", default: false),
            goBackwards: try config.bool("go_backwards", default: false),
            stateful: try config.bool("stateful", default: false),
            unroll: try config.bool("unroll", default: false),
            zeroOutputForMask: try config.bool("zero_output_for_mask", default: false),
            dropout: try config.double("dropout", default: 0),
            recurrentDropout: try config.double("recurrent_dropout", default: 0))
        if try config.bool("time_major", default: false) {
            throw config.error("time_major", "time_major=true is not supported (batch-major inputs only)")
        }
        for (key, activation) in [("activation", options.activation), ("recurrent_activation", options.recurrentActivation)]
        where activation == .softmax {
            throw config.error(key, "softmax is not an element-wise activation")
        }
    }

    func kerasConfig() -> JSONObject {
        var object = JSONObject()
        object["units"] = .int(options.units)
        object["activation"] = .string(options.activation.kerasName)
        switch cell {
        case .simpleRNN: break
        case .lstm, .gru: object["recurrent_activation"] = .string(options.recurrentActivation.kerasName)
        }
        object["use_bias"] = .bool(options.useBias)
        object["return_sequences"] = .bool(options.returnSequences)
        object["return_state"] = .bool(options.returnState)
        object["go_backwards"] = .bool(options.goBackwards)
        object["stateful"] = .bool(options.stateful)
        object["unroll"] = .bool(options.unroll)
        object["zero_output_for_mask"] = .bool(options.zeroOutputForMask)
        object["dropout"] = .double(options.dropout)
        object["recurrent_dropout"] = .double(options.recurrentDropout)
        switch cell {
        case .simpleRNN: break
        case .lstm(let unitForgetBias): object["unit_forget_bias"] = .bool(unitForgetBias)
        case .gru(let resetAfter): object["reset_after"] = .bool(resetAfter)
        }
        return object
    }
}

extension Bidirectional {
    init(keras config: KerasConfig) throws {
        switch config.value("merge_mode") {
        case nil, .null?: mergeMode = nil
        case .string(let name)?:
            guard let mode = MergeMode(rawValue: name) else {
                throw config.error("merge_mode",
                                   "invalid merge mode '\(name)', expected one of concat, sum, mul, ave, None")
            }
            mergeMode = mode
        default: throw config.error("merge_mode", "merge_mode is not a string")
        }
        guard let wrapped = try config.nestedLayer("layer") else {
            throw config.error("layer", "Bidirectional needs a 'layer'")
        }
        forward = try Self.recurrent(wrapped.className, wrapped.config)
        // tf.keras stores the original layer and derives the backward copy; Keras 3 stores both.
        if let explicit = try config.nestedLayer("backward_layer") {
            backward = try Self.recurrent(explicit.className, explicit.config)
        } else {
            backward = forward
            backward.options.goBackwards.toggle()
        }
        guard forward.options.goBackwards != backward.options.goBackwards else {
            throw config.error("backward_layer", "forward and backward layers must differ in go_backwards")
        }
        guard forward.cell.className == backward.cell.className,
              forward.options.units == backward.options.units,
              forward.options.returnSequences == backward.options.returnSequences,
              forward.options.returnState == backward.options.returnState
        else {
            throw config.error("backward_layer", "backward layer does not mirror the forward layer")
        }
    }

    private static func recurrent(_ className: String, _ config: KerasConfig) throws -> RecurrentLayer {
        guard case .recurrent(let layer) = try LayerKind(kerasClass: className, config: config) else {
            throw RNNKitError(.invalidModel, "Bidirectional wraps '\(className)', expected SimpleRNN, LSTM or GRU",
                              location: config.pointer)
        }
        return layer
    }
}

extension Dense {
    init(keras config: KerasConfig) throws {
        units = try config.dimension("units")
        activation = try config.activation("activation", default: "linear")
        useBias = try config.bool("use_bias", default: true)
    }

    func kerasConfig() -> JSONObject {
        JSONObject([("units", .int(units)), ("activation", .string(activation.kerasName)),
                    ("use_bias", .bool(useBias))])
    }
}

extension TimeDistributed {
    init(keras config: KerasConfig) throws {
        guard let wrapped = try config.nestedLayer("layer") else {
            throw config.error("layer", "TimeDistributed needs a 'layer'")
        }
        guard wrapped.className == "Dense" else {
            throw config.error("layer", "TimeDistributed of '\(wrapped.className)' is not supported (Dense only)")
        }
        inner = try Dense(keras: wrapped.config)
    }
}

extension GlobalPooling1D {
    init(keras config: KerasConfig, _ className: String) throws {
        try config.requireChannelsLast(className)
        keepDims = try config.bool("keepdims", default: false)
    }
}

extension Conv1D {
    init(keras config: KerasConfig) throws {
        try config.requireChannelsLast("Conv1D")
        filters = try config.dimension("filters")
        window = Window1D(size: try config.size1D("kernel_size"), stride: try config.size1D("strides", default: 1),
                          dilation: try config.size1D("dilation_rate", default: 1),
                          padding: try config.choice("padding", default: Padding1D.valid, allowed: [.valid, .same, .causal]))
        groups = try config.dimension("groups", default: 1)
        guard filters % groups == 0 else {
            throw config.error("groups", "filters (\(filters)) must be divisible by groups (\(groups))")
        }
        activation = try config.activation("activation", default: "linear")
        useBias = try config.bool("use_bias", default: true)
    }

    func kerasConfig() -> JSONObject {
        JSONObject([("filters", .int(filters)), ("kernel_size", [.int(window.size)]), ("strides", [.int(window.stride)]),
                    ("padding", .string(window.padding.rawValue)), ("data_format", "channels_last"),
                    ("dilation_rate", [.int(window.dilation)]), ("groups", .int(groups)),
                    ("activation", .string(activation.kerasName)), ("use_bias", .bool(useBias))])
    }
}

extension Pooling1D {
    /// `strides` defaults to (and, as null, means) `pool_size`.
    init(keras config: KerasConfig, _ className: String) throws {
        try config.requireChannelsLast(className)
        let size = try config.size1D("pool_size", default: 2)
        window = Window1D(size: size, stride: try config.size1D("strides", default: size),
                          padding: try config.choice("padding", default: Padding1D.valid, allowed: [.valid, .same]))
    }

    func kerasConfig() -> JSONObject {
        JSONObject([("pool_size", [.int(window.size)]), ("strides", [.int(window.stride)]),
                    ("padding", .string(window.padding.rawValue)), ("data_format", "channels_last")])
    }
}

extension KerasConfig {
    /// `axis` as Keras writes it: an integer, or (tf_keras, after building) a list of them.
    func axes(_ key: String, default defaultValue: Int) throws -> [Int] {
        guard case .array(let items)? = value(key) else { return [try int(key, default: defaultValue)] }
        guard !items.isEmpty else { throw error(key, "'\(key)' is an empty list") }
        return try items.enumerated().map { index, item in
            guard let axis = item.intValue else { throw error(key + "/\(index)", "axis is not an integer") }
            return axis
        }
    }

    /// A pair of step counts such as ZeroPadding1D's `padding`: one integer for both ends, or
    /// `[before, after]`; each from 0 to `maximumDimension`.
    func pair(_ key: String, default defaultValue: Int) throws -> (Int, Int) {
        let items = try axes(key, default: defaultValue)
        guard items.count <= 2, items.allSatisfy({ (0...maximumDimension).contains($0) }) else {
            throw error(key, "'\(key)' must be one or two counts from 0 to \(maximumDimension), got \(items)")
        }
        return (items[0], items.count == 2 ? items[1] : items[0])
    }

    /// A normalization's `epsilon`: positive and finite.
    func epsilon(default defaultValue: Double) throws -> Double {
        let epsilon = try double("epsilon", default: defaultValue)
        guard epsilon > 0, epsilon.isFinite else { throw error("epsilon", "'epsilon' must be positive, got \(epsilon)") }
        return epsilon
    }
}

extension BatchNormalization {
    init(keras config: KerasConfig) throws {
        let axes = try config.axes("axis", default: -1)
        guard axes.count == 1 else {
            throw config.error("axis", "BatchNormalization over several axes \(axes) is not supported")
        }
        axis = axes[0]
        epsilon = try config.epsilon(default: 1e-3)
        center = try config.bool("center", default: true)
        scale = try config.bool("scale", default: true)
        // Renormalization keeps extra statistics (renorm_mean, renorm_stddev) among the weights.
        if try config.bool("renorm", default: false) {
            throw config.error("renorm", "BatchNormalization with renorm=true is not supported")
        }
    }

    func kerasConfig() -> JSONObject {
        JSONObject([("axis", .int(axis)), ("epsilon", .double(epsilon)), ("center", .bool(center)),
                    ("scale", .bool(scale))])
    }
}

extension LayerNormalization {
    /// tf_keras has no `rms_scaling`; Keras 3 writes it.
    init(keras config: KerasConfig) throws {
        axes = try config.axes("axis", default: -1)
        epsilon = try config.epsilon(default: 1e-3)
        center = try config.bool("center", default: true)
        scale = try config.bool("scale", default: true)
        rmsScaling = try config.bool("rms_scaling", default: false)
    }

    func kerasConfig() -> JSONObject {
        var object = JSONObject([("axis", axes.count == 1 ? .int(axes[0]) : .array(axes.map(JSONValue.int))),
                                 ("epsilon", .double(epsilon)), ("center", .bool(center)), ("scale", .bool(scale))])
        if rmsScaling { object["rms_scaling"] = true }
        return object
    }
}

extension ReLULayer {
    init(keras config: KerasConfig) throws {
        maxValue = config.has("max_value") ? try config.double("max_value", default: 0) : nil
        if let maxValue, maxValue < 0 { throw config.error("max_value", "'max_value' must not be negative, got \(maxValue)") }
        negativeSlope = try config.double("negative_slope", default: 0)
        guard negativeSlope >= 0 else {
            throw config.error("negative_slope", "'negative_slope' must not be negative, got \(negativeSlope)")
        }
        threshold = try config.double("threshold", default: 0)
        guard threshold >= 0 else { throw config.error("threshold", "'threshold' must not be negative, got \(threshold)") }
    }
}

extension Reshape {
    init(keras config: KerasConfig) throws {
        let items = try config.axes("target_shape", default: 0)
        guard config.has("target_shape"), items.allSatisfy({ $0 > 0 || $0 == -1 }), items.filter({ $0 == -1 }).count <= 1,
              items.allSatisfy({ $0 <= maximumDimension })
        else {
            throw config.error("target_shape", "'target_shape' must hold positive sizes and at most one -1, got \(items)")
        }
        targetShape = items
    }
}

extension Permute {
    init(keras config: KerasConfig) throws {
        let items = try config.axes("dims", default: 0)
        guard config.has("dims"), items.sorted() == Array(1...items.count) else {
            throw config.error("dims", "'dims' must be a permutation of 1...\(items.count), got \(items)")
        }
        dims = items
    }
}

extension Activation {
    init?(kerasName: String, kerasMajorVersion: Int) {
        switch kerasName {
        case "linear", "None": self = .linear
        case "tanh": self = .tanh
        case "sigmoid": self = .sigmoid
        case "relu": self = .relu
        case "elu": self = .elu
        case "selu": self = .selu
        case "softplus": self = .softplus
        case "softsign": self = .softsign
        case "swish", "silu": self = .swish
        case "gelu": self = .gelu
        case "exponential": self = .exponential
        case "relu6": self = .relu6
        case "leaky_relu": self = .leakyRelu
        case "hard_sigmoid": self = .hardSigmoid(keras2: kerasMajorVersion < 3)
        case "softmax": self = .softmax
        default: return nil
        }
    }

    /// The name Keras uses in configs.
    var kerasName: String {
        switch self {
        case .linear: "linear"
        case .tanh: "tanh"
        case .sigmoid: "sigmoid"
        case .relu: "relu"
        case .elu: "elu"
        case .selu: "selu"
        case .softplus: "softplus"
        case .softsign: "softsign"
        case .swish: "silu"
        case .gelu: "gelu"
        case .exponential: "exponential"
        case .relu6: "relu6"
        case .leakyRelu: "leaky_relu"
        case .hardSigmoid: "hard_sigmoid"
        case .softmax: "softmax"
        }
    }
}
