import Foundation

/// Inference of tensor operations (`TensorOperation`) on whole tensors, with NumPy's
/// broadcasting. Booleans are 1 and 0; anything non-zero reads as true.
extension TensorOperation {
    func forward(_ inputs: [LayerValue]) throws -> LayerValue {
        var remaining = inputs.makeIterator()
        let operands = arguments.map { argument in
            switch argument {
            case .input: remaining.next()!.tensor
            case .constant(let tensor): tensor
            }
        }
        return LayerValue(try function.apply(operands))
    }
}

extension OperationFunction {
    func apply(_ operands: [Tensor]) throws -> Tensor {
        let x = operands[0]
        switch self {
        case .compare(let comparison):
            return try Self.broadcastMap(operands) { comparison.holds($0[0], $0[1]) ? 1 : 0 }
        case .arithmetic(let arithmetic):
            return try Self.broadcastMap(operands) { arithmetic($0[0], $0[1]) }
        case .logical(let connective):
            return try Self.broadcastMap(operands) { values in
                let (a, b) = (values[0] != 0, values[1] != 0)
                return (connective == .and ? a && b : a || b) ? 1 : 0
            }
        case .where:
            return try Self.broadcastMap(operands) { $0[0] != 0 ? $0[1] : $0[2] }
        case .elementwise(let function):
            return x.mapped(function.callAsFunction)
        case .clip(let low, let high):
            return x.mapped { Swift.min(Swift.max($0, low), high) }
        case .cast(let dtype):
            return x.mapped(dtype.convert)
        case .convertToTensor(let dtype):
            return dtype.map { x.mapped($0.convert) } ?? x
        case .filled(let fill, _):
            return Tensor(shape: x.shape, scalars: Array(repeating: fill == .ones ? 1 : 0, count: x.count))
        case .softmax(let axis):
            return try SoftmaxLayer(axis: axis).forward(LayerValue(x)).tensor
        case .reduce(let reduction, let axes, let keepDims):
            return Self.reduce(x, reduction, axes: try reducedAxes(axes, rank: x.rank), keepDims: keepDims)
        case .matmul:
            return try Self.matmul(x, operands[1])
        case .einsum(let einsum):
            return try einsum.apply(x, operands[1])
        case .concatenate(let axis):
            return operands.count == 1 ? x : Concatenate.along(axis, operands)
        case .stack(let axis):
            let position = try nonBatchAxis(axis, rank: x.rank + 1)
            return Concatenate.along(position, operands.map { operand in
                var shape = operand.shape
                shape.insert(1, at: position)
                return operand.reshaped(shape)
            })
        case .expandDims, .squeeze, .reshape:
            let shape = try outputShape([x.shape.map(Optional.some)], batched: [true]).dropFirst()
            return try x.reshaped([x.shape[0]] + shape.map { size in
                guard let size else { throw RNNKitError(.invalidModel, "\(kerasClassName): unknown output size") }
                return size
            })
        case .transpose(let axes):
            return x.permutingAxes(axes)
        case .getItem(let key):
            return try Self.index(x, key, operation: kerasClassName)
        }
    }

    /// `body` of the operands' values at each position of their broadcast shape.
    static func broadcastMap(_ operands: [Tensor], _ body: ([Float]) -> Float) throws -> Tensor {
        let rank = operands.map(\.rank).max() ?? 0
        var shape = [Int](repeating: 1, count: rank)
        for operand in operands {
            for (offset, size) in operand.shape.reversed().enumerated() where size != 1 {
                let axis = rank - 1 - offset
                guard shape[axis] == 1 || shape[axis] == size else {
                    throw RNNKitError(.invalidModel, "operand shapes \(operands.map(\.shape)) do not broadcast")
                }
                shape[axis] = size
            }
        }
        let expanded = operands.map { $0.count == 1 ? $0 : $0.broadcast(to: shape) }
        var values = [Float](repeating: 0, count: operands.count)
        let count = Tensor.elementCount(shape)
        var result = [Float](repeating: 0, count: count)
        for position in 0..<count {
            for (index, operand) in expanded.enumerated() {
                values[index] = operand.scalars[operand.count == 1 ? 0 : position]
            }
            result[position] = body(values)
        }
        return Tensor(shape: shape, scalars: result)
    }

    static func reduce(_ x: Tensor, _ reduction: Reduction, axes: Set<Int>, keepDims: Bool) -> Tensor {
        let outputShape = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let outputStrides = Tensor.strides(of: outputShape).enumerated().map { axes.contains($0.offset) ? 0 : $0.element }
        let initial: Float = switch reduction {
        case .mean, .sum, .any: 0
        case .all: 1
        case .max: -.infinity
        case .min: .infinity
        }
        var result = [Float](repeating: initial, count: Tensor.elementCount(outputShape))
        x.forEachPosition(strides: outputStrides) { source, target in
            let value = x.scalars[source]
            switch reduction {
            case .mean, .sum: result[target] += value
            case .max: result[target] = Swift.max(result[target], value)
            case .min: result[target] = Swift.min(result[target], value)
            case .any: result[target] = result[target] != 0 || value != 0 ? 1 : 0
            case .all: result[target] = result[target] != 0 && value != 0 ? 1 : 0
            }
        }
        if reduction == .mean {
            let size = Float(axes.reduce(1) { $0 * x.shape[$1] })
            for index in result.indices { result[index] /= size }
        }
        let kept = keepDims ? outputShape : x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        return Tensor(shape: kept, scalars: result)
    }

    /// NumPy's matmul on operands of rank 2 or more, their leading axes broadcast. A right-hand
    /// matrix (a constant weight, typically) goes through the packed product.
    static func matmul(_ left: Tensor, _ right: Tensor) throws -> Tensor {
        let rows = left.shape[left.rank - 2], inner = left.shape[left.rank - 1], columns = right.shape[right.rank - 1]
        guard right.shape[right.rank - 2] == inner else {
            throw RNNKitError(.invalidModel, "Matmul: shapes \(left.shape) and \(right.shape) do not multiply")
        }
        if right.rank == 2 {
            let product = Kernels.affine(left.scalars, rows: left.count / Swift.max(inner, 1),
                                         kernel: PackedMatrix(right), bias: nil)
            return Tensor(shape: Array(left.shape.dropLast()) + [columns], scalars: product)
        }
        let leading = try broadcastMap([Tensor(zeros: Array(left.shape.dropLast(2))),
                                        Tensor(zeros: Array(right.shape.dropLast(2)))]) { _ in 0 }.shape
        let lefts = left.broadcast(to: leading + [rows, inner]), rights = right.broadcast(to: leading + [inner, columns])
        let batches = Tensor.elementCount(leading)
        var result = [Float](repeating: 0, count: batches * rows * columns)
        for batch in 0..<batches {
            let a = batch * rows * inner, b = batch * inner * columns, c = batch * rows * columns
            for row in 0..<rows {
                for k in 0..<inner {
                    let factor = lefts.scalars[a + row * inner + k]
                    for column in 0..<columns {
                        result[c + row * columns + column] += factor * rights.scalars[b + k * columns + column]
                    }
                }
            }
        }
        return Tensor(shape: leading + [rows, columns], scalars: result)
    }

    static func index(_ x: Tensor, _ key: [IndexComponent], operation: String) throws -> Tensor {
        let strides = Tensor.strides(of: x.shape)
        var offset = 0
        var shape: [Int] = [], sourceStrides: [Int] = []
        for (component, axis) in try IndexPlan.expand(key, rank: x.rank, operation: operation) {
            switch component {
            case .newAxis:
                shape.append(1)
                sourceStrides.append(0)
            case .index(let position):
                let size = x.shape[axis!]
                guard position < size, position >= -size else {
                    throw RNNKitError(.invalidModel, "\(operation): index \(position) is out of range for size \(size)")
                }
                offset += (position < 0 ? position + size : position) * strides[axis!]
            case .slice(let start, let stop, let step):
                let range = try IndexPlan.sliceRange(start, stop, step, size: x.shape[axis!], operation: operation)
                offset += range.count > 0 ? range.start * strides[axis!] : 0
                shape.append(range.count)
                sourceStrides.append(range.step * strides[axis!])
            case .ellipsis:
                break
            }
        }
        var result = [Float]()
        result.reserveCapacity(Tensor.elementCount(shape))
        Tensor.forEachPosition(of: shape, strides: sourceStrides) { _, source in
            result.append(x.scalars[offset + source])
        }
        return Tensor(shape: shape, scalars: result)
    }
}

extension OperationFunction.Comparison {
    func holds(_ a: Float, _ b: Float) -> Bool {
        switch self {
        case .notEqual: a != b
        case .equal: a == b
        case .greater: a > b
        case .greaterEqual: a >= b
        case .less: a < b
        case .lessEqual: a <= b
        }
    }
}

extension OperationFunction.Arithmetic {
    func callAsFunction(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide, .trueDivide: a / b
        case .power: Foundation.pow(a, b)
        case .maximum: Swift.max(a, b)
        case .minimum: Swift.min(a, b)
        }
    }
}

extension ElementwiseFunction {
    func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .negative: -x
        case .absolute: Swift.abs(x)
        case .sqrt: x.squareRoot()
        case .square: x * x
        case .exp: Foundation.exp(x)
        case .log: Foundation.log(x)
        case .logicalNot: x == 0 ? 1 : 0
        case .sign: x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .tanh: Activation.tanh(x)
        case .sigmoid: Activation.sigmoid(x)
        case .relu: Activation.relu(x)
        case .relu6: Activation.relu6(x)
        case .softplus: Activation.softplus(x)
        case .softsign: Activation.softsign(x)
        case .silu: Activation.swish(x)
        case .selu: Activation.selu(x)
        case .hardSigmoid: Activation.hardSigmoid(keras2: false)(x)
        case .elu(let alpha): x > 0 ? x : alpha * Foundation.expm1(x)
        case .leakyRelu(let slope): x >= 0 ? x : slope * x
        case .gelu(approximate: false): Activation.gelu(x)
        case .gelu(approximate: true):
            0.5 * x * (1 + Foundation.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))
        }
    }
}

extension OperationDType {
    /// A float32 value converted to this dtype (integers truncate toward zero, as TensorFlow casts).
    func convert(_ x: Float) -> Float {
        switch self {
        case .float32: x
        case .int32, .int64: x.rounded(.towardZero)
        case .bool: x != 0 ? 1 : 0
        }
    }
}

extension Einsum {
    /// Sums the product over every label not in the output, one output position at a time.
    func apply(_ left: Tensor, _ right: Tensor) throws -> Tensor {
        var sizes: [Character: Int] = [:]
        for (labels, tensor) in [(self.left, left), (self.right, right)] {
            for (label, size) in zip(labels, tensor.shape) {
                if let known = sizes[label], known != size {
                    throw RNNKitError(.invalidModel, "Einsum '\(equation)': label \(label) has sizes \(known) and \(size)")
                }
                sizes[label] = size
            }
        }
        let summed = sizes.keys.filter { !output.contains($0) }.sorted()
        let labels = output + summed
        let shape = labels.map { sizes[$0]! }
        func strides(_ operand: [Character], _ tensor: Tensor) -> [Int] {
            let own = Tensor.strides(of: tensor.shape)
            return labels.map { label in operand.firstIndex(of: label).map { own[$0] } ?? 0 }
        }
        let outputShape = output.map { sizes[$0]! }
        let outputStrides = Tensor.strides(of: outputShape) + Array(repeating: 0, count: summed.count)
        let leftStrides = strides(self.left, left), rightStrides = strides(self.right, right)
        var result = [Float](repeating: 0, count: Tensor.elementCount(outputShape))
        Tensor.forEachPosition(of: shape, strides: [leftStrides, rightStrides, outputStrides]) { offsets in
            result[offsets[2]] += left.scalars[offsets[0]] * right.scalars[offsets[1]]
        }
        return Tensor(shape: outputShape, scalars: result)
    }
}

extension Tensor {
    /// This tensor repeated along its axes of size 1 (and new leading axes) to `shape`.
    func broadcast(to shape: [Int]) -> Tensor {
        guard self.shape != shape else { return self }
        let own = Tensor.strides(of: self.shape)
        let lead = shape.count - rank
        let strides = shape.indices.map { axis in
            axis < lead || self.shape[axis - lead] == 1 ? 0 : own[axis - lead]
        }
        var result = [Float]()
        result.reserveCapacity(Tensor.elementCount(shape))
        Tensor.forEachPosition(of: shape, strides: strides) { _, source in result.append(scalars[source]) }
        return Tensor(shape: shape, scalars: result)
    }

    func mapped(_ function: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, scalars: scalars.map(function))
    }
}
