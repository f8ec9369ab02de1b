/// Keras `ConvLSTM1D` and `ConvLSTM2D`: an LSTM whose products are convolutions. Each step
/// convolves x_t [B, spatial..., C] by kernel [window..., C, 4F] (the layer's strides, padding
/// and dilation) plus bias [4F], and h_{t-1} [B, spatial'..., F] by recurrent_kernel
/// [window..., F, 4F] (stride 1, same padding, no dilation); the gates i, f, c, o then step as
/// an LSTM's, at every output cell (Runtime/CellSteps.swift). Inputs [B, T, spatial..., C]
/// channels_last; a masked time step keeps the states, as in every Keras RNN.
struct ConvLSTM: Equatable, Sendable {
    /// The input convolution's window along each spatial axis: one (ConvLSTM1D) or two.
    var windows: [Window1D]
    /// The loop's options; `units` is `filters`.
    var options: RecurrentOptions
    /// Only changes initialisation; kept so that a written config matches the read one.
    var unitForgetBias: Bool

    var filters: Int { options.units }
    var className: String { "ConvLSTM\(windows.count)D" }

    /// The LSTM cell that steps the gates of every output cell.
    private var cell: RecurrentLayer { RecurrentLayer(cell: .lstm(unitForgetBias: unitForgetBias), options: options) }

    /// The channels_last sequence [B, T, spatial..., C] and its channels.
    private func sequence(_ inputs: [Shape]) throws -> (shape: Shape, channels: Int) {
        let shape = try ShapeCheck.rank(ShapeCheck.single(inputs, className), windows.count + 3, className)
        return (shape, try ShapeCheck.features(shape, className))
    }

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try sequence(inputs).shape
        var state: Shape = [shape[0]]
        for (axis, window) in windows.enumerated() {
            state.append(try window.outputDimension(shape[axis + 2], of: shape, className))
        }
        state.append(filters)
        let output = options.returnSequences ? [shape[0], shape[1]] + state.dropFirst() : state
        return [output] + (options.returnState ? [state, state] : [])
    }

    /// kernel [window..., C, 4F], recurrent_kernel [window..., F, 4F], bias [4F], in Keras's order.
    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        let channels = try sequence(inputs).channels, window = windows.map(\.size)
        return [WeightSpec(name: "kernel", shape: window + [channels, 4 * filters], keras3Path: "cell/vars/0"),
                WeightSpec(name: "recurrent_kernel", shape: window + [filters, 4 * filters], keras3Path: "cell/vars/1")]
            + (options.useBias ? [WeightSpec(name: "bias", shape: [4 * filters], keras3Path: "cell/vars/2")] : [])
    }

    /// A grid over images; a sequence is an image one row high.
    private func grid(_ windows: [Window1D], input spatial: [Int], batch: Int) throws -> WindowGrid {
        try WindowGrid(rows: windows.count == 2 ? windows[0] : WindowGrid.singleRow, columns: windows[windows.count - 1],
                       input: spatial.count == 2 ? spatial : [1] + spatial, className, batch: batch)
    }

    func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] {
        guard let kernel = weights["kernel"], let recurrentKernel = weights["recurrent_kernel"] else {
            throw RNNKitError(.invalidModel, "\(className) has no bound kernel")
        }
        let input = inputs[0].tensor, mask = inputs[0].mask
        let batch = input.shape[0], steps = input.shape[1], channels = input.shape[input.rank - 1]
        let spatial = Array(input.shape[2..<input.rank - 1])
        if let mask, mask.count != batch * steps {
            throw RNNKitError(.invalidModel, "\(className) takes a mask per time step, got \(mask.count) values "
                              + "for \(batch)×\(steps) steps")
        }
        // Every time step's input convolution at once: the steps folded into the batch.
        let inputGrid = try grid(windows, input: spatial, batch: batch * steps)
        let outputSpatial = spatial.count == 2 ? inputGrid.outputSize : [inputGrid.outputSize[1]]
        let recurrentWindows = windows.map { Window1D(size: $0.size, stride: 1, padding: .same) }
        let recurrentGrid = try grid(recurrentWindows, input: outputSpatial, batch: batch)
        let positions = inputGrid.outputPositions, units = filters, width = 4 * units
        let cells = batch * positions, stateSize = cells * units, frameSize = positions * units
        guard let count = Tensor.checkedElementCount([batch, steps, positions, width]),
              count <= ReadLimits.default.maxBytes / MemoryLayout<Float>.size
        else {
            throw RNNKitError(.badUsage, "\(className): \(steps) steps of \(positions) cells are too large")
        }
        let frames = input.reshaped([batch * steps] + spatial + [channels])
        let inputGates = inputGrid.convolve(frames, kernel: kernel, bias: weights["bias"], groups: 1, activation: .linear)
        var h = [Float](repeating: 0, count: stateSize), c = h, lastOutput = h
        var previous = mask == nil ? [] : [Float](repeating: 0, count: 2 * stateSize)
        var gates = [Float](repeating: 0, count: cells * width), scratch = gates
        var sequence = [Float](repeating: 0, count: options.returnSequences ? batch * steps * frameSize : 0)
        let stepper = cell
        for position in 0..<steps where cells > 0 {  // an empty batch has no buffers to step
            let time = options.goBackwards ? steps - 1 - position : position
            let recurrentGates = recurrentGrid.convolve(Tensor(shape: [batch] + outputSpatial + [units], scalars: h),
                                                        kernel: recurrentKernel, bias: nil, groups: 1, activation: .linear)
            for b in 0..<batch {
                let from = (b * steps + time) * positions * width, to = b * positions * width
                for index in 0..<positions * width {
                    gates[to + index] = inputGates.scalars[from + index] + recurrentGates.scalars[to + index]
                }
            }
            if mask != nil {
                previous.replaceSubrange(0..<stateSize, with: h)
                previous.replaceSubrange(stateSize..<2 * stateSize, with: c)
            }
            gates.withUnsafeMutableBufferPointer { gates in
            scratch.withUnsafeMutableBufferPointer { scratch in
            h.withUnsafeMutableBufferPointer { h in
            c.withUnsafeMutableBufferPointer { c in
                stepper.lstmStep(StepBuffers(gates: gates.baseAddress!, recurrent: scratch.baseAddress!, h: h.baseAddress!,
                                             newH: h.baseAddress!, cell: c.baseAddress!, batch: cells, unitCount: units,
                                             units: 0..<units))
            }}}}
            for b in 0..<batch {
                let frame = b * frameSize..<(b + 1) * frameSize
                if let mask, !mask[b * steps + time] {
                    h.replaceSubrange(frame, with: previous[frame])
                    c.replaceSubrange(frame, with: previous[stateSize + frame.lowerBound..<stateSize + frame.upperBound])
                    if options.zeroOutputForMask { lastOutput.replaceSubrange(frame, with: repeatElement(0, count: frameSize)) }
                } else {
                    lastOutput.replaceSubrange(frame, with: h[frame])
                }
                if options.returnSequences {
                    let target = (b * steps + position) * frameSize
                    sequence.replaceSubrange(target..<target + frameSize, with: lastOutput[frame])
                }
            }
        }
        let stateShape = [batch] + outputSpatial + [units]
        // As for every recurrent layer: a sequence output keeps the input's mask, unreversed.
        let output = options.returnSequences
            ? LayerValue(Tensor(shape: [batch, steps] + outputSpatial + [units], scalars: sequence), mask: mask)
            : LayerValue(Tensor(shape: stateShape, scalars: lastOutput))
        guard options.returnState else { return [output] }
        return [output, LayerValue(Tensor(shape: stateShape, scalars: h)), LayerValue(Tensor(shape: stateShape, scalars: c))]
    }
}
