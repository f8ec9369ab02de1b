/// SimpleRNN, LSTM, GRU and Bidirectional as ONNX's RNN, LSTM and GRU operators (layout 0,
/// time-major, between Transposes: ONNX Runtime's CPU kernels run no other layout).
///
/// The operators compute Keras's cells exactly once the weights are in the onnx layout
/// (docs/layouts.md: LSTM gates i, o, f, c; GRU z, r, h; `linear_before_reset=1` for
/// reset_after=true, 0 for reset_after=false), with the activations as attributes: LSTM
/// (f, g, h) = (recurrent_activation, activation, activation), GRU (f, g) =
/// (recurrent_activation, activation), RNN (f) = activation.
///
/// What an operator cannot compute as Keras does (a masked input, an activation the operators
/// lack, directions one operator cannot hold) is a Scan of Keras's cell instead (ONNXScan.swift).
extension ONNXGraphBuilder {
    /// A Keras activation as one of the recurrent operators' activation functions: its name,
    /// alpha and beta (only those it takes), or nil for one the operators lack.
    static func operatorActivation(_ activation: Activation) -> (name: String, alpha: [Float], beta: [Float])? {
        switch activation {
        case .tanh: ("Tanh", [], [])
        case .sigmoid: ("Sigmoid", [], [])
        case .relu: ("Relu", [], [])
        case .linear: ("Affine", [1], [0])
        case .softsign: ("Softsign", [], [])
        case .softplus: ("Softplus", [], [])
        case .elu: ("Elu", [1], [])
        case .leakyRelu: ("LeakyRelu", [0.2], [])
        case .hardSigmoid(let keras2): ("HardSigmoid", [keras2 ? 0.2 : 1 / 6], [0.5])
        case .selu, .swish, .gelu, .exponential, .relu6, .softmax,
             .celu,
             .hardSilu,
             .hardTanh,
             .hardShrink,
             .softShrink,
             .tanhShrink,
             .sparsePlus,
             .sparseSigmoid,
             .squareplus,
             .mish,
             .logSigmoid,
             .logSoftmax,
             .sparsemax:
            nil
        }
    }

    /// The operator's activation list of one direction, in its (f, g, h) order.
    static func operatorActivations(_ layer: RecurrentLayer) -> [Activation] {
        switch layer.cell {
        case .simpleRNN: [layer.options.activation]
        case .gru: [layer.options.recurrentActivation, layer.options.activation]
        case .lstm: [layer.options.recurrentActivation, layer.options.activation, layer.options.activation]
        }
    }

    static func operatorType(_ cell: RecurrentLayer.Cell) -> String {
        switch cell {
        case .simpleRNN: "RNN"
        case .lstm: "LSTM"
        case .gru: "GRU"
        }
    }

    /// One recurrent operator for a layer of one direction (`directions` [layer]) or a
    /// Bidirectional ([forward, backward]); returns Keras's outputs: the output (or the two
    /// directions' outputs with merge_mode None), then the states, forward's first.
    mutating func recurrentLayer(_ name: String, kind: LayerKind, directions: [RecurrentLayer],
                                 mergeMode: Bidirectional.MergeMode?, inputs: [ONNXValue],
                                 weights: [String: Tensor]) throws -> [ONNXValue] {
        let first = directions[0]
        if first.isCuDNN && inputs[0].masked {
            throw ONNXExport.refusal(name, kind.className, "\(first.className) does not support masking "
                                     + "(Keras refuses a mask for it too)")
        }
        guard Self.operatorComputes(kind, directions: directions, input: inputs[0]) else {
            return try scannedLayer(name, kind: kind, directions: directions, mergeMode: mergeMode, inputs: inputs,
                                    weights: weights)
        }
        let op = Self.operatorType(first.cell)
        var names: [String] = [], alphas: [Float] = [], betas: [Float] = []
        for activation in directions.flatMap(Self.operatorActivations) {
            let mapped = Self.operatorActivation(activation)!
            names.append(mapped.name)
            alphas += mapped.alpha
            betas += mapped.beta
        }
        let tensors = try initializer(name, kind: kind, weights: weights)
        let units = Int64(first.options.units)
        let directionName = directions.count == 2 ? "bidirectional" : first.options.goBackwards ? "reverse" : "forward"
        var attributes: [ONNXAttribute] = [
            .int("hidden_size", units), .string("direction", directionName), .int("layout", 0),
            .strings("activations", names),
        ]
        if !alphas.isEmpty { attributes.append(.floats("activation_alpha", alphas)) }
        if !betas.isEmpty { attributes.append(.floats("activation_beta", betas)) }
        if case .gru(let resetAfter) = first.cell {
            attributes.append(.int("linear_before_reset", resetAfter ? 1 : 0))
        }

        // Initial states: Keras gives [B, H] per state and direction (forward's h, c, then
        // backward's); the operator takes each state as [dirs, B, H].
        let stateCount = first.cell.stateCount
        let given = inputs.dropFirst().map(\.name)
        var initialStates: [String] = []
        if !given.isEmpty {
            for state in 0..<stateCount {
                let perDirection = (0..<directions.count).map { direction in
                    node("Unsqueeze", [given[direction * stateCount + state], ints([0])])
                }
                initialStates.append(perDirection.count == 1 ? perDirection[0]
                                     : node("Concat", perDirection, attributes: [.int("axis", 0)]))
            }
        }
        let timeMajor = node("Transpose", [inputs[0].name], attributes: [.ints("perm", [1, 0, 2])])
        var operatorInputs = [timeMajor, tensors["W"]!, tensors["R"]!, tensors["B"] ?? "", ""] + initialStates
        while operatorInputs.last == "" { operatorInputs.removeLast() }
        let outputs = (0..<(1 + stateCount)).map { _ in fresh(op) }
        node(op, operatorInputs, outputs: outputs, attributes: attributes)
        let sequence = outputs[0], finalStates = Array(outputs.dropFirst())

        // Per direction: the output Keras returns, and the final states (with return_state).
        var directionOutputs: [String] = []
        var states: [String] = []
        for direction in directions.indices {
            let index = Int64(direction)
            let finals = first.options.returnState || !first.options.returnSequences
                ? finalStates.map { directionPart($0, axis: 0, index, of: directions.count) } : []
            if first.options.returnSequences {
                var steps = directionPart(sequence, axis: 1, index, of: directions.count)  // [T, B, H]
                if directions.count == 1 && first.options.goBackwards {
                    // Keras returns a go_backwards layer's outputs in processing order.
                    steps = slice(steps, axis: 0, -1, Int64.min, step: -1)
                }
                directionOutputs.append(node("Transpose", [steps], attributes: [.ints("perm", [1, 0, 2])]))
            } else {
                directionOutputs.append(finals[0])
            }
            if first.options.returnState { states += finals }
        }
        return merged(directionOutputs, mergeMode: mergeMode, mask: nil) + states.map { ONNXValue(name: $0) }
    }

    /// Whether ONNX's RNN, LSTM or GRU operator computes the layer exactly as Keras: no mask on
    /// its input (Keras keeps the state and repeats the last output at a masked step, which the
    /// operators' sequence_lens cannot express), activations the operator has, and directions
    /// one operator holds (one hidden_size, the backward one reversed, weights the onnx layout
    /// expresses).
    static func operatorComputes(_ kind: LayerKind, directions: [RecurrentLayer], input: ONNXValue) -> Bool {
        if input.masked { return false }
        if directions.flatMap(operatorActivations).contains(where: { operatorActivation($0) == nil }) { return false }
        if directions.count == 2 && (directions[0].options.units != directions[1].options.units
                                     || directions[0].options.goBackwards || !directions[1].options.goBackwards) {
            return false
        }
        return (try? LayoutConversion.tensorNames(of: kind, in: .onnx)) != nil
    }

    /// Keras's outputs of one direction ([output]) or of a Bidirectional's two ([forward,
    /// backward], in time order), merged as its merge_mode says (both apart for None); `mask`
    /// rides on each output.
    mutating func merged(_ outputs: [String], mergeMode: Bidirectional.MergeMode?, mask: String?) -> [ONNXValue] {
        guard outputs.count == 2, let mergeMode else { return outputs.map { ONNXValue(name: $0, mask: mask) } }
        let (forward, backward) = (outputs[0], outputs[1])
        let merged: String
        switch mergeMode {
        case .concat: merged = node("Concat", [forward, backward], attributes: [.int("axis", -1)])
        case .sum: merged = node("Add", [forward, backward])
        case .mul: merged = node("Mul", [forward, backward])
        case .ave: merged = node("Div", [node("Add", [forward, backward]), scalar(2)])
        }
        return [ONNXValue(name: merged, mask: mask)]
    }

    /// Direction `index` of an operator output whose `axis` holds `count` directions, that axis
    /// dropped: one Squeeze when there is one direction (no Slice node for ONNX Runtime to run).
    private mutating func directionPart(_ x: String, axis: Int64, _ index: Int64, of count: Int) -> String {
        count == 1 ? node("Squeeze", [x, ints([axis])]) : pick(x, axis: axis, index)
    }
}
