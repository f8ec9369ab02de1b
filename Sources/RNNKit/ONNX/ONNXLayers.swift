/// The normalization, activation and reshaping layers as standard ONNX operators, computed in
/// the order of operations RNNKit's runtime (and Keras) uses, so that ONNX Runtime's numbers stay
/// within rounding of Keras's. Masks pass through the normalizations and activations, as Keras
/// lets them; Dot and the time resamplers drop them.
extension ONNXGraphBuilder {
    // MARK: - Normalizations

    /// BatchNormalization as ONNX's operator, which normalizes axis 1: another axis is
    /// transposed there and back. Without `scale` or `center`, gamma is ones and beta zeros.
    mutating func batchNormalization(_ name: String, _ norm: BatchNormalization, kind: LayerKind, input: ONNXValue,
                                     layer: ModelLayer) throws -> ONNXValue {
        let rank = try inputShapes(of: layer)[0].count
        let axis = try norm.resolvedAxis(rank: rank)
        let tensors = try initializer(name, kind: kind, weights: layer.weights)
        guard let mean = tensors["moving_mean"], let variance = tensors["moving_variance"],
              let channels = layer.weights["moving_mean"]?.count else {
            throw RNNKitError(.invalidModel, "BatchNormalization has no bound moving statistics", location: name)
        }
        let gamma = tensors["gamma"] ?? constant(Tensor(shape: [channels], scalars: Array(repeating: 1, count: channels)))
        let beta = tensors["beta"] ?? constant(Tensor(zeros: [channels]))
        let order = [0, axis] + (1..<rank).filter { $0 != axis }
        let x = axis == 1 ? input.name : transpose(input.name, order)
        var output = node("BatchNormalization", [x, gamma, beta, mean, variance],
                          attributes: [.float("epsilon", Float(norm.epsilon))])
        if axis != 1 { output = transpose(output, Self.inverse(order)) }
        return ONNXValue(name: output, mask: input.mask)
    }

    /// LayerNormalization over its trailing axes: ONNX's operator from opset 17 (with gamma,
    /// without rms_scaling), else mean and biased variance by ReduceMean and Keras's
    /// x·inv + (beta − mean·inv), inv = gamma / √(variance + epsilon); rms_scaling is x·inv.
    mutating func layerNormalization(_ name: String, _ norm: LayerNormalization, kind: LayerKind, input: ONNXValue,
                                     layer: ModelLayer) throws -> ONNXValue {
        let axes = try norm.resolvedAxes(rank: inputShapes(of: layer)[0].count).map(Int64.init)
        let tensors = try initializer(name, kind: kind, weights: layer.weights)
        let x = input.name, epsilon = Float(norm.epsilon)
        if opset >= 17, !norm.rmsScaling, let gamma = tensors["gamma"] {
            let output = node("LayerNormalization", [x, gamma] + (tensors["beta"].map { [$0] } ?? []),
                              attributes: [.int("axis", axes[0]), .float("epsilon", epsilon)])
            return ONNXValue(name: output, mask: input.mask)
        }
        let mean = reduce("ReduceMean", x, axes: axes, keepDims: true)
        let centred = node("Sub", [x, mean])
        let variance = reduce("ReduceMean", node("Mul", [centred, centred]), axes: axes, keepDims: true)
        var inv = node("Reciprocal", [node("Sqrt", [node("Add", [variance, scalar(epsilon)])])])
        if let gamma = tensors["gamma"] { inv = node("Mul", [inv, gamma]) }
        let scaled = node("Mul", [x, inv])
        guard !norm.rmsScaling else { return ONNXValue(name: scaled, mask: input.mask) }
        let shift = node("Mul", [mean, inv])
        let output = tensors["beta"].map { node("Add", [scaled, node("Sub", [$0, shift])]) } ?? node("Sub", [scaled, shift])
        return ONNXValue(name: output, mask: input.mask)
    }

    mutating func unitNormalization(_ norm: UnitNormalization, input: ONNXValue, layer: ModelLayer) throws -> ONNXValue {
        let axes = try norm.resolvedAxes(rank: inputShapes(of: layer)[0].count)
        return ONNXValue(name: l2Normalized(input.name, axes: axes.map(Int64.init), floor: norm.floor), mask: input.mask)
    }

    /// x scaled to unit L2 norm over `axes`, kept finite as Keras 3 (a cap on 1/‖x‖) or tf_keras
    /// (a floor under Σx²) does.
    private mutating func l2Normalized(_ x: String, axes: [Int64], floor: L2Floor) -> String {
        let squaredSum = reduce("ReduceSumSquare", x, axes: axes, keepDims: true)
        let inverseNorm: String
        switch floor {
        case .maximumInverseNorm(let cap):
            inverseNorm = node("Min", [node("Reciprocal", [node("Sqrt", [squaredSum])]), scalar(cap)])
        case .minimumSquaredSum(let least):
            inverseNorm = node("Reciprocal", [node("Sqrt", [node("Max", [squaredSum, scalar(least)])])])
        }
        return node("Mul", [x, inverseNorm])
    }

    // MARK: - Activation layers

    /// ReLU as Keras computes it: LeakyRelu for a plain negative slope; otherwise the positive
    /// part (above the threshold), clipped to [0, max_value], minus slope · max(threshold − x, 0).
    mutating func relu(_ relu: ReLULayer, input: ONNXValue) -> ONNXValue {
        let x = input.name, threshold = Float(relu.threshold), slope = Float(relu.negativeSlope)
        if slope != 0, relu.maxValue == nil, threshold == 0 {
            return ONNXValue(name: node("LeakyRelu", [x], attributes: [.float("alpha", slope)]), mask: input.mask)
        }
        var output = threshold == 0 ? node("Relu", [x]) : node("Where", [node("Greater", [x, scalar(threshold)]), x, scalar(0)])
        if let maxValue = relu.maxValue { output = node("Clip", [output, scalar(0), scalar(Float(maxValue))]) }
        if slope != 0 {
            let below = node("Relu", [node("Sub", [scalar(threshold), x])])
            output = node("Sub", [output, node("Mul", [below, scalar(slope)])])
        }
        return ONNXValue(name: output, mask: input.mask)
    }

    /// Softmax along its axis. Keras adds −1e9 where the mask covers every value: a mask (from
    /// Masking or Embedding) spans the input without its last axis, so where that axis has size 1.
    /// The mask is not a tensor of the graph, so that case is refused.
    mutating func softmax(_ name: String, _ softmax: SoftmaxLayer, input: ONNXValue, layer: ModelLayer) throws -> ONNXValue {
        let shape = try inputShapes(of: layer)[0]
        if input.masked && (shape.last ?? nil) ?? 1 == 1 {
            throw ONNXExport.refusal(name, "Softmax", "Keras leaves out the masked values of an input its mask covers "
                                     + "whole (last axis of size 1), and the mask is not a tensor of the ONNX graph")
        }
        let axis = try softmax.resolvedAxis(rank: shape.count)
        return ONNXValue(name: node("Softmax", [input.name], attributes: [.int("axis", Int64(axis))]), mask: input.mask)
    }

    /// PReLU: ONNX's PRelu broadcasts alpha (the input's shape without the batch axis) as Keras does.
    mutating func prelu(_ name: String, kind: LayerKind, input: ONNXValue, weights: [String: Tensor]) throws -> ONNXValue {
        let alpha = try initializer(name, kind: kind, weights: weights)["alpha"]!
        return ONNXValue(name: node("PRelu", [input.name, alpha]), mask: input.mask)
    }

    /// sparse_plus: 0 up to −1, ¼(x + 1)² up to 1, then x.
    mutating func sparsePlus(_ x: String) -> String {
        let shifted = node("Add", [node("Clip", [x, scalar(-1), scalar(1)]), scalar(1)])
        let square = node("Mul", [node("Mul", [shifted, shifted]), scalar(0.25)])
        return node("Where", [node("GreaterOrEqual", [x, scalar(1)]), x, square])
    }

    /// sparsemax over the last axis with Keras's threshold (see `Activation.RowWise.apply`): the
    /// values sorted by TopK, their cumulative sums c, the support {j : sorted_j > (c_j − 1)/j},
    /// tau = (Σ_support c_j − 1) / |support|, max(x − tau, 0).
    mutating func sparsemax(_ x: String) -> String {
        let width = slice(node("Shape", [x]), axis: 0, -1, .max)
        let sorted = node("TopK", [x, width], outputCount: 2, attributes: [.int("axis", -1), .int("largest", 1), .int("sorted", 1)])
        let last = ints([-1])
        let cumulative = node("CumSum", [sorted, last])
        let ones = node("Expand", [scalar(1), node("Shape", [sorted])])
        let position = node("CumSum", [ones, last])
        let bound = node("Div", [node("Sub", [cumulative, scalar(1)]), position])
        let support = asFloat(node("Greater", [node("Sub", [sorted, bound]), scalar(0)]))
        let supportSum = node("ReduceSum", [node("Mul", [cumulative, support]), last], attributes: [.int("keepdims", 1)])
        let supportSize = node("ReduceSum", [support, last], attributes: [.int("keepdims", 1)])
        let tau = node("Div", [node("Sub", [supportSum, scalar(1)]), supportSize])
        return node("Relu", [node("Sub", [x, tau])])
    }

    // MARK: - Reshaping and combining

    /// Dot as MatMul: each input's contracted axis moved last (first) and its other axes merged,
    /// [B, M, K]·[B, K, N], reshaped to Keras's output shape; `normalize` L2-normalizes both first.
    mutating func dot(_ name: String, _ dot: Dot, inputs: [ONNXValue], layer: ModelLayer) throws -> ONNXValue {
        let shapes = try inputShapes(of: layer)
        let (a, b) = try dot.resolvedAxes(shapes)
        guard let output = try Array(dot.outputShapes(for: shapes)[0].dropFirst()).concrete, let depth = shapes[0][a] else {
            throw ONNXExport.refusal(name, "Dot", "its inputs \(shapes.map(formatShape)) need known sizes but for the batch")
        }
        var x = inputs[0].name, y = inputs[1].name
        if dot.normalize {
            x = l2Normalized(x, axes: [Int64(a)], floor: dot.floor)
            y = l2Normalized(y, axes: [Int64(b)], floor: dot.floor)
        }
        let xOrder = (0..<shapes[0].count).filter { $0 != a } + [a]
        let yOrder = [0, b] + (1..<shapes[1].count).filter { $0 != b }
        x = node("Reshape", [transpose(x, xOrder), ints([0, -1, Int64(depth)])])
        y = node("Reshape", [transpose(y, yOrder), ints([0, Int64(depth), -1])])
        let product = node("MatMul", [x, y])
        return ONNXValue(name: node("Reshape", [product, ints([0] + output.map(Int64.init))]))
    }

    /// ZeroPadding1D as Pad, Cropping1D as Slice, UpSampling1D as nearest Resize of the steps
    /// (step t copies step ⌊t / size⌋), on axis 1, or 2 for channels_first. Keras drops the mask.
    mutating func timeResampling(_ resampling: TimeResampling, input: ONNXValue) -> ONNXValue {
        let x = input.name
        let time = resampling.dataFormat == .channelsLast ? 1 : 2
        func alongTime(_ value: Int64, otherwise: Int64) -> [Int64] { (0..<3).map { $0 == time ? value : otherwise } }
        switch resampling.operation {
        case .zeroPadding(let before, let after):
            return ONNXValue(name: node("Pad", [x, ints(alongTime(Int64(before), otherwise: 0)
                                                        + alongTime(Int64(after), otherwise: 0))]))
        case .cropping(let before, let after):
            return ONNXValue(name: slice(x, axis: Int64(time), Int64(before), after == 0 ? .max : -Int64(after)))
        case .upSampling(let size):
            let scales = constant(Tensor(shape: [3], scalars: alongTime(Int64(size), otherwise: 1).map(Float.init)))
            return ONNXValue(name: node("Resize", [x, "", scales], attributes: [
                .string("mode", "nearest"), .string("coordinate_transformation_mode", "asymmetric"),
                .string("nearest_mode", "floor"),
            ]))
        }
    }

    /// TimeDistributed of any inner layer: time folded into the batch ([B·T, ...]), the inner
    /// layer's form, the time axis unfolded. The inner layer sees no mask; the input's passes through.
    mutating func timeDistributed(_ inner: LayerKind, input: ONNXValue, layer: ModelLayer) throws -> ONNXValue {
        let shape = node("Shape", [input.name])
        let folded = node("Reshape", [input.name, node("Concat", [ints([-1]), slice(shape, axis: 0, 2, .max)],
                                                       attributes: [.int("axis", 0)])])
        let step = try emit(inner, layer: layer, inputs: [ONNXValue(name: folded)])[0].name
        let unfoldedShape = node("Concat", [slice(shape, axis: 0, 0, 2), slice(node("Shape", [step]), axis: 0, 1, .max)],
                                 attributes: [.int("axis", 0)])
        return ONNXValue(name: node("Reshape", [step, unfoldedShape]), mask: input.mask)
    }

    // MARK: - Helpers

    /// The shapes of the layer's first call's inputs, which its config's axes are resolved
    /// against. A TimeDistributed layer's own form never asks: for it these are the shapes of
    /// one step, which its inner layer sees.
    private func inputShapes(of layer: ModelLayer) throws -> [Shape] {
        guard let index = model.layerIndex(named: layer.name),
              let shapes = analysis.inputShapes(ofLayer: index, in: model) else {
            throw RNNKitError(.invalidModel, "the input shapes are unknown", location: layer.name)
        }
        guard case .timeDistributed? = layer.kind else { return shapes }
        return shapes.map { [$0[0]] + $0.dropFirst(2) }
    }

    private mutating func transpose(_ x: String, _ order: [Int]) -> String {
        node("Transpose", [x], attributes: [.ints("perm", order.map(Int64.init))])
    }

    private static func inverse(_ order: [Int]) -> [Int] {
        var inverse = order
        for (position, axis) in order.enumerated() { inverse[axis] = position }
        return inverse
    }
}
