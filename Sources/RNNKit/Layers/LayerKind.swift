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
    case bidirectional(Bidirectional)
    case dense(Dense)
    case embedding(Embedding)
    case timeDistributed(TimeDistributed)
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
    /// MultiHeadAttention.
    case multiHeadAttention(MultiHeadAttention)

    /// The Keras `class_name` of this kind.
    var className: String {
        switch self {
        case .input: "InputLayer"
        case .recurrent(let layer): layer.cell.className
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
        case .multiHeadAttention: MultiHeadAttention.className
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
        case .input, .dense, .embedding, .timeDistributed, .masking, .dropout, .spatialDropout1D, .gaussianNoise,
             .activation, .repeatVector, .flatten, .concatenate, .merge, .globalAveragePooling1D, .globalMaxPooling1D,
             .conv1D, .maxPooling1D, .averagePooling1D, .batchNormalization, .layerNormalization,
             .relu, .leakyReLU, .elu, .softmax, .reshape, .permute, .timeResampling,
             .attention,
             .multiHeadAttention:
            false
        }
    }

    /// What `validate` warns about a layer that RNNKit runs differently from Keras: a stateful
    /// recurrent layer starts every prediction from zero states.
    var inferenceWarning: String? {
        guard case .recurrent(let layer) = self, layer.options.stateful else { return nil }
        return "stateful layer: RNNKit starts every prediction from zero states"
    }

    /// Output shapes for the given input shapes (the batch dimension included, as nil). For
    /// recurrent layers and Bidirectional, inputs after the first are initial states.
    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        switch self {
        case .input(let layer): [layer.batchShape]
        case .recurrent(let layer): try layer.outputShapes(for: inputs)
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
        case .multiHeadAttention(let layer): try layer.outputShapes(for: inputs)
        }
    }

    /// The weights this layer owns for these input shapes, in Keras's order.
    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        switch self {
        case .recurrent(let layer):
            guard let sequence = inputs.first else { return [] }
            return layer.cellWeightSpecs(inputDim: try ShapeCheck.features(sequence, className),
                                         namePrefix: "", keras3Group: "cell/vars")
        case .bidirectional(let layer): return try layer.weightSpecs(for: inputs)
        case .dense(let layer): return try layer.weightSpecs(for: inputs)
        case .conv1D(let layer): return try layer.weightSpecs(for: inputs)
        case .batchNormalization(let layer): return try layer.weightSpecs(for: inputs)
        case .layerNormalization(let layer): return try layer.weightSpecs(for: inputs)
        case .timeDistributed(let layer): return try layer.weightSpecs(for: inputs)
        case .attention(let layer): return try layer.weightSpecs(for: inputs)
        case .multiHeadAttention(let layer): return try layer.weightSpecs(for: inputs)
        case .embedding(let layer):
            return [WeightSpec(name: "embeddings", shape: [layer.inputDim, layer.outputDim], keras3Path: "vars/0")]
        case .input, .masking, .dropout, .spatialDropout1D, .gaussianNoise, .activation, .repeatVector, .flatten,
             .concatenate, .merge, .globalAveragePooling1D, .globalMaxPooling1D, .maxPooling1D, .averagePooling1D,
             .relu, .leakyReLU, .elu, .softmax, .reshape, .permute, .timeResampling:
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
