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
    public func step(_ projected: ArraySlice<Float>, _ states: inout [[Float]], batch: Int, weights: CellWeights) {
        let units = options.units, width = 4 * units
        let recurrent = recurrentProjection(states[0], batch: batch, weights: weights)
        let gate = options.recurrentActivation, activation = options.activation
        let start = projected.startIndex
        for row in 0..<batch {
            let base = row * width
            for unit in 0..<units {
                func preactivation(_ block: Int) -> Float {
                    let offset = base + block * units + unit
                    return projected[start + offset] + recurrent[offset]
                }
                let state = row * units + unit
                let input = gate(preactivation(0)), forget = gate(preactivation(1))
                let candidate = activation(preactivation(2)), output = gate(preactivation(3))
                let cell = forget * states[1][state] + input * candidate
                states[1][state] = cell
                states[0][state] = output * activation(cell)
            }
        }
    }
}
