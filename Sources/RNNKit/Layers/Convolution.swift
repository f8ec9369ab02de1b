/// Where sequences and images keep their channels: last ([B, T, C], [B, H, W, C], Keras's
/// default) or first ([B, C, T], [B, C, H, W]). RNNKit computes channels last and moves the
/// channels of a channels_first input there and back.
enum DataFormat: String, Equatable, Sendable {
    case channelsLast = "channels_last"
    case channelsFirst = "channels_first"

    /// `shape` (a tensor's or a Keras shape) with its channels last.
    func channelsLast<Dimension>(_ shape: [Dimension]) -> [Dimension] {
        guard self == .channelsFirst, shape.count > 2 else { return shape }
        return [shape[0]] + shape[2...] + [shape[1]]
    }

    /// A channels_last `shape` in this format.
    func fromChannelsLast<Dimension>(_ shape: [Dimension]) -> [Dimension] {
        guard self == .channelsFirst, shape.count > 2 else { return shape }
        return [shape[0], shape[shape.count - 1]] + shape[1..<shape.count - 1]
    }

    func channelsLast(_ tensor: Tensor) -> Tensor {
        self == .channelsLast ? tensor : tensor.permutingAxes(channelsLast(Array(0..<tensor.rank)))
    }

    func fromChannelsLast(_ tensor: Tensor) -> Tensor {
        self == .channelsLast ? tensor : tensor.permutingAxes(fromChannelsLast(Array(0..<tensor.rank)))
    }

    /// The channels_last shape of the one input of `className`, which must have `rank` axes.
    func channelsLastShape(_ inputs: [Shape], rank: Int, _ className: String) throws -> Shape {
        channelsLast(try ShapeCheck.rank(ShapeCheck.single(inputs, className), rank, className))
    }
}

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

    /// The output length along an axis of `size` cells of `input` (unknown stays unknown); a
    /// known size too small for a valid window is an error, as in Keras.
    func outputDimension(_ size: Int?, of input: Shape, _ className: String) throws -> Int? {
        guard let size else { return nil }
        let length = outputLength(size)
        guard length > 0 else {
            throw RNNKitError(.invalidModel, "\(className) with a window of \(span) step(s) (\(padding.rawValue) padding) "
                              + "gives no output for \(size) step(s), input shape \(formatShape(input))")
        }
        return length
    }

    /// [B, T, C] to [B, T', C'] with T' the output length.
    func outputShape(_ input: Shape, channels: Int, _ className: String) throws -> Shape {
        [input[0], try outputDimension(input[1], of: input, className), channels]
    }
}

/// What Conv1D and Conv2D share around their windows.
enum ConvolutionInput {
    /// The channels_last shape of the one input of `className` (`rank` axes in `format`), with
    /// its channels, which `groups` must divide.
    static func channelsLast(_ inputs: [Shape], rank: Int, _ format: DataFormat, groups: Int,
                             _ className: String) throws -> (shape: Shape, channels: Int) {
        let shape = try format.channelsLastShape(inputs, rank: rank, className)
        let channels = try ShapeCheck.features(shape, className)
        guard channels % groups == 0 else {
            throw RNNKitError(.invalidModel, "\(className) with groups=\(groups) needs input channels divisible by it, "
                              + "got shape \(formatShape(inputs[0]))")
        }
        return (shape, channels)
    }

    /// Keras's kernel [window..., channels / groups, filters], then the bias [filters] when used.
    static func weightSpecs(window: [Int], channels: Int, groups: Int, filters: Int, useBias: Bool) -> [WeightSpec] {
        [WeightSpec(name: "kernel", shape: window + [channels / groups, filters], keras3Path: "vars/0")]
            + (useBias ? [WeightSpec(name: "bias", shape: [filters], keras3Path: "vars/1")] : [])
    }
}

extension Window1D {
    /// The windows over sequences [B, T, C]: images one row high.
    func grid(_ sequences: Tensor, _ className: String) throws -> WindowGrid {
        try WindowGrid(rows: WindowGrid.singleRow, columns: self, input: [1, sequences.shape[1]], className,
                       batch: sequences.shape[0])
    }
}

/// Keras `Conv1D`: [B, T, C] to [B, T', filters] (channels_first: [B, C, T] to [B, filters, T'])
/// through kernel [kernel_size, C / groups, filters] and bias [filters]. Computed as one packed
/// matrix product per group over the unfolded windows (im2col). The mask is dropped, as Keras 3
/// does (tf_keras refuses a masked input).
struct Conv1D: Equatable, Sendable {
    /// Output channels, and the groups that both input and output channels are split into.
    var filters: Int, groups: Int
    var window: Window1D
    var dataFormat = DataFormat.channelsLast
    var activation: Activation
    var useBias: Bool

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let input = try ConvolutionInput.channelsLast(inputs, rank: 3, dataFormat, groups: groups, "Conv1D")
        return [dataFormat.fromChannelsLast(try window.outputShape(input.shape, channels: filters, "Conv1D"))]
    }

    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        let input = try ConvolutionInput.channelsLast(inputs, rank: 3, dataFormat, groups: groups, "Conv1D")
        return ConvolutionInput.weightSpecs(window: [window.size], channels: input.channels, groups: groups,
                                            filters: filters, useBias: useBias)
    }

    func forward(_ input: LayerValue, weights: [String: Tensor]) throws -> LayerValue {
        guard let kernel = weights["kernel"] else { throw RNNKitError(.invalidModel, "Conv1D has no bound kernel") }
        let sequences = dataFormat.channelsLast(input.tensor)
        let grid = try window.grid(sequences, "Conv1D")
        let output = grid.convolve(sequences, kernel: kernel, bias: weights["bias"], groups: groups, activation: activation)
        return LayerValue(dataFormat.fromChannelsLast(output.reshaped([sequences.shape[0], grid.outputSize[1], filters])))
    }
}

/// Keras `MaxPooling1D` and `AveragePooling1D`: [B, T, C] to [B, T', C] (or channels first),
/// each output step the maximum or mean of its window. With same padding, padded steps take no
/// part (TensorFlow's rule: the mean divides by the real steps only). The mask is dropped, as in
/// Keras 3.
struct Pooling1D: Equatable, Sendable {
    var window: Window1D
    var dataFormat = DataFormat.channelsLast

    func outputShapes(for inputs: [Shape], className: String) throws -> [Shape] {
        let shape = try dataFormat.channelsLastShape(inputs, rank: 3, className)
        let channels = try ShapeCheck.features(shape, className)
        return [dataFormat.fromChannelsLast(try window.outputShape(shape, channels: channels, className))]
    }

    func forward(_ input: LayerValue, _ reduction: WindowGrid.Reduction, className: String) throws -> LayerValue {
        let sequences = dataFormat.channelsLast(input.tensor)
        let grid = try window.grid(sequences, className)
        let output = grid.pool(sequences, reduction).reshaped([sequences.shape[0], grid.outputSize[1], sequences.shape[2]])
        return LayerValue(dataFormat.fromChannelsLast(output))
    }
}
