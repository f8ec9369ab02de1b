/// How a 1D window meets the ends of the sequence: `valid` never leaves it, `same` pads so that
/// T steps give ceil(T / stride) outputs (the extra padding after, as TensorFlow places it),
/// `causal` (convolutions only) pads the window's span before the first step.
enum Padding1D: String, Equatable, Sendable {
    case valid, same, causal
}

/// The sliding window of a 1D convolution or pooling along time, with TensorFlow's arithmetic.
struct Window1D: Equatable, Sendable {
    var size: Int
    var stride: Int
    var dilation: Int = 1
    var padding: Padding1D

    /// The steps one window covers: dilation·(size − 1) + 1.
    var span: Int { dilation * (size - 1) + 1 }

    /// The output steps of a sequence of `steps` steps (0 when a valid window does not fit).
    func outputLength(_ steps: Int) -> Int {
        guard steps > 0 else { return 0 }
        switch padding {
        case .valid: return steps >= span ? (steps - span) / stride + 1 : 0
        case .same: return (steps + stride - 1) / stride
        case .causal: return (steps - 1) / stride + 1
        }
    }

    /// The padded steps before the first input step.
    func padBefore(_ steps: Int) -> Int {
        switch padding {
        case .valid: 0
        case .same: max((outputLength(steps) - 1) * stride + span - steps, 0) / 2
        case .causal: span - 1
        }
    }

    /// [B, T, C] to [B, T', C'] with T' the output length (unknown stays unknown); a known T
    /// too short for a valid window is an error, as in Keras.
    func outputShape(_ input: Shape, channels: Int, _ className: String) throws -> Shape {
        guard let steps = input[1] else { return [input[0], nil, channels] }
        let length = outputLength(steps)
        guard length > 0 else {
            throw RNNKitError(.invalidModel, "\(className) with a window of \(span) step(s) (\(padding.rawValue) padding) "
                              + "gives no output for \(steps) step(s), input shape \(formatShape(input))")
        }
        return [input[0], length, channels]
    }
}

/// Keras `Conv1D` (channels_last): [B, T, C] to [B, T', filters] through kernel
/// [kernel_size, C / groups, filters] and bias [filters]. Computed as one packed matrix product
/// per group over the unfolded windows (im2col). The mask is dropped, as Keras 3 does (tf_keras
/// refuses a masked input).
struct Conv1D: Equatable, Sendable {
    /// Output channels, and the groups that both input and output channels are split into.
    var filters: Int, groups: Int
    var window: Window1D
    var activation: Activation
    var useBias: Bool

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let shape = try ShapeCheck.rank(ShapeCheck.single(inputs, "Conv1D"), 3, "Conv1D")
        let channels = try ShapeCheck.features(shape, "Conv1D")
        guard channels % groups == 0 else {
            throw RNNKitError(.invalidModel, "Conv1D with groups=\(groups) needs input channels divisible by it, "
                              + "got shape \(formatShape(shape))")
        }
        return [try window.outputShape(shape, channels: filters, "Conv1D")]
    }

    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        let channels = try ShapeCheck.features(inputs[0], "Conv1D")
        var specs = [WeightSpec(name: "kernel", shape: [window.size, channels / groups, filters], keras3Path: "vars/0")]
        if useBias { specs.append(WeightSpec(name: "bias", shape: [filters], keras3Path: "vars/1")) }
        return specs
    }

    func forward(_ input: LayerValue, weights: [String: Tensor]) throws -> LayerValue {
        guard let kernel = weights["kernel"] else { throw RNNKitError(.invalidModel, "Conv1D has no bound kernel") }
        let tensor = input.tensor
        let batch = tensor.shape[0], steps = tensor.shape[1], channels = tensor.shape[2]
        let length = window.outputLength(steps)
        guard length > 0 || batch == 0 else {
            throw RNNKitError(.badUsage, "Conv1D: \(steps) step(s) are too few for a window of \(window.span)")
        }
        let groupChannels = channels / groups, groupFilters = filters / groups
        let width = window.size * groupChannels, rows = batch * length
        let matrix = kernel.reshaped([width, filters])
        var output = [Float](repeating: 0, count: rows * filters)
        var columns = [Float](repeating: 0, count: rows * width)
        let before = window.padBefore(steps)
        for group in 0..<groups {
            // Row (b, t) of the unfolded input holds the window's steps one after another, each
            // with the group's channels: the order of the kernel's [size, C / groups] rows.
            for row in 0..<rows {
                let b = row / length, first = (row % length) * window.stride - before
                for tap in 0..<window.size {
                    let step = first + tap * window.dilation
                    let target = row * width + tap * groupChannels
                    guard step >= 0, step < steps else {
                        for index in target..<target + groupChannels { columns[index] = 0 }
                        continue
                    }
                    let source = (b * steps + step) * channels + group * groupChannels
                    for index in 0..<groupChannels { columns[target + index] = tensor.scalars[source + index] }
                }
            }
            let range = group * groupFilters..<(group + 1) * groupFilters
            let bias = weights["bias"].map { Array($0.scalars[range]) }
            let packed = PackedMatrixCache.packed(matrix, columns: groups == 1 ? nil : range)
            guard rows > 0 else { break }
            columns.withUnsafeBufferPointer { a in
                output.withUnsafeMutableBufferPointer { c in
                    Kernels.gemm(m: rows, a: a.baseAddress!, lda: width, b: packed, bias: bias,
                                 c: c.baseAddress! + range.lowerBound, ldc: filters, accumulate: false)
                }
            }
        }
        activation.apply(to: &output, width: filters)
        return LayerValue(Tensor(shape: [batch, length, filters], scalars: output))
    }
}

/// Keras `MaxPooling1D` and `AveragePooling1D` (channels_last): [B, T, C] to [B, T', C], each
/// output step the maximum or mean of its window. With same padding, padded steps take no part
/// (TensorFlow's rule: the mean divides by the real steps only). The mask is dropped, as in Keras 3.
struct Pooling1D: Equatable, Sendable {
    var window: Window1D

    func outputShapes(for inputs: [Shape], className: String) throws -> [Shape] {
        let shape = try ShapeCheck.rank(ShapeCheck.single(inputs, className), 3, className)
        return [try window.outputShape(shape, channels: try ShapeCheck.features(shape, className), className)]
    }

    func maximum(_ input: LayerValue) -> LayerValue {
        pool(input.tensor) { values in values.max() ?? 0 }
    }

    func average(_ input: LayerValue) -> LayerValue {
        pool(input.tensor) { values in values.reduce(0, +) / Float(values.count) }
    }

    private func pool(_ tensor: Tensor, _ reduce: ([Float]) -> Float) -> LayerValue {
        let batch = tensor.shape[0], steps = tensor.shape[1], channels = tensor.shape[2]
        let length = window.outputLength(steps), before = window.padBefore(steps)
        var output = [Float](repeating: 0, count: batch * length * channels)
        var values: [Float] = []
        for b in 0..<batch {
            for t in 0..<length {
                let first = max(t * window.stride - before, 0)
                let last = min(t * window.stride - before + window.size, steps)
                for channel in 0..<channels {
                    values.removeAll(keepingCapacity: true)
                    for step in first..<max(last, first) { values.append(tensor.scalars[(b * steps + step) * channels + channel]) }
                    output[(b * length + t) * channels + channel] = reduce(values)
                }
            }
        }
        return LayerValue(Tensor(shape: [batch, length, channels], scalars: output))
    }
}
