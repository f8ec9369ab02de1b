/// A SimpleRNN, LSTM or GRU layer: a cell (one time step, Runtime/CellSteps.swift) run over a
/// sequence by the loop all three share (Runtime/RecurrentLoop.swift).
struct RecurrentLayer: Equatable, Sendable {
    var cell: Cell
    var options: RecurrentOptions
    /// Keras 2's CuDNNLSTM or CuDNNGRU (tf_keras writes them; Keras 3 has no such class): an LSTM,
    /// or a GRU with reset_after, with tanh and sigmoid, that keeps an input and a recurrent bias
    /// ([2, G·U], as cuDNN does). Their weights are held converted as tf_keras converts them on
    /// load (Keras/CuDNNWeights.swift), so the cell steps are the plain ones.
    var isCuDNN = false

    /// The Keras class: SimpleRNN, LSTM, GRU, CuDNNLSTM or CuDNNGRU.
    var className: String { isCuDNN ? "CuDNN" + cell.className : cell.className }

    /// The kinds of recurrent cell, with what only that kind configures.
    enum Cell: Equatable, Sendable {
        /// h' = φ(x·kernel + h·recurrent_kernel + bias).
        case simpleRNN
        /// Gate blocks i, f, c, o. `unitForgetBias` only changes initialisation; it is kept so
        /// that a written config matches the read one.
        case lstm(unitForgetBias: Bool)
        /// Gate blocks z, r, h. reset_after=true (Keras ≥ 2.3's default, PyTorch's form) keeps
        /// separate input and recurrent biases, [2, 3U].
        case gru(resetAfter: Bool)

        var className: String {
            switch self {
            case .simpleRNN: "SimpleRNN"
            case .lstm: "LSTM"
            case .gru: "GRU"
            }
        }

        /// Gate blocks in the kernels: 1 for SimpleRNN, 4 for LSTM (i, f, c, o), 3 for GRU (z, r, h).
        var gateCount: Int {
            switch self {
            case .simpleRNN: 1
            case .lstm: 4
            case .gru: 3
            }
        }

        /// The states the cell carries: [h], or [h, c] for LSTM.
        var stateCount: Int {
            switch self {
            case .simpleRNN, .gru: 1
            case .lstm: 2
            }
        }

        /// The gates in Keras order, by the names the split layout gives them (`W_i`, `b_z`…);
        /// a SimpleRNN has one unnamed block (`W`, `U`, `b`).
        var gateNames: [String] {
            switch self {
            case .simpleRNN: [""]
            case .lstm: ["i", "f", "c", "o"]
            case .gru: ["z", "r", "h"]
            }
        }

        var resetAfter: Bool {
            if case .gru(let resetAfter) = self { return resetAfter }
            return false
        }
    }

    /// Whether the bias is [2, G·U], an input row and a recurrent row: GRU with reset_after, and
    /// the CuDNN layers.
    var hasRecurrentBias: Bool { cell.resetAfter || isCuDNN }

    /// The bias shape: [G·U], or [2, G·U] with a recurrent bias.
    var biasShape: [Int] {
        hasRecurrentBias ? [2, cell.gateCount * options.units] : [cell.gateCount * options.units]
    }

    /// Whether the step needs h·recurrent_kernel apart from x·kernel (GRU's reset gate scales
    /// only the recurrent part of the candidate); false lets the loop sum them in one product.
    var keepsRecurrentApart: Bool {
        switch cell {
        case .simpleRNN, .lstm: false
        case .gru: true
        }
    }

    /// Columns of the recurrent kernel that the step multiplies on their own (GRU without
    /// reset_after), packed apart for it; nil for none.
    var candidateKernelColumns: Range<Int>? {
        switch cell {
        case .simpleRNN, .lstm, .gru(resetAfter: true): nil
        case .gru(resetAfter: false): 2 * options.units..<3 * options.units
        }
    }

    /// Keras's default activations, which the fused C steps compute.
    var hasDefaultActivations: Bool {
        options.activation == .tanh && options.recurrentActivation == .sigmoid
    }

    /// The activations the cell applies: its recurrent activation only where it has gates.
    var activations: [Activation] {
        switch cell {
        case .simpleRNN: [options.activation]
        case .lstm, .gru: [options.activation, options.recurrentActivation]
        }
    }

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let name = className
        guard let sequence = inputs.first else {
            throw RNNKitError(.invalidModel, "\(name) needs an input")
        }
        try ShapeCheck.rank(sequence, 3, name)
        _ = try ShapeCheck.features(sequence, name)
        let batch = sequence[0]
        let stateShape: Shape = [batch, options.units]
        let initialStates = inputs.dropFirst()
        if !initialStates.isEmpty {
            guard initialStates.count == cell.stateCount else {
                throw RNNKitError(.invalidModel,
                                  "\(name) takes \(cell.stateCount) initial state(s), got \(initialStates.count)")
            }
            for state in initialStates where state.count != 2 || state[1] != options.units {
                throw RNNKitError(.invalidModel,
                                  "\(name) initial state must have shape \(formatShape([nil, options.units])), got \(formatShape(state))")
            }
        }
        let output: Shape = options.returnSequences ? [batch, sequence[1], options.units] : stateShape
        return [output] + (options.returnState ? Array(repeating: stateShape, count: cell.stateCount) : [])
    }

    /// kernel [I, G·U], recurrent_kernel [U, G·U], bias, in Keras's order.
    func cellWeightSpecs(inputDim: Int, namePrefix: String, keras3Group: String) -> [WeightSpec] {
        let width = cell.gateCount * options.units
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
}

/// The configuration every Keras recurrent layer shares (Keras's `RNN` base class): what comes
/// out of the sequence loop, in which direction it runs, and the cell's size and activations.
struct RecurrentOptions: Equatable, Sendable {
    var units: Int
    var activation: Activation
    /// The gates' activation; unused by SimpleRNN.
    var recurrentActivation: Activation
    var useBias: Bool
    var returnSequences: Bool
    var returnState: Bool
    var goBackwards: Bool
    var stateful: Bool
    var unroll: Bool
    /// Keras 3: masked steps output zeros instead of repeating the previous output.
    var zeroOutputForMask: Bool
    var dropout: Double
    var recurrentDropout: Double
}
