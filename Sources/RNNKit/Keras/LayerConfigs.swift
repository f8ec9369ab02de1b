/// Keras layer configs, both ways: decoding a `{"class_name", "config"}` pair into a `Layer`
/// (validating every field that changes the maths, each error located by its JSON pointer), and
/// the `config` object that re-creates a layer (name, trainable and dtype are the writer's).
extension LayerKind {
    /// Decodes a layer config, or throws naming the unknown class.
    init(kerasClass className: String, config: KerasConfig) throws {
        switch className {
        case "InputLayer": self = .input(try InputLayer(keras: config))
        case "SimpleRNN", "LSTM", "GRU":
            self = .recurrent(try RecurrentLayer(keras: config, cell: try RecurrentLayer.Cell(kerasClass: className,
                                                                                              config: config)!))
        case "RNN": self = .rnn(try RNNLayer(keras: config))
        case "CuDNNLSTM":
            let unitForgetBias = try config.bool("unit_forget_bias", default: true)
            self = .recurrent(try RecurrentLayer(cuDNNKeras: config, cell: .lstm(unitForgetBias: unitForgetBias)))
        case "CuDNNGRU":
            self = .recurrent(try RecurrentLayer(cuDNNKeras: config, cell: .gru(resetAfter: true)))
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
            let (before, after) = try config.pair("padding", default: 1)
            self = .timeResampling(TimeResampling(operation: .zeroPadding(before: before, after: after),
                                                  dataFormat: try config.dataFormat()))
        case "Cropping1D":
            let (before, after) = try config.pair("cropping", default: 1)
            self = .timeResampling(TimeResampling(operation: .cropping(before: before, after: after)))
        case "UpSampling1D":
            self = .timeResampling(TimeResampling(operation: .upSampling(size: try config.dimension("size", default: 2))))
        case "GlobalAveragePooling1D": self = .globalAveragePooling1D(try GlobalPooling1D(keras: config))
        case "GlobalMaxPooling1D": self = .globalMaxPooling1D(try GlobalPooling1D(keras: config))
        case "Conv1D": self = .conv1D(try Conv1D(keras: config))
        case "MaxPooling1D": self = .maxPooling1D(try Pooling1D(keras: config))
        case "AveragePooling1D": self = .averagePooling1D(try Pooling1D(keras: config))
        case "BatchNormalization": self = .batchNormalization(try BatchNormalization(keras: config))
        case "LayerNormalization": self = .layerNormalization(try LayerNormalization(keras: config))
        case "Attention": self = .attention(try DenseAttention(keras: config, additive: false))
        case "AdditiveAttention": self = .attention(try DenseAttention(keras: config, additive: true))
        case "UnitNormalization": self = .unitNormalization(try UnitNormalization(keras: config))
        case "PReLU": self = .prelu(try PReLULayer(keras: config))
        case "Dot": self = .dot(try Dot(keras: config))
        case "Conv2D": self = .conv2D(try Conv2D(keras: config))
        case "MaxPooling2D": self = .maxPooling2D(try Pooling2D(keras: config))
        case "AveragePooling2D": self = .averagePooling2D(try Pooling2D(keras: config))
        case "GlobalAveragePooling2D": self = .globalAveragePooling2D(try GlobalPooling2D(keras: config))
        case "GlobalMaxPooling2D": self = .globalMaxPooling2D(try GlobalPooling2D(keras: config))
        case "ZeroPadding2D": self = .imageBorder2D(try ImageBorder2D(keras: config, operation: .zeroPadding))
        case "Cropping2D": self = .imageBorder2D(try ImageBorder2D(keras: config, operation: .cropping))
        case "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D":
            self = .depthwiseConvolution(try DepthwiseConvolution(keras: config, rank: className.hasSuffix("1D") ? 1 : 2,
                                                                  separable: className.hasPrefix("Separable")))
        case "Operation": self = .operation(try TensorOperation(canonical: config))
        case "MultiHeadAttention": self = .multiHeadAttention(try MultiHeadAttention(keras: config))
        case "ConvLSTM1D", "ConvLSTM2D": self = .convLSTM(try ConvLSTM(keras: config, rank: className.hasSuffix("1D") ? 1 : 2))
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
        "CuDNNLSTM",
        "CuDNNGRU",
        "RNN",
        "UnitNormalization",
        "PReLU",
        "Dot",
        "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
        "ZeroPadding2D", "Cropping2D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
        "Operation",
        "MultiHeadAttention",
        "ConvLSTM1D", "ConvLSTM2D",
    ]

    /// The class-specific keys of the Keras `config` that re-creates this layer, in Keras's
    /// vocabulary. Wrapped layers (Bidirectional, TimeDistributed) are spelled here in the plain
    /// `{"class_name", "config"}` form; the Keras writers respell them for their Keras version.
    func kerasConfig() -> JSONObject {
        switch self {
        case .input(let layer):
            return JSONObject([("batch_shape", shapeJSON(layer.batchShape)), ("dtype", .string(layer.dtype))])
        case .recurrent(let layer): return layer.kerasConfig()
        case .rnn(let layer): return layer.kerasConfig()
        case .bidirectional(let layer):
            func wrapped(_ layer: RecurrentLayer) -> JSONValue {
                ["class_name": .string(layer.className), "config": .object(layer.kerasConfig())]
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
            return JSONObject([("layer", ["class_name": .string(layer.inner.className), "config": .object(layer.inner.kerasConfig())])])
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
            case .zeroPadding(let before, let after):
                // tf_keras's ZeroPadding1D has no data_format (channels_last only): written when it is not that.
                var config = JSONObject([("padding", [.int(before), .int(after)])])
                if layer.dataFormat == .channelsFirst { config["data_format"] = .string(layer.dataFormat.rawValue) }
                return config
            case .cropping(let before, let after): return JSONObject([("cropping", [.int(before), .int(after)])])
            case .upSampling(let size): return JSONObject([("size", .int(size))])
            }
        case .globalAveragePooling1D(let layer), .globalMaxPooling1D(let layer):
            return JSONObject([("data_format", .string(layer.dataFormat.rawValue)), ("keepdims", .bool(layer.keepDims))])
        case .conv1D(let layer): return layer.kerasConfig()
        case .maxPooling1D(let layer), .averagePooling1D(let layer): return layer.kerasConfig()
        case .batchNormalization(let layer): return layer.kerasConfig()
        case .layerNormalization(let layer): return layer.kerasConfig()
        case .attention(let layer): return layer.kerasConfig()
        case .unitNormalization(let layer): return JSONObject([("axis", axesJSON(layer.axes))])
        case .prelu(let layer): return layer.kerasConfig()
        case .dot(let layer): return JSONObject([("axes", axesJSON(layer.axes)), ("normalize", .bool(layer.normalize))])
        case .conv2D(let layer): return layer.kerasConfig()
        case .maxPooling2D(let layer), .averagePooling2D(let layer): return layer.kerasConfig()
        case .globalAveragePooling2D(let layer), .globalMaxPooling2D(let layer):
            return JSONObject([("data_format", .string(layer.dataFormat.rawValue)), ("keepdims", .bool(layer.keepDims))])
        case .imageBorder2D(let layer): return layer.kerasConfig()
        case .depthwiseConvolution(let layer): return layer.kerasConfig()
        case .operation(let operation): return operation.canonicalConfig()
        case .multiHeadAttention(let layer): return layer.kerasConfig()
        case .convLSTM(let layer): return layer.kerasConfig()
        }
    }

    /// Every activation the layer applies, as decoded (hard_sigmoid keeps its Keras version).
    var activations: [Activation] {
        switch self {
        case .recurrent(let layer): layer.activations
        case .rnn(let layer): layer.cells.flatMap(\.activations)
        case .bidirectional(let layer): layer.forward.activations + layer.backward.activations
        case .dense(let layer): [layer.activation]
        case .timeDistributed(let layer): layer.inner.activations
        case .activation(let layer): [layer.activation]
        case .conv1D(let layer): [layer.activation]
        case .conv2D(let layer): [layer.activation]
        case .depthwiseConvolution(let layer): [layer.activation]
        case .input, .embedding, .masking, .dropout, .spatialDropout1D, .gaussianNoise, .repeatVector, .flatten,
             .concatenate, .merge, .globalAveragePooling1D, .globalMaxPooling1D, .maxPooling1D, .averagePooling1D,
             .batchNormalization, .layerNormalization, .relu, .leakyReLU, .elu, .softmax, .reshape, .permute, .timeResampling,
             .attention,
             .multiHeadAttention,
             .unitNormalization,
             .prelu,
             .dot,
             .maxPooling2D,
             .averagePooling2D,
             .globalAveragePooling2D,
             .globalMaxPooling2D,
             .imageBorder2D:
            []
        case .operation: []
        case .convLSTM(let layer): [layer.options.activation, layer.options.recurrentActivation]
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

extension RecurrentLayer.Cell {
    /// The cell of a SimpleRNN, LSTM or GRU layer, or of a SimpleRNNCell, LSTMCell or GRUCell;
    /// nil for other classes.
    init?(kerasClass className: String, config: KerasConfig) throws {
        switch className {
        case "SimpleRNN", "SimpleRNNCell": self = .simpleRNN
        case "LSTM", "LSTMCell": self = .lstm(unitForgetBias: try config.bool("unit_forget_bias", default: true))
        // A config without the key predates Keras 2.1.5, where the reset was applied before.
        case "GRU", "GRUCell": self = .gru(resetAfter: try config.bool("reset_after", default: false))
        default: return nil
        }
    }
}

extension RecurrentLayer {
    /// A layer's config holds both the cell's settings and the sequence loop's; an `RNN(cell)`'s
    /// cell config has the first, the RNN's config (`sequence`) the others.
    init(keras config: KerasConfig, cell: Cell, sequence: KerasConfig? = nil) throws {
        self.cell = cell
        let hasGates = cell.gateCount > 1
        let sequence = sequence ?? config
        options = RecurrentOptions(
            units: try config.dimension("units"),
            activation: try config.activation("activation", default: "tanh"),
            recurrentActivation: hasGates ? try config.activation("recurrent_activation", default: "sigmoid") : .sigmoid,
            useBias: try config.bool("use_bias", default: true),
            returnSequences: try sequence.bool("return_sequences", default: false),
            returnState: try sequence.bool("return_state", default: false),
            goBackwards: try sequence.bool("go_backwards", default: false),
            stateful: try sequence.bool("stateful", default: false),
            unroll: try sequence.bool("unroll", default: false),
            zeroOutputForMask: try sequence.bool("zero_output_for_mask", default: false),
            dropout: try config.double("dropout", default: 0),
            recurrentDropout: try config.double("recurrent_dropout", default: 0))
        if try sequence.bool("time_major", default: false) {
            throw sequence.error("time_major", "time_major=true is not supported (batch-major inputs only)")
        }
        for (key, activation) in [("activation", options.activation), ("recurrent_activation", options.recurrentActivation)]
        where !activation.isElementwise {
            throw config.error(key, "\(activation.kerasName) is not an element-wise activation")
        }
    }

    /// Keras 2's CuDNNLSTM and CuDNNGRU: their configs hold no activations, bias, dropout,
    /// unroll or reset_after, which cuDNN fixes (tanh, sigmoid, biases, reset_after=True).
    init(cuDNNKeras config: KerasConfig, cell: Cell) throws {
        try self.init(keras: config, cell: cell)
        for key in ["activation", "recurrent_activation", "use_bias", "reset_after", "dropout", "recurrent_dropout"]
        where config.has(key) {
            throw config.error(key, "'\(key)' is not a setting of CuDNN\(cell.className), which cuDNN fixes")
        }
        options.activation = .tanh
        options.recurrentActivation = .sigmoid
        isCuDNN = true
    }

    func kerasConfig() -> JSONObject {
        var object = cellKerasConfig()
        for entry in sequenceKerasConfig().entries { object[entry.key] = entry.value }
        return object
    }

    /// The cell's settings, the config of a SimpleRNNCell, LSTMCell or GRUCell.
    func cellKerasConfig() -> JSONObject {
        var object = JSONObject()
        object["units"] = .int(options.units)
        if !isCuDNN {
            object["activation"] = .string(options.activation.kerasName)
            switch cell {
            case .simpleRNN: break
            case .lstm, .gru: object["recurrent_activation"] = .string(options.recurrentActivation.kerasName)
            }
            object["use_bias"] = .bool(options.useBias)
            object["dropout"] = .double(options.dropout)
            object["recurrent_dropout"] = .double(options.recurrentDropout)
        }
        switch cell {
        case .simpleRNN: break
        case .lstm(let unitForgetBias): object["unit_forget_bias"] = .bool(unitForgetBias)
        case .gru(let resetAfter): if !isCuDNN { object["reset_after"] = .bool(resetAfter) }
        }
        return object
    }

    /// The sequence loop's settings, which an RNN holds apart from its cell.
    func sequenceKerasConfig() -> JSONObject {
        var object = JSONObject([("return_sequences", .bool(options.returnSequences)),
                                 ("return_state", .bool(options.returnState)),
                                 ("go_backwards", .bool(options.goBackwards)), ("stateful", .bool(options.stateful))])
        if !isCuDNN {
            object["unroll"] = .bool(options.unroll)
            object["zero_output_for_mask"] = .bool(options.zeroOutputForMask)
        }
        return object
    }
}

extension RNNLayer {
    /// `{"cell": {"class_name": "LSTMCell", "config": {...}}, "return_sequences": ...}`, or a
    /// `StackedRNNCells` cell whose config lists `cells`.
    init(keras config: KerasConfig) throws {
        guard let wrapped = try config.nestedLayer("cell") else { throw config.error("cell", "RNN needs a 'cell'") }
        func cell(_ className: String, _ cellConfig: KerasConfig) throws -> RecurrentLayer {
            guard let cell = try RecurrentLayer.Cell(kerasClass: className, config: cellConfig), className.hasSuffix("Cell")
            else {
                throw RNNKitError(.invalidModel, "RNN cell '\(className)' is not supported "
                                  + "(LSTMCell, GRUCell, SimpleRNNCell or StackedRNNCells)", location: cellConfig.pointer)
            }
            return try RecurrentLayer(keras: cellConfig, cell: cell, sequence: config)
        }
        guard wrapped.className == "StackedRNNCells" else {
            cells = [try cell(wrapped.className, wrapped.config)]
            stacked = false
            return
        }
        guard case .array(let items)? = wrapped.config.value("cells"), !items.isEmpty else {
            throw wrapped.config.error("cells", "StackedRNNCells needs a list of cells")
        }
        let list = KerasConfig(object: JSONObject(items.indices.map { ("\($0)", items[$0]) }),
                               pointer: wrapped.config.path("cells"), kerasMajorVersion: config.kerasMajorVersion)
        cells = try items.indices.map { index in
            guard let item = try list.nestedLayer("\(index)") else { throw list.error("\(index)", "not a cell") }
            return try cell(item.className, item.config)
        }
        stacked = true
    }

    /// The RNN's sequence settings and its `cell`, in the plain `{"class_name", "config"}` form;
    /// the Keras writers respell the cells for their Keras version.
    func kerasConfig() -> JSONObject {
        var object = cells[0].sequenceKerasConfig()
        object["cell"] = cellObject(config: { $1.cellKerasConfig() },
                                    wrap: { ["class_name": .string($0), "config": .object($1)] })
        return object
    }

    /// The `cell` value: one cell's object, or a StackedRNNCells object listing them; each
    /// cell's config is `config(index, cell)`, and `wrap(className, config)` makes an object.
    func cellObject(config: (Int, RecurrentLayer) -> JSONObject, wrap: (String, JSONObject) -> JSONValue) -> JSONValue {
        let objects = cells.enumerated().map { wrap(Self.cellClassName($1), config($0, $1)) }
        guard stacked else { return objects[0] }
        return wrap("StackedRNNCells", JSONObject([("cells", .array(objects))]))
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
            throw RNNKitError(.invalidModel, "Bidirectional wraps '\(className)', expected SimpleRNN, LSTM, GRU, CuDNNLSTM or CuDNNGRU",
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
        inner = try LayerKind(kerasClass: wrapped.className, config: wrapped.config)
        if let reason = Self.refusal(of: inner) {
            throw config.error("layer", "TimeDistributed of '\(wrapped.className)' is not supported: \(reason)")
        }
    }

    /// Why `inner` cannot run step by step inside TimeDistributed, or nil when it can.
    static func refusal(of inner: LayerKind) -> String? {
        switch inner {
        case .input: return "an InputLayer is no layer to apply"
        case .bidirectional, .timeDistributed: return "RNNKit does not nest wrappers"
        case .masking: return "it would make a mask for every step"
        case .embedding(let embedding) where embedding.maskZero: return "mask_zero would make a mask for every step"
        case .recurrent(let recurrent) where recurrent.options.returnState: return "return_state gives several outputs"
        case .concatenate, .merge: return "it takes several inputs"
        case .dot: return "it takes two inputs"
        case .attention, .multiHeadAttention: return "it takes a query and a value"
        case .operation: return "it is an operation, not a layer"
        case .rnn: return "RNNKit runs RNN(cell) layers only unwrapped"
        case .recurrent, .dense, .embedding, .dropout, .spatialDropout1D, .gaussianNoise, .activation, .repeatVector,
             .flatten, .globalAveragePooling1D, .globalMaxPooling1D, .conv1D, .maxPooling1D, .averagePooling1D,
             .batchNormalization, .layerNormalization, .relu, .leakyReLU, .elu, .softmax, .reshape, .permute,
             .timeResampling,
             .unitNormalization,
             .prelu,
             .conv2D,
             .maxPooling2D,
             .averagePooling2D,
             .globalAveragePooling2D,
             .globalMaxPooling2D,
             .imageBorder2D,
             .depthwiseConvolution:
            return nil
        case .convLSTM: return "RNNKit does not run recurrent layers inside TimeDistributed"
        }
    }
}

extension GlobalPooling1D {
    init(keras config: KerasConfig) throws {
        keepDims = try config.bool("keepdims", default: false)
        dataFormat = try config.dataFormat()
    }
}

extension Conv1D {
    init(keras config: KerasConfig) throws {
        (filters, groups, activation, useBias) = try config.convolution()
        dataFormat = try config.dataFormat()
        window = Window1D(size: try config.size1D("kernel_size"), stride: try config.size1D("strides", default: 1),
                          dilation: try config.size1D("dilation_rate", default: 1),
                          padding: try config.choice("padding", default: Padding1D.valid, allowed: [.valid, .same, .causal]))
    }

    func kerasConfig() -> JSONObject {
        JSONObject([("filters", .int(filters)), ("kernel_size", [.int(window.size)]), ("strides", [.int(window.stride)]),
                    ("padding", .string(window.padding.rawValue)), ("data_format", .string(dataFormat.rawValue)),
                    ("dilation_rate", [.int(window.dilation)]), ("groups", .int(groups)),
                    ("activation", .string(activation.kerasName)), ("use_bias", .bool(useBias))])
    }
}

extension Pooling1D {
    /// `strides` defaults to (and, as null, means) `pool_size`.
    init(keras config: KerasConfig) throws {
        dataFormat = try config.dataFormat()
        let size = try config.size1D("pool_size", default: 2)
        window = Window1D(size: size, stride: try config.size1D("strides", default: size),
                          padding: try config.choice("padding", default: Padding1D.valid, allowed: [.valid, .same]))
    }

    func kerasConfig() -> JSONObject {
        JSONObject([("pool_size", [.int(window.size)]), ("strides", [.int(window.stride)]),
                    ("padding", .string(window.padding.rawValue)), ("data_format", .string(dataFormat.rawValue))])
    }
}

extension KerasConfig {
    /// The windows along `count` axes, from size and stride keys as Keras names them
    /// (`kernel_size`, `pool_size`...); a null or absent stride is `strideDefault`.
    func windows(count: Int, size sizeKey: String, sizeDefault: Int? = nil, strideDefault: [Int]? = nil,
                 dilation: Bool) throws -> [Window1D] {
        let sizes = try sizes(sizeKey, count: count, default: sizeDefault)
        var strides = try self.sizes("strides", count: count, default: 1)
        if let strideDefault, value("strides")?.isNull ?? true { strides = strideDefault }
        let dilations = dilation ? try self.sizes("dilation_rate", count: count, default: 1) : Array(repeating: 1, count: count)
        let padding = try choice("padding", default: Padding1D.valid, allowed: [.valid, .same])
        return (0..<count).map { Window1D(size: sizes[$0], stride: strides[$0], dilation: dilations[$0], padding: padding) }
    }
}

extension Array where Element == Window1D {
    /// The keys `KerasConfig.windows` reads, with `sizeKey` for the window sizes.
    func kerasConfig(size sizeKey: String, dilation: Bool) -> JSONObject {
        var object = JSONObject([(sizeKey, .array(map { .int($0.size) })), ("strides", .array(map { .int($0.stride) })),
                                 ("padding", .string(first?.padding.rawValue ?? "valid"))])
        if dilation { object["dilation_rate"] = .array(map { .int($0.dilation) }) }
        return object
    }
}

extension Windows2D {
    init(keras config: KerasConfig, size sizeKey: String, strideDefault: [Int]? = nil, dilation: Bool) throws {
        let windows = try config.windows(count: 2, size: sizeKey, strideDefault: strideDefault, dilation: dilation)
        (rows, columns) = (windows[0], windows[1])
    }

    func kerasConfig(size sizeKey: String, dilation: Bool) -> JSONObject {
        [rows, columns].kerasConfig(size: sizeKey, dilation: dilation)
    }
}

extension DepthwiseConvolution {
    /// DepthwiseConv1D/2D (`separable` false) or SeparableConv1D/2D over `rank` spatial axes.
    init(keras config: KerasConfig, rank: Int, separable: Bool) throws {
        windows = try config.windows(count: rank, size: "kernel_size", dilation: true)
        depthMultiplier = try config.dimension("depth_multiplier", default: 1)
        pointwiseFilters = separable ? try config.dimension("filters") : nil
        dataFormat = try config.dataFormat()
        activation = try config.activation("activation", default: "linear")
        useBias = try config.bool("use_bias", default: true)
    }

    func kerasConfig() -> JSONObject {
        var object = JSONObject()
        if let pointwiseFilters { object["filters"] = .int(pointwiseFilters) }
        for entry in windows.kerasConfig(size: "kernel_size", dilation: true).entries { object[entry.key] = entry.value }
        object["depth_multiplier"] = .int(depthMultiplier)
        object["data_format"] = .string(dataFormat.rawValue)
        object["activation"] = .string(activation.kerasName)
        object["use_bias"] = .bool(useBias)
        return object
    }
}

extension Conv2D {
    init(keras config: KerasConfig) throws {
        (filters, groups, activation, useBias) = try config.convolution()
        windows = try Windows2D(keras: config, size: "kernel_size", dilation: true)
        dataFormat = try config.dataFormat()
    }

    func kerasConfig() -> JSONObject {
        var object = JSONObject([("filters", .int(filters))])
        for entry in windows.kerasConfig(size: "kernel_size", dilation: true).entries { object[entry.key] = entry.value }
        object["data_format"] = .string(dataFormat.rawValue)
        object["groups"] = .int(groups)
        object["activation"] = .string(activation.kerasName)
        object["use_bias"] = .bool(useBias)
        return object
    }
}

extension Pooling2D {
    /// `strides` defaults to (and, as null, means) `pool_size`.
    init(keras config: KerasConfig) throws {
        let size = try config.sizes("pool_size", count: 2, default: 2)
        windows = try Windows2D(keras: config, size: "pool_size", strideDefault: size, dilation: false)
        dataFormat = try config.dataFormat()
    }

    func kerasConfig() -> JSONObject {
        var object = windows.kerasConfig(size: "pool_size", dilation: false)
        object["data_format"] = .string(dataFormat.rawValue)
        return object
    }
}

extension GlobalPooling2D {
    init(keras config: KerasConfig) throws {
        keepDims = try config.bool("keepdims", default: false)
        dataFormat = try config.dataFormat()
    }
}

extension ImageBorder2D {
    /// The margins as Keras writes them: one count for all four sides, `[rows, columns]` for
    /// both sides of each axis, or `[[top, bottom], [left, right]]`.
    init(keras config: KerasConfig, operation: Operation) throws {
        self.operation = operation
        let key = operation == .cropping ? "cropping" : "padding"
        let invalid = config.error(key, "'\(key)' must be a count, two counts or two pairs of counts "
                                   + "from 0 to \(maximumDimension)")
        let margins: [[Int]]
        switch config.value(key) {
        case .array(let axes)? where axes.count == 2:
            func count(_ value: JSONValue) throws -> Int {
                guard let count = value.intValue else { throw invalid }
                return count
            }
            margins = try axes.map { axis in
                if case .array(let pair) = axis, pair.count == 2 { return try pair.map(count) }
                return Array(repeating: try count(axis), count: 2)
            }
        case .array?: throw invalid
        default:
            let count = try config.int(key, default: 1)
            margins = [[count, count], [count, count]]
        }
        guard margins.joined().allSatisfy({ (0...maximumDimension).contains($0) }) else { throw invalid }
        (top, bottom, left, right) = (margins[0][0], margins[0][1], margins[1][0], margins[1][1])
        dataFormat = try config.dataFormat()
    }

    func kerasConfig() -> JSONObject {
        JSONObject([(operation == .cropping ? "cropping" : "padding", [[.int(top), .int(bottom)], [.int(left), .int(right)]]),
                    ("data_format", .string(dataFormat.rawValue))])
    }
}

extension KerasConfig {
    /// The keys every convolution has besides its windows: `filters`, `groups` (which must divide
    /// them), `activation` and `use_bias`.
    func convolution() throws -> (filters: Int, groups: Int, activation: Activation, useBias: Bool) {
        let filters = try dimension("filters"), groups = try dimension("groups", default: 1)
        guard filters % groups == 0 else {
            throw error("groups", "filters (\(filters)) must be divisible by groups (\(groups))")
        }
        return (filters, groups, try activation("activation", default: "linear"), try bool("use_bias", default: true))
    }

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
        var object = JSONObject([("axis", axesJSON(axes)),
                                 ("epsilon", .double(epsilon)), ("center", .bool(center)), ("scale", .bool(scale))])
        if rmsScaling { object["rms_scaling"] = true }
        return object
    }
}

/// An axis list as Keras writes it: one integer alone, several as a list.
func axesJSON(_ axes: [Int]) -> JSONValue {
    axes.count == 1 ? .int(axes[0]) : .array(axes.map(JSONValue.int))
}

extension UnitNormalization {
    init(keras config: KerasConfig) throws {
        axes = try config.axes("axis", default: -1)
        floor = .unitNormalization(keras2: config.kerasMajorVersion < 3)
    }
}

extension PReLULayer {
    /// `shared_axes`: null, one axis or a list, each counted from 1 (the batch axis is 0).
    init(keras config: KerasConfig) throws {
        switch config.value("shared_axes") {
        case nil, .null?: sharedAxes = []
        default:
            sharedAxes = try config.axes("shared_axes", default: 1)
            guard sharedAxes.allSatisfy({ $0 >= 1 }) else {
                throw config.error("shared_axes", "'shared_axes' counts axes from 1, got \(sharedAxes)")
            }
        }
    }

    func kerasConfig() -> JSONObject {
        JSONObject([("alpha_initializer", ["class_name": "Zeros", "config": [:]]), ("alpha_regularizer", .null),
                    ("alpha_constraint", .null),
                    ("shared_axes", sharedAxes.isEmpty ? .null : .array(sharedAxes.map(JSONValue.int)))])
    }
}

extension Dot {
    /// `axes`: one integer for both inputs, or a pair.
    init(keras config: KerasConfig) throws {
        guard config.has("axes") else { throw config.error("axes", "Dot needs 'axes'") }
        axes = try config.axes("axes", default: -1)
        guard axes.count <= 2 else { throw config.error("axes", "'axes' must be one axis or a pair, got \(axes)") }
        normalize = try config.bool("normalize", default: false)
        floor = .dot(keras2: config.kerasMajorVersion < 3)
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
        case "celu": self = .celu
        case "hard_silu", "hard_swish": self = .hardSilu
        case "hard_tanh": self = .hardTanh
        case "hard_shrink": self = .hardShrink
        case "soft_shrink": self = .softShrink
        case "tanh_shrink": self = .tanhShrink
        case "sparse_plus": self = .sparsePlus
        case "sparse_sigmoid": self = .sparseSigmoid
        case "squareplus": self = .squareplus
        case "mish": self = .mish
        case "log_sigmoid": self = .logSigmoid
        case "log_softmax": self = .logSoftmax
        case "sparsemax": self = .sparsemax
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
        case .celu: "celu"
        case .hardSilu: "hard_silu"
        case .hardTanh: "hard_tanh"
        case .hardShrink: "hard_shrink"
        case .softShrink: "soft_shrink"
        case .tanhShrink: "tanh_shrink"
        case .sparsePlus: "sparse_plus"
        case .sparseSigmoid: "sparse_sigmoid"
        case .squareplus: "squareplus"
        case .mish: "mish"
        case .logSigmoid: "log_sigmoid"
        case .logSoftmax: "log_softmax"
        case .sparsemax: "sparsemax"
        }
    }
}
