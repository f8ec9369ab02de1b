internal import CRNNKitKernels

/// One time step of each recurrent cell, for the rows in `buffers`: from the gates'
/// pre-activations (biases included) to the new states, in place. The sequence loop
/// (RecurrentLoop) calls it once per time step.
extension RecurrentLayer {
    func step(_ buffers: StepBuffers, weights: CellWeights) {
        switch cell {
        case .simpleRNN: simpleRNNStep(buffers)
        case .lstm: lstmStep(buffers)
        case .gru(let resetAfter): gruStep(buffers, weights: weights, resetAfter: resetAfter)
        }
    }

    /// h' = φ(gates).
    private func simpleRNNStep(_ buffers: StepBuffers) {
        let count = buffers.batch * buffers.units
        buffers.states.update(from: buffers.gates, count: count)
        options.activation.apply(buffers.states, count: count)
    }

    /// i = σ(a_i), f = σ(a_f), c' = f·c + i·φ(a_c), o = σ(a_o), h' = o·φ(c').
    private func lstmStep(_ buffers: StepBuffers) {
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

    /// z = σ(x_z + h·R_z), r = σ(x_r + h·R_r); the candidate is φ(x_h + r·(h·R_h + b_h)) with
    /// reset_after, φ(x_h + (r·h)·R_h) without; h' = z·h + (1 − z)·candidate.
    private func gruStep(_ buffers: StepBuffers, weights: CellWeights, resetAfter: Bool) {
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
