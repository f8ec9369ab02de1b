/// Keras `Concatenate` along `axis` (default the last).
struct Concatenate: Equatable, Sendable {
    var axis: Int

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        guard inputs.count >= 2, let rank = inputs.first?.count else {
            throw RNNKitError(.invalidModel, "Concatenate takes at least 2 inputs, got \(inputs.count)")
        }
        let resolved = axis < 0 ? rank + axis : axis
        guard resolved >= 1, resolved < rank, inputs.allSatisfy({ $0.count == rank }) else {
            throw RNNKitError(.invalidModel, "Concatenate axis \(axis) does not fit inputs \(inputs.map(formatShape))")
        }
        var output = inputs[0]
        for shape in inputs.dropFirst() {
            for index in 1..<rank where index != resolved && !dimensionsAgree(output[index], shape[index]) {
                throw RNNKitError(.invalidModel,
                                  "Concatenate inputs disagree outside axis \(axis): \(inputs.map(formatShape))")
            }
            if let sum = output[resolved], let add = shape[resolved] {
                output[resolved] = sum + add
            } else {
                output[resolved] = nil
            }
        }
        return [output]
    }

    func forward(_ inputs: [LayerValue]) -> LayerValue {
        LayerValue(Concatenate.along(axis, inputs.map(\.tensor)), mask: combinedMask(inputs))
    }

    /// Interleaves the tensors' blocks along `axis`: for each index before the axis, the
    /// tensors' slices one after another.
    static func along(_ axis: Int, _ tensors: [Tensor]) -> Tensor {
        let shapes = tensors.map(\.shape)
        let rank = shapes[0].count
        let resolved = axis < 0 ? rank + axis : axis
        let outer = shapes[0][..<resolved].reduce(1, *)
        let blocks = shapes.map { $0[resolved...].reduce(1, *) }
        let scalars = filledArray(count: tensors.reduce(0) { $0 + $1.count }) { output in
            var target = output
            for index in 0..<outer {
                for (tensor, block) in zip(tensors, blocks) where block > 0 {
                    tensor.scalars.withUnsafeBufferPointer { target.update(from: $0.baseAddress! + index * block, count: block) }
                    target += block
                }
            }
        }
        var shape = shapes[0]
        shape[resolved] = shapes.reduce(0) { $0 + $1[resolved] }
        return Tensor(shape: shape, scalars: scalars)
    }
}

/// Keras's element-wise merging layers (`Add`, `Subtract`, `Multiply`, `Average`, `Maximum`,
/// `Minimum`) on inputs of one shape; Subtract takes exactly two. The masks combine as in
/// Concatenate.
enum ElementwiseMerge: String, Equatable, Sendable, CaseIterable {
    case add = "Add", subtract = "Subtract", multiply = "Multiply", average = "Average"
    case maximum = "Maximum", minimum = "Minimum"

    var className: String { rawValue }

    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        guard self == .subtract ? inputs.count == 2 : inputs.count >= 2 else {
            let expected = self == .subtract ? "exactly 2" : "at least 2"
            throw RNNKitError(.invalidModel, "\(className) takes \(expected) inputs, got \(inputs.count)")
        }
        var output = inputs[0]
        for shape in inputs.dropFirst() {
            guard shape.count == output.count, zip(shape, output).allSatisfy(dimensionsAgree) else {
                throw RNNKitError(.invalidModel, "\(className) inputs have different shapes: \(inputs.map(formatShape))")
            }
            output = zip(output, shape).map { $0 ?? $1 }
        }
        return [output]
    }

    /// Folds the inputs left to right, as Keras does (the average divides the sum at the end).
    func forward(_ inputs: [LayerValue]) -> LayerValue {
        var result = inputs[0].tensor
        for input in inputs.dropFirst() {
            let other = input.tensor.scalars
            for index in result.scalars.indices {
                let a = result.scalars[index], b = other[index]
                switch self {
                case .add, .average: result.scalars[index] = a + b
                case .subtract: result.scalars[index] = a - b
                case .multiply: result.scalars[index] = a * b
                case .maximum: result.scalars[index] = max(a, b)
                case .minimum: result.scalars[index] = min(a, b)
                }
            }
        }
        if self == .average {
            let count = Float(inputs.count)
            for index in result.scalars.indices { result.scalars[index] /= count }
        }
        return LayerValue(result, mask: combinedMask(inputs))
    }
}

/// Two dimensions agree when equal or when either is unknown until run time.
func dimensionsAgree(_ a: Int?, _ b: Int?) -> Bool {
    a == nil || b == nil || a == b
}
