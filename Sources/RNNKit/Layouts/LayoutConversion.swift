/// Converts one layer's weights between the keras layout (names of `WeightSpec`: `kernel`,
/// `recurrent_kernel`, `bias`, `forward.kernel`, `embeddings`...) and the other layouts of
/// layouts.md, whose names are given here without the `<layer name>.` prefix (`W_i`,
/// `weight_ih_l0_reverse`, `W`, `weight`...).
///
/// Every conversion only permutes and transposes, so a round trip is bit-exact. What a layout
/// cannot express (a PyTorch GRU with reset_after=false, say) is refused with the reason.
/// Non-recurrent layers keep their keras names in every layout except pytorch, where Dense
/// becomes `weight` [units, in] (the kernel transposed) and `bias`, and Embedding `weight`.
enum LayoutConversion {
    /// A layer's weights in the keras layout, converted to `layout`.
    ///
    /// Throws `RNNKitError(.invalidModel)` when `layout` cannot express the layer, or when a
    /// weight is missing, unexpected or misshaped (the error's `location` is the tensor's name).
    static func export(_ weights: [String: Tensor], of kind: LayerKind,
                              to layout: WeightLayout) throws -> [String: Tensor] {
        let layer = LayerWeights(kind)
        if let reason = refusal(layer, layout) { throw RNNKitError(.invalidModel, reason) }
        if let first = mismatches(weights, slots(layer, .keras), layout: .keras, inputDim: nil,
                                  owner: kind.className).first {
            throw first
        }
        return fromKeras(weights, layer, layout)
    }

    /// The inverse of `export`: tensors named and arranged as in `layout`, back to keras-layout
    /// names. Missing, unexpected and misshaped tensors throw `RNNKitError(.invalidModel)`
    /// naming the tensor (also as the error's `location`) and both shapes.
    ///
    /// Where a layout holds two biases that Keras adds (pytorch `bias_ih_l0` + `bias_hh_l0` for
    /// SimpleRNN and LSTM, ONNX `Wb` + `Rb` outside GRU reset_after=true), the Keras bias is
    /// their sum; it is exact whenever one of each pair is zero, as in exported files.
    static func importWeights(_ tensors: [String: Tensor], of kind: LayerKind,
                                     from layout: WeightLayout) throws -> [String: Tensor] {
        try importWeights(tensors, of: kind, from: layout, inputDim: nil)
    }

    /// The names of a layer's tensors in `layout`, in the order files list them. Throws the
    /// refusal when `layout` cannot express the layer.
    static func tensorNames(of kind: LayerKind, in layout: WeightLayout) throws -> [String] {
        let layer = LayerWeights(kind)
        if let reason = refusal(layer, layout) { throw RNNKitError(.invalidModel, reason) }
        return slots(layer, layout).map(\.name)
    }

    /// `importWeights` with the input feature count known, so that shape errors name the
    /// exact expected shape.
    static func importWeights(_ tensors: [String: Tensor], of kind: LayerKind,
                              from layout: WeightLayout, inputDim: Int?) throws -> [String: Tensor] {
        if let first = problems(in: tensors, of: kind, layout: layout, inputDim: inputDim).first {
            throw first
        }
        return toKeras(tensors, LayerWeights(kind), layout)
    }

    /// The size that a layout's `I` stands for (the input features, a convolution's channels per
    /// group, a normalization's axis), read from the layer's keras-layout weight specs.
    static func inputDim(of kind: LayerKind, specs: [WeightSpec]) -> Int? {
        for slot in slots(LayerWeights(kind), .keras) {
            guard let axis = slot.shape.firstIndex(of: .input),
                  let spec = specs.first(where: { $0.name == slot.name }), axis < spec.shape.count
            else { continue }
            return spec.shape[axis]
        }
        return nil
    }

    /// Everything that stops `tensors` from importing: the refusal (without a location), or
    /// each missing, unexpected and misshaped tensor (located by its name).
    static func problems(in tensors: [String: Tensor], of kind: LayerKind,
                         layout: WeightLayout, inputDim: Int?) -> [RNNKitError] {
        let layer = LayerWeights(kind)
        if let reason = refusal(layer, layout) { return [RNNKitError(.invalidModel, reason)] }
        return mismatches(tensors, slots(layer, layout), layout: layout, inputDim: inputDim,
                          owner: kind.className)
    }
}

// MARK: - What a layer holds

/// One recurrent cell's settings that decide its weights and what each layout can express.
struct RecurrentCell {
    var kind: RecurrentLayer.Cell
    var units: Int
    var useBias: Bool
    var activation: Activation
    var recurrentActivation: Activation
    /// The keras and split name prefix: "" for a layer, "forward." or "backward." in a Bidirectional.
    var prefix: String
    /// The backward direction of a Bidirectional (pytorch `_reverse`, ONNX direction 1).
    var isBackward: Bool

    /// A [2, G·U] bias, input row and recurrent row: GRU reset_after, the CuDNN layers.
    var hasRecurrentBias: Bool

    init(_ layer: RecurrentLayer, prefix: String, isBackward: Bool, stackIndex: Int? = nil) {
        self.stackIndex = stackIndex
        kind = layer.cell
        hasRecurrentBias = layer.hasRecurrentBias
        units = layer.options.units
        useBias = layer.options.useBias
        activation = layer.options.activation
        recurrentActivation = layer.options.recurrentActivation
        self.prefix = prefix
        self.isBackward = isBackward
    }

    var gates: Int { kind.gateCount }
    var width: Int { gates * units }
    var biasRows: Int { hasRecurrentBias ? 2 : 1 }
    var className: String { kind.className }

    /// The cell's position in a StackedRNNCells (PyTorch's layer `l`, `cells.<l>.` in the
    /// other layouts); nil for a layer's own cell.
    var stackIndex: Int?

    /// The pytorch layer and direction suffix: `_l0`, `_l0_reverse`, `_l1`...
    var suffix: String { "_l\(stackIndex ?? 0)" + (isBackward ? "_reverse" : "") }

    /// The kernel's input size: the layer's input features, or in a stack the units of the
    /// cell before.
    var inputSize: Dim = .input

    /// The onnx tensors' name prefix: `cells.<l>.` in a stack, where each cell is one operator.
    var onnxPrefix: String { stackIndex.map { "cells.\($0)." } ?? "" }

    /// Split-layout name of `matrix` ("W", "U", "b", "rb") for Keras gate `gate`.
    func splitName(_ matrix: String, _ gate: String) -> String {
        prefix + matrix + (gate.isEmpty ? "" : "_" + gate)
    }
}

/// The weights of a layer, as far as layouts are concerned.
enum LayerWeights {
    /// A layer without weights.
    case none
    /// One cell, the forward and backward cells of a Bidirectional, or the cells of a
    /// StackedRNNCells (each with its `stackIndex`).
    case recurrent([RecurrentCell])
    /// Dense, and TimeDistributed(Dense).
    case dense(units: Int, useBias: Bool)
    case embedding(inputDim: Int, outputDim: Int)
    /// Tensors every layout keeps whole, renamed for PyTorch (Conv1D, the normalizations).
    case plain([PlainTensor])

    init(_ kind: LayerKind) {
        switch kind {
        case .bidirectional(let bidirectional):
            self = .recurrent([RecurrentCell(bidirectional.forward, prefix: "forward.", isBackward: false),
                               RecurrentCell(bidirectional.backward, prefix: "backward.", isBackward: true)])
        case .recurrent(let recurrent):
            self = .recurrent([RecurrentCell(recurrent, prefix: "", isBackward: false)])
        case .rnn(let rnn):
            self = .recurrent(rnn.cells.enumerated().map { index, cell in
                var recurrentCell = RecurrentCell(cell, prefix: rnn.weightPrefix(index), isBackward: false,
                                                  stackIndex: rnn.stacked ? index : nil)
                if index > 0 { recurrentCell.inputSize = .fixed(rnn.cells[index - 1].options.units) }
                return recurrentCell
            })
        case .dense(let dense):
            self = .dense(units: dense.units, useBias: dense.useBias)
        case .timeDistributed(let timeDistributed):
            self = LayerWeights(timeDistributed.inner)
        case .embedding(let embedding):
            self = .embedding(inputDim: embedding.inputDim, outputDim: embedding.outputDim)
        case .input, .masking, .dropout, .spatialDropout1D, .gaussianNoise, .activation, .repeatVector, .flatten,
             .concatenate, .merge, .globalAveragePooling1D, .globalMaxPooling1D, .maxPooling1D, .averagePooling1D,
             .relu, .leakyReLU, .elu, .softmax, .reshape, .permute, .timeResampling,
             .unitNormalization,
             .dot:
            self = .none
        case .prelu:
            // alpha spans the input's non-batch axes ([T, C] for a sequence), unlike torch.nn.PReLU's
            // per-channel weight: every layout keeps it whole under its Keras name.
            self = .plain([PlainTensor("alpha", pytorch: "alpha", [], anyShape: true)])
        case .operation:
            self = .none
        case .conv1D(let conv):
            // torch.nn.Conv1d.weight is [out, in / groups, k]: the Keras kernel's axes reversed.
            let size = Dim.fixed(conv.window.size), filters = Dim.fixed(conv.filters)
            self = .plain([PlainTensor("kernel", pytorch: "weight", [size, .input, filters], pytorchAxes: [2, 1, 0])]
                          + (conv.useBias ? [PlainTensor("bias", pytorch: "bias", [filters])] : []))
        case .conv2D(let conv):
            // torch.nn.Conv2d.weight is [out, in / groups, kh, kw]; Keras's kernel [kh, kw, in / groups, out].
            let filters = Dim.fixed(conv.filters)
            let kernel = [Dim.fixed(conv.windows.rows.size), .fixed(conv.windows.columns.size), .input, filters]
            self = .plain([PlainTensor("kernel", pytorch: "weight", kernel, pytorchAxes: [3, 2, 0, 1])]
                          + (conv.useBias ? [PlainTensor("bias", pytorch: "bias", [filters])] : []))
        case .depthwiseConvolution(let conv):
            self = .plain(Self.depthwiseTensors(conv))
        case .maxPooling2D,
             .averagePooling2D,
             .globalAveragePooling2D,
             .globalMaxPooling2D,
             .imageBorder2D:
            self = .none
        case .batchNormalization(let norm):
            // torch.nn.BatchNorm1d: weight, bias, running_mean, running_var.
            let names = (norm.scale ? [("gamma", "weight")] : []) + (norm.center ? [("beta", "bias")] : [])
                + [("moving_mean", "running_mean"), ("moving_variance", "running_var")]
            self = .plain(names.map { PlainTensor($0.0, pytorch: $0.1, [.input]) })
        case .layerNormalization(let norm):
            // torch.nn.LayerNorm: weight, bias over the normalized shape.
            let names = (norm.scale || norm.rmsScaling ? [("gamma", "weight")] : []) + (norm.center && !norm.rmsScaling ? [("beta", "bias")] : [])
            self = .plain(names.map { PlainTensor($0.0, pytorch: $0.1, norm.axes.count == 1 ? [.input] : Array(repeating: .free, count: norm.axes.count)) })
        case .attention(let attention):
            // PyTorch has no Luong or Bahdanau module: every layout keeps the Keras names.
            self = .plain((attention.useScale ? [PlainTensor("scale", pytorch: "scale", attention.score == .additive ? [.input] : [])] : [])
                          + (attention.score == .concat ? [PlainTensor("concat_score_weight", pytorch: "concat_score_weight", [])] : []))
        case .multiHeadAttention(let attention):
            // PyTorch's nn.MultiheadAttention packs q, k, v as in_proj_weight [3E, E] only when
            // every width agrees: every layout keeps the Keras names of the einsum kernels. Input
            // widths differ between query, key and value, and the output's may be the query's.
            let heads = Dim.fixed(attention.heads), outputWidth = attention.outputDim.map(Dim.fixed) ?? .free
            var tensors: [PlainTensor] = []
            for (name, width) in [("query", attention.keyDim), ("key", attention.keyDim), ("value", attention.valueDim)] {
                tensors.append(PlainTensor(name + "/kernel", pytorch: name + "/kernel", [.free, heads, .fixed(width)]))
                if attention.useBias { tensors.append(PlainTensor(name + "/bias", pytorch: name + "/bias", [heads, .fixed(width)])) }
            }
            tensors.append(PlainTensor("attention_output/kernel", pytorch: "attention_output/kernel",
                                       [heads, .fixed(attention.valueDim), outputWidth]))
            if attention.useBias {
                tensors.append(PlainTensor("attention_output/bias", pytorch: "attention_output/bias", [outputWidth]))
            }
            self = .plain(tensors)
        case .convLSTM(let layer):
            // PyTorch has no ConvLSTM module: every layout keeps the Keras names and shapes.
            let window = layer.windows.map { Dim.fixed($0.size) }, filters = Dim.fixed(layer.filters)
            let gates = Dim.fixed(4 * layer.filters)
            self = .plain([PlainTensor("kernel", pytorch: "kernel", window + [.input, gates]),
                           PlainTensor("recurrent_kernel", pytorch: "recurrent_kernel", window + [filters, gates])]
                          + (layer.options.useBias ? [PlainTensor("bias", pytorch: "bias", [gates])] : []))
        }
    }
}

extension LayerWeights {
    /// PyTorch runs a depthwise convolution as torch.nn.Conv1d/Conv2d(C, C·M, k, groups=C), whose
    /// weight [C·M, 1, k...] is the Keras depthwise_kernel [k..., C, M] with its last two axes
    /// first and merged; a separable one follows it by a 1×1 convolution, weight [F, C·M, 1...]
    /// (the pointwise_kernel [1..., C·M, F] with its last two axes first, swapped). A separable
    /// layer's two modules are `depthwise` and `pointwise`, as in an nn.Sequential of them.
    private static func depthwiseTensors(_ conv: DepthwiseConvolution) -> [PlainTensor] {
        let rank = conv.windows.count + 2, spatial = Array(0..<rank - 2)
        let prefix = conv.pointwiseFilters == nil ? "" : "depthwise."
        var tensors = [PlainTensor("depthwise_kernel", pytorch: prefix + "weight",
                                   conv.windows.map { .fixed($0.size) } + [.input, .fixed(conv.depthMultiplier)],
                                   pytorchAxes: [rank - 2, rank - 1] + spatial, mergesGroupsInPyTorch: true)]
        if let filters = conv.pointwiseFilters {
            tensors.append(PlainTensor("pointwise_kernel", pytorch: "pointwise.weight",
                                       conv.windows.map { _ in .fixed(1) } + [.free, .fixed(filters)],
                                       pytorchAxes: [rank - 1, rank - 2] + spatial))
        }
        if conv.useBias {
            let bias = conv.pointwiseFilters.map(Dim.fixed) ?? .free
            tensors.append(PlainTensor("bias", pytorch: (conv.pointwiseFilters == nil ? "" : "pointwise.") + "bias", [bias]))
        }
        return tensors
    }
}

/// A weight that every layout keeps whole: its keras name and shape, and the name of the PyTorch
/// module's parameter or buffer, whose axis i is the Keras axis `pytorchAxes[i]` (the same axes
/// when nil). With `mergesGroupsInPyTorch`, PyTorch holds the first two permuted axes [C, M] as
/// [C·M, 1]: a grouped convolution's weight.
struct PlainTensor: Equatable {
    var keras: String
    var pytorch: String
    var shape: [Dim]
    var pytorchAxes: [Int]?
    var mergesGroupsInPyTorch: Bool
    /// A shape only the model's input shapes tell, of any rank (PReLU's alpha): `shape` is unused.
    var anyShape: Bool

    init(_ keras: String, pytorch: String, _ shape: [Dim], pytorchAxes: [Int]? = nil, mergesGroupsInPyTorch: Bool = false,
         anyShape: Bool = false) {
        self.keras = keras
        self.pytorch = pytorch
        self.shape = shape
        self.pytorchAxes = pytorchAxes
        self.mergesGroupsInPyTorch = mergesGroupsInPyTorch
        self.anyShape = anyShape
    }

    func slot(_ layout: WeightLayout) -> Slot {
        guard layout == .pytorch else { return Slot(keras, shape, anyShape: anyShape) }
        let permuted = pytorchAxes.map { $0.map { shape[$0] } } ?? shape
        return Slot(pytorch, mergesGroupsInPyTorch ? [.free, .fixed(1)] + permuted.dropFirst(2) : permuted,
                    anyShape: anyShape)
    }

    /// The Keras tensor as PyTorch holds it.
    func toPyTorch(_ tensor: Tensor) -> Tensor {
        let permuted = pytorchAxes.map(tensor.permutingAxes) ?? tensor
        guard mergesGroupsInPyTorch else { return permuted }
        return permuted.reshaped([permuted.shape[0] * permuted.shape[1], 1] + permuted.shape.dropFirst(2))
    }

    /// The PyTorch tensor as Keras holds it.
    func toKeras(_ tensor: Tensor) -> Tensor {
        var tensor = tensor
        if mergesGroupsInPyTorch, case .fixed(let multiplier)? = pytorchAxes.map({ shape[$0[1]] }),
           tensor.rank >= 2, multiplier > 0, tensor.shape[0] % multiplier == 0 {
            tensor = tensor.reshaped([tensor.shape[0] / multiplier, multiplier] + tensor.shape.dropFirst(2))
        }
        guard let axes = pytorchAxes else { return tensor }
        var inverse = axes
        for (position, axis) in axes.enumerated() { inverse[axis] = position }
        return tensor.permutingAxes(inverse)
    }
}

// MARK: - Refusals

extension LayoutConversion {
    /// Why `layout` cannot express `layer`, or nil when it can.
    static func refusal(_ layer: LayerWeights, _ layout: WeightLayout) -> String? {
        guard case .recurrent(let cells) = layer else { return nil }
        switch layout {
        case .keras, .split:
            return nil
        case .pytorch:
            for cell in cells {
                switch cell.kind {
                case .gru(resetAfter: false):
                    return "the pytorch layout cannot express GRU reset_after=false: torch.nn.GRU applies "
                        + "the reset gate after the recurrent matmul, as Keras does with reset_after=true"
                case .lstm, .gru(resetAfter: true):
                    let module = cell.className == "LSTM" ? "torch.nn.LSTM" : "torch.nn.GRU"
                    if cell.activation != .tanh {
                        return "the pytorch layout cannot express \(cell.className) activation "
                            + "'\(cell.activation.kerasName)': \(module) uses tanh"
                    }
                    if cell.recurrentActivation != .sigmoid {
                        return "the pytorch layout cannot express \(cell.className) recurrent_activation "
                            + "'\(cell.recurrentActivation.kerasName)': \(module) uses sigmoid"
                    }
                case .simpleRNN:
                    if cell.activation != .tanh && cell.activation != .relu {
                        return "the pytorch layout cannot express SimpleRNN activation "
                            + "'\(cell.activation.kerasName)': torch.nn.RNN offers tanh or relu"
                    }
                }
            }
            if cells.count > 1, cells[0].stackIndex != nil, let different = cells.dropFirst().first(where: {
                $0.className != cells[0].className || $0.units != cells[0].units || $0.useBias != cells[0].useBias
                    || $0.activation != cells[0].activation || $0.kind.resetAfter != cells[0].kind.resetAfter
            }) {
                return "the pytorch layout cannot express StackedRNNCells whose cells differ (cell \(different.stackIndex!) "
                    + "is not a copy of cell 0 but for its input size): one torch.nn module stacks layers of one kind and size"
            }
            if cells.count == 2, cells[0].stackIndex == nil {
                if cells[0].useBias != cells[1].useBias {
                    return "the pytorch layout cannot express a Bidirectional whose directions differ in "
                        + "use_bias: one torch.nn module has one bias setting"
                }
                if cells[0].activation != cells[1].activation {
                    return "the pytorch layout cannot express a Bidirectional whose directions differ in "
                        + "activation: one torch.nn module has one nonlinearity"
                }
            }
            return nil
        case .onnx:
            if cells.count == 2, cells[0].stackIndex == nil {
                if cells[0].useBias != cells[1].useBias {
                    return "the onnx layout cannot express a Bidirectional whose directions differ in "
                        + "use_bias: one operator has one B input"
                }
                if cells[0].kind.resetAfter != cells[1].kind.resetAfter {
                    return "the onnx layout cannot express a Bidirectional whose directions differ in "
                        + "reset_after: one GRU operator has one linear_before_reset"
                }
            }
            return nil
        }
    }
}

// MARK: - Tensor slots and their checks

/// A dimension of an expected tensor shape: fixed by the layer's config, or the layer's input
/// feature count, which only the tensors (or the model graph) tell.
enum Dim: Equatable {
    case fixed(Int)
    case input
    /// A size only the model's shapes tell (a LayerNormalization over several axes): any size.
    case free
}

/// A tensor a layout expects: its name and shape.
struct Slot {
    var name: String
    var shape: [Dim]
    /// Any shape matches (`shape` is unused): the model's shapes check it.
    var anyShape: Bool

    init(_ name: String, _ shape: [Dim], anyShape: Bool = false) {
        self.name = name
        self.shape = shape
        self.anyShape = anyShape
    }

    func describe(inputDim: Int?) -> String {
        if anyShape { return "(any shape)" }
        let parts = shape.map { dimension -> String in
            switch dimension {
            case .fixed(let size): String(size)
            case .input: inputDim.map(String.init) ?? "I"
            case .free: "N"
            }
        }
        return "(" + parts.joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
    }

    func matches(_ shape: [Int], inputDim: Int?) -> Bool {
        if anyShape { return true }
        guard shape.count == self.shape.count else { return false }
        return zip(shape, self.shape).allSatisfy { size, expected in
            switch expected {
            case .fixed(let fixed): size == fixed
            case .input: inputDim.map { $0 == size } ?? true
            case .free: true
            }
        }
    }
}

extension LayoutConversion {
    /// The tensors `layout` holds for `layer`, in file order.
    static func slots(_ layer: LayerWeights, _ layout: WeightLayout) -> [Slot] {
        switch layer {
        case .none:
            return []
        case .dense(let units, let useBias):
            let bias = useBias ? [Slot("bias", [.fixed(units)])] : []
            if layout == .pytorch { return [Slot("weight", [.fixed(units), .input])] + bias }
            return [Slot("kernel", [.input, .fixed(units)])] + bias
        case .embedding(let inputDim, let outputDim):
            return [Slot(layout == .pytorch ? "weight" : "embeddings", [.fixed(inputDim), .fixed(outputDim)])]
        case .plain(let tensors):
            return tensors.map { $0.slot(layout) }
        case .recurrent(let cells):
            if layout == .onnx { return operatorGroups(cells).flatMap(onnxSlots) }
            return cells.flatMap { recurrentSlots($0, layout) }
        }
    }

    private static func recurrentSlots(_ cell: RecurrentCell, _ layout: WeightLayout) -> [Slot] {
        let h = Dim.fixed(cell.units), width = Dim.fixed(cell.width)
        switch layout {
        case .keras:
            var slots = [Slot(cell.prefix + "kernel", [cell.inputSize, width]),
                         Slot(cell.prefix + "recurrent_kernel", [h, width])]
            if cell.useBias {
                slots.append(Slot(cell.prefix + "bias", cell.hasRecurrentBias ? [.fixed(2), width] : [width]))
            }
            return slots
        case .split:
            let gates = cell.kind.gateNames
            var slots = gates.map { Slot(cell.splitName("W", $0), [h, cell.inputSize]) }
                + gates.map { Slot(cell.splitName("U", $0), [h, h]) }
            if cell.useBias {
                slots += gates.map { Slot(cell.splitName("b", $0), [h]) }
                if cell.hasRecurrentBias { slots += gates.map { Slot(cell.splitName("rb", $0), [h]) } }
            }
            return slots
        case .pytorch:
            var slots = [Slot("weight_ih" + cell.suffix, [width, cell.inputSize]),
                         Slot("weight_hh" + cell.suffix, [width, h])]
            if cell.useBias {
                slots += [Slot("bias_ih" + cell.suffix, [width]), Slot("bias_hh" + cell.suffix, [width])]
            }
            return slots
        case .onnx:
            return onnxSlots([cell])
        }
    }

    private static func onnxSlots(_ cells: [RecurrentCell]) -> [Slot] {
        let cell = cells[0], name = cell.onnxPrefix
        let dirs = Dim.fixed(cells.count), width = Dim.fixed(cell.width)
        var slots = [Slot(name + "W", [dirs, width, cell.inputSize]), Slot(name + "R", [dirs, width, .fixed(cell.units)])]
        if cell.useBias { slots.append(Slot(name + "B", [dirs, .fixed(2 * cell.width)])) }
        return slots
    }

    /// The cells each ONNX operator runs: both directions of a Bidirectional in one, every cell
    /// of a stack in its own.
    static func operatorGroups(_ cells: [RecurrentCell]) -> [[RecurrentCell]] {
        cells.first?.stackIndex == nil ? [cells] : cells.map { [$0] }
    }

    /// Each missing, unexpected or misshaped tensor, located by its name. The input feature
    /// count, unless given, is taken from the first tensor that can tell it.
    static func mismatches(_ tensors: [String: Tensor], _ slots: [Slot], layout: WeightLayout,
                           inputDim given: Int?, owner: String) -> [RNNKitError] {
        var inputDim = given
        if inputDim == nil {
            for slot in slots {
                guard let axis = slot.shape.firstIndex(of: .input), let tensor = tensors[slot.name],
                      slot.matches(tensor.shape, inputDim: nil) else { continue }
                inputDim = tensor.shape[axis]
                break
            }
        }
        var errors: [RNNKitError] = []
        for slot in slots {
            guard let tensor = tensors[slot.name] else {
                errors.append(RNNKitError(.invalidModel,
                    "missing tensor '\(slot.name)' of shape \(slot.describe(inputDim: inputDim)) (\(layout.rawValue) layout)",
                    location: slot.name))
                continue
            }
            if !slot.matches(tensor.shape, inputDim: inputDim) {
                errors.append(RNNKitError(.invalidModel,
                    "tensor '\(slot.name)' has shape \(formatShape(tensor.shape)), expected \(slot.describe(inputDim: inputDim))",
                    location: slot.name))
            }
        }
        let known = Set(slots.map(\.name))
        for name in tensors.keys.sorted() where !known.contains(name) {
            let expected = slots.isEmpty
                ? "\(owner) has no weights"
                : "\(owner) in the \(layout.rawValue) layout has " + slots.map(\.name).joined(separator: ", ")
            errors.append(RNNKitError(.invalidModel,
                "unexpected tensor '\(name)' of shape \(formatShape(tensors[name]!.shape)): \(expected)",
                location: name))
        }
        return errors
    }
}

// MARK: - Conversions (on tensors already checked against their slots)

extension LayoutConversion {
    static func fromKeras(_ weights: [String: Tensor], _ layer: LayerWeights, _ layout: WeightLayout) -> [String: Tensor] {
        switch (layer, layout) {
        case (_, .keras), (.dense, .split), (.dense, .onnx), (.embedding, .split), (.embedding, .onnx):
            return weights
        case (.none, _):
            return [:]
        case (.dense(let units, _), .pytorch):
            var out = ["weight": BlockMatrix.transposed(weights["kernel"]!, blocks: [0], units: units)]
            out["bias"] = weights["bias"]
            return out
        case (.embedding, .pytorch):
            return ["weight": weights["embeddings"]!]
        case (.plain, .split), (.plain, .onnx):
            return weights
        case (.plain(let tensors), .pytorch):
            return Dictionary(uniqueKeysWithValues: tensors.compactMap { plain in
                weights[plain.keras].map { (plain.pytorch, plain.toPyTorch($0)) }
            })
        case (.recurrent(let cells), .onnx):
            return operatorGroups(cells).reduce(into: [:]) { out, group in
                out.merge(onnxFromKeras(weights, group)) { first, _ in first }
            }
        case (.recurrent(let cells), _):
            var out: [String: Tensor] = [:]
            for cell in cells {
                let converted = layout == .split ? splitFromKeras(weights, cell) : pytorchFromKeras(weights, cell)
                out.merge(converted) { first, _ in first }
            }
            return out
        }
    }

    static func toKeras(_ tensors: [String: Tensor], _ layer: LayerWeights, _ layout: WeightLayout) -> [String: Tensor] {
        switch (layer, layout) {
        case (_, .keras), (.dense, .split), (.dense, .onnx), (.embedding, .split), (.embedding, .onnx):
            return tensors
        case (.none, _):
            return [:]
        case (.dense(let units, _), .pytorch):
            var out = ["kernel": BlockMatrix.untransposed(tensors["weight"]!, blocks: [0], units: units)]
            out["bias"] = tensors["bias"]
            return out
        case (.embedding, .pytorch):
            return ["embeddings": tensors["weight"]!]
        case (.plain, .split), (.plain, .onnx):
            return tensors
        case (.plain(let plain), .pytorch):
            return Dictionary(uniqueKeysWithValues: plain.compactMap { entry in
                tensors[entry.pytorch].map { (entry.keras, entry.toKeras($0)) }
            })
        case (.recurrent(let cells), .onnx):
            return operatorGroups(cells).reduce(into: [:]) { out, group in
                out.merge(onnxToKeras(tensors, group)) { first, _ in first }
            }
        case (.recurrent(let cells), _):
            var out: [String: Tensor] = [:]
            for cell in cells {
                let converted = layout == .split ? splitToKeras(tensors, cell) : pytorchToKeras(tensors, cell)
                out.merge(converted) { first, _ in first }
            }
            return out
        }
    }

    /// The rows of a Keras bias: [b], or [input bias, recurrent bias] for GRU reset_after and the
    /// CuDNN layers.
    private static func biasRows(_ bias: Tensor, _ cell: RecurrentCell) -> [ArraySlice<Float>] {
        (0..<cell.biasRows).map { bias.scalars[($0 * cell.width)..<(($0 + 1) * cell.width)] }
    }

    /// A Keras bias from an input and a recurrent bias in Keras gate order: stacked for GRU
    /// reset_after and the CuDNN layers, otherwise added.
    private static func kerasBias(input: [Float], recurrent: [Float], _ cell: RecurrentCell) -> Tensor {
        cell.hasRecurrentBias
            ? Tensor(shape: [2, cell.width], scalars: input + recurrent)
            : Tensor(shape: [cell.width], scalars: BlockMatrix.exactSum(input, recurrent))
    }

    // split: W_g = transpose of Keras block g, U_g likewise, b_g (and rb_g) its bias blocks.

    private static func splitFromKeras(_ weights: [String: Tensor], _ cell: RecurrentCell) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        let kernel = weights[cell.prefix + "kernel"]!, recurrent = weights[cell.prefix + "recurrent_kernel"]!
        let bias = weights[cell.prefix + "bias"].map { biasRows($0, cell) }
        for (block, gate) in cell.kind.gateNames.enumerated() {
            out[cell.splitName("W", gate)] = BlockMatrix.transposed(kernel, blocks: [block], units: cell.units)
            out[cell.splitName("U", gate)] = BlockMatrix.transposed(recurrent, blocks: [block], units: cell.units)
            if let bias {
                for (row, name) in zip(bias, ["b", "rb"]) {
                    out[cell.splitName(name, gate)] = Tensor(
                        shape: [cell.units], scalars: BlockMatrix.permuted(row, blocks: [block], units: cell.units))
                }
            }
        }
        return out
    }

    private static func splitToKeras(_ tensors: [String: Tensor], _ cell: RecurrentCell) -> [String: Tensor] {
        let gates = cell.kind.gateNames
        let inKerasOrder = Array(0..<cell.gates)
        func matrix(_ name: String) -> Tensor {
            BlockMatrix.untransposed(BlockMatrix.concatenateRows(gates.map { tensors[cell.splitName(name, $0)]! }),
                                     blocks: inKerasOrder, units: cell.units)
        }
        var out = [cell.prefix + "kernel": matrix("W"), cell.prefix + "recurrent_kernel": matrix("U")]
        if cell.useBias {
            let rows = ["b", "rb"].prefix(cell.biasRows).flatMap { name in
                gates.flatMap { tensors[cell.splitName(name, $0)]!.scalars }
            }
            out[cell.prefix + "bias"] = Tensor(shape: cell.hasRecurrentBias ? [2, cell.width] : [cell.width], scalars: rows)
        }
        return out
    }

    // pytorch: weight_ih = transpose of the block-permuted kernel; one Keras bias goes to
    // bias_ih with zeros in bias_hh, GRU reset_after's two rows to bias_ih and bias_hh.

    private static func pytorchFromKeras(_ weights: [String: Tensor], _ cell: RecurrentCell) -> [String: Tensor] {
        let order = GateOrder.permutation(cell.kind, .pytorch)
        var out = [
            "weight_ih" + cell.suffix: BlockMatrix.transposed(weights[cell.prefix + "kernel"]!,
                                                                 blocks: order, units: cell.units),
            "weight_hh" + cell.suffix: BlockMatrix.transposed(weights[cell.prefix + "recurrent_kernel"]!,
                                                                 blocks: order, units: cell.units),
        ]
        if let bias = weights[cell.prefix + "bias"] {
            let rows = biasRows(bias, cell).map { BlockMatrix.permuted($0, blocks: order, units: cell.units) }
            out["bias_ih" + cell.suffix] = Tensor(shape: [cell.width], scalars: rows[0])
            out["bias_hh" + cell.suffix] = rows.count == 2
                ? Tensor(shape: [cell.width], scalars: rows[1]) : Tensor(zeros: [cell.width])
        }
        return out
    }

    private static func pytorchToKeras(_ tensors: [String: Tensor], _ cell: RecurrentCell) -> [String: Tensor] {
        let order = GateOrder.permutation(cell.kind, .pytorch)
        var out = [
            cell.prefix + "kernel": BlockMatrix.untransposed(tensors["weight_ih" + cell.suffix]!,
                                                             blocks: order, units: cell.units),
            cell.prefix + "recurrent_kernel": BlockMatrix.untransposed(tensors["weight_hh" + cell.suffix]!,
                                                                       blocks: order, units: cell.units),
        ]
        if cell.useBias {
            let input = BlockMatrix.unpermuted(tensors["bias_ih" + cell.suffix]!.scalars[...],
                                               blocks: order, units: cell.units)
            let recurrent = BlockMatrix.unpermuted(tensors["bias_hh" + cell.suffix]!.scalars[...],
                                                   blocks: order, units: cell.units)
            out[cell.prefix + "bias"] = kerasBias(input: input, recurrent: recurrent, cell)
        }
        return out
    }

    // onnx: W[d], R[d] as in pytorch with ONNX's gate order; B[d] = [Wb | Rb], Rb zeros unless
    // GRU reset_after (linear_before_reset=1).

    private static func onnxFromKeras(_ weights: [String: Tensor], _ cells: [RecurrentCell]) -> [String: Tensor] {
        var w: [Tensor] = [], r: [Tensor] = [], b: [Tensor] = []
        for cell in cells {
            let order = GateOrder.permutation(cell.kind, .onnx)
            w.append(BlockMatrix.transposed(weights[cell.prefix + "kernel"]!, blocks: order, units: cell.units))
            r.append(BlockMatrix.transposed(weights[cell.prefix + "recurrent_kernel"]!, blocks: order, units: cell.units))
            if let bias = weights[cell.prefix + "bias"] {
                let rows = biasRows(bias, cell).map { BlockMatrix.permuted($0, blocks: order, units: cell.units) }
                let recurrent = rows.count == 2 ? rows[1] : [Float](repeating: 0, count: cell.width)
                b.append(Tensor(shape: [2 * cell.width], scalars: rows[0] + recurrent))
            }
        }
        let name = cells[0].onnxPrefix
        var out = [name + "W": BlockMatrix.stack(w), name + "R": BlockMatrix.stack(r)]
        if !b.isEmpty { out[name + "B"] = BlockMatrix.stack(b) }
        return out
    }

    private static func onnxToKeras(_ tensors: [String: Tensor], _ cells: [RecurrentCell]) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (direction, cell) in cells.enumerated() {
            let order = GateOrder.permutation(cell.kind, .onnx)
            out[cell.prefix + "kernel"] = BlockMatrix.untransposed(
                BlockMatrix.slice(tensors[cell.onnxPrefix + "W"]!, direction), blocks: order, units: cell.units)
            out[cell.prefix + "recurrent_kernel"] = BlockMatrix.untransposed(
                BlockMatrix.slice(tensors[cell.onnxPrefix + "R"]!, direction), blocks: order, units: cell.units)
            if cell.useBias {
                let both = BlockMatrix.slice(tensors[cell.onnxPrefix + "B"]!, direction).scalars
                let input = BlockMatrix.unpermuted(both[0..<cell.width], blocks: order, units: cell.units)
                let recurrent = BlockMatrix.unpermuted(both[cell.width...], blocks: order, units: cell.units)
                out[cell.prefix + "bias"] = kerasBias(input: input, recurrent: recurrent, cell)
            }
        }
        return out
    }
}
