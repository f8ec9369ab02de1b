/// The windows of a 2D convolution or pooling along the height and the width.
struct Windows2D: Equatable, Sendable {
    var rows: Window1D
    var columns: Window1D

    /// [B, H, W, C] to [B, H', W', channels] (channels_last; unknown sizes stay unknown).
    func outputShape(_ image: Shape, channels: Int, _ className: String) throws -> Shape {
        [image[0], try rows.outputDimension(image[1], of: image, className),
         try columns.outputDimension(image[2], of: image, className), channels]
    }

    func grid(_ image: Tensor, _ className: String) throws -> WindowGrid {
        try WindowGrid(rows: rows, columns: columns, input: [image.shape[1], image.shape[2]], className,
                       batch: image.shape[0])
    }
}

/// Keras `Conv2D`: [B, H, W, C] to [B, H', W', filters] (channels_first: [B, C, H, W] to
/// [B, filters, H', W']) through kernel [kh, kw, C / groups, filters] and bias [filters], one
/// packed matrix product per group over the unfolded windows.
struct Conv2D: Equatable, Sendable {
    /// Output channels, and the groups that both input and output channels are split into.
    var filters: Int, groups: Int
    var windows: Windows2D
    var dataFormat: DataFormat
    var activation: Activation
    var useBias: Bool

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let input = try ConvolutionInput.channelsLast(inputs, rank: 4, dataFormat, groups: groups, "Conv2D")
        return [dataFormat.fromChannelsLast(try windows.outputShape(input.shape, channels: filters, "Conv2D"))]
    }

    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        let input = try ConvolutionInput.channelsLast(inputs, rank: 4, dataFormat, groups: groups, "Conv2D")
        return ConvolutionInput.weightSpecs(window: [windows.rows.size, windows.columns.size], channels: input.channels,
                                            groups: groups, filters: filters, useBias: useBias)
    }

    func forward(_ input: LayerValue, weights: [String: Tensor]) throws -> LayerValue {
        guard let kernel = weights["kernel"] else { throw RNNKitError(.invalidModel, "Conv2D has no bound kernel") }
        let image = dataFormat.channelsLast(input.tensor)
        let output = try windows.grid(image, "Conv2D")
            .convolve(image, kernel: kernel, bias: weights["bias"], groups: groups, activation: activation)
        return LayerValue(dataFormat.fromChannelsLast(output))
    }
}

/// Keras `MaxPooling2D` and `AveragePooling2D`: [B, H, W, C] to [B, H', W', C] (or channels
/// first), each output cell the maximum or mean of its window; padding takes no part (the mean
/// divides by the real cells only, as TensorFlow does).
struct Pooling2D: Equatable, Sendable {
    var windows: Windows2D
    var dataFormat: DataFormat

    func outputShapes(for inputs: [Shape], className: String) throws -> [Shape] {
        let image = try dataFormat.channelsLastShape(inputs, rank: 4, className)
        let channels = try ShapeCheck.features(image, className)
        return [dataFormat.fromChannelsLast(try windows.outputShape(image, channels: channels, className))]
    }

    func forward(_ input: LayerValue, _ reduction: WindowGrid.Reduction, className: String) throws -> LayerValue {
        let image = dataFormat.channelsLast(input.tensor)
        return LayerValue(dataFormat.fromChannelsLast(try windows.grid(image, className).pool(image, reduction)))
    }
}

/// Keras `GlobalAveragePooling2D` and `GlobalMaxPooling2D`: [B, H, W, C] (or [B, C, H, W]) to
/// [B, C], or with keepdims [B, 1, 1, C] (or [B, C, 1, 1]).
struct GlobalPooling2D: Equatable, Sendable {
    var keepDims: Bool
    var dataFormat: DataFormat

    func outputShapes(for inputs: [Shape], className: String) throws -> [Shape] {
        let image = try dataFormat.channelsLastShape(inputs, rank: 4, className)
        return [keepDims ? dataFormat.fromChannelsLast([image[0], 1, 1, image[3]]) : [image[0], image[3]]]
    }

    /// The images as sequences of their cells, pooled over the sequence.
    func forward(_ input: LayerValue, _ reduction: WindowGrid.Reduction) -> LayerValue {
        let image = dataFormat.channelsLast(input.tensor)
        let batch = image.shape[0], channels = image.shape[3]
        let cells = LayerValue(image.reshaped([batch, image.shape[1] * image.shape[2], channels]))
        let pooling = GlobalPooling1D(keepDims: false)
        let pooled = switch reduction {
        case .maximum: pooling.maximum(cells)
        case .average: pooling.average(cells)
        }
        // With keepdims both formats hold the channels in the same order.
        return LayerValue(pooled.tensor.reshaped(keepDims ? dataFormat.fromChannelsLast([batch, 1, 1, channels])
                                                          : [batch, channels]))
    }
}

/// Keras `ZeroPadding2D` (zero rows and columns added around each image) and `Cropping2D`
/// (rows and columns removed): [B, H, W, C] to [B, H', W', C], or channels first.
struct ImageBorder2D: Equatable, Sendable {
    enum Operation: Equatable, Sendable {
        case zeroPadding, cropping
    }

    var operation: Operation
    /// Rows added or removed at the top and bottom, columns at the left and right.
    var top: Int, bottom: Int, left: Int, right: Int
    var dataFormat: DataFormat

    var className: String {
        switch operation {
        case .zeroPadding: "ZeroPadding2D"
        case .cropping: "Cropping2D"
        }
    }

    /// Where output cell (0, 0) lies in the input: before it when padding.
    private var origin: (row: Int, column: Int) {
        operation == .cropping ? (top, left) : (-top, -left)
    }

    /// The output [H', W'] of an image [H, W].
    private func outputSize(_ height: Int, _ width: Int) -> (height: Int, width: Int) {
        let sign = operation == .cropping ? -1 : 1
        return (height + sign * (top + bottom), width + sign * (left + right))
    }

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let image = try dataFormat.channelsLastShape(inputs, rank: 4, className)
        var output = image
        for (axis, margins) in [(1, top + bottom), (2, left + right)] {
            guard let size = image[axis] else { continue }
            let length = size + (operation == .cropping ? -margins : margins)
            guard length > 0, length <= maximumDimension else {
                throw RNNKitError(.invalidModel, "\(className) gives \(length) cells along axis \(axis) "
                                  + "for input shape \(formatShape(inputs[0]))")
            }
            output[axis] = length
        }
        return [dataFormat.fromChannelsLast(output)]
    }

    func forward(_ input: LayerValue) throws -> LayerValue {
        let image = dataFormat.channelsLast(input.tensor)
        let batch = image.shape[0], height = image.shape[1], width = image.shape[2], channels = image.shape[3]
        let size = outputSize(height, width)
        guard size.height >= 0, size.width >= 0 else {
            throw RNNKitError(.badUsage, "\(className): an input of \(height)×\(width) is too small")
        }
        // Margins only the config bounds, around images of a size the model leaves free.
        guard let count = Tensor.checkedElementCount([batch, size.height, size.width, channels]),
              count <= ReadLimits.default.maxBytes / MemoryLayout<Float>.size
        else {
            throw RNNKitError(.badUsage, "\(className): \(size.height)×\(size.width) images are too large")
        }
        var scalars = [Float](repeating: 0, count: batch * size.height * size.width * channels)
        for b in 0..<batch {
            for row in 0..<size.height {
                let sourceRow = row + origin.row
                guard sourceRow >= 0, sourceRow < height else { continue }
                for column in 0..<size.width {
                    let sourceColumn = column + origin.column
                    guard sourceColumn >= 0, sourceColumn < width else { continue }
                    let from = ((b * height + sourceRow) * width + sourceColumn) * channels
                    let to = ((b * size.height + row) * size.width + column) * channels
                    for c in 0..<channels { scalars[to + c] = image.scalars[from + c] }
                }
            }
        }
        let output = Tensor(shape: [batch, size.height, size.width, channels], scalars: scalars)
        return LayerValue(dataFormat.fromChannelsLast(output))
    }
}

/// Keras `DepthwiseConv1D`/`DepthwiseConv2D` and `SeparableConv1D`/`SeparableConv2D`: each input
/// channel convolved alone by `depth_multiplier` filters of its own (depthwise_kernel
/// [window..., C, M], a convolution in C groups), then, for a separable convolution, mixed by a
/// pointwise product (pointwise_kernel [1..., C·M, filters]). The bias and the activation come
/// last: [C·M] after the depthwise step, or [filters] after the pointwise one.
struct DepthwiseConvolution: Equatable, Sendable {
    /// The window along each spatial axis: one for sequences, height and width for images.
    var windows: [Window1D]
    var depthMultiplier: Int
    /// The pointwise product's output channels; nil for a depthwise convolution alone.
    var pointwiseFilters: Int?
    var dataFormat: DataFormat
    var activation: Activation
    var useBias: Bool

    var className: String {
        (pointwiseFilters == nil ? "DepthwiseConv" : "SeparableConv") + "\(windows.count)D"
    }

    private func input(_ inputs: [Shape]) throws -> (shape: Shape, channels: Int) {
        try ConvolutionInput.channelsLast(inputs, rank: windows.count + 2, dataFormat, groups: 1, className)
    }

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        let (shape, channels) = try input(inputs)
        var output = [shape[0]]
        for (axis, window) in windows.enumerated() {
            output.append(try window.outputDimension(shape[axis + 1], of: shape, className))
        }
        return [dataFormat.fromChannelsLast(output + [pointwiseFilters ?? channels * depthMultiplier])]
    }

    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        let channels = try input(inputs).channels, depthwise = channels * depthMultiplier
        var specs = [WeightSpec(name: "depthwise_kernel", shape: windows.map(\.size) + [channels, depthMultiplier],
                                keras3Path: "vars/0")]
        if let pointwiseFilters {
            specs.append(WeightSpec(name: "pointwise_kernel", shape: windows.map { _ in 1 } + [depthwise, pointwiseFilters],
                                    keras3Path: "vars/1"))
        }
        if useBias {
            specs.append(WeightSpec(name: "bias", shape: [pointwiseFilters ?? depthwise], keras3Path: "vars/\(specs.count)"))
        }
        return specs
    }

    func forward(_ input: LayerValue, weights: [String: Tensor]) throws -> LayerValue {
        guard let depthwiseKernel = weights["depthwise_kernel"] else {
            throw RNNKitError(.invalidModel, "\(className) has no bound depthwise_kernel")
        }
        var tensor = dataFormat.channelsLast(input.tensor)
        let spatial = Array(tensor.shape.dropFirst().dropLast()), channels = tensor.shape[tensor.rank - 1]
        // A sequence is an image one row high.
        let grid = try WindowGrid(rows: windows.count == 2 ? windows[0] : WindowGrid.singleRow, columns: windows[windows.count - 1],
                                  input: spatial.count == 2 ? spatial : [1] + spatial, className, batch: tensor.shape[0])
        let depthwise = channels * depthMultiplier
        // [window..., C, M] is [window..., 1, C·M] with channel c's filters in group c.
        let kernel = depthwiseKernel.reshaped([grid.taps, 1, depthwise])
        tensor = grid.convolve(tensor, kernel: kernel, bias: pointwiseFilters == nil ? weights["bias"] : nil,
                               groups: channels, activation: pointwiseFilters == nil ? activation : .linear)
        let outputSpatial = windows.count == 2 ? grid.outputSize : [grid.outputSize[1]]
        if let pointwiseFilters {
            guard let pointwise = weights["pointwise_kernel"] else {
                throw RNNKitError(.invalidModel, "\(className) has no bound pointwise_kernel")
            }
            let matrix = PackedMatrixCache.packed(pointwise.reshaped([depthwise, pointwiseFilters]))
            var mixed = Kernels.affine(tensor.scalars, rows: tensor.rowCount, kernel: matrix, bias: weights["bias"]?.scalars)
            activation.apply(to: &mixed, width: pointwiseFilters)
            tensor = Tensor(shape: [tensor.shape[0]] + outputSpatial + [pointwiseFilters], scalars: mixed)
        } else {
            tensor = tensor.reshaped([tensor.shape[0]] + outputSpatial + [depthwise])
        }
        return LayerValue(dataFormat.fromChannelsLast(tensor))
    }
}
