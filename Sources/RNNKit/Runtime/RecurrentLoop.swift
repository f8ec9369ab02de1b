/// A recurrent cell's weights in the form its step uses: kernel [I, G·U], recurrent kernel
/// [U, G·U], the input bias (folded into the input projection) and, for GRU with reset_after,
/// the recurrent bias.
public struct CellWeights: Sendable {
    var kernel: Tensor
    var recurrentKernel: Tensor
    var inputBias: [Float]?
    var recurrentBias: [Float]?

    /// Picks `<prefix>kernel`, `<prefix>recurrent_kernel` and `<prefix>bias` out of a layer's
    /// bound weights; a [2, G·U] bias is split into its input and recurrent rows.
    init(_ weights: [String: Tensor], prefix: String = "") throws {
        guard let kernel = weights[prefix + "kernel"], let recurrent = weights[prefix + "recurrent_kernel"] else {
            throw RNNKitError(.invalidModel, "recurrent layer has no bound \(prefix)kernel")
        }
        self.kernel = kernel
        self.recurrentKernel = recurrent
        if let bias = weights[prefix + "bias"] {
            let width = kernel.shape[1]
            inputBias = Array(bias.scalars.prefix(width))
            recurrentBias = bias.rank == 2 ? Array(bias.scalars.suffix(width)) : nil
        }
    }
}

/// The sequence loop every recurrent layer shares: runs a cell's step over time, in either
/// direction, honouring the mask (masked steps keep the state and repeat the previous output,
/// or output zeros), and collects what `return_sequences` and `return_state` ask for.
struct RecurrentLoop {
    var options: RecurrentOptions
    var stateCount: Int
    /// One step for the whole batch: `projected` is x_t·kernel + input bias, [B, G·U]; the
    /// step updates `states` ([B·U] each; h first) in place.
    var step: (_ projected: ArraySlice<Float>, _ states: inout [[Float]], _ batch: Int) -> Void

    struct Result {
        /// [B, T, U] in processing order when returning sequences, else [B, U].
        var output: Tensor
        var states: [Tensor]
        /// Where the loop stopped, so that a stream can go on from there.
        var carry: RecurrentCarry
    }

    /// Runs the sequence from `initialStates` (zeros where absent), or from where an earlier
    /// chunk of the same stream stopped (`carry`).
    func run(_ input: Tensor, mask: [Bool]?, initialStates: [Tensor], weights: CellWeights,
             carry: RecurrentCarry? = nil) -> Result {
        let batch = input.shape[0], steps = input.shape[1], features = input.shape[2]
        let units = options.units, width = weights.kernel.shape[1]
        // All time steps' input projections in one multiply: [B·T, G·U].
        let projected = Kernels.affine(input.scalars, rows: batch * steps, kernel: weights.kernel,
                                       bias: weights.inputBias)
        _ = features
        var states = carry?.states ?? (0..<stateCount).map { index in
            index < initialStates.count ? initialStates[index].scalars : [Float](repeating: 0, count: batch * units)
        }
        var lastOutput = carry?.lastOutput ?? [Float](repeating: 0, count: batch * units)
        var sequence = options.returnSequences ? [Float](repeating: 0, count: batch * steps * units) : []
        var stepInput = [Float](repeating: 0, count: batch * width)
        for position in 0..<steps {
            let time = options.goBackwards ? steps - 1 - position : position
            for row in 0..<batch {
                let source = (row * steps + time) * width
                stepInput.replaceSubrange(row * width..<(row + 1) * width, with: projected[source..<source + width])
            }
            let previous = states
            step(stepInput[...], &states, batch)
            for row in 0..<batch {
                let range = row * units..<(row + 1) * units
                if let mask, !mask[row * steps + time] {
                    for index in states.indices { states[index].replaceSubrange(range, with: previous[index][range]) }
                    if options.zeroOutputForMask {
                        for index in range { lastOutput[index] = 0 }
                    }
                } else {
                    lastOutput.replaceSubrange(range, with: states[0][range])
                }
                if options.returnSequences {
                    let target = (row * steps + position) * units
                    sequence.replaceSubrange(target..<target + units, with: lastOutput[range])
                }
            }
        }
        let output = options.returnSequences
            ? Tensor(shape: [batch, steps, units], scalars: sequence)
            : Tensor(shape: [batch, units], scalars: lastOutput)
        return Result(output: output, states: states.map { Tensor(shape: [batch, units], scalars: $0) },
                      carry: RecurrentCarry(states: states, lastOutput: lastOutput))
    }
}

/// A recurrent layer's state between two chunks of a stream: its cell states and the last
/// output it emitted (repeated at masked steps).
public struct RecurrentCarry: Sendable, Equatable {
    var states: [[Float]]
    var lastOutput: [Float]
}

extension RecurrentLayerDefinition {
    /// The loop for this layer, with `options` (Bidirectional overrides some of them).
    func loop(options: RecurrentOptions, weights: CellWeights) -> RecurrentLoop {
        RecurrentLoop(options: options, stateCount: Self.stateCount) { projected, states, batch in
            self.step(projected, &states, batch: batch, weights: weights)
        }
    }

    public func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] {
        try forward(inputs, weights: weights, carry: nil).outputs
    }

    /// The forward pass, continuing from `carry` when streaming; also returns the carry to
    /// continue from.
    func forward(_ inputs: [LayerValue], weights: [String: Tensor],
                 carry: RecurrentCarry?) throws -> (outputs: [LayerValue], carry: RecurrentCarry) {
        let cell = try CellWeights(weights)
        let result = loop(options: options, weights: cell)
            .run(inputs[0].tensor, mask: inputs[0].mask, initialStates: inputs.dropFirst().map(\.tensor),
                 weights: cell, carry: carry)
        // A sequence output keeps the input's mask; a last-step output has none.
        let output = LayerValue(result.output, mask: options.returnSequences ? inputs[0].mask : nil)
        return ([output] + (options.returnState ? result.states.map { LayerValue($0) } : []), result.carry)
    }
}

/// h·R (+ recurrent bias) for the whole batch: [B, U] · [U, G·U].
func recurrentProjection(_ h: [Float], batch: Int, weights: CellWeights) -> [Float] {
    Kernels.affine(h, rows: batch, kernel: weights.recurrentKernel, bias: weights.recurrentBias)
}
