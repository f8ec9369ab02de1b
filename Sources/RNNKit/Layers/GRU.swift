internal import CRNNKitKernels

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
    public var keepsRecurrentApart: Bool { true }
    public var candidateKernelColumns: Range<Int>? { resetAfter ? nil : 2 * options.units..<3 * options.units }

    /// z = σ(x_z + h·R_z), r = σ(x_r + h·R_r); the candidate is φ(x_h + r·(h·R_h + b_h)) with
    /// reset_after, φ(x_h + (r·h)·R_h) without; h' = z·h + (1 − z)·candidate.
    public func step(_ buffers: StepBuffers, weights: CellWeights) {
        let units = buffers.units, width = 3 * units, batch = buffers.batch
        let gates = buffers.gates, recurrent = buffers.recurrent, h = buffers.states
        if resetAfter && hasDefaultActivations {
            return rnnkit_gru_step(batch, units, gates, recurrent, h)
        }
        for row in 0..<batch {
            let block = gates + row * width
            for index in 0..<2 * units { block[index] += recurrent[row * width + index] }
            options.recurrentActivation.apply(block, count: 2 * units)
        }
        if !resetAfter {
            // The reset gate scales h before the multiply: x_h + (r·h)·R_h into the candidate
            // block. The recurrent buffer is free by now and holds r·h.
            let resetState = recurrent
            for row in 0..<batch {
                for unit in 0..<units {
                    resetState[row * units + unit] = gates[row * width + units + unit] * h[row * units + unit]
                }
            }
            if let candidateKernel = weights.packedCandidateKernel {
                Kernels.gemm(m: batch, a: resetState, lda: units, b: candidateKernel, c: gates + 2 * units, ldc: width,
                             accumulate: true, threads: 1)
            }
        }
        for row in 0..<batch {
            let block = gates + row * width
            if resetAfter {
                for unit in 0..<units { block[2 * units + unit] += block[units + unit] * recurrent[row * width + 2 * units + unit] }
            }
            options.activation.apply(block + 2 * units, count: units)
            for unit in 0..<units {
                let state = row * units + unit, update = block[unit]
                h[state] = update * h[state] + (1 - update) * block[2 * units + unit]
            }
        }
    }
}
