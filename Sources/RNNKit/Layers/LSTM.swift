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
