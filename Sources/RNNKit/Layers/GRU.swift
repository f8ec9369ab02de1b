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

extension GRU {
    /// z = σ(x_z + h·R_z), r = σ(x_r + h·R_r); the candidate is φ(x_h + r·(h·R_h + b_h)) with
    /// reset_after, φ(x_h + (r·h)·R_h) without; h' = z·h + (1 − z)·candidate.
    public func step(_ projected: ArraySlice<Float>, _ states: inout [[Float]], batch: Int, weights: CellWeights) {
        let units = options.units, width = 3 * units
        let h = states[0]
        let recurrent = recurrentProjection(h, batch: batch, weights: weights)
        let gate = options.recurrentActivation
        let start = projected.startIndex
        var update = [Float](repeating: 0, count: batch * units)
        var reset = update
        for row in 0..<batch {
            for unit in 0..<units {
                let offset = row * width + unit, state = row * units + unit
                update[state] = gate(projected[start + offset] + recurrent[offset])
                reset[state] = gate(projected[start + offset + units] + recurrent[offset + units])
            }
        }
        // Without reset_after the reset gate applies to h before the multiply.
        let candidateRecurrent = resetAfter
            ? recurrent
            : recurrentProjection(zip(reset, h).map { $0 * $1 }, batch: batch, weights: weights)
        for row in 0..<batch {
            for unit in 0..<units {
                let offset = row * width + 2 * units + unit, state = row * units + unit
                let hidden = resetAfter ? reset[state] * candidateRecurrent[offset] : candidateRecurrent[offset]
                let candidate = options.activation(projected[start + offset] + hidden)
                states[0][state] = update[state] * h[state] + (1 - update[state]) * candidate
            }
        }
    }
}
