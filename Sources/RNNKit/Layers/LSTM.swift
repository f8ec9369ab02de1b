internal import CRNNKitKernels

/// Keras `LSTM`, gate blocks i, f, c, o along the last axis: kernel [I, 4U],
/// recurrent_kernel [U, 4U], bias [4U]. States [h, c]. Params 4U·(I+U+1).
public struct LSTM: RecurrentLayerDefinition {
    public static let className = "LSTM"
    public static let gateCount = 4
    public static let stateCount = 2
    public var options: RecurrentOptions
    /// Only changes initialisation, kept so that a written config matches the read one.
    public var unitForgetBias: Bool

    public init(config: KerasConfig) throws {
        options = try RecurrentOptions(config: config, hasGates: true)
        unitForgetBias = try config.bool("unit_forget_bias", default: true)
    }

    public func encodeCellExtras(into object: inout JSONObject) {
        object["unit_forget_bias"] = .bool(unitForgetBias)
    }
}

extension LSTM {
    /// i = σ(a_i), f = σ(a_f), c' = f·c + i·φ(a_c), o = σ(a_o), h' = o·φ(c').
    public func step(_ buffers: StepBuffers, weights: CellWeights) {
        let units = buffers.units, width = 4 * units
        let h = buffers.states, c = buffers.states + buffers.batch * units
        guard !hasDefaultActivations else {
            return rnnkit_lstm_step(buffers.batch, units, buffers.gates, h, c)
        }
        for row in 0..<buffers.batch {
            let block = buffers.gates + row * width
            options.recurrentActivation.apply(block, count: 2 * units)             // i, f
            options.activation.apply(block + 2 * units, count: units)              // candidate
            options.recurrentActivation.apply(block + 3 * units, count: units)     // o
            let cell = c + row * units, activated = buffers.recurrent + row * units
            for unit in 0..<units {
                cell[unit] = block[units + unit] * cell[unit] + block[unit] * block[2 * units + unit]
                activated[unit] = cell[unit]
            }
            options.activation.apply(activated, count: units)
            for unit in 0..<units { h[row * units + unit] = block[3 * units + unit] * activated[unit] }
        }
    }
}
