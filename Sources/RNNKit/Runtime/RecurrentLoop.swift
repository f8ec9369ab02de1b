/// A recurrent cell's weights in the form its step uses: kernel [I, G·U], recurrent kernel
/// [U, G·U], the input bias (folded into the input projection) and, for GRU with reset_after,
/// the recurrent bias.
public struct CellWeights: Sendable {
    var kernel: Tensor
    var recurrentKernel: Tensor
    /// The recurrent kernel in the packed product's layout.
    var packedRecurrentKernel: PackedMatrix
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
        self.packedRecurrentKernel = PackedMatrixCache.packed(recurrent)
        if let bias = weights[prefix + "bias"] {
            let width = kernel.shape[1]
            inputBias = Array(bias.scalars.prefix(width))
            recurrentBias = bias.rank == 2 ? Array(bias.scalars.suffix(width)) : nil
        }
    }
}

/// The buffers one time step works on, all for the whole batch. Nothing is allocated inside
/// the time loop: the loop owns these and hands them to the cell's step.
public struct StepBuffers {
    /// x_t·kernel + input bias, [B, G·U].
    public var input: UnsafePointer<Float>
    /// h_{t-1}·recurrent_kernel + recurrent bias, [B, G·U]; the step may overwrite it.
    public var recurrent: UnsafeMutablePointer<Float>
    /// The states, [S, B, U] (h first, then c for LSTM); updated in place.
    public var states: UnsafeMutablePointer<Float>
    /// Free space of [B, G·U].
    public var scratch: UnsafeMutablePointer<Float>
    public var batch: Int
    public var units: Int
}

/// The sequence loop every recurrent layer shares: runs a cell's step over time, in either
/// direction, honouring the mask (masked steps keep the state and repeat the previous output,
/// or output zeros), and collects what `return_sequences` and `return_state` ask for.
struct RecurrentLoop {
    var options: RecurrentOptions
    var stateCount: Int
    var step: (StepBuffers) -> Void

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
        let units = options.units, width = weights.kernel.shape[1], stateSize = batch * units
        // Time-major input, so that each step's projected rows are contiguous: [T·B, G·U].
        let timeMajor = batch == 1 ? input.scalars : Self.swapLeadingAxes(input.scalars, batch, steps, features)
        let projected = Kernels.affine(timeMajor, rows: steps * batch, kernel: PackedMatrixCache.packed(weights.kernel),
                                       bias: weights.inputBias)
        var states = carry?.states.flatMap { $0 } ?? (0..<stateCount).flatMap { index in
            index < initialStates.count ? initialStates[index].scalars : [Float](repeating: 0, count: stateSize)
        }
        var lastOutput = carry?.lastOutput ?? [Float](repeating: 0, count: stateSize)
        var sequence = [Float](repeating: 0, count: options.returnSequences ? batch * steps * units : 0)
        var recurrent = [Float](repeating: 0, count: batch * width)
        var scratch = recurrent
        var previous = mask == nil ? [] : states
        let recurrentBias = weights.recurrentBias
        projected.withUnsafeBufferPointer { projected in
        states.withUnsafeMutableBufferPointer { states in
        recurrent.withUnsafeMutableBufferPointer { recurrent in
        scratch.withUnsafeMutableBufferPointer { scratch in
            for position in 0..<steps {
                let time = options.goBackwards ? steps - 1 - position : position
                if mask != nil { previous.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: states) } }
                if let recurrentBias { Kernels.fillRows(recurrent.baseAddress!, rows: batch, with: recurrentBias) }
                Kernels.gemm(m: batch, a: states.baseAddress!, lda: units, b: weights.packedRecurrentKernel,
                             c: recurrent.baseAddress!, ldc: width, accumulate: recurrentBias != nil)
                step(StepBuffers(input: projected.baseAddress! + time * batch * width,
                                 recurrent: recurrent.baseAddress!, states: states.baseAddress!,
                                 scratch: scratch.baseAddress!, batch: batch, units: units))
                for row in 0..<batch {
                    let range = row * units..<(row + 1) * units
                    if let mask, !mask[row * steps + time] {
                        for state in 0..<stateCount {
                            let offset = state * stateSize
                            for index in range { states[offset + index] = previous[offset + index] }
                        }
                        if options.zeroOutputForMask { for index in range { lastOutput[index] = 0 } }
                    } else {
                        for index in range { lastOutput[index] = states[index] }
                    }
                    if options.returnSequences {
                        let target = (row * steps + position) * units
                        for (offset, index) in range.enumerated() { sequence[target + offset] = lastOutput[index] }
                    }
                }
            }
        }}}}
        let output = options.returnSequences
            ? Tensor(shape: [batch, steps, units], scalars: sequence)
            : Tensor(shape: [batch, units], scalars: lastOutput)
        let finalStates = (0..<stateCount).map { Array(states[$0 * stateSize..<($0 + 1) * stateSize]) }
        return Result(output: output, states: finalStates.map { Tensor(shape: [batch, units], scalars: $0) },
                      carry: RecurrentCarry(states: finalStates, lastOutput: lastOutput))
    }

    /// [B, T, F] to [T, B, F].
    static func swapLeadingAxes(_ values: [Float], _ batch: Int, _ steps: Int, _ features: Int) -> [Float] {
        var swapped = [Float](repeating: 0, count: values.count)
        for row in 0..<batch {
            for time in 0..<steps {
                let source = (row * steps + time) * features, target = (time * batch + row) * features
                for feature in 0..<features { swapped[target + feature] = values[source + feature] }
            }
        }
        return swapped
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
        RecurrentLoop(options: options, stateCount: Self.stateCount) { buffers in
            self.step(buffers, weights: weights)
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

