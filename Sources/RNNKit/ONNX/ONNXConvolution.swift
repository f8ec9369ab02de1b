/// Convolutions and poolings as ONNX's Conv, MaxPool and AveragePool, which read channels first:
/// a channels_last input is transposed there and back. TensorFlow's same padding (the larger
/// half after) is `auto_pad` SAME_UPPER; causal padding pads the window's span before. The
/// kernels are in the pytorch layout, which is Conv's ([F, C / groups, k...]). Keras drops the
/// mask at these layers, and so does the export.
extension ONNXGraphBuilder {
    mutating func convolution(_ name: String, kind: LayerKind, input: ONNXValue, weights: [String: Tensor],
                              windows: [Window1D], format: DataFormat, groups: Int, activation: Activation) throws -> ONNXValue {
        let tensors = try initializer(name, kind: kind, weights: weights, layout: .pytorch)
        let output = channelsFirst(input.name, rank: windows.count + 2, format) { builder, x in
            builder.node("Conv", [x, tensors["weight"]!] + (tensors["bias"].map { [$0] } ?? []),
                         attributes: Self.windowAttributes(windows, dilations: true) + [.int("group", Int64(groups))])
        }
        return ONNXValue(name: self.activation(activation, output))
    }

    /// A depthwise Conv in C groups, then for a separable layer a 1×1 Conv.
    mutating func depthwise(_ name: String, _ conv: DepthwiseConvolution, kind: LayerKind, input: ONNXValue,
                            weights: [String: Tensor]) throws -> ONNXValue {
        let tensors = try initializer(name, kind: kind, weights: weights, layout: .pytorch)
        let separable = conv.pointwiseFilters != nil
        let depthwiseWeight = tensors[separable ? "depthwise.weight" : "weight"]!
        let channels = (weights["depthwise_kernel"]?.shape.dropLast().last).map(Int64.init) ?? 1
        let output = channelsFirst(input.name, rank: conv.windows.count + 2, conv.dataFormat) { builder, x in
            let bias = separable ? nil : tensors["bias"]
            let depthwise = builder.node("Conv", [x, depthwiseWeight] + (bias.map { [$0] } ?? []),
                                         attributes: Self.windowAttributes(conv.windows, dilations: true)
                                             + [.int("group", channels)])
            guard separable else { return depthwise }
            return builder.node("Conv", [depthwise, tensors["pointwise.weight"]!] + (tensors["pointwise.bias"].map { [$0] } ?? []))
        }
        return ONNXValue(name: activation(conv.activation, output))
    }

    /// MaxPool or AveragePool (whose default `count_include_pad=0` divides by the real cells, as
    /// TensorFlow does).
    mutating func windowPooling(_ op: String, _ input: ONNXValue, windows: [Window1D], format: DataFormat) -> ONNXValue {
        ONNXValue(name: channelsFirst(input.name, rank: windows.count + 2, format) { builder, x in
            builder.node(op, [x], attributes: Self.windowAttributes(windows, dilations: false))
        })
    }

    /// ZeroPadding2D as Pad (zeros), Cropping2D as a Slice of each spatial axis.
    mutating func imageBorder(_ border: ImageBorder2D, _ input: ONNXValue) -> ONNXValue {
        let (rows, columns): (Int64, Int64) = border.dataFormat == .channelsLast ? (1, 2) : (2, 3)
        let (top, bottom, left, right) = (Int64(border.top), Int64(border.bottom), Int64(border.left), Int64(border.right))
        switch border.operation {
        case .zeroPadding:
            var pads = [Int64](repeating: 0, count: 8)  // every axis's start, then every axis's end
            (pads[Int(rows)], pads[Int(columns)], pads[4 + Int(rows)], pads[4 + Int(columns)]) = (top, left, bottom, right)
            return ONNXValue(name: node("Pad", [input.name, ints(pads)]))
        case .cropping:
            let cropped = slice(input.name, axis: rows, top, bottom == 0 ? .max : -bottom)
            return ONNXValue(name: slice(cropped, axis: columns, left, right == 0 ? .max : -right))
        }
    }

    /// `body` on `x` with its channels first.
    private mutating func channelsFirst(_ x: String, rank: Int, _ format: DataFormat,
                                        _ body: (inout ONNXGraphBuilder, String) -> String) -> String {
        guard format == .channelsLast else { return body(&self, x) }
        let axes = (0..<rank).map(Int64.init)
        let first = node("Transpose", [x], attributes: [.ints("perm", DataFormat.channelsFirst.fromChannelsLast(axes))])
        let output = body(&self, first)
        return node("Transpose", [output], attributes: [.ints("perm", DataFormat.channelsFirst.channelsLast(axes))])
    }

    static func windowAttributes(_ windows: [Window1D], dilations: Bool) -> [ONNXAttribute] {
        var attributes: [ONNXAttribute] = [.ints("kernel_shape", windows.map { Int64($0.size) }),
                                           .ints("strides", windows.map { Int64($0.stride) })]
        if dilations { attributes.append(.ints("dilations", windows.map { Int64($0.dilation) })) }
        switch windows.first?.padding {
        case .valid?, nil: break
        case .same?: attributes.append(.string("auto_pad", "SAME_UPPER"))
        case .causal?: attributes.append(.ints("pads", windows.map { Int64($0.span - 1) } + windows.map { _ in 0 }))
        }
        return attributes
    }
}
