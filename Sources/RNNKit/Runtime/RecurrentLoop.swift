import Dispatch
import Synchronization
internal import CRNNKitKernels

/// A recurrent cell's weights in the form its step uses: kernel [I, G·U], recurrent kernel
/// [U, G·U], packed once stacked, the input bias (folded into the input projection) and, for GRU
/// with reset_after, the recurrent bias. A predictor makes them once per layer call
/// (`PreparedWeights`); a class, so that passing them on retains one reference.
final class CellWeights: Sendable {
    let kernel: Tensor
    let recurrentKernel: Tensor
    /// [kernel; recurrent_kernel] packed, from the predictor's cache when there is one: the one
    /// packed copy every batch size multiplies by, whole or block by block.
    let packed: StackedPacking
    /// The recurrent kernel's columns that the step multiplies on their own, packed (GRU
    /// without reset_after: the candidate's block).
    let packedCandidateKernel: PackedMatrix?
    let inputBias: [Float]?
    let recurrentBias: [Float]?

    /// Picks `<prefix>kernel`, `<prefix>recurrent_kernel` and `<prefix>bias` out of a layer's
    /// bound weights for `layer`; a [2, G·U] bias is split into its input and recurrent rows.
    init(_ weights: [String: Tensor], prefix: String = "", for layer: RecurrentLayer) throws {
        guard let kernel = weights[prefix + "kernel"], let recurrent = weights[prefix + "recurrent_kernel"] else {
            throw RNNKitError(.invalidModel, "recurrent layer has no bound \(prefix)kernel")
        }
        self.kernel = kernel
        self.recurrentKernel = recurrent
        let packed = PackedMatrixCache.packed(kernel, stackedOn: recurrent)
        self.packed = packed
        // A view of the packed [kernel; recurrent_kernel] where its columns start at a panel: no
        // second copy of those weights.
        self.packedCandidateKernel = layer.candidateKernelColumns.map { columns in
            columns.lowerBound % PackedMatrix.panelWidth == 0
                ? PackedMatrix(rows: 0..<recurrent.shape[0], columns: columns, of: packed.bottom)
                : PackedMatrixCache.packed(recurrent, columns: columns)
        }
        guard let bias = weights[prefix + "bias"] else {
            inputBias = nil
            recurrentBias = nil
            return
        }
        let width = kernel.shape[1]
        let inputRow = bias.rank == 2 ? Array(bias.scalars.prefix(width)) : bias.scalars
        let recurrentRow = bias.rank == 2 ? Array(bias.scalars.suffix(width)) : nil
        if let recurrentRow, !layer.keepsRecurrentApart {
            // A CuDNNLSTM's two biases add up before any product, as tf_keras sums them on load.
            inputBias = zip(inputRow, recurrentRow).map { $0 + $1 }
            recurrentBias = nil
        } else {
            inputBias = inputRow
            recurrentBias = recurrentRow
        }
    }
}

/// The buffers one time step works on, for the rows of the batch that one thread runs. Nothing
/// is allocated inside the time loop: the loop owns these and hands them to the cell's step.
struct StepBuffers {
    /// x_t·kernel + input bias, plus h_{t-1}·recurrent_kernel unless the cell keeps the
    /// recurrent part apart; [B, G·U]. Used once: the step may overwrite it.
    var gates: UnsafeMutablePointer<Float>
    /// h_{t-1}·recurrent_kernel + recurrent bias when the cell keeps it apart (GRU), else free
    /// space; [B, G·U]. The step may overwrite it.
    var recurrent: UnsafeMutablePointer<Float>
    /// h_{t-1}, [B, U].
    var h: UnsafeMutablePointer<Float>
    /// Where h_t goes, [B, U]: `h` itself, or the other of two buffers when two threads share
    /// the units (each reads all of h_{t-1} while the other writes its share of h_t).
    var newH: UnsafeMutablePointer<Float>
    /// The cell state c (LSTM), [B, U], updated in place.
    var cell: UnsafeMutablePointer<Float>
    var batch: Int
    /// U, the row length of h and c.
    var unitCount: Int
    /// The units this step computes: all, or one thread's share.
    var units: Range<Int>
    /// Whether the sequence started from a state beyond 2^96, which the fused steps scale (see
    /// `rnnkit_has_huge_state`); zero states (ConvLSTM's) never are.
    var hugeStates = false
}

/// The sequence loop every recurrent layer shares: runs a cell's step over time, in either
/// direction, honouring the mask (masked steps keep the state and repeat the previous output,
/// or output zeros), and collects what `return_sequences` and `return_state` ask for.
///
/// With several threads, from six batch rows each thread runs the whole loop on rows of its own:
/// one fork and join per layer, none per time step. Below that, two threads split each step's
/// units (the gate columns of each unit, and its share of the cell step) and meet at a spin
/// barrier per step. Either way every value is the same sum as on one thread.
struct RecurrentLoop {
    var options: RecurrentOptions
    var stateCount: Int
    /// Whether the step wants h·recurrent_kernel in `StepBuffers.recurrent` instead of summed
    /// into the gates.
    var keepsRecurrentApart: Bool
    /// Whether the step can run a share of the units (see `RecurrentLayer.stepSplitsUnits`).
    var splitsUnits: Bool
    /// The layer whose cell steps (`RecurrentLayer.step`).
    var layer: RecurrentLayer

    struct Result {
        /// [B, T, U] in processing order when returning sequences, else [B, U].
        var output: Tensor
        /// The final states, [S, B, U]: split into tensors only when asked for (return_state),
        /// which a plain prediction does not.
        var finalStates: [Float]
        var stateCount: Int, batch: Int, units: Int
        var lastOutput: [Float]

        /// The final states, each [B, U].
        var states: [Tensor] {
            let size = batch * units
            return (0..<stateCount).map {
                Tensor(shape: [batch, units], scalars: Array(finalStates[$0 * size..<($0 + 1) * size]))
            }
        }

        /// Where the loop stopped, so that a stream can go on from there.
        var carry: RecurrentCarry { RecurrentCarry(states: finalStates, lastOutput: lastOutput) }
    }

    /// Runs the sequence from `initialStates` (zeros where absent), or from where an earlier
    /// chunk of the same stream stopped (`carry`), on up to `threads` threads.
    func run(_ input: Tensor, mask: [Bool]?, initialStates: [Tensor], weights: CellWeights,
             carry: RecurrentCarry? = nil, threads: Int = RNNKitRuntime.threadCount) -> Result {
        let batch = input.shape[0], steps = input.shape[1], features = input.shape[2], units = options.units
        let stateSize = batch * units
        var states: [Float]
        if let carry {
            states = carry.states
        } else {
            states = [Float](filledWith: 0, count: stateCount * stateSize)
            for (index, state) in initialStates.prefix(stateCount).enumerated() {
                states.replaceSubrange(index * stateSize..<(index + 1) * stateSize, with: state.scalars)
            }
        }
        var lastOutput = carry?.lastOutput ?? [Float](filledWith: 0, count: stateSize)
        var sequence = [Float](filledWith: 0, count: options.returnSequences ? batch * steps * units : 0)
        let width = weights.kernel.shape[1], multiplyAdds = batch * steps * width * (features + units)
        let parts = RNNKitRuntime.parts(threads: threads, items: batch, multiplyAdds: multiplyAdds)
        // One packed [kernel; recurrent_kernel] for every batch size; `separate` multiplies by
        // views of its two blocks of rows. Chosen for the whole batch, so that each row's sums
        // are the same however many threads.
        let packed = weights.packed
        let products: Products = !keepsRecurrentApart && batch >= Self.stackedMinimumRows
            ? .stacked(packed.whole) : .separate(input: packed.top, recurrent: packed.bottom)
        // Two threads share the units of small batches: the split point, at a panel of columns.
        // Each step must be worth a meeting at the barrier (a few hundred ns): an eighth of the
        // work a thread needs at all, about a microsecond of the recurrent product.
        let split = (units / 2 + PackedMatrix.panelWidth - 1) / PackedMatrix.panelWidth * PackedMatrix.panelWidth
        let sharesUnits = threads >= 2 && batch < Self.stackedMinimumRows && splitsUnits
            && units % PackedMatrix.panelWidth == 0 && split < units
            && RNNKitRuntime.parts(threads: 2, items: 2, multiplyAdds: multiplyAdds) == 2
            && batch * width * units >= RNNKitRuntime.multiplyAddsPerThread / 8
        input.scalars.withUnsafeBufferPointer { input in
        states.withUnsafeMutableBufferPointer { states in
        lastOutput.withUnsafeMutableBufferPointer { lastOutput in
        sequence.withUnsafeMutableBufferPointer { sequence in
            let whole = Sequence(input: input.baseAddress!, mask: mask, batch: batch, steps: steps,
                                 features: features, states: states.baseAddress!,
                                 hugeStates: rnnkit_has_huge_state(states.baseAddress!, states.count) != 0,
                                 lastOutput: lastOutput.baseAddress!,
                                 sequence: options.returnSequences ? sequence.baseAddress : nil)
            if sharesUnits, case .separate(let inputKernel, let recurrentKernel) = products,
               runSharingUnits(whole, inputKernel: inputKernel, recurrentKernel: recurrentKernel, weights: weights,
                               split: split) {
                return
            }
            guard parts > 1 else {
                return runRows(0..<batch, of: whole, products: products, weights: weights, threads: threads)
            }
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                // Each part reads and writes only its own rows of `whole`.
                runRows(part * batch / parts..<(part + 1) * batch / parts, of: whole, products: products,
                        weights: weights, threads: 1)
            }
        }}}}
        let output = options.returnSequences
            ? Tensor(shape: [batch, steps, units], scalars: sequence)
            : Tensor(shape: [batch, units], scalars: lastOutput)
        return Result(output: output, finalStates: states, stateCount: stateCount, batch: batch, units: units,
                      lastOutput: lastOutput)
    }

    /// The whole batch's input and outputs, shared by the threads of one run.
    private struct Sequence: @unchecked Sendable {
        /// [B, T, F].
        var input: UnsafePointer<Float>
        /// [B, T], true where a step is present.
        var mask: [Bool]?
        var batch: Int, steps: Int, features: Int
        /// [S, B, U]: the initial states on entry, the final ones on return.
        var states: UnsafeMutablePointer<Float>
        /// Whether an initial state is beyond 2^96 (`StepBuffers.hugeStates`).
        var hugeStates: Bool
        /// [B, U].
        var lastOutput: UnsafeMutablePointer<Float>
        /// [B, T, U], nil unless returning sequences.
        var sequence: UnsafeMutablePointer<Float>?

        func isMasked(row: Int, time: Int) -> Bool {
            guard let mask else { return false }
            return !mask[row * steps + time]
        }

        /// The inputs of `row` at `times` (RidingProjection.rows of them), k-major into `buffer`
        /// (see `RidingProjection.input`).
        func gather(row: Int, times: Range<Int>, into buffer: UnsafeMutablePointer<Float>) {
            let first = input + (row * steps + times.lowerBound) * features, rows = times.count
            for step in 0..<rows {
                for feature in 0..<features { buffer[feature * rows + step] = first[step * features + feature] }
            }
        }
    }

    /// The time steps whose input projections a loop keeps in its gates buffer (time-major), and
    /// with riding rows (see `RidingProjection`) the blocks they go in: a first block of 1 to
    /// `riders` steps, projected when the chunk starts, then blocks of `riders` steps, each
    /// projected during the steps of the block before it, a share of its panels per step. Only
    /// the last block has nothing riding along.
    private struct ProjectionChunk {
        let steps: Int, length: Int, goBackwards: Bool, riders: Int
        /// The chunk's time steps, in time order.
        private var times = 0..<0
        /// The position at which the chunk began.
        private var start = 0

        init(steps: Int, length: Int, goBackwards: Bool, riders: Int) {
            (self.steps, self.length, self.goBackwards, self.riders) = (steps, length, goBackwards, riders)
        }

        /// The row of the gates buffer that holds `time`.
        func row(of time: Int) -> Int { time - times.lowerBound }

        /// When `time` is past this chunk, moves on to the one starting at `position` and returns
        /// the time steps to project now: all of it, or its first block.
        mutating func advance(to position: Int, time: Int) -> Range<Int>? {
            guard !times.contains(time) else { return nil }
            start = position
            times = Self.times(from: position, count: length, steps: steps, goBackwards: goBackwards)
            return riders > 0 ? self.times(from: position, count: firstBlock) : times
        }

        /// The block whose projection rides along the step at `position`, and which of the steps of
        /// the current block that step is; nil when nothing rides.
        func riding(at position: Int) -> RidingShare? {
            guard riders > 0 else { return nil }
            let offset = position - start, first = firstBlock
            let blockStart = offset < first ? 0 : first + (offset - first) / riders * riders
            let block = blockStart..<(offset < first ? first : blockStart + riders)
            let next = times(from: start + block.upperBound, count: riders)
            return next.isEmpty ? nil : RidingShare(times: next, share: offset - block.lowerBound, shares: block.count)
        }

        private var firstBlock: Int { (times.count - 1) % riders + 1 }

        /// The time steps of the positions from `first` on, at most `count` of them, within the chunk.
        private func times(from first: Int, count: Int) -> Range<Int> {
            let end = min(first + count, start + times.count)
            guard first < end else { return 0..<0 }
            return Self.times(from: first, count: end - first, steps: steps, goBackwards: goBackwards)
        }

        /// The time steps (in time order) of `count` positions from `first` on.
        private static func times(from first: Int, count: Int, steps: Int, goBackwards: Bool) -> Range<Int> {
            let end = min(steps, first + count)
            return goBackwards ? steps - end..<steps - first : first..<end
        }
    }

    /// A block of riding rows (`times`) and the share of its panels one step computes.
    private struct RidingShare {
        var times: Range<Int>
        var share: Int, shares: Int

        /// This step's share of the panels of `columns` (which start at a panel).
        func panels(of columns: Range<Int>) -> Range<Int> {
            let width = PackedMatrix.panelWidth, first = columns.lowerBound / width
            let count = (columns.count + width - 1) / width
            return first + share * count / shares..<first + (share + 1) * count / shares
        }
    }

    /// The products a run multiplies by. `separate`: x·kernel for a chunk of time steps at once,
    /// then h·recurrent_kernel at each step. `stacked`: [x_t, h]·[kernel; recurrent_kernel] at
    /// each step, one product where the other takes two passes over the gates; it wins from a
    /// few rows on, when a step's product alone keeps the multiply units busy.
    private enum Products: @unchecked Sendable {
        case separate(input: PackedMatrix, recurrent: PackedMatrix)
        case stacked(PackedMatrix)
    }

    /// Batch rows from which the stacked product is used, where the cell allows it, and below
    /// which two threads share the units instead of the rows.
    static let stackedMinimumRows = 6

    /// Runs whose units two threads shared, since the process started (for tests).
    static let unitSharingRuns = Atomic<Int>(0)

    /// Runs whose input projection rode along the recurrent products, since the process started
    /// (for tests).
    static let ridingRuns = Atomic<Int>(0)

    /// Rows of one input projection: enough for the product to run at full speed, few enough
    /// that the gates stay in cache until their time steps use them.
    static let projectionRows = 256

    /// The loop over time for `rows` of the batch, with buffers of its own.
    private func runRows(_ rows: Range<Int>, of whole: Sequence, products: Products, weights: CellWeights,
                         threads: Int) {
        let batch = rows.count, steps = whole.steps, units = options.units, features = whole.features
        let width = weights.kernel.shape[1], stateSize = batch * units
        var stepsPerChunk = 1, inputAndState = 0
        switch products {
        case .separate: stepsPerChunk = min(steps, max(1, Self.projectionRows / batch))
        case .stacked: inputAndState = batch * (features + units)
        }
        // One allocation, in parts: the gates of a chunk of time steps (time-major so that a
        // step's rows are contiguous), h·recurrent_kernel, the states, the previous states (with
        // a mask), the chunk's inputs time-major (several rows), [x_t, h] (stacked product).
        let gateSize = stepsPerChunk * batch * width, previousSize = whole.mask == nil ? 0 : stateCount * stateSize
        let timeMajorSize = inputAndState == 0 && batch > 1 ? stepsPerChunk * batch * features : 0
        // At batch 1 on one thread, the input projection rides along the recurrent products.
        let riders = batch == 1 && threads == 1 ? Kernels.ridingRows : 0
        let buffer = UnsafeMutablePointer<Float>.allocateCacheAligned(
            capacity: gateSize + batch * width + stateCount * stateSize + previousSize + timeMajorSize + inputAndState
                + riders * features)
        defer { UnsafeMutableRawPointer(buffer).deallocate() }
        let gates = buffer, recurrent = gates + gateSize, states = recurrent + batch * width
        let previous = states + stateCount * stateSize, timeMajor = previous + previousSize
        let stackedInput = timeMajor + timeMajorSize
        let ridingInput = stackedInput + inputAndState  // the riding block's inputs, k-major
        for state in 0..<stateCount {
            (states + state * stateSize).update(from: whole.states + state * whole.batch * units + rows.lowerBound * units,
                                                count: stateSize)
        }
        var chunk = ProjectionChunk(steps: steps, length: stepsPerChunk, goBackwards: options.goBackwards,
                                    riders: riders)
        if riders > 0 { Self.ridingRuns.add(1, ordering: .relaxed) }
        for position in 0..<steps {
            let time = options.goBackwards ? steps - 1 - position : position
            if whole.mask != nil { previous.update(from: states, count: stateCount * stateSize) }
            var stepGates = gates
            switch products {
            case .stacked(let stacked):
                for (local, row) in rows.enumerated() {
                    let target = stackedInput + local * (features + units)
                    target.update(from: whole.input + (row * steps + time) * features, count: features)
                    (target + features).update(from: states + local * units, count: units)
                }
                // The next step's input rows and sequence rows, a whole time row apart each, start on
                // their way to the cache while this step multiplies.
                if position + 1 < steps {
                    let next = options.goBackwards ? time - 1 : time + 1, floatSize = MemoryLayout<Float>.size
                    rnnkit_prefetch_rows(whole.input + (rows.lowerBound * steps + next) * features, batch,
                                         steps * features * floatSize, features * floatSize, 0)
                    if let sequence = whole.sequence {
                        rnnkit_prefetch_rows(sequence + (rows.lowerBound * steps + position + 1) * units, batch,
                                             steps * units * floatSize, units * floatSize, 1)
                    }
                }
                Kernels.gemm(m: batch, a: stackedInput, lda: features + units, b: stacked, bias: weights.inputBias,
                             c: gates, ldc: width, accumulate: false, backward: position % 2 == 1, threads: threads)
            case .separate(let input, let recurrentKernel):
                if let times = chunk.advance(to: position, time: time) {
                    projectInputs(rows, times: times, of: whole, timeMajor: timeMajor) {
                        Kernels.gemm(m: $0, a: $1, lda: features, b: input, bias: weights.inputBias,
                                     c: gates + chunk.row(of: times.lowerBound) * batch * width, ldc: width,
                                     accumulate: false, threads: threads)
                    }
                }
                stepGates = gates + chunk.row(of: time) * batch * width
                let (target, bias, accumulate) = keepsRecurrentApart
                    ? (recurrent, weights.recurrentBias, false) : (stepGates, nil, true)
                if let ride = chunk.riding(at: position) {
                    if ride.share == 0 { whole.gather(row: rows.lowerBound, times: ride.times, into: ridingInput) }
                    let output = gates + chunk.row(of: ride.times.lowerBound) * width
                    withPointer(to: bias) { bias in
                        withPointer(to: weights.inputBias) { inputBias in
                            Kernels.gemv(a: states, b: recurrentKernel, columns: 0..<width, bias: bias, c: target,
                                         accumulate: accumulate, backward: position % 2 == 1,
                                         riding: RidingProjection(input: ridingInput, kernel: input, bias: inputBias,
                                                                  output: output, panels: ride.panels(of: 0..<width)))
                        }
                    }
                } else {
                    Kernels.gemm(m: batch, a: states, lda: units, b: recurrentKernel, bias: bias, c: target, ldc: width,
                                 accumulate: accumulate, backward: position % 2 == 1, threads: threads)
                }
            }
            layer.step(StepBuffers(gates: stepGates, recurrent: recurrent, h: states, newH: states,
                                   cell: states + stateSize, batch: batch, unitCount: units, units: 0..<units,
                                   hugeStates: whole.hugeStates),
                       weights: weights)
            guard whole.mask != nil else {
                // The output is h: the sequence takes it straight from the state, and the last
                // output is written once, after the loop.
                for (local, row) in rows.enumerated() {
                    whole.sequence?.advanced(by: (row * steps + position) * units)
                        .update(from: states + local * units, count: units)
                }
                continue
            }
            for (local, row) in rows.enumerated() {
                let output = whole.lastOutput + row * units
                if whole.isMasked(row: row, time: time) {
                    for state in 0..<stateCount {
                        let offset = state * stateSize + local * units
                        (states + offset).update(from: previous + offset, count: units)
                    }
                    if options.zeroOutputForMask { output.update(repeating: 0, count: units) }
                } else {
                    output.update(from: states + local * units, count: units)
                }
                whole.sequence?.advanced(by: (row * steps + position) * units).update(from: output, count: units)
            }
        }
        if whole.mask == nil && steps > 0 {
            (whole.lastOutput + rows.lowerBound * units).update(from: states, count: stateSize)
        }
        for state in 0..<stateCount {
            (whole.states + state * whole.batch * units + rows.lowerBound * units)
                .update(from: states + state * stateSize, count: stateSize)
        }
    }

    /// The whole batch on two threads, each running the units `0..<split` or `split..<U`: their
    /// columns of every gate (x·kernel and h·recurrent_kernel), their share of the cell step,
    /// masks and outputs. h alternates between two buffers, so that one barrier per step
    /// suffices: after it, h_t is whole and nobody reads h_{t-1} any more. False (nothing done)
    /// when the runtime's helper thread is taken.
    private func runSharingUnits(_ whole: Sequence, inputKernel: PackedMatrix, recurrentKernel: PackedMatrix,
                                 weights: CellWeights, split: Int) -> Bool {
        let batch = whole.batch, steps = whole.steps, units = options.units, features = whole.features
        let width = weights.kernel.shape[1], stateSize = batch * units
        let stepsPerChunk = min(steps, max(1, Self.projectionRows / batch))
        // h in two buffers, and the other states (c), updated in place share by share, all from the
        // start of a cache line: a line holding both threads' units would travel between the cores
        // at every step (shares start at a panel, 16 floats, a line).
        let otherStates = (stateCount - 1) * stateSize
        let hBuffers = UnsafeMutablePointer<Float>.allocateCacheAligned(capacity: 2 * stateSize + otherStates)
        defer { UnsafeMutableRawPointer(hBuffers).deallocate() }
        hBuffers.update(from: whole.states, count: stateSize)
        hBuffers.advanced(by: stateSize).update(from: whole.states, count: stateSize)
        let cell = hBuffers + 2 * stateSize
        cell.update(from: whole.states + stateSize, count: otherStates)
        let barrier = SpinBarrier()
        let ran = withPointer(to: weights.inputBias) { inputBias in
            withPointer(to: weights.recurrentBias) { recurrentBias in
                RNNKitRuntime.runPair { part in
                    let share = part == 0 ? 0..<split : split..<units
                    let columns = (0..<width / units).map { $0 * units + share.lowerBound..<$0 * units + share.upperBound }
                    let gates = UnsafeMutablePointer<Float>.allocateCacheAligned(
                        capacity: stepsPerChunk * batch * width)
                    let recurrent = UnsafeMutablePointer<Float>.allocateCacheAligned(capacity: batch * width)
                    let previous = UnsafeMutablePointer<Float>.allocateCacheAligned(
                        capacity: whole.mask == nil ? 0 : (stateCount - 1) * stateSize)
                    let timeMajor = UnsafeMutablePointer<Float>.allocateCacheAligned(
                        capacity: batch > 1 ? stepsPerChunk * batch * features : 0)
                    // At batch 1 the thread's share of the input projection rides along its products.
                    let riders = batch == 1 ? Kernels.ridingRows : 0
                    let ridingInput = UnsafeMutablePointer<Float>.allocateCacheAligned(capacity: riders * features)
                    defer {
                        [gates, recurrent, previous, timeMajor, ridingInput].forEach {
                            UnsafeMutableRawPointer($0).deallocate()
                        }
                    }
                    var chunk = ProjectionChunk(steps: steps, length: stepsPerChunk, goBackwards: options.goBackwards,
                                                riders: riders)
                    if riders > 0 && part == 0 { Self.ridingRuns.add(1, ordering: .relaxed) }
                    for position in 0..<steps {
                        let time = options.goBackwards ? steps - 1 - position : position
                        let h = hBuffers + position % 2 * stateSize, newH = hBuffers + (position + 1) % 2 * stateSize
                        if whole.mask != nil {  // this share's c (the other thread writes the rest)
                            for offset in stride(from: 0, to: (stateCount - 1) * stateSize, by: units) {
                                (previous + offset + share.lowerBound)
                                    .update(from: cell + offset + share.lowerBound, count: share.count)
                            }
                        }
                        if let times = chunk.advance(to: position, time: time) {
                            projectInputs(0..<batch, times: times, of: whole, timeMajor: timeMajor) { rows, a in
                                for range in columns {
                                    Kernels.gemm(m: rows, a: a, lda: features, b: inputKernel, columns: range,
                                                 bias: inputBias,
                                                 c: gates + chunk.row(of: times.lowerBound) * batch * width,
                                                 ldc: width, accumulate: false)
                                }
                            }
                        }
                        let stepGates = gates + chunk.row(of: time) * batch * width
                        let backward = position % 2 == 1  // see Kernels.gemm
                        let ride = chunk.riding(at: position)
                        if let ride, ride.share == 0 { whole.gather(row: 0, times: ride.times, into: ridingInput) }
                        let ridingOutput = ride.map { gates + chunk.row(of: $0.times.lowerBound) * width }
                        let (target, bias, accumulate) = keepsRecurrentApart
                            ? (recurrent, recurrentBias, false) : (stepGates, nil, true)
                        for index in columns.indices {
                            let range = columns[backward ? columns.count - 1 - index : index]
                            if let ride, let ridingOutput {
                                Kernels.gemv(a: h, b: recurrentKernel, columns: range, bias: bias, c: target,
                                             accumulate: accumulate, backward: backward,
                                             riding: RidingProjection(input: ridingInput, kernel: inputKernel,
                                                                      bias: inputBias, output: ridingOutput,
                                                                      panels: ride.panels(of: range)))
                            } else {
                                Kernels.gemm(m: batch, a: h, lda: units, b: recurrentKernel, columns: range, bias: bias,
                                             c: target, ldc: width, accumulate: accumulate, backward: backward)
                            }
                        }
                        layer.step(StepBuffers(gates: stepGates, recurrent: recurrent, h: h, newH: newH, cell: cell,
                                               batch: batch, unitCount: units, units: share,
                                               hugeStates: whole.hugeStates), weights: weights)
                        guard whole.mask != nil else {
                            // The output is h: after the meeting, this thread sends its own share to the
                            // sequence; the last output is written once, after the loop.
                            barrier.wait(part: part)
                            for row in 0..<batch {
                                let offset = row * units + share.lowerBound
                                whole.sequence?.advanced(by: (row * steps + position) * units + share.lowerBound)
                                    .update(from: newH + offset, count: share.count)
                            }
                            continue
                        }
                        for row in 0..<batch {
                            let offset = row * units + share.lowerBound
                            let output = whole.lastOutput + offset
                            if whole.isMasked(row: row, time: time) {
                                (newH + offset).update(from: h + offset, count: share.count)
                                for state in 0..<stateCount - 1 {
                                    (cell + state * stateSize + offset)
                                        .update(from: previous + state * stateSize + offset, count: share.count)
                                }
                                if options.zeroOutputForMask { output.update(repeating: 0, count: share.count) }
                            } else {
                                output.update(from: newH + offset, count: share.count)
                            }
                            whole.sequence?.advanced(by: (row * steps + position) * units + share.lowerBound)
                                .update(from: output, count: share.count)
                        }
                        barrier.wait(part: part)
                    }
                }
            }
        }
        if ran {
            whole.states.update(from: hBuffers + steps % 2 * stateSize, count: stateSize)
            (whole.states + stateSize).update(from: cell, count: otherStates)
            if whole.mask == nil && steps > 0 { whole.lastOutput.update(from: whole.states, count: stateSize) }
            Self.unitSharingRuns.add(1, ordering: .relaxed)
        }
        return ran
    }

    /// x_t·kernel + bias for the time steps `times` of `rows`, time-major: [times, rows, G·U],
    /// by `product(rows of a, a)`. Several rows are first interleaved step by step in
    /// `timeMajor`; one row's steps already are.
    private func projectInputs(_ rows: Range<Int>, times: Range<Int>, of whole: Sequence,
                               timeMajor: UnsafeMutablePointer<Float>, product: (Int, UnsafePointer<Float>) -> Void) {
        let steps = whole.steps, features = whole.features, batch = rows.count
        let first = whole.input + (rows.lowerBound * steps + times.lowerBound) * features
        if batch > 1 {
            for local in 0..<batch {
                for (index, time) in times.enumerated() {
                    (timeMajor + (index * batch + local) * features)
                        .update(from: whole.input + ((rows.lowerBound + local) * steps + time) * features,
                                count: features)
                }
            }
        }
        product(times.count * batch, batch > 1 ? UnsafePointer(timeMajor) : first)
    }
}

/// A recurrent layer's state between two chunks of a stream: its cell states, [S, B, U] one
/// after the other (a stacked RNN's cells in order), and the last output it emitted (repeated at
/// masked steps). Kept as the loop leaves them: a prediction that does not stream pays nothing
/// for it.
struct RecurrentCarry: Sendable, Equatable {
    var states: [Float]
    var lastOutput: [Float]
}

extension RecurrentLayer {
    /// The loop for this layer, with `options` (Bidirectional overrides some of them).
    func loop(options: RecurrentOptions) -> RecurrentLoop {
        RecurrentLoop(options: options, stateCount: cell.stateCount, keepsRecurrentApart: keepsRecurrentApart,
                      splitsUnits: stepSplitsUnits, layer: self)
    }

    /// cuDNN runs no masks: Keras's CuDNN layers refuse one ("Masking is not supported for CuDNN RNNs").
    func refuseMask(_ mask: [Bool]?) throws {
        if isCuDNN && mask != nil {
            throw RNNKitError(.invalidModel, "\(className) does not support masking (Keras refuses a mask for it too)")
        }
    }

    /// The forward pass, continuing from `carry` when streaming; also returns the carry to
    /// continue from. `prepared` keeps the cell's weights from one prediction to the next.
    func forward(_ inputs: [LayerValue], weights: [String: Tensor], prepared: PreparedWeights = PreparedWeights(),
                 carry: RecurrentCarry?) throws -> (outputs: [LayerValue], carry: RecurrentCarry) {
        try refuseMask(inputs[0].mask)
        let cell = try prepared.cells { [try CellWeights(weights, for: self)] }[0]
        let result = loop(options: options)
            .run(inputs[0].tensor, mask: inputs[0].mask, initialStates: inputs.dropFirst().map(\.tensor),
                 weights: cell, carry: carry)
        // A sequence output keeps the input's mask; a last-step output has none.
        let output = LayerValue(result.output, mask: options.returnSequences ? inputs[0].mask : nil)
        // Without return_state, no concatenation: one array less per prediction.
        return (options.returnState ? [output] + result.states.map { LayerValue($0) } : [output], result.carry)
    }
}
