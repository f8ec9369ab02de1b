/// Every layer kind RNNKit understands: one case per Keras layer class, each carrying its typed
/// config. The set is closed on purpose. Everything that treats layers by kind (shapes, weights,
/// inference, Keras configs, layouts, writers, FLOP counts) switches over it exhaustively, with no
/// `default:`, so adding a kind means adding a case here and letting the compiler list every
/// place to fill in.
///
/// SimpleRNN, LSTM and GRU share `recurrent`: one sequence loop runs their cells, and
/// `RecurrentLayer.cell` (itself a closed enum) says which cell it is.
enum LayerKind: Equatable, Sendable {
    case input(InputLayer)
    case recurrent(RecurrentLayer)
    /// RNN(cell), RNN(StackedRNNCells([...])).
    case rnn(RNNLayer)
    case bidirectional(Bidirectional)
    case dense(Dense)
    case embedding(Embedding)
    /// Indirect: its inner layer is itself a kind.
    indirect case timeDistributed(TimeDistributed)
    case masking(Masking)
    case dropout(InferenceIdentity)
    case spatialDropout1D(InferenceIdentity)
    case gaussianNoise(InferenceIdentity)
    case activation(ActivationLayer)
    case repeatVector(RepeatVector)
    case flatten
    case concatenate(Concatenate)
    case merge(ElementwiseMerge)
    case globalAveragePooling1D(GlobalPooling1D)
    case globalMaxPooling1D(GlobalPooling1D)
    case conv1D(Conv1D)
    case maxPooling1D(Pooling1D)
    case averagePooling1D(Pooling1D)
    case batchNormalization(BatchNormalization)
    case layerNormalization(LayerNormalization)
    case relu(ReLULayer)
    case leakyReLU(LeakyReLULayer)
    case elu(ELULayer)
    case softmax(SoftmaxLayer)
    case reshape(Reshape)
    case permute(Permute)
    /// ZeroPadding1D, Cropping1D, UpSampling1D.
    case timeResampling(TimeResampling)
    /// Attention (dot or concat scores) and AdditiveAttention.
    case attention(DenseAttention)
    case unitNormalization(UnitNormalization)
    case prelu(PReLULayer)
    case dot(Dot)
    case conv2D(Conv2D)
    case maxPooling2D(Pooling2D)
    case averagePooling2D(Pooling2D)
    case globalAveragePooling2D(GlobalPooling2D)
    case globalMaxPooling2D(GlobalPooling2D)
    /// ZeroPadding2D, Cropping2D.
    case imageBorder2D(ImageBorder2D)
    /// DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D.
    case depthwiseConvolution(DepthwiseConvolution)
    /// A Keras 3 operation node or a tf_keras TFOpLambda / SlicingOpLambda layer.
    case operation(TensorOperation)
    /// MultiHeadAttention.
    case multiHeadAttention(MultiHeadAttention)
    /// ConvLSTM1D, ConvLSTM2D.
    case convLSTM(ConvLSTM)

    /// The Keras `class_name` of this kind.
    var className: String {
        switch self {
        case .input: "InputLayer"
        case .recurrent(let layer): layer.className
        case .rnn: "RNN"
        case .bidirectional: "Bidirectional"
        case .dense: "Dense"
        case .embedding: "Embedding"
        case .timeDistributed: "TimeDistributed"
        case .masking: "Masking"
        case .dropout: "Dropout"
        case .spatialDropout1D: "SpatialDropout1D"
        case .gaussianNoise: "GaussianNoise"
        case .activation: "Activation"
        case .repeatVector: "RepeatVector"
        case .flatten: "Flatten"
        case .concatenate: "Concatenate"
        case .merge(let merge): merge.className
        case .globalAveragePooling1D: "GlobalAveragePooling1D"
        case .globalMaxPooling1D: "GlobalMaxPooling1D"
        case .conv1D: "Conv1D"
        case .maxPooling1D: "MaxPooling1D"
        case .averagePooling1D: "AveragePooling1D"
        case .batchNormalization: "BatchNormalization"
        case .layerNormalization: "LayerNormalization"
        case .relu: "ReLU"
        case .leakyReLU: "LeakyReLU"
        case .elu: "ELU"
        case .softmax: "Softmax"
        case .reshape: "Reshape"
        case .permute: "Permute"
        case .timeResampling(let layer): layer.className
        case .attention(let layer): layer.className
        case .unitNormalization: "UnitNormalization"
        case .prelu: "PReLU"
        case .dot: "Dot"
        case .conv2D: "Conv2D"
        case .maxPooling2D: "MaxPooling2D"
        case .averagePooling2D: "AveragePooling2D"
        case .globalAveragePooling2D: "GlobalAveragePooling2D"
        case .globalMaxPooling2D: "GlobalMaxPooling2D"
        case .imageBorder2D(let layer): layer.className
        case .depthwiseConvolution(let layer): layer.className
        case .operation: "Operation"
        case .multiHeadAttention: MultiHeadAttention.className
        case .convLSTM(let layer): layer.className
        }
    }

    /// The InputLayer's config, for the one kind that declares a model input.
    var inputLayer: InputLayer? {
        if case .input(let input) = self { return input }
        return nil
    }

    /// Whether calls pass initial states after the sequence (`initial_state`).
    var takesInitialStates: Bool {
        switch self {
        case .recurrent, .bidirectional: true
        case .rnn: true
        case .input, .dense, .embedding, .timeDistributed, .masking, .dropout, .spatialDropout1D, .gaussianNoise,
             .activation, .repeatVector, .flatten, .concatenate, .merge, .globalAveragePooling1D, .globalMaxPooling1D,
             .conv1D, .maxPooling1D, .averagePooling1D, .batchNormalization, .layerNormalization,
             .relu, .leakyReLU, .elu, .softmax, .reshape, .permute, .timeResampling,
             .attention,
             .multiHeadAttention,
             .unitNormalization,
             .prelu,
             .dot,
             .conv2D,
             .maxPooling2D,
             .averagePooling2D,
             .globalAveragePooling2D,
             .globalMaxPooling2D,
             .imageBorder2D,
             .depthwiseConvolution,
             .operation,
             .convLSTM:
            false
        }
    }

    /// The sequence loop's options of a recurrent layer (a Bidirectional's forward copy's); nil
    /// for the other kinds.
    var recurrentOptions: RecurrentOptions? {
        switch self {
        case .recurrent(let layer): layer.options
        case .rnn(let layer): layer.options
        case .bidirectional(let layer): layer.forward.options
        case .input, .dense, .embedding, .timeDistributed, .masking, .dropout, .spatialDropout1D, .gaussianNoise,
             .activation, .repeatVector, .flatten, .concatenate, .merge, .globalAveragePooling1D, .globalMaxPooling1D,
             .conv1D, .maxPooling1D, .averagePooling1D, .batchNormalization, .layerNormalization,
             .relu, .leakyReLU, .elu, .softmax, .reshape, .permute, .timeResampling,
             .attention,
             .unitNormalization,
             .prelu,
             .dot,
             .conv2D,
             .maxPooling2D,
             .averagePooling2D,
             .globalAveragePooling2D,
             .globalMaxPooling2D,
             .imageBorder2D,
             .depthwiseConvolution,
             .operation,
             .multiHeadAttention,
             .convLSTM:
            nil
        }
    }

    /// What `validate` warns about a layer that RNNKit runs differently from Keras: a stateful
    /// recurrent layer starts every `Predictor` prediction from zero states (Keras carries them
    /// over from one call to the next, as a `PredictionStream` does).
    var inferenceWarning: String? {
        guard recurrentOptions?.stateful == true else { return nil }
        return "stateful layer: RNNKit starts every prediction from zero states; "
            + "a PredictionStream (rnnkit serve sessions) carries them from call to call, as Keras does"
    }

    /// Output shapes for the given input shapes (the batch dimension included, as nil). For
    /// recurrent layers and Bidirectional, inputs after the first are initial states.
    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        switch self {
        case .input(let layer): [layer.batchShape]
        case .recurrent(let layer): try layer.outputShapes(for: inputs)
        case .rnn(let layer): try layer.outputShapes(for: inputs)
        case .bidirectional(let layer): try layer.outputShapes(for: inputs)
        case .dense(let layer): try layer.outputShapes(for: inputs)
        case .embedding(let layer): [try ShapeCheck.single(inputs, className) + [layer.outputDim]]
        case .timeDistributed(let layer): try layer.outputShapes(for: inputs)
        case .masking: [try ShapeCheck.rank(ShapeCheck.single(inputs, className), 3, className)]
        case .dropout, .spatialDropout1D, .gaussianNoise, .activation, .relu, .leakyReLU, .elu:
            [try ShapeCheck.single(inputs, className)]
        case .softmax(let layer): try layer.outputShapes(for: inputs)
        case .reshape(let layer): try layer.outputShapes(for: inputs)
        case .permute(let layer): try layer.outputShapes(for: inputs)
        case .timeResampling(let layer): try layer.outputShapes(for: inputs)
        case .repeatVector(let layer): try layer.outputShapes(for: inputs)
        case .flatten: try Flatten.outputShapes(for: inputs)
        case .concatenate(let layer): try layer.outputShapes(for: inputs)
        case .merge(let merge): try merge.outputShapes(for: inputs)
        case .globalAveragePooling1D(let layer), .globalMaxPooling1D(let layer):
            try layer.outputShapes(for: inputs, className: className)
        case .conv1D(let layer): try layer.outputShapes(for: inputs)
        case .maxPooling1D(let layer), .averagePooling1D(let layer):
            try layer.outputShapes(for: inputs, className: className)
        case .batchNormalization(let layer): try layer.outputShapes(for: inputs)
        case .layerNormalization(let layer): try layer.outputShapes(for: inputs)
        case .attention(let layer): try layer.outputShapes(for: inputs)
        case .unitNormalization(let layer): try layer.outputShapes(for: inputs)
        case .prelu(let layer): try layer.outputShapes(for: inputs)
        case .dot(let layer): try layer.outputShapes(for: inputs)
        case .conv2D(let layer): try layer.outputShapes(for: inputs)
        case .maxPooling2D(let layer), .averagePooling2D(let layer):
            try layer.outputShapes(for: inputs, className: className)
        case .globalAveragePooling2D(let layer), .globalMaxPooling2D(let layer):
            try layer.outputShapes(for: inputs, className: className)
        case .imageBorder2D(let layer): try layer.outputShapes(for: inputs)
        case .depthwiseConvolution(let layer): try layer.outputShapes(for: inputs)
        case .operation(let operation): try operation.outputShapes(for: inputs)
        case .multiHeadAttention(let layer): try layer.outputShapes(for: inputs)
        case .convLSTM(let layer): try layer.outputShapes(for: inputs)
        }
    }

    /// The weights this layer owns for these input shapes, in Keras's order.
    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        switch self {
        case .recurrent(let layer):
            guard let sequence = inputs.first else { return [] }
            return layer.cellWeightSpecs(inputDim: try ShapeCheck.features(sequence, className),
                                         namePrefix: "", keras3Group: "cell/vars")
        case .rnn(let layer): return try layer.weightSpecs(for: inputs)
        case .bidirectional(let layer): return try layer.weightSpecs(for: inputs)
        case .dense(let layer): return try layer.weightSpecs(for: inputs)
        case .conv1D(let layer): return try layer.weightSpecs(for: inputs)
        case .conv2D(let layer): return try layer.weightSpecs(for: inputs)
        case .depthwiseConvolution(let layer): return try layer.weightSpecs(for: inputs)
        case .batchNormalization(let layer): return try layer.weightSpecs(for: inputs)
        case .layerNormalization(let layer): return try layer.weightSpecs(for: inputs)
        case .timeDistributed(let layer): return try layer.weightSpecs(for: inputs)
        case .attention(let layer): return try layer.weightSpecs(for: inputs)
        case .prelu(let layer): return try layer.weightSpecs(for: inputs)
        case .multiHeadAttention(let layer): return try layer.weightSpecs(for: inputs)
        case .convLSTM(let layer): return try layer.weightSpecs(for: inputs)
        case .embedding(let layer):
            return [WeightSpec(name: "embeddings", shape: [layer.inputDim, layer.outputDim], keras3Path: "vars/0")]
        case .input, .masking, .dropout, .spatialDropout1D, .gaussianNoise, .activation, .repeatVector, .flatten,
             .concatenate, .merge, .globalAveragePooling1D, .globalMaxPooling1D, .maxPooling1D, .averagePooling1D,
             .relu, .leakyReLU, .elu, .softmax, .reshape, .permute, .timeResampling,
             .unitNormalization,
             .dot,
             .maxPooling2D,
             .averagePooling2D,
             .globalAveragePooling2D,
             .globalMaxPooling2D,
             .imageBorder2D,
             .operation:
            return []
        }
    }
}

/// One weight a layer owns, named as in the keras layout (docs/layouts.md): `kernel`,
/// `recurrent_kernel`, `bias`, `forward.kernel`, `embeddings`...
struct WeightSpec: Equatable, Sendable {
    var name: String
    var shape: [Int]
    /// Where Keras 3 stores it below the layer's group in a `.weights.h5` file, e.g. `cell/vars/0`.
    var keras3Path: String
    /// Whether Keras counts it as trainable (BatchNormalization's moving statistics are not).
    var trainable = true
}

/// Shared input checks, so that every layer words its shape errors the same way.
enum ShapeCheck {
    static func single(_ inputs: [Shape], _ layer: String) throws -> Shape {
        guard inputs.count == 1 else {
            throw RNNKitError(.invalidModel, "\(layer) takes 1 input, got \(inputs.count)")
        }
        return inputs[0]
    }

    /// `shape`, when it has rank `expected`.
    @discardableResult
    static func rank(_ shape: Shape, _ expected: Int, _ layer: String) throws -> Shape {
        guard shape.count == expected else {
            throw RNNKitError(.invalidModel,
                              "\(layer) expects a rank-\(expected) input, got shape \(formatShape(shape))")
        }
        return shape
    }

    /// `axis` (negatives count from the end) as an index into a shape of `rank` dimensions; the
    /// batch axis and axes beyond the rank are errors.
    static func axis(_ axis: Int, rank: Int, _ layer: String) throws -> Int {
        let resolved = axis < 0 ? rank + axis : axis
        guard resolved >= 1, resolved < rank else {
            throw RNNKitError(.invalidModel, "\(layer) axis \(axis) does not fit a rank-\(rank) input")
        }
        return resolved
    }

    /// The last dimension, which weight shapes depend on, so it must be known.
    static func features(_ shape: Shape, _ layer: String) throws -> Int {
        guard let last = shape.last, let features = last else {
            throw RNNKitError(.invalidModel,
                              "\(layer) needs a known last dimension, got shape \(formatShape(shape))")
        }
        return features
    }
}
