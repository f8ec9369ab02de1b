/// The configuration every Keras recurrent layer shares (Keras's `RNN` base class): what comes
/// out of the sequence loop, in which direction it runs, and the cell's size and activations.
public struct RecurrentOptions: Equatable, Sendable {
    public var units: Int
    public var activation: Activation
    /// The gates' activation; unused by SimpleRNN.
    public var recurrentActivation: Activation
    public var useBias: Bool
    public var returnSequences: Bool
    public var returnState: Bool
    public var goBackwards: Bool
    public var stateful: Bool
    public var unroll: Bool
    public var timeMajor: Bool
    /// Keras 3: masked steps output zeros instead of repeating the previous output.
    public var zeroOutputForMask: Bool
    public var dropout: Double
    public var recurrentDropout: Double

    init(config: KerasConfig, hasGates: Bool) throws {
        units = try config.dimension("units")
        activation = try config.activation("activation", default: "tanh")
        recurrentActivation = hasGates
            ? try config.activation("recurrent_activation", default: "sigmoid") : .sigmoid
        useBias = try config.bool("use_bias", default: true)
        returnSequences = try config.bool("return_sequences", default: false)
        returnState = try config.bool("return_state", default: false)
        goBackwards = try config.bool("go_backwards", default: false)
        stateful = try config.bool("stateful", default: false)
        unroll = try config.bool("unroll", default: false)
        timeMajor = try config.bool("time_major", default: false)
        zeroOutputForMask = try config.bool("zero_output_for_mask", default: false)
        dropout = try config.double("dropout", default: 0)
        recurrentDropout = try config.double("recurrent_dropout", default: 0)
        if timeMajor {
            throw config.error("time_major", "time_major=true is not supported (batch-major inputs only)")
        }
        for (key, activation) in [("activation", activation), ("recurrent_activation", recurrentActivation)]
        where activation == .softmax {
            throw config.error(key, "softmax is not an element-wise activation")
        }
    }

    func encode(into object: inout JSONObject, hasGates: Bool) {
        object["units"] = .int(units)
        object["activation"] = .string(activation.kerasName)
        if hasGates { object["recurrent_activation"] = .string(recurrentActivation.kerasName) }
        object["use_bias"] = .bool(useBias)
        object["return_sequences"] = .bool(returnSequences)
        object["return_state"] = .bool(returnState)
        object["go_backwards"] = .bool(goBackwards)
        object["stateful"] = .bool(stateful)
        object["unroll"] = .bool(unroll)
        object["zero_output_for_mask"] = .bool(zeroOutputForMask)
        object["dropout"] = .double(dropout)
        object["recurrent_dropout"] = .double(recurrentDropout)
    }
}

/// A SimpleRNN, LSTM or GRU layer: a cell (one time step, defined per kind) run over a
/// sequence by the loop that all three share.
public protocol RecurrentLayerDefinition: LayerDefinition {
    var options: RecurrentOptions { get set }
    /// 1 for SimpleRNN, 4 for LSTM (i, f, c, o), 3 for GRU (z, r, h).
    static var gateCount: Int { get }
    /// The states the cell carries: [h] or, for LSTM, [h, c].
    static var stateCount: Int { get }
    /// The bias shape; GRU with reset_after keeps separate input and recurrent biases.
    var biasShape: [Int] { get }
    /// Writes the config keys only this kind has (unit_forget_bias, reset_after).
    func encodeCellExtras(into object: inout JSONObject)
    /// Whether `step` needs h·recurrent_kernel apart from x·kernel (GRU's reset gate scales
    /// only the recurrent part of the candidate); false lets the loop sum them in one product.
    var keepsRecurrentApart: Bool { get }
    /// Columns of the recurrent kernel that `step` multiplies on their own (GRU without
    /// reset_after), packed apart for it; nil for none.
    var candidateKernelColumns: Range<Int>? { get }
    /// One time step of the cell for the rows in `buffers`: from the gates' pre-activations
    /// (biases included) to the new states, in place.
    func step(_ buffers: StepBuffers, weights: CellWeights)
}

extension RecurrentLayerDefinition {
    public var biasShape: [Int] { [Self.gateCount * options.units] }
    public var keepsRecurrentApart: Bool { false }
    public var candidateKernelColumns: Range<Int>? { nil }

    /// Keras's default activations, which the fused C steps compute.
    var hasDefaultActivations: Bool {
        options.activation == .tanh && options.recurrentActivation == .sigmoid
    }

    public func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let name = Self.className
        guard let sequence = inputs.first else {
            throw RNNKitError(.invalidModel, "\(name) needs an input")
        }
        try ShapeCheck.rank(sequence, 3, name)
        _ = try ShapeCheck.features(sequence, name)
        let batch = sequence[0]
        let stateShape: Shape = [batch, options.units]
        let initialStates = inputs.dropFirst()
        if !initialStates.isEmpty {
            guard initialStates.count == Self.stateCount else {
                throw RNNKitError(.invalidModel,
                                  "\(name) takes \(Self.stateCount) initial state(s), got \(initialStates.count)")
            }
            for state in initialStates where state.count != 2 || state[1] != options.units {
                throw RNNKitError(.invalidModel,
                                  "\(name) initial state must have shape \(formatShape([nil, options.units])), got \(formatShape(state))")
            }
        }
        let output: Shape = options.returnSequences ? [batch, sequence[1], options.units] : stateShape
        return [output] + (options.returnState ? Array(repeating: stateShape, count: Self.stateCount) : [])
    }

    public func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        guard let sequence = inputs.first else { return [] }
        return cellWeightSpecs(inputDim: try ShapeCheck.features(sequence, Self.className),
                               namePrefix: "", keras3Group: "cell/vars")
    }

    /// kernel [I, G·U], recurrent_kernel [U, G·U], bias, in Keras's order.
    func cellWeightSpecs(inputDim: Int, namePrefix: String, keras3Group: String) -> [WeightSpec] {
        let width = Self.gateCount * options.units
        var specs = [
            WeightSpec(name: namePrefix + "kernel", shape: [inputDim, width], keras3Path: keras3Group + "/0"),
            WeightSpec(name: namePrefix + "recurrent_kernel", shape: [options.units, width],
                       keras3Path: keras3Group + "/1"),
        ]
        if options.useBias {
            specs.append(WeightSpec(name: namePrefix + "bias", shape: biasShape, keras3Path: keras3Group + "/2"))
        }
        return specs
    }

    public func kerasConfig() -> JSONObject {
        var object = JSONObject()
        options.encode(into: &object, hasGates: Self.gateCount > 1)
        encodeCellExtras(into: &object)
        return object
    }

    public func encodeCellExtras(into object: inout JSONObject) {}
}
