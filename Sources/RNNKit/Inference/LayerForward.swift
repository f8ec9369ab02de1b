/// Inference, one layer call at a time: each kind's maths lives with its config in Layers/.
extension LayerKind {
    /// The layer's outputs for `inputs` (already checked against `outputShapes`), with its bound
    /// weights named as in `weightSpecs`, and what the call keeps of them from one prediction to
    /// the next (`prepared`: packed kernels). A recurrent layer continues from `carry` when a
    /// stream passes one, and returns where it stopped; other kinds return nil.
    func forward(_ inputs: [LayerValue], weights: [String: Tensor], prepared: PreparedWeights = PreparedWeights(),
                 carry: RecurrentCarry?) throws -> (outputs: [LayerValue], carry: RecurrentCarry?) {
        switch self {
        case .recurrent(let layer):
            let result = try layer.forward(inputs, weights: weights, prepared: prepared, carry: carry)
            return (result.outputs, result.carry)
        case .rnn(let layer):
            let result = try layer.forward(inputs, weights: weights, prepared: prepared, carry: carry)
            return (result.outputs, result.carry)
        case .input, .dropout, .spatialDropout1D, .gaussianNoise: return (inputs, nil)
        case .bidirectional(let layer): return (try layer.forward(inputs, weights: weights, prepared: prepared), nil)
        case .dense(let layer): return ([try layer.forward(inputs[0], weights: weights, prepared: prepared)], nil)
        case .embedding(let layer): return ([try layer.forward(inputs[0], weights: weights)], nil)
        case .timeDistributed(let layer): return ([try layer.forward(inputs[0], weights: weights, prepared: prepared)], nil)
        case .masking(let layer): return ([layer.forward(inputs[0])], nil)
        case .activation(let layer): return ([layer.forward(inputs[0])], nil)
        case .repeatVector(let layer): return ([layer.forward(inputs[0])], nil)
        case .flatten: return ([Flatten.forward(inputs[0])], nil)
        case .concatenate(let layer): return ([layer.forward(inputs)], nil)
        case .merge(let merge): return ([merge.forward(inputs)], nil)
        case .globalAveragePooling1D(let layer):
            // Keras lays a channels_first input's mask along the steps (the last axis), where
            // masks run along axis 1: it fails unless the two lengths agree.
            guard layer.dataFormat == .channelsLast || inputs[0].mask == nil else {
                throw RNNKitError(.invalidModel, "\(className) with data_format 'channels_first' of a masked input "
                                  + "is not supported")
            }
            return ([layer.average(inputs[0])], nil)
        case .globalMaxPooling1D(let layer): return ([layer.maximum(inputs[0])], nil)
        case .conv1D(let layer): return ([try layer.forward(inputs[0], weights: weights)], nil)
        case .maxPooling1D(let layer): return ([try layer.forward(inputs[0], .maximum, className: className)], nil)
        case .averagePooling1D(let layer): return ([try layer.forward(inputs[0], .average, className: className)], nil)
        case .batchNormalization(let layer): return ([try layer.forward(inputs[0], weights: weights)], nil)
        case .layerNormalization(let layer): return ([try layer.forward(inputs[0], weights: weights)], nil)
        case .relu(let layer): return ([inputs[0].mapScalars(layer.callAsFunction)], nil)
        case .leakyReLU(let layer): return ([inputs[0].mapScalars(layer.callAsFunction)], nil)
        case .elu(let layer): return ([inputs[0].mapScalars(layer.callAsFunction)], nil)
        case .softmax(let layer): return ([try layer.forward(inputs[0])], nil)
        case .reshape(let layer): return ([try layer.forward(inputs[0])], nil)
        case .permute(let layer): return ([layer.forward(inputs[0])], nil)
        case .timeResampling(let layer): return ([try layer.forward(inputs[0])], nil)
        case .attention(let layer): return (try layer.forward(inputs, weights: weights), nil)
        case .unitNormalization(let layer): return ([try layer.forward(inputs[0])], nil)
        case .prelu(let layer): return ([try layer.forward(inputs[0], weights: weights)], nil)
        case .dot(let layer): return ([try layer.forward(inputs)], nil)
        case .conv2D(let layer): return ([try layer.forward(inputs[0], weights: weights)], nil)
        case .maxPooling2D(let layer): return ([try layer.forward(inputs[0], .maximum, className: className)], nil)
        case .averagePooling2D(let layer): return ([try layer.forward(inputs[0], .average, className: className)], nil)
        case .globalAveragePooling2D(let layer): return ([layer.forward(inputs[0], .average)], nil)
        case .globalMaxPooling2D(let layer): return ([layer.forward(inputs[0], .maximum)], nil)
        case .imageBorder2D(let layer): return ([try layer.forward(inputs[0])], nil)
        case .depthwiseConvolution(let layer): return ([try layer.forward(inputs[0], weights: weights)], nil)
        case .operation(let operation): return ([try operation.forward(inputs)], nil)
        case .multiHeadAttention(let layer): return (try layer.forward(inputs, weights: weights), nil)
        case .convLSTM(let layer): return (try layer.forward(inputs, weights: weights), nil)
        }
    }
}
