/// A tensor operation of a functional graph: what Keras 3 saves as an operation node
/// (`keras.src.ops.numpy.NotEqual`, `GetItem`, `Mean`...) and tf_keras as a `TFOpLambda` or
/// `SlicingOpLambda` layer (`tf.math.not_equal`, `tf.__operators__.getitem`...). Both are read
/// into one closed set of functions, named by their Keras 3 class (README.md lists them).
///
/// The call's positional arguments are the layer's inputs, in order, with constants (scalars and
/// small arrays) between them. Every operation keeps the batch as axis 0: reducing, indexing,
/// reshaping or transposing the batch axis is refused. Outputs carry no Keras mask (Keras does
/// not propagate masks through operations); comparisons and logical functions give booleans,
/// held as 1 and 0.
struct TensorOperation: Equatable, Sendable {
    var function: OperationFunction
    var arguments: [OperationArgument]

    /// How many of the call's arguments are layer inputs.
    var inputCount: Int { arguments.filter { $0 == .input }.count }

    /// The Keras 3 class name, e.g. `NotEqual`.
    var kerasClassName: String { function.kerasClassName }
}

/// A positional argument of an operation call.
enum OperationArgument: Equatable, Sendable {
    /// The next of the layer's inputs.
    case input
    /// A constant (a scalar has shape []).
    case constant(Tensor)
}

/// The operations RNNKit knows, each with the parameters that change its result.
enum OperationFunction: Equatable, Sendable {
    case compare(Comparison)
    case arithmetic(Arithmetic)
    case logical(LogicalConnective)
    case elementwise(ElementwiseFunction)
    /// Reduces `axes` (never the batch); `keepDims` keeps them as size 1.
    case reduce(Reduction, axes: [Int], keepDims: Bool)
    case matmul
    case einsum(Einsum)
    case concatenate(axis: Int)
    case stack(axis: Int)
    case expandDims(axes: [Int])
    /// Removes `axes`, each of size 1.
    case squeeze(axes: [Int])
    /// The new shape, batch included (its first entry is -1); one other entry may be -1.
    case reshape([Int])
    /// The permutation, batch included and first.
    case transpose(axes: [Int])
    case cast(OperationDType)
    /// Keras 3's `convert_to_tensor`, which it inserts on masks: the tensor itself, or cast to `dtype`.
    case convertToTensor(dtype: OperationDType?)
    /// A tensor of the input's shape filled with 0 or 1 (nil dtype: the input's).
    case filled(Fill, dtype: OperationDType?)
    case `where`
    case clip(min: Float, max: Float)
    case softmax(axis: Int)
    case getItem([IndexComponent])

    enum Comparison: String, CaseIterable, Sendable {
        case notEqual = "NotEqual", equal = "Equal", greater = "Greater", greaterEqual = "GreaterEqual"
        case less = "Less", lessEqual = "LessEqual"
    }

    enum Arithmetic: String, CaseIterable, Sendable {
        case add = "Add", subtract = "Subtract", multiply = "Multiply", divide = "Divide"
        case trueDivide = "TrueDivide", power = "Power", maximum = "Maximum", minimum = "Minimum"
    }

    enum LogicalConnective: String, CaseIterable, Sendable {
        case and = "LogicalAnd", or = "LogicalOr"
    }

    enum Fill: String, CaseIterable, Sendable {
        case zeros = "ZerosLike", ones = "OnesLike"
    }

    enum Reduction: String, CaseIterable, Sendable {
        case mean = "Mean", sum = "Sum", max = "Max", min = "Min", any = "Any", all = "All"
    }

    /// The Keras 3 class that computes this function.
    var kerasClassName: String {
        switch self {
        case .compare(let comparison): comparison.rawValue
        case .arithmetic(let arithmetic): arithmetic.rawValue
        case .logical(let connective): connective.rawValue
        case .elementwise(let function): function.kerasClassName
        case .reduce(let reduction, _, _): reduction.rawValue
        case .matmul: "Matmul"
        case .einsum: "Einsum"
        case .concatenate: "Concatenate"
        case .stack: "Stack"
        case .expandDims: "ExpandDims"
        case .squeeze: "Squeeze"
        case .reshape: "Reshape"
        case .transpose: "Transpose"
        case .cast: "Cast"
        case .convertToTensor: "ConvertToTensor"
        case .filled(let fill, _): fill.rawValue
        case .where: "Where"
        case .clip: "Clip"
        case .softmax: "Softmax"
        case .getItem: "GetItem"
        }
    }

    /// How many tensor arguments the function takes (nil: any number from 1, as a list).
    var arity: Int? {
        switch self {
        case .compare, .arithmetic, .logical, .matmul, .einsum: 2
        case .where: 3
        case .concatenate, .stack: nil
        case .elementwise, .reduce, .expandDims, .squeeze, .reshape, .transpose, .cast, .clip, .softmax, .getItem: 1
        case .convertToTensor: 1
        case .filled: 1
        }
    }
}

/// One-operand element-wise functions, activations among them.
enum ElementwiseFunction: Equatable, Sendable {
    case negative, absolute, sqrt, square, exp, log, logicalNot, sign
    case tanh, sigmoid, relu, relu6, softplus, softsign, silu, selu, hardSigmoid
    case elu(alpha: Float)
    case leakyRelu(negativeSlope: Float)
    case gelu(approximate: Bool)

    /// The ones without parameters, by Keras 3 class.
    static let plain: [String: ElementwiseFunction] = [
        "Negative": .negative, "Absolute": .absolute, "Sqrt": .sqrt, "Square": .square, "Exp": .exp, "Log": .log,
        "LogicalNot": .logicalNot, "Sign": .sign, "Tanh": .tanh, "Sigmoid": .sigmoid, "Relu": .relu,
        "Relu6": .relu6, "Softplus": .softplus, "Softsign": .softsign, "Silu": .silu, "Selu": .selu,
        "HardSigmoid": .hardSigmoid,
    ]

    var kerasClassName: String {
        switch self {
        case .elu: "Elu"
        case .leakyRelu: "LeakyRelu"
        case .gelu: "Gelu"
        case .negative, .absolute, .sqrt, .square, .exp, .log, .logicalNot, .sign, .tanh, .sigmoid, .relu, .relu6,
             .softplus, .softsign, .silu, .selu, .hardSigmoid:
            Self.plain.first { $0.value == self }!.key
        }
    }
}

/// The dtypes `Cast` converts to.
enum OperationDType: String, CaseIterable, Sendable {
    case float32, int32, int64, bool
}

/// One entry of a `GetItem` key, as NumPy reads `x[...]`.
enum IndexComponent: Equatable, Sendable {
    /// Takes one position (negatives count from the end) and drops the axis.
    case index(Int)
    case slice(start: Int?, stop: Int?, step: Int?)
    /// `None` / `tf.newaxis`: a new axis of size 1.
    case newAxis
    /// `...`: as many full slices as the other entries leave.
    case ellipsis
}

/// A two-operand `einsum` equation without ellipsis or repeated labels within an operand, whose
/// output starts with the label of the batch axis.
struct Einsum: Equatable, Sendable {
    var equation: String
    var left: [Character]
    var right: [Character]
    var output: [Character]

    init(_ equation: String) throws {
        func refuse(_ reason: String) -> RNNKitError {
            RNNKitError(.invalidModel, "einsum '\(equation)' is not supported: \(reason)")
        }
        let compact = equation.filter { $0 != " " }
        let sides = compact.components(separatedBy: "->")
        guard sides.count == 2 else { throw refuse("it has no explicit '->' output") }
        let operands = sides[0].split(separator: ",", omittingEmptySubsequences: false).map(Array.init)
        guard operands.count == 2 else { throw refuse("RNNKit runs einsum on 2 operands") }
        let output = Array(sides[1])
        for labels in operands + [output] {
            guard labels.allSatisfy({ $0.isASCII && $0.isLetter }) else { throw refuse("ellipsis or a non-letter label") }
            guard Set(labels).count == labels.count else { throw refuse("a label repeats within one term") }
        }
        guard Set(output).isSubset(of: Set(operands[0] + operands[1])) else {
            throw refuse("an output label is on no operand")
        }
        self.equation = equation
        left = operands[0]
        right = operands[1]
        self.output = output
    }

    static func == (lhs: Einsum, rhs: Einsum) -> Bool { lhs.equation == rhs.equation }
}

// MARK: - Shapes

extension TensorOperation {
    /// The output shape for the shapes of the layer's inputs (batch first, as nil).
    func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        guard inputs.count == inputCount else {
            throw RNNKitError(.invalidModel, "\(kerasClassName) takes \(inputCount) input(s), got \(inputs.count)")
        }
        var remaining = inputs.makeIterator()
        let operands: [Shape] = arguments.map { argument in
            switch argument {
            case .input: remaining.next()!
            case .constant(let tensor): tensor.shape.map(Optional.some)
            }
        }
        return [try function.outputShape(operands, batched: arguments.map { $0 == .input })]
    }
}

extension OperationFunction {
    private func error(_ message: String) -> RNNKitError {
        RNNKitError(.invalidModel, "\(kerasClassName): \(message)")
    }

    /// `axis` of a rank-`rank` shape, from 1 on: the batch axis (0) stays where it is.
    func nonBatchAxis(_ axis: Int, rank: Int) throws -> Int {
        let resolved = axis < 0 ? rank + axis : axis
        guard resolved >= 0, resolved < rank else { throw error("axis \(axis) does not fit rank \(rank)") }
        guard resolved > 0 else { throw error("an operation on the batch axis is not supported") }
        return resolved
    }

    func outputShape(_ operands: [Shape], batched: [Bool]) throws -> Shape {
        if let arity, operands.count != arity {
            throw error("takes \(arity) operand(s), got \(operands.count)")
        }
        // The first tensor operand fixes the batch axis; constants broadcast against it.
        guard let first = zip(operands, batched).first(where: { $0.1 })?.0, !first.isEmpty else {
            throw error("needs a tensor operand with a batch axis")
        }
        switch self {
        case .compare, .arithmetic, .logical, .where:
            return try broadcastShapes(operands)
        case .elementwise, .cast, .convertToTensor, .clip, .softmax:
            if case .softmax(let axis) = self { _ = try nonBatchAxis(axis, rank: first.count) }
            return first
        case .filled:
            return first
        case .reduce(_, let axes, let keepDims):
            let reduced = try reducedAxes(axes, rank: first.count)
            return first.enumerated().compactMap { axis, size in
                reduced.contains(axis) ? (keepDims ? .some(1) : nil) : .some(size)
            }
        case .matmul:
            return try matmulShape(operands[0], operands[1])
        case .einsum(let einsum):
            return try einsumShape(einsum, operands, batched: batched)
        case .concatenate(let axis):
            guard batched.allSatisfy({ $0 }) else { throw error("a constant among the joined tensors is not supported") }
            guard operands.count > 1 else {
                _ = try nonBatchAxis(axis, rank: first.count)
                return first
            }
            return try Concatenate(axis: axis).outputShapes(for: operands)[0]
        case .stack(let axis):
            guard batched.allSatisfy({ $0 }) else { throw error("a constant among the stacked tensors is not supported") }
            let position = try nonBatchAxis(axis, rank: first.count + 1)
            for shape in operands where shape.count != first.count || !zip(shape, first).allSatisfy(dimensionsAgree) {
                throw error("stacked tensors differ in shape: \(operands.map(formatShape))")
            }
            var output = first
            output.insert(operands.count, at: position)
            return output
        case .expandDims(let axes):
            var output = first
            let rank = first.count + axes.count
            for axis in try axes.map({ try nonBatchAxis($0, rank: rank) }).sorted() { output.insert(1, at: axis) }
            return output
        case .squeeze(let axes):
            let removed = Set(try axes.map { try nonBatchAxis($0, rank: first.count) })
            if let wide = removed.first(where: { first[$0] != 1 }) {
                throw error("cannot squeeze axis \(wide) of size \(first[wide].map(String.init) ?? "None")")
            }
            return first.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        case .reshape(let shape):
            return try reshapeShape(shape, from: first)
        case .transpose(let axes):
            guard axes.sorted() == Array(0..<first.count), axes.first == 0 else {
                throw error("axes \(axes) are not a permutation of rank \(first.count) keeping the batch first")
            }
            return axes.map { first[$0] }
        case .getItem(let key):
            return try IndexPlan.shape(of: first, key: key, operation: kerasClassName)
        }
    }

    /// The reduced axes, as positions; the batch axis is never among them.
    func reducedAxes(_ axes: [Int], rank: Int) throws -> Set<Int> {
        Set(try axes.map { try nonBatchAxis($0, rank: rank) })
    }

    func broadcastShapes(_ shapes: [Shape]) throws -> Shape {
        let rank = shapes.map(\.count).max() ?? 0
        var output = Shape(repeating: 1, count: rank)
        for shape in shapes {
            for (offset, size) in shape.reversed().enumerated() {
                let axis = rank - 1 - offset
                switch (output[axis], size) {
                case (1?, _): output[axis] = size
                case (_, 1?): break
                case (nil, _), (_, nil): output[axis] = output[axis] ?? size
                case (let a?, let b?) where a == b: break
                default:
                    throw error("operand shapes \(shapes.map(formatShape).joined(separator: ", ")) do not broadcast")
                }
            }
        }
        return output
    }

    private func matmulShape(_ left: Shape, _ right: Shape) throws -> Shape {
        guard left.count >= 2, right.count >= 2 else { throw error("operands of rank 1 are not supported") }
        guard dimensionsAgree(left[left.count - 1], right[right.count - 2]) else {
            throw error("inner dimensions differ: \(formatShape(left)) and \(formatShape(right))")
        }
        let leading = try broadcastShapes([Shape(left.dropLast(2)), Shape(right.dropLast(2))])
        return leading + [left[left.count - 2], right[right.count - 1]]
    }

    private func einsumShape(_ einsum: Einsum, _ operands: [Shape], batched: [Bool]) throws -> Shape {
        var sizes: [Character: Int?] = [:]
        for (labels, shape) in zip([einsum.left, einsum.right], operands) {
            guard labels.count == shape.count else {
                throw error("'\(einsum.equation)' does not fit operand shape \(formatShape(shape))")
            }
            for (label, size) in zip(labels, shape) {
                if let known = sizes[label], !dimensionsAgree(known, size) {
                    throw error("'\(einsum.equation)': label \(label) has sizes \(known ?? 0) and \(size ?? 0)")
                }
                if sizes[label] == nil || sizes[label]! == nil { sizes[label] = size }
            }
        }
        let batchLabels = zip([einsum.left, einsum.right], batched).filter(\.1).map { $0.0.first }
        guard let batchLabel = einsum.output.first, batchLabels.allSatisfy({ $0 == batchLabel }) else {
            throw error("'\(einsum.equation)' does not keep the batch axis first")
        }
        return [nil] + einsum.output.dropFirst().map { sizes[$0] ?? nil }
    }

    private func reshapeShape(_ target: [Int], from shape: Shape) throws -> Shape {
        guard target.first == -1, target.dropFirst().allSatisfy({ $0 > 0 || $0 == -1 }),
              target.dropFirst().filter({ $0 == -1 }).count <= 1
        else { throw error("new shape \(target) must keep the batch first (-1) with at most one other -1") }
        let known = shape.dropFirst().reduce(Int?.some(1)) { product, size in
            guard let product, let size else { return nil }
            return product.multipliedReportingOverflow(by: size).overflow ? nil : product * size
        }
        guard let fixed = Tensor.checkedElementCount(target.dropFirst().filter { $0 > 0 }) else {
            throw error("new shape \(target) is too large")
        }
        var output: Shape = [nil]
        for size in target.dropFirst() {
            if size > 0 { output.append(size); continue }
            guard let known, fixed > 0, known % fixed == 0 else {
                throw error("cannot infer -1 in \(target) from shape \(formatShape(shape))")
            }
            output.append(known / fixed)
        }
        if let known, !target.dropFirst().contains(-1), known != fixed {
            throw error("shape \(formatShape(shape)) cannot become \(target)")
        }
        return output
    }
}

/// How a `GetItem` key reads an input: per output axis, the input axis and stride it walks, and
/// the fixed offset of the indexed axes.
struct IndexPlan {
    /// Per input axis, what the key does to it (ellipsis expanded, new axes apart).
    enum AxisRule { case take(Int), range(start: Int, step: Int, count: Int) }

    /// The output shape, with the batch kept first.
    static func shape(of shape: Shape, key: [IndexComponent], operation: String) throws -> Shape {
        try expand(key, rank: shape.count, operation: operation).flatMap { component, axis -> Shape in
            switch component {
            case .newAxis: return [1]
            case .index(let position):
                if let size = shape[axis!], position >= size || position < -size {
                    throw RNNKitError(.invalidModel, "\(operation): index \(position) is out of range for size \(size)")
                }
                return []
            case .slice(let start, let stop, let step):
                guard let size = shape[axis!] else { return [nil] }
                return [try sliceRange(start, stop, step, size: size, operation: operation).count]
            case .ellipsis: return []
            }
        }
    }

    /// The key with its ellipsis replaced by full slices, each entry paired with the input axis
    /// it reads (nil for new axes). The batch axis must be read whole, and first.
    static func expand(_ key: [IndexComponent], rank: Int,
                       operation: String) throws -> [(IndexComponent, Int?)] {
        func refuse(_ reason: String) -> RNNKitError {
            RNNKitError(.invalidModel, "\(operation): key \(describe(key)) \(reason)")
        }
        let consuming = key.filter { if case .index = $0 { return true }; if case .slice = $0 { return true }; return false }
        let ellipses = key.filter { $0 == .ellipsis }.count
        guard ellipses <= 1 else { throw refuse("has more than one ellipsis") }
        guard consuming.count <= rank else { throw refuse("indexes more axes than the input's \(rank)") }
        var full: [IndexComponent] = []
        for component in key {
            if component == .ellipsis {
                full += Array(repeating: .slice(start: nil, stop: nil, step: nil), count: rank - consuming.count)
            } else {
                full.append(component)
            }
        }
        if ellipses == 0 {
            full += Array(repeating: .slice(start: nil, stop: nil, step: nil), count: rank - consuming.count)
        }
        var axis = 0
        var result: [(IndexComponent, Int?)] = []
        for component in full {
            if component == .newAxis {
                guard axis > 0 else { throw refuse("adds an axis before the batch axis, which is not supported") }
                result.append((component, nil))
                continue
            }
            if axis == 0 {
                guard case .slice(nil, nil, let step) = component, step == nil || step == 1 else {
                    throw refuse("does not take the batch axis whole, which is not supported")
                }
            }
            result.append((component, axis))
            axis += 1
        }
        return result
    }

    /// Python's `slice(start, stop, step).indices(size)`: the first position, the step and the count.
    static func sliceRange(_ start: Int?, _ stop: Int?, _ step: Int?, size: Int,
                           operation: String) throws -> (start: Int, step: Int, count: Int) {
        let step = step ?? 1
        guard step != 0 else { throw RNNKitError(.invalidModel, "\(operation): slice step cannot be zero") }
        let lower = step > 0 ? 0 : -1, upper = step > 0 ? size : size - 1
        func clamp(_ value: Int?, _ fallback: Int) -> Int {
            guard var value else { return fallback }
            if value < 0 { value += size; return max(value, lower) }
            return min(value, upper)
        }
        let first = clamp(start, step > 0 ? lower : upper), end = clamp(stop, step > 0 ? upper : lower)
        let count = step > 0 ? (first < end ? (end - first - 1) / step + 1 : 0)
                             : (end < first ? (first - end - 1) / -step + 1 : 0)
        return (first, step, count)
    }

    static func describe(_ key: [IndexComponent]) -> String {
        "[" + key.map { component -> String in
            switch component {
            case .index(let position): String(position)
            case .newAxis: "None"
            case .ellipsis: "..."
            case .slice(let start, let stop, let step):
                [start, stop].map { $0.map(String.init) ?? "" }.joined(separator: ":")
                    + (step.map { ":\($0)" } ?? "")
            }
        }.joined(separator: ", ") + "]"
    }
}
