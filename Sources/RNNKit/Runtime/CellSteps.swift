internal import CRNNKitKernels

/// One time step of each recurrent cell, for the rows in `buffers`: from the gates'
/// pre-activations (biases included) to the new states. The sequence loop (RecurrentLoop) calls
/// it once per time step, for all units or, when two threads share a sequence, for one thread's
/// share of them (`StepBuffers.units`): a step touches only the columns of its units.
extension RecurrentLayer {
    func step(_ buffers: StepBuffers, weights: CellWeights) {
        switch cell {
        case .simpleRNN: simpleRNNStep(buffers)
        case .lstm: lstmStep(buffers)
        case .gru(let resetAfter): gruStep(buffers, weights: weights, resetAfter: resetAfter)
        }
    }

    /// Whether a step can compute a share of the units on its own: not GRU without reset_after,
    /// whose candidate multiplies r·h of every unit.
    var stepSplitsUnits: Bool { cell != .gru(resetAfter: false) }

    /// h' = φ(gates).
    private func simpleRNNStep(_ buffers: StepBuffers) {
        let units = buffers.unitCount, first = buffers.units.lowerBound, count = buffers.units.count
        guard count < units else {
            // All the units: the rows are one stretch, activated by one call (the same values:
            // the activation acts value by value).
            buffers.newH.update(from: buffers.gates, count: buffers.batch * units)
            return options.activation.apply(buffers.newH, count: buffers.batch * units)
        }
        for row in 0..<buffers.batch {
            let offset = row * units + first
            (buffers.newH + offset).update(from: buffers.gates + offset, count: count)
            options.activation.apply(buffers.newH + offset, count: count)
        }
    }

    /// i = σ(a_i), f = σ(a_f), c' = f·c + i·φ(a_c), o = σ(a_o), h' = o·φ(c'). ConvLSTM steps
    /// every output cell of its images with it (`buffers.batch` = batch × cells).
    func lstmStep(_ buffers: StepBuffers) {
        let units = buffers.unitCount, width = 4 * units, first = buffers.units.lowerBound, count = buffers.units.count
        let h = buffers.newH, c = buffers.cell
        guard !hasDefaultActivations else {
            return rnnkit_lstm_step(buffers.batch, units, first, count, buffers.gates, h, c, buffers.hugeStates ? 1 : 0)
        }
        for row in 0..<buffers.batch {
            let block = buffers.gates + row * width
            options.recurrentActivation.apply(block + first, count: count)              // i
            options.recurrentActivation.apply(block + units + first, count: count)      // f
            options.activation.apply(block + 2 * units + first, count: count)           // candidate
            options.recurrentActivation.apply(block + 3 * units + first, count: count)  // o
            let cell = c + row * units, activated = buffers.recurrent + row * units
            for unit in buffers.units {
                cell[unit] = block[units + unit] * cell[unit] + block[unit] * block[2 * units + unit]
                activated[unit] = cell[unit]
            }
            options.activation.apply(activated + first, count: count)
            for unit in buffers.units { h[row * units + unit] = block[3 * units + unit] * activated[unit] }
        }
    }

    /// z = σ(x_z + h·R_z), r = σ(x_r + h·R_r); the candidate is φ(x_h + r·(h·R_h + b_h)) with
    /// reset_after, φ(x_h + (r·h)·R_h) without (all units at once); h' = z·h + (1 − z)·candidate.
    private func gruStep(_ buffers: StepBuffers, weights: CellWeights, resetAfter: Bool) {
        let units = buffers.unitCount, width = 3 * units, batch = buffers.batch
        let first = buffers.units.lowerBound, count = buffers.units.count
        let gates = buffers.gates, recurrent = buffers.recurrent, h = buffers.h, newH = buffers.newH
        if resetAfter && hasDefaultActivations {
            return rnnkit_gru_step(batch, units, first, count, gates, recurrent, h, newH, buffers.hugeStates ? 1 : 0)
        }
        precondition(resetAfter || buffers.units == 0..<units, "GRU without reset_after steps all units at once")
        for row in 0..<batch {
            let block = gates + row * width
            for gate in 0..<2 {
                for unit in buffers.units { block[gate * units + unit] += recurrent[row * width + gate * units + unit] }
                options.recurrentActivation.apply(block + gate * units + first, count: count)
            }
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
                for unit in buffers.units {
                    block[2 * units + unit] += block[units + unit] * recurrent[row * width + 2 * units + unit]
                }
            }
            options.activation.apply(block + 2 * units + first, count: count)
            for unit in buffers.units {
                let state = row * units + unit, update = block[unit]
                newH[state] = update * h[state] + (1 - update) * block[2 * units + unit]
            }
        }
    }
}
