import Foundation

/// A value of the ONNX graph being built: its name, and the Keras mask that rides along with it.
struct ONNXValue {
    var name: String
    /// The Keras mask as an ONNX value, [batch, time] bool (true where a step is kept), made
    /// where Masking, Embedding(mask_zero) or an explicit `mask=` starts one; nil for none.
    var mask: String?
    var masked: Bool { mask != nil }
    /// ONNX element type: float unless it is an integer or boolean model input.
    var elementType: Onnx_TensorProto.DataType = .float
}

/// Builds the GraphProto of a model: one or a few ONNX nodes per Keras layer call, in the
/// graph analysis's order. Node and value names are made unique with a counter; initializers
/// carry the onnx layout's tensor names prefixed with the layer's name.
struct ONNXGraphBuilder {
    let model: Model
    let opset: Int
    /// The model's call order and shapes, resolved once for the whole export.
    let analysis: GraphAnalysis
    /// The nodes of the graph being built (a Scan body's, while one is built: ONNXScan.swift).
    var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private var values: [TensorRef: ONNXValue] = [:]
    /// Each layer's initializer names by tensor name, made once however often the layer is called.
    private var layerInitializers: [String: [String: String]] = [:]
    private var counter = 0

    init(model: Model, opset: Int) {
        self.model = model
        self.opset = opset
        analysis = GraphAnalysis(model)
    }

    /// The whole graph: inputs, every layer call the outputs need, outputs.
    mutating func build() throws -> Onnx_GraphProto {
        var graph = Onnx_GraphProto()
        graph.name = model.name
        for ref in model.inputs {
            guard let index = model.layerIndex(named: ref.layer), let input = model.layers[index].kind?.inputLayer else {
                throw RNNKitError(.invalidModel, "model input '\(ref.layer)' is not an InputLayer")
            }
            let type = Self.elementType(ofInputDType: input.dtype)
            values[ref] = ONNXValue(name: ref.layer, elementType: type)
            graph.input.append(Self.valueInfo(ref.layer, type: type, shape: input.batchShape,
                                              dynamicName: { axis in axis == 0 ? "batch" : "\(ref.layer)_dim\(axis)" }))
        }
        // Every layer is tried, so that a refusal names all the layers that stop the export.
        var refusals: [RNNKitError] = []
        var refusedLayers: Set<String> = []
        for id in analysis.order {
            let layer = model.layers[id.layer]
            guard let kind = layer.kind, !layer.isInput else { continue }
            let node = layer.nodes[id.node]
            // A layer fed by a refused one is left out silently: its inputs do not exist.
            if (node.inputs + node.masks.compactMap { $0 }).contains(where: { refusedLayers.contains($0.layer) }) {
                refusedLayers.insert(layer.name)
                continue
            }
            var inputs = try node.inputs.map { ref -> ONNXValue in
                guard let value = values[ref] else {
                    throw RNNKitError(.invalidModel, "no ONNX value for \(ref)", location: layer.name)
                }
                return value
            }
            do {
                try applyExplicitMasks(node.masks, to: &inputs, layer: layer.name)
                inputs = floatInputs(inputs, of: kind)
                for (index, output) in try emit(kind, layer: layer, inputs: inputs).enumerated() {
                    values[TensorRef(layer: layer.name, node: id.node, index: index)] = output
                }
            } catch let error as RNNKitError where error.kind == .invalidModel {
                refusals.append(error)
                refusedLayers.insert(layer.name)
            }
        }
        if var first = refusals.first {
            if refusals.count > 1 {
                let others = refusals.dropFirst().compactMap(\.location).joined(separator: ", ")
                first.message += " (and \(refusals.count - 1) more layer(s) refused: \(others))"
            }
            throw first
        }
        let outputNames = Self.outputNames(model.outputs, taken: Set(graph.input.map(\.name)))
        for (ref, name) in zip(model.outputs, outputNames) {
            guard let value = values[ref] else {
                throw RNNKitError(.invalidModel, "model output \(ref) is not computed")
            }
            node("Identity", [value.name], outputs: [name])
            graph.output.append(Self.valueInfo(name, type: value.elementType,
                                               shape: analysis.shape(of: ref, in: model) ?? [],
                                               dynamicName: { axis in axis == 0 ? "batch" : nil }))
        }
        graph.node = nodes
        graph.initializer = initializers
        return graph
    }

    /// An explicit `mask=` of a call replaces the masks its inputs carry, as in the runtime
    /// (a nil entry: that input has none).
    private mutating func applyExplicitMasks(_ masks: [TensorRef?], to inputs: inout [ONNXValue], layer: String) throws {
        for (position, ref) in masks.enumerated() where position < inputs.count {
            guard let ref else {
                inputs[position].mask = nil
                continue
            }
            guard let value = values[ref] else {
                throw RNNKitError(.invalidModel, "no ONNX value for mask \(ref)", location: layer)
            }
            inputs[position].mask = explicitMask(value)
        }
    }

    /// Integer and boolean inputs as floats (booleans 1 and 0), as Keras casts them for a layer
    /// that computes on floats and as the runtime holds them: every layer but Embedding, which
    /// reads ids.
    private mutating func floatInputs(_ inputs: [ONNXValue], of kind: LayerKind) -> [ONNXValue] {
        if case .embedding = kind { return inputs }
        return inputs.map { $0.elementType == .float ? $0 : ONNXValue(name: asFloat($0.name), mask: $0.mask) }
    }

    /// Keras's output names: the layer's name, with `_<index>` where one layer gives several
    /// of the model's outputs (and `_<node>_<index>` for a shared layer's later calls). A graph
    /// value has one name: one that is `taken` (an input's) or given already (output 1 of layer
    /// `lstm` beside a layer named `lstm_1`) gets `_output`, then a number.
    static func outputNames(_ outputs: [TensorRef], taken: Set<String> = []) -> [String] {
        var used = taken
        return outputs.map { ref in
            let sameLayer = outputs.filter { $0.layer == ref.layer }
            let name = sameLayer.count == 1 ? ref.layer
                : ref.node == 0 ? "\(ref.layer)_\(ref.index)" : "\(ref.layer)_\(ref.node)_\(ref.index)"
            var unique = name, suffix = 1
            while !used.insert(unique).inserted {
                unique = suffix == 1 ? name + "_output" : "\(name)_output_\(suffix)"
                suffix += 1
            }
            return unique
        }
    }

    static func elementType(ofInputDType dtype: String) -> Onnx_TensorProto.DataType {
        switch dtype {
        case "int32": .int32
        case "int64": .int64
        case "int8": .int8
        case "int16": .int16
        case "uint8": .uint8
        case "uint16": .uint16
        case "uint32": .uint32
        case "uint64": .uint64
        case "bool": .bool
        default: .float
        }
    }

    static func valueInfo(_ name: String, type: Onnx_TensorProto.DataType, shape: Shape,
                          dynamicName: (Int) -> String?) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(type.rawValue)
        var shapeProto = Onnx_TensorShapeProto()
        shapeProto.dim = shape.enumerated().map { axis, size in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let size {
                dim.dimValue = Int64(size)
            } else if let parameter = dynamicName(axis) {
                dim.dimParam = parameter
            }
            return dim
        }
        tensorType.shape = shapeProto
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensorType
        return info
    }

    // MARK: - Layers

    /// The ONNX nodes of one call of a layer; returns its outputs in Keras's order. The switch
    /// is exhaustive: a new layer kind does not compile until it is given a form here, or sent
    /// to `ONNXExport.noONNXForm`.
    mutating func emit(_ kind: LayerKind, layer: ModelLayer, inputs: [ONNXValue]) throws -> [ONNXValue] {
        let name = layer.name
        switch kind {
        case .input:
            return inputs
        case .recurrent(let recurrent):
            return try recurrentLayer(name, kind: kind, directions: [recurrent], mergeMode: nil,
                                      inputs: inputs, weights: layer.weights)
        case .rnn(let rnn):
            // A lone cell is its layer's operator; a stack is one Scan per cell.
            guard !rnn.stacked else { return try stackedCells(name, rnn, kind: kind, inputs: inputs, weights: layer.weights) }
            return try recurrentLayer(name, kind: kind, directions: rnn.cells, mergeMode: nil,
                                      inputs: inputs, weights: layer.weights)
        case .bidirectional(let bidirectional):
            return try recurrentLayer(name, kind: kind, directions: [bidirectional.forward, bidirectional.backward],
                                      mergeMode: bidirectional.mergeMode, inputs: inputs, weights: layer.weights)
        case .dense(let dense):
            return [try self.dense(name, dense, kind: kind, input: inputs[0], weights: layer.weights)]
        case .timeDistributed(let timeDistributed):
            // Dense acts on the last axis of any rank: no folding of time into the batch.
            guard case .dense(let dense) = timeDistributed.inner else {
                return [try self.timeDistributed(timeDistributed.inner, input: inputs[0], layer: layer)]
            }
            return [try self.dense(name, dense, kind: kind, input: inputs[0], weights: layer.weights)]
        case .embedding(let embedding):
            let table = try initializer(name, kind: kind, weights: layer.weights)["embeddings"]!
            // Gather takes int32 or int64 indices; Keras casts any other ids to an integer too.
            var ids = inputs[0].name
            if ![.int32, .int64].contains(inputs[0].elementType) {
                ids = node("Cast", [ids], attributes: [.int("to", Int64(Onnx_TensorProto.DataType.int64.rawValue))])
            }
            return [ONNXValue(name: node("Gather", [table, ids], attributes: [.int("axis", 0)]),
                              mask: embedding.maskZero ? nonZeroMask(inputs[0]) : inputs[0].mask)]
        case .masking(let masking):
            // Keras multiplies each step by whether any feature differs from mask_value.
            let x = inputs[0].name
            let equal = asFloat(node("Equal", [x, scalar(masking.maskValue)]))
            let allEqual = reduce("ReduceMin", equal, axes: [-1], keepDims: true)
            let keep = node("Sub", [scalar(1), allEqual])
            let mask = node("Cast", [node("Squeeze", [keep, ints([-1])])],
                            attributes: [.int("to", Int64(Onnx_TensorProto.DataType.bool.rawValue))])
            return [ONNXValue(name: node("Mul", [x, keep]), mask: mask)]
        case .dropout, .spatialDropout1D, .gaussianNoise:
            return [inputs[0]]
        case .activation(let activation):
            var value = inputs[0]
            value.name = self.activation(activation.activation, value.name)
            return [value]
        case .repeatVector(let repeatVector):
            let expanded = node("Unsqueeze", [inputs[0].name, ints([1])])
            return [ONNXValue(name: node("Tile", [expanded, ints([1, Int64(repeatVector.count), 1])]))]
        case .flatten:
            return [ONNXValue(name: node("Flatten", [inputs[0].name], attributes: [.int("axis", 1)]))]
        case .concatenate(let concatenate):
            return [ONNXValue(name: node("Concat", inputs.map(\.name), attributes: [.int("axis", Int64(concatenate.axis))]),
                              mask: combinedMask(inputs))]
        case .merge(let merge):
            // Added and multiplied pairwise in input order, as Keras does; the others are ONNX's
            // variadic operators.
            let names = inputs.map(\.name), merged: String
            switch merge {
            case .add: merged = names.dropFirst().reduce(names[0]) { node("Add", [$0, $1]) }
            case .multiply: merged = names.dropFirst().reduce(names[0]) { node("Mul", [$0, $1]) }
            case .subtract: merged = node("Sub", names)
            case .average: merged = node("Mean", names)
            case .maximum: merged = node("Max", names)
            case .minimum: merged = node("Min", names)
            }
            return [ONNXValue(name: merged, mask: combinedMask(inputs))]
        case .batchNormalization(let norm):
            return [try batchNormalization(name, norm, kind: kind, input: inputs[0], layer: layer)]
        case .layerNormalization(let norm):
            return [try layerNormalization(name, norm, kind: kind, input: inputs[0], layer: layer)]
        case .relu(let relu):
            return [self.relu(relu, input: inputs[0])]
        case .leakyReLU(let leaky):
            return [ONNXValue(name: node("LeakyRelu", [inputs[0].name], attributes: [.float("alpha", Float(leaky.negativeSlope))]),
                              mask: inputs[0].mask)]
        case .elu(let elu):
            return [ONNXValue(name: node("Elu", [inputs[0].name], attributes: [.float("alpha", Float(elu.alpha))]),
                              mask: inputs[0].mask)]
        case .softmax(let softmax):
            return [try self.softmax(name, softmax, input: inputs[0], layer: layer)]
        case .timeResampling(let resampling):
            return [timeResampling(resampling, input: inputs[0])]
        case .unitNormalization(let norm):
            return [try unitNormalization(norm, input: inputs[0], layer: layer)]
        case .prelu:
            return [try prelu(name, kind: kind, input: inputs[0], weights: layer.weights)]
        case .dot(let dot):
            return [try self.dot(name, dot, inputs: inputs, layer: layer)]
        case .permute(let permute):
            // Keras drops the mask at Permute and Reshape.
            return [ONNXValue(name: node("Transpose", [inputs[0].name],
                                         attributes: [.ints("perm", [0] + permute.dims.map(Int64.init))]))]
        case .reshape(let reshape):
            // 0 keeps the batch size; -1 is inferred, as in Keras.
            return [ONNXValue(name: node("Reshape", [inputs[0].name, ints([0] + reshape.targetShape.map(Int64.init))]))]
        case .imageBorder2D(let border):
            return [imageBorder(border, inputs[0])]
        case .conv1D(let conv):
            return [try convolution(name, kind: kind, input: inputs[0], weights: layer.weights, windows: [conv.window],
                                    format: conv.dataFormat, groups: conv.groups, activation: conv.activation)]
        case .conv2D(let conv):
            return [try convolution(name, kind: kind, input: inputs[0], weights: layer.weights,
                                    windows: [conv.windows.rows, conv.windows.columns], format: conv.dataFormat,
                                    groups: conv.groups, activation: conv.activation)]
        case .depthwiseConvolution(let conv):
            return [try depthwise(name, conv, kind: kind, input: inputs[0], weights: layer.weights)]
        case .maxPooling1D(let pooling):
            return [windowPooling("MaxPool", inputs[0], windows: [pooling.window], format: pooling.dataFormat)]
        case .averagePooling1D(let pooling):
            return [windowPooling("AveragePool", inputs[0], windows: [pooling.window], format: pooling.dataFormat)]
        case .maxPooling2D(let pooling):
            return [windowPooling("MaxPool", inputs[0], windows: [pooling.windows.rows, pooling.windows.columns],
                            format: pooling.dataFormat)]
        case .averagePooling2D(let pooling):
            return [windowPooling("AveragePool", inputs[0], windows: [pooling.windows.rows, pooling.windows.columns],
                            format: pooling.dataFormat)]
        case .globalAveragePooling2D(let pooling):
            let axes: [Int64] = pooling.dataFormat == .channelsLast ? [1, 2] : [2, 3]
            return [ONNXValue(name: reduce("ReduceMean", inputs[0].name, axes: axes, keepDims: pooling.keepDims))]
        case .globalMaxPooling2D(let pooling):
            let axes: [Int64] = pooling.dataFormat == .channelsLast ? [1, 2] : [2, 3]
            return [ONNXValue(name: reduce("ReduceMax", inputs[0].name, axes: axes, keepDims: pooling.keepDims))]
        case .operation(let operation):
            return [self.operation(operation, inputs: inputs)]
        case .attention(let attention):
            return try self.attention(name, attention, kind: kind, inputs: inputs, weights: layer.weights)
        case .multiHeadAttention(let attention):
            return try multiHeadAttention(name, attention, kind: kind, inputs: inputs, weights: layer.weights)
        case .convLSTM(let convLSTM):
            // ONNX has no convolutional LSTM operator: a Scan of Convs.
            return try self.convLSTM(name, convLSTM, kind: kind, input: inputs[0], weights: layer.weights)
        case .globalAveragePooling1D(let pooling):
            guard let mask = inputs[0].mask else {
                return [ONNXValue(name: reduce("ReduceMean", inputs[0].name, axes: [pooling.stepsAxis],
                                              keepDims: pooling.keepDims))]
            }
            // A masked channels_first input is refused before export (Keras masks the wrong axis).
            return [maskedAverage(inputs[0].name, mask: mask, keepDims: pooling.keepDims)]
        case .globalMaxPooling1D(let pooling):
            return [ONNXValue(name: reduce("ReduceMax", inputs[0].name, axes: [pooling.stepsAxis], keepDims: pooling.keepDims))]
        }
    }

    /// Dense (and TimeDistributed(Dense)) on the last axis: MatMul, Add, activation.
    private mutating func dense(_ name: String, _ dense: Dense, kind: LayerKind, input: ONNXValue,
                                weights: [String: Tensor]) throws -> ONNXValue {
        let tensors = try initializer(name, kind: kind, weights: weights)
        var output = node("MatMul", [input.name, tensors["kernel"]!])
        if let bias = tensors["bias"] { output = node("Add", [output, bias]) }
        output = activation(dense.activation, output)
        return ONNXValue(name: output, mask: input.mask)
    }

    /// The layer's weights in the onnx layout as initializers named `<layer>.<tensor>` (once
    /// for a shared layer); returns the initializer names by tensor name.
    /// The convolutions take theirs in the pytorch layout, which is ONNX Conv's.
    mutating func initializer(_ layer: String, kind: LayerKind, weights: [String: Tensor],
                              layout: WeightLayout = .onnx) throws -> [String: String] {
        if let made = layerInitializers[layer] { return made }
        let tensors: [String: Tensor]
        do {
            tensors = try LayoutConversion.export(weights, of: kind, to: layout)
        } catch var error as RNNKitError {
            error.location = layer + (error.location.map { "." + $0 } ?? "")
            throw error
        }
        var names: [String: String] = [:]
        for key in tensors.keys.sorted() {
            let name = "\(layer).\(key)"
            initializers.append(Self.floatTensor(name, tensors[key]!))
            names[key] = name
        }
        layerInitializers[layer] = names
        return names
    }

    // MARK: - Activations

    /// A Keras activation as standard operators.
    mutating func activation(_ activation: Activation, _ x: String) -> String {
        switch activation {
        case .linear: return x
        case .tanh: return node("Tanh", [x])
        case .sigmoid: return node("Sigmoid", [x])
        case .relu: return node("Relu", [x])
        case .elu: return node("Elu", [x], attributes: [.float("alpha", 1)])
        case .selu:
            return node("Selu", [x], attributes: [.float("alpha", 1.6732632423543772), .float("gamma", 1.0507009873554805)])
        case .softplus: return node("Softplus", [x])
        case .softsign: return node("Softsign", [x])
        case .swish: return node("Mul", [x, node("Sigmoid", [x])])
        case .gelu:
            // 0.5·x·(1 + erf(x/√2)); ONNX's Gelu operator arrives only in opset 20.
            let erf = node("Erf", [node("Div", [x, scalar(Float(2).squareRoot())])])
            return node("Mul", [node("Mul", [x, scalar(0.5)]), node("Add", [erf, scalar(1)])])
        case .exponential: return node("Exp", [x])
        case .relu6: return node("Clip", [x, scalar(0), scalar(6)])
        case .leakyRelu: return node("LeakyRelu", [x], attributes: [.float("alpha", 0.2)])
        case .hardSigmoid(let keras2):
            return node("HardSigmoid", [x], attributes: [.float("alpha", keras2 ? 0.2 : 1 / 6), .float("beta", 0.5)])
        case .softmax: return node("Softmax", [x], attributes: [.int("axis", -1)])
        case .celu: return node("Celu", [x], attributes: [.float("alpha", 1)])
        case .hardSilu: return node("HardSwish", [x])
        case .hardTanh: return node("Clip", [x, scalar(-1), scalar(1)])
        case .hardShrink: return node("Shrink", [x], attributes: [.float("lambd", 0.5), .float("bias", 0)])
        case .softShrink: return node("Shrink", [x], attributes: [.float("lambd", 0.5), .float("bias", 0.5)])
        case .tanhShrink: return node("Sub", [x, node("Tanh", [x])])
        case .sparseSigmoid: return node("Clip", [node("Add", [node("Mul", [x, scalar(0.5)]), scalar(0.5)]), scalar(0), scalar(1)])
        case .squareplus:
            let root = node("Sqrt", [node("Add", [node("Mul", [x, x]), scalar(4)])])
            return node("Mul", [node("Add", [x, root]), scalar(0.5)])
        case .mish: return node("Mul", [x, node("Tanh", [node("Softplus", [x])])])
        case .logSigmoid: return node("Neg", [node("Softplus", [node("Neg", [x])])])
        case .logSoftmax: return node("LogSoftmax", [x], attributes: [.int("axis", -1)])
        case .sparsePlus: return sparsePlus(x)
        case .sparsemax: return sparsemax(x)
        }
    }

    // MARK: - Nodes and constants

    /// A fresh value name. It starts with "/", which no Keras layer name holds, so that it
    /// never meets a graph input or output (layer names) or an initializer (`<layer>.<tensor>`).
    mutating func fresh(_ hint: String) -> String {
        counter += 1
        return "/\(hint)_\(counter)"
    }

    /// Appends a node; returns its first output (named after the operator unless `outputs` names them).
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], outputs: [String]? = nil, outputCount: Int = 1,
                       attributes: [ONNXAttribute] = []) -> String {
        var proto = Onnx_NodeProto()
        proto.opType = op
        proto.input = inputs
        proto.output = outputs ?? (0..<outputCount).map { _ in fresh(op) }
        proto.name = fresh(op + "_node")
        proto.attribute = attributes.map(\.proto)
        nodes.append(proto)
        return proto.output[0]
    }

    /// `x` cast to float32 (booleans 1 and 0, integers exact up to 2^24).
    mutating func asFloat(_ x: String) -> String {
        node("Cast", [x], attributes: [.int("to", Int64(Onnx_TensorProto.DataType.float.rawValue))])
    }

    /// A float32 scalar constant.
    mutating func scalar(_ value: Float) -> String {
        constant(Tensor(shape: [], scalars: [value]))
    }

    /// A float32 constant of any shape.
    mutating func constant(_ tensor: Tensor) -> String {
        let name = fresh("const")
        initializers.append(Self.floatTensor(name, tensor))
        return name
    }

    /// A 1-D int64 constant (shapes, axes, slice bounds).
    mutating func ints(_ values: [Int64]) -> String {
        let name = fresh("ints")
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        tensor.dims = [Int64(values.count)]
        tensor.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
        initializers.append(tensor)
        return name
    }

    /// ReduceMin/Max/Mean over `axes`: an attribute up to opset 17, an input from 18.
    mutating func reduce(_ op: String, _ x: String, axes: [Int64], keepDims: Bool) -> String {
        let keep = ONNXAttribute.int("keepdims", keepDims ? 1 : 0)
        if opset >= 18 {
            return node(op, [x, ints(axes)], attributes: [keep])
        }
        return node(op, [x], attributes: [.ints("axes", axes), keep])
    }

    /// `x[..., start..<end, ...]` along `axis`.
    mutating func slice(_ x: String, axis: Int64, _ start: Int64, _ end: Int64, step: Int64 = 1) -> String {
        node("Slice", [x, ints([start]), ints([end]), ints([axis]), ints([step])])
    }

    /// `x[..., index, ...]` along `axis`, that axis removed.
    mutating func pick(_ x: String, axis: Int64, _ index: Int64) -> String {
        node("Squeeze", [slice(x, axis: axis, index, index + 1), ints([axis])])
    }

    /// A float32 initializer (little-endian raw data, as ONNX stores it).
    static func floatTensor(_ name: String, _ tensor: Tensor) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        proto.dims = tensor.shape.map(Int64.init)
        proto.rawData = withLittleEndianBytes(of: tensor.scalars) { Data($0) }
        return proto
    }
}

/// A node attribute: its name and typed value.
struct ONNXAttribute {
    enum Value {
        case int(Int64), float(Float), string(String), ints([Int64]), floats([Float]), strings([String])
        /// A subgraph: a Scan's body.
        case graph(Onnx_GraphProto)
    }

    var name: String
    var value: Value

    static func int(_ name: String, _ value: Int64) -> Self { Self(name: name, value: .int(value)) }
    static func float(_ name: String, _ value: Float) -> Self { Self(name: name, value: .float(value)) }
    static func string(_ name: String, _ value: String) -> Self { Self(name: name, value: .string(value)) }
    static func ints(_ name: String, _ values: [Int64]) -> Self { Self(name: name, value: .ints(values)) }
    static func floats(_ name: String, _ values: [Float]) -> Self { Self(name: name, value: .floats(values)) }
    static func strings(_ name: String, _ values: [String]) -> Self { Self(name: name, value: .strings(values)) }
    static func graph(_ name: String, _ graph: Onnx_GraphProto) -> Self { Self(name: name, value: .graph(graph)) }

    var proto: Onnx_AttributeProto {
        var proto = Onnx_AttributeProto()
        proto.name = name
        switch value {
        case .int(let value): (proto.type, proto.i) = (.int, value)
        case .float(let value): (proto.type, proto.f) = (.float, value)
        case .string(let value): (proto.type, proto.s) = (.string, Data(value.utf8))
        case .ints(let values): (proto.type, proto.ints) = (.ints, values)
        case .floats(let values): (proto.type, proto.floats) = (.floats, values)
        case .strings(let values): (proto.type, proto.strings) = (.strings, values.map { Data($0.utf8) })
        case .graph(let graph): (proto.type, proto.g) = (.graph, graph)
        }
        return proto
    }
}
