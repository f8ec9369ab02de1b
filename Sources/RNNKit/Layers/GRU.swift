/// Keras `GRU`, gate blocks z, r, h: kernel [I, 3U], recurrent_kernel [U, 3U].
/// reset_after=true (Keras ≥ 2.3 default, PyTorch's form): bias [2, 3U] (input row, recurrent
/// row), params 3U·(I+U+2). reset_after=false: bias [3U], params 3U·(I+U+1).
public struct GRU: RecurrentLayerDefinition {
    public static let className = "GRU"
    public static let gateCount = 3
    public static let stateCount = 1
    public var options: RecurrentOptions
    public var resetAfter: Bool

    public init(config: KerasConfig) throws {
        options = try RecurrentOptions(config: config, hasGates: true)
        // A config without the key predates Keras 2.1.5, where the reset was applied before.
        resetAfter = try config.bool("reset_after", default: false)
    }

    public var biasShape: [Int] {
        resetAfter ? [2, Self.gateCount * options.units] : [Self.gateCount * options.units]
    }

    public func encodeCellExtras(into object: inout JSONObject) {
        object["reset_after"] = .bool(resetAfter)
    }
}
