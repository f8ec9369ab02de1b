/// Keras `Bidirectional`: two copies of a recurrent layer on the same input, the backward one
/// with go_backwards flipped; their outputs merged (concat, sum, mul, ave) or returned apart
/// (merge_mode None). Weights: the forward cell's, then the backward cell's.
struct Bidirectional: Equatable, Sendable {
    enum MergeMode: String, Sendable, CaseIterable {
        case concat, sum, mul, ave
    }

    var forward: RecurrentLayer
    var backward: RecurrentLayer
    /// nil is Keras's merge_mode=None: the two directions are separate outputs.
    var mergeMode: MergeMode?

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        // Initial states are split in halves between the two directions.
        let states = Array(inputs.dropFirst())
        let half = states.count / 2
        let forwardShapes = try forward.outputShapes(for: [inputs[0]] + states.prefix(half))
        let backwardShapes = try backward.outputShapes(for: [inputs[0]] + states.suffix(states.count - half))
        var output = forwardShapes[0]
        let stateShapes = Array(forwardShapes.dropFirst() + backwardShapes.dropFirst())
        guard let mergeMode else { return [forwardShapes[0], backwardShapes[0]] + stateShapes }
        if mergeMode == .concat { output[output.count - 1] = 2 * forward.options.units }
        return [output] + stateShapes
    }

    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        let inputDim = try ShapeCheck.features(inputs[0], "Bidirectional")
        return forward.cellWeightSpecs(inputDim: inputDim, namePrefix: "forward.",
                                       keras3Group: "forward_layer/cell/vars")
            + backward.cellWeightSpecs(inputDim: inputDim, namePrefix: "backward.",
                                       keras3Group: "backward_layer/cell/vars")
    }
}

extension Bidirectional {
    /// Runs both directions, at the same time on two threads when there are (each direction on
    /// one: the same numbers as one thread); the backward sequence is flipped back into time
    /// order before merging. As in Keras, masked steps output zeros in sequence mode. `prepared`
    /// keeps the two cells' weights from one prediction to the next.
    func forward(_ inputs: [LayerValue], weights: [String: Tensor],
                 prepared: PreparedWeights = PreparedWeights()) throws -> [LayerValue] {
        let sequence = inputs[0]
        try forward.refuseMask(sequence.mask)
        let states = inputs.dropFirst().map(\.tensor)
        let half = states.count / 2
        let cells = try prepared.cells {
            [try CellWeights(weights, prefix: "forward.", for: forward),
             try CellWeights(weights, prefix: "backward.", for: backward)]
        }
        let forwardCell = cells[0], backwardCell = cells[1]
        func run(_ layer: RecurrentLayer, _ cell: CellWeights, states: [Tensor], threads: Int) -> RecurrentLoop.Result {
            var options = layer.options
            options.zeroOutputForMask = options.returnSequences
            return layer.loop(options: options)
                .run(sequence.tensor, mask: sequence.mask, initialStates: states, weights: cell, threads: threads)
        }
        let forwardStates = Array(states.prefix(half)), backwardStates = Array(states.suffix(states.count - half))
        let shape = sequence.tensor.shape, units = forward.options.units
        let multiplyAdds = 2 * shape[0] * shape[1] * forwardCell.kernel.shape[1] * (shape[2] + units)
        var forwardResult: RecurrentLoop.Result?, backwardResult: RecurrentLoop.Result?
        if RNNKitRuntime.parts(threads: RNNKitRuntime.threadCount, items: 2, multiplyAdds: multiplyAdds) == 2 {
            // The helper thread has no task: it gets the predictor's packed-matrix cache by hand.
            let cache = PackedMatrixCache.current
            _ = RNNKitRuntime.runPair { part in
                if part == 0 {
                    forwardResult = run(forward, forwardCell, states: forwardStates, threads: 1)
                } else {
                    backwardResult = PackedMatrixCache.$current.withValue(cache) {
                        run(backward, backwardCell, states: backwardStates, threads: 1)
                    }
                }
            }
        }
        let forwardDone = forwardResult ?? run(forward, forwardCell, states: forwardStates, threads: RNNKitRuntime.threadCount)
        var backwardDone = backwardResult
            ?? run(backward, backwardCell, states: backwardStates, threads: RNNKitRuntime.threadCount)
        let returnsSequences = forward.options.returnSequences
        if returnsSequences { backwardDone.output = reversedInTime(backwardDone.output) }
        let mask = returnsSequences ? sequence.mask : nil
        let stateValues = (forwardDone.states + backwardDone.states).map { LayerValue($0) }
        guard let mergeMode else {
            return [LayerValue(forwardDone.output, mask: mask), LayerValue(backwardDone.output, mask: mask)]
                + stateValues
        }
        let merged: Tensor
        switch mergeMode {
        case .concat:
            merged = Concatenate.along(-1, [forwardDone.output, backwardDone.output])
        case .sum, .mul, .ave:
            var combined = forwardDone.output
            for (index, other) in backwardDone.output.scalars.enumerated() {
                let first = combined.scalars[index]
                combined.scalars[index] = mergeMode == .sum ? first + other
                    : mergeMode == .mul ? first * other : (first + other) / 2
            }
            merged = combined
        }
        return [LayerValue(merged, mask: mask)] + stateValues
    }

    /// [B, T, U] with the time axis reversed.
    private func reversedInTime(_ tensor: Tensor) -> Tensor {
        let batch = tensor.shape[0], steps = tensor.shape[1], units = tensor.shape[2]
        var scalars = tensor.scalars
        for row in 0..<batch {
            for step in 0..<steps {
                let source = (row * steps + (steps - 1 - step)) * units
                let target = (row * steps + step) * units
                scalars.replaceSubrange(target..<target + units, with: tensor.scalars[source..<source + units])
            }
        }
        return Tensor(shape: tensor.shape, scalars: scalars)
    }
}
