/// Recurrent layers that ONNX's RNN, LSTM and GRU operators cannot compute as Keras does, as
/// `Scan`s whose body is the cell in plain operators, step for step what the runtime computes
/// (Runtime/CellSteps.swift, RecurrentLoop.swift):
///
/// - x·kernel + bias of every step at once before the loop (MatMul, Add), then per step
///   h·recurrent_kernel and the cell's equations with any activation RNNKit supports;
/// - with a mask, a masked step keeps the states (`Where`) and outputs the previous output, or
///   zeros with zero_output_for_mask (a Bidirectional returning sequences), as the runtime does;
/// - go_backwards scans the time axis backwards (the outputs in processing order, as Keras
///   returns them); a Bidirectional's backward direction writes its outputs back in time order;
/// - a StackedRNNCells is one Scan per cell, each over the previous one's outputs.
///
/// The weights are initializers in the keras layout (`<layer>.kernel`, `<layer>.recurrent_kernel`,
/// `<layer>.bias`, with `forward.`/`backward.` or `cells.<i>.` inside the name), which the body
/// reads from the outer graph.
extension ONNXGraphBuilder {
    /// What one direction's Scan gives: the sequence of outputs [B, T, U] (with
    /// return_sequences), the last output [B, U] and the final states.
    struct ScanRun {
        var sequence: String?
        var lastOutput: String
        var states: [String]
    }

    /// A SimpleRNN, LSTM, GRU, lone-cell RNN or Bidirectional as one Scan per direction;
    /// returns Keras's outputs as `recurrentLayer` does.
    mutating func scannedLayer(_ name: String, kind: LayerKind, directions: [RecurrentLayer],
                               mergeMode: Bidirectional.MergeMode?, inputs: [ONNXValue],
                               weights: [String: Tensor]) throws -> [ONNXValue] {
        let tensors = try initializer(name, kind: kind, weights: weights, layout: .keras)
        let given = inputs.dropFirst().map(\.name)
        // A Bidirectional's initial states: the forward direction's, then the backward one's.
        let perDirection = given.count / directions.count
        var outputs: [String] = [], states: [String] = []
        for (index, direction) in directions.enumerated() {
            var options = direction.options
            // As in Keras, a Bidirectional returning sequences outputs zeros at masked steps.
            if directions.count == 2 { options.zeroOutputForMask = options.returnSequences }
            let run = scan(direction, options: options, tensors: tensors,
                               prefix: directions.count == 2 ? (index == 0 ? "forward." : "backward.") : "",
                               input: inputs[0].name, mask: inputs[0].mask,
                               initialStates: Array(given[index * perDirection..<(index + 1) * perDirection]),
                               reversedOutputs: index == 1, layer: name)
            outputs.append(run.sequence ?? run.lastOutput)
            if options.returnState { states += run.states }
        }
        let outputMask = directions[0].options.returnSequences ? inputs[0].mask : nil
        return merged(outputs, mergeMode: mergeMode, mask: outputMask) + states.map { ONNXValue(name: $0) }
    }

    /// RNN(StackedRNNCells): one Scan per cell, as the runtime runs them (RNNLayer.forward): a
    /// cell after the first reads the previous one's outputs in processing order and runs
    /// forwards, with the mask reversed after a go_backwards first cell.
    mutating func stackedCells(_ name: String, _ rnn: RNNLayer, kind: LayerKind, inputs: [ONNXValue],
                               weights: [String: Tensor]) throws -> [ONNXValue] {
        let tensors = try initializer(name, kind: kind, weights: weights, layout: .keras)
        let given = inputs.dropFirst().map(\.name)
        var sequence = inputs[0].name, mask = inputs[0].mask, offset = 0
        var states: [String] = []
        for (index, cell) in rnn.cells.enumerated() {
            let isLast = index == rnn.cells.count - 1, count = cell.cell.stateCount
            var options = cell.options
            if !isLast { options.returnSequences = true }
            if index > 0 { options.goBackwards = false }
            let run = scan(cell, options: options, tensors: tensors, prefix: rnn.weightPrefix(index),
                               input: sequence, mask: mask,
                               initialStates: given.isEmpty ? [] : Array(given[offset..<offset + count]),
                               reversedOutputs: false, layer: name)
            offset += count
            states += run.states
            if index == 0 && cell.options.goBackwards, let reversing = mask {
                mask = slice(reversing, axis: 1, -1, Int64.min, step: -1)
            }
            sequence = run.sequence ?? run.lastOutput
        }
        let options = rnn.options
        return [ONNXValue(name: sequence, mask: options.returnSequences ? inputs[0].mask : nil)]
            + (options.returnState ? states.map { ONNXValue(name: $0) } : [])
    }

    /// One direction of one cell over `input` [B, T, I]: a Scan over time of the cell step. The
    /// outputs come in processing order, or reversed with `reversedOutputs` (a Bidirectional's
    /// backward direction, whose outputs the runtime reverses).
    mutating func scan(_ cell: RecurrentLayer, options: RecurrentOptions, tensors: [String: String], prefix: String,
                       input: String, mask: String?, initialStates: [String], reversedOutputs: Bool,
                       layer: String) -> ScanRun {
        let units = Int64(options.units), width = Int64(cell.cell.gateCount) * units
        var inputBias = tensors[prefix + "bias"], recurrentBias: String?
        if cell.hasRecurrentBias, let bias = inputBias {
            (inputBias, recurrentBias) = (pick(bias, axis: 0, 0), pick(bias, axis: 0, 1))
        }
        let weights = StepWeights(recurrent: tensors[prefix + "recurrent_kernel"]!, recurrentBias: recurrentBias)
        var projected = node("MatMul", [input, tensors[prefix + "kernel"]!])
        if let inputBias { projected = node("Add", [projected, inputBias]) }
        let batch = slice(node("Shape", [input]), axis: 0, 0, 1)
        let zeros = node("ConstantOfShape", [concat([batch, ints([units])])])
        // GRU without reset_after multiplies r·h by the candidate's block of recurrent_kernel
        // alone: the blocks are sliced once, outside the loop (nil for every other cell).
        let gruBlocks = cell.cell == .gru(resetAfter: false)
            ? (slice(weights.recurrent, axis: 1, 0, 2 * units), slice(weights.recurrent, axis: 1, 2 * units, 3 * units))
            : nil
        let loop = ScanLoop(options: options, stateCount: cell.cell.stateCount, stateShape: [nil, Int(units)],
                            gateShape: [nil, Int(width)], reversedOutputs: reversedOutputs, layer: layer)
        return scan(loop, gates: projected, mask: mask, initialStates: initialStates, zeros: zeros) { builder, gates, states in
            builder.cellStep(cell, options: options, gates: gates, states: states, weights: weights,
                             gruBlocks: gruBlocks, units: units)
        }
    }

    /// What shapes one Scan and what it returns.
    struct ScanLoop {
        var options: RecurrentOptions
        var stateCount: Int
        /// A state's shape in the body ([B, U]; [B, F, spatial...] for ConvLSTM), the batch unknown.
        var stateShape: Shape
        /// One step's gates, x·kernel + bias.
        var gateShape: Shape
        var reversedOutputs: Bool
        var layer: String
    }

    /// A Scan over time (axis 1) of `gates` [B, T, ...] and `mask` [B, T], from `initialStates`
    /// (`zeros` where none are given), whose body steps the cell with `step(builder, gates_t,
    /// states)`, giving the new states. With a mask, a masked step keeps the states and outputs
    /// the previous output (or zeros with zero_output_for_mask), as RecurrentLoop does.
    fileprivate mutating func scan(_ loop: ScanLoop, gates: String, mask: String?, initialStates: [String], zeros: String,
                               step: (inout ONNXGraphBuilder, String, [String]) -> [String]) -> ScanRun {
        let options = loop.options, spatialAxes = loop.stateShape.count - 2
        var scanInputs = [gates]
        if let mask {  // [B, T, 1, ...]: each step's [B, 1, ...] broadcasts over a state
            scanInputs.append(node("Unsqueeze", [mask, ints((0...spatialAxes).map { Int64($0) + 2 })]))
        }
        var initial = initialStates.isEmpty ? Array(repeating: zeros, count: loop.stateCount) : initialStates
        if mask != nil { initial.append(zeros) }  // the last output, repeated at masked steps

        // The body: states, last output (with a mask), this step's gates and mask.
        let states = (0..<loop.stateCount).map { _ in fresh("state") }
        let lastOutput = mask == nil ? nil : fresh("last_output")
        let stepGates = fresh("step_gates"), stepMask = mask == nil ? nil : fresh("step_mask")
        let outerNodes = nodes
        nodes = []
        let next = step(&self, stepGates, states)
        var outputs = next, stepOutput = next[0]
        if let stepMask, let lastOutput {
            outputs = zip(next, states).map { node("Where", [stepMask, $0, $1]) }
            stepOutput = node("Where", [stepMask, next[0], options.zeroOutputForMask ? scalar(0) : lastOutput])
            outputs.append(stepOutput)
        }
        if options.returnSequences { outputs.append(node("Identity", [stepOutput])) }
        var body = Onnx_GraphProto()
        body.name = fresh("\(loop.layer)_step")
        func info(_ name: String, _ shape: Shape, _ type: Onnx_TensorProto.DataType = .float) -> Onnx_ValueInfoProto {
            Self.valueInfo(name, type: type, shape: shape, dynamicName: { _ in nil })
        }
        body.input = (states + (lastOutput.map { [$0] } ?? [])).map { info($0, loop.stateShape) }
            + [info(stepGates, loop.gateShape)]
            + (stepMask.map { [info($0, [nil] + Array(repeating: 1, count: spatialAxes + 1), .bool)] } ?? [])
        body.output = outputs.map { info($0, loop.stateShape) }
        body.node = nodes
        nodes = outerNodes

        let carried = initial.count
        let scanOutputs = (0..<(carried + (options.returnSequences ? 1 : 0))).map { _ in fresh("Scan") }
        var attributes: [ONNXAttribute] = [
            .graph("body", body), .int("num_scan_inputs", Int64(scanInputs.count)),
            .ints("scan_input_axes", Array(repeating: 1, count: scanInputs.count)),
            .ints("scan_input_directions", Array(repeating: options.goBackwards ? 1 : 0, count: scanInputs.count)),
        ]
        if options.returnSequences {
            attributes += [.ints("scan_output_axes", [1]), .ints("scan_output_directions", [loop.reversedOutputs ? 1 : 0])]
        }
        node("Scan", initial + scanInputs, outputs: scanOutputs, attributes: attributes)
        let finalStates = Array(scanOutputs.prefix(loop.stateCount))
        return ScanRun(sequence: options.returnSequences ? scanOutputs[carried] : nil,
                       lastOutput: mask == nil ? finalStates[0] : scanOutputs[carried - 1], states: finalStates)
    }

    /// The recurrent weights a step reads from the outer graph.
    struct StepWeights {
        var recurrent: String
        var recurrentBias: String?
    }

    /// One step of the cell, as CellSteps.swift computes it; returns the new states (h, c).
    private mutating func cellStep(_ cell: RecurrentLayer, options: RecurrentOptions, gates: String, states: [String],
                                   weights: StepWeights, gruBlocks: (String, String)?, units: Int64) -> [String] {
        let h = states[0]
        switch cell.cell {
        case .simpleRNN:
            // h' = φ(x·W + b + h·U)
            return [activation(options.activation, node("Add", [gates, node("MatMul", [h, weights.recurrent])]))]
        case .lstm:
            let blocks = split(node("Add", [gates, node("MatMul", [h, weights.recurrent])]), count: 4, units: units)
            return lstmStep(blocks, c: states[1], options: options)
        case .gru:
            // z, r blocks; candidate φ(x_h + r·(h·R_h + b_h)) with reset_after, φ(x_h + (r·h)·R_h)
            // without; h' = z·h + (1 − z)·candidate.
            let x = split(gates, count: 3, units: units)
            let update: String, candidateInput: String
            if case let (gateKernel, candidateKernel)? = gruBlocks {
                let recurrent = split(node("MatMul", [h, gateKernel]), count: 2, units: units)
                update = activation(options.recurrentActivation, node("Add", [x[0], recurrent[0]]))
                let reset = activation(options.recurrentActivation, node("Add", [x[1], recurrent[1]]))
                candidateInput = node("Add", [x[2], node("MatMul", [node("Mul", [reset, h]), candidateKernel])])
            } else {
                var product = node("MatMul", [h, weights.recurrent])
                if let bias = weights.recurrentBias { product = node("Add", [product, bias]) }
                let recurrent = split(product, count: 3, units: units)
                update = activation(options.recurrentActivation, node("Add", [x[0], recurrent[0]]))
                let reset = activation(options.recurrentActivation, node("Add", [x[1], recurrent[1]]))
                candidateInput = node("Add", [x[2], node("Mul", [reset, recurrent[2]])])
            }
            let candidate = activation(options.activation, candidateInput)
            let kept = node("Mul", [update, h])
            return [node("Add", [kept, node("Mul", [node("Sub", [scalar(1), update]), candidate])])]
        }
    }

    /// The LSTM equations on the gate blocks i, f, c, o (their pre-activations): c' = f·c +
    /// i·φ(a_c), h' = o·φ(c'); returns [h', c'].
    fileprivate mutating func lstmStep(_ blocks: [String], c: String, options: RecurrentOptions) -> [String] {
        let input = activation(options.recurrentActivation, blocks[0])
        let forget = activation(options.recurrentActivation, blocks[1])
        let candidate = activation(options.activation, blocks[2])
        let output = activation(options.recurrentActivation, blocks[3])
        let next = node("Add", [node("Mul", [forget, c]), node("Mul", [input, candidate])])
        return [node("Mul", [output, activation(options.activation, next)]), next]
    }

    /// `x` [B, count·units, ...] split into its `count` gate blocks along axis 1.
    fileprivate mutating func split(_ x: String, count: Int, units: Int64) -> [String] {
        let blocks = (0..<count).map { _ in fresh("Split") }
        node("Split", [x, ints(Array(repeating: units, count: count))], outputs: blocks, attributes: [.int("axis", 1)])
        return blocks
    }
}

extension ONNXGraphBuilder {
    /// ConvLSTM1D or ConvLSTM2D as a Scan, as ConvLSTM.forward computes it: the input
    /// convolution of every step at once before the loop (the steps folded into the batch,
    /// channels first as Conv reads them), then per step the recurrent convolution (stride 1,
    /// same) and the LSTM equations on states [B, F, spatial...]; the outputs and states are
    /// transposed back to channels last.
    mutating func convLSTM(_ name: String, _ layer: ConvLSTM, kind: LayerKind, input: ONNXValue,
                           weights: [String: Tensor]) throws -> [ONNXValue] {
        let tensors = try initializer(name, kind: kind, weights: weights, layout: .keras)
        let rank = Int64(layer.windows.count + 2), filters = Int64(layer.filters)  // of a frame, of a kernel
        // Keras's kernels [window..., C, 4F] as Conv's [4F, C, window...].
        let kernelOrder = [rank - 1, rank - 2] + Array(0..<rank - 2)
        let kernel = node("Transpose", [tensors["kernel"]!], attributes: [.ints("perm", kernelOrder)])
        let recurrent = node("Transpose", [tensors["recurrent_kernel"]!], attributes: [.ints("perm", kernelOrder)])
        let shape = node("Shape", [input.name])
        let frames = node("Reshape", [input.name, concat([ints([-1]), slice(shape, axis: 0, 2, .max)])])
        let firstChannels = node("Transpose", [frames], attributes: [.ints("perm", [0, rank - 1] + Array(1..<rank - 1))])
        let convolved = node("Conv", [firstChannels, kernel] + (tensors["bias"].map { [$0] } ?? []),
                             attributes: Self.windowAttributes(layer.windows, dilations: true))
        let convolvedShape = node("Shape", [convolved])  // [B·T, 4F, spatial'...]
        let gates = node("Reshape", [convolved, concat([slice(shape, axis: 0, 0, 2), slice(convolvedShape, axis: 0, 1, .max)])])
        let zeros = node("ConstantOfShape", [concat([slice(shape, axis: 0, 0, 1), ints([filters]),
                                                     slice(convolvedShape, axis: 0, 2, .max)])])
        let spatial = [Int?](repeating: nil, count: layer.windows.count)
        let loop = ScanLoop(options: layer.options, stateCount: 2, stateShape: [nil, layer.filters] + spatial,
                            gateShape: [nil, 4 * layer.filters] + spatial, reversedOutputs: false, layer: name)
        let recurrentWindows = layer.windows.map { Window1D(size: $0.size, stride: 1, padding: .same) }
        let run = scan(loop, gates: gates, mask: input.mask, initialStates: [], zeros: zeros) { builder, gates, states in
            let product = builder.node("Conv", [states[0], recurrent],
                                       attributes: Self.windowAttributes(recurrentWindows, dilations: true))
            return builder.lstmStep(builder.split(builder.node("Add", [gates, product]), count: 4, units: filters),
                                    c: states[1], options: layer.options)
        }
        // Channels last again: [B, F, spatial...] to [B, spatial..., F]; [B, T, F, ...] to [B, T, ..., F].
        let stateOrder = [0] + Array(2..<rank) + [1]
        let output = run.sequence.map { node("Transpose", [$0], attributes: [.ints("perm", [0, 1] + Array(3...rank) + [2])]) }
            ?? node("Transpose", [run.lastOutput], attributes: [.ints("perm", stateOrder)])
        let states = run.states.map { ONNXValue(name: node("Transpose", [$0], attributes: [.ints("perm", stateOrder)])) }
        return [ONNXValue(name: output, mask: layer.options.returnSequences ? input.mask : nil)]
            + (layer.options.returnState ? states : [])
    }

    /// 1-D int64 values joined end to end (shapes).
    fileprivate mutating func concat(_ parts: [String]) -> String {
        node("Concat", parts, attributes: [.int("axis", 0)])
    }
}
