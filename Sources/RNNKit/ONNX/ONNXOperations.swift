import Foundation

/// Keras 3's operation nodes and tf_keras's TFOpLambda layers (`TensorOperation`) as standard
/// operators. As in the runtime, every value is float32 and booleans are 1 and 0: integer and
/// boolean inputs arrive cast to float (`ONNXGraphBuilder.floatInputs`), comparisons and logical functions cast their booleans back to
/// float, and Cast to an integer dtype truncates toward zero (ONNX's Cast, as TensorFlow's) and
/// returns to float. Keras does not propagate masks through operations, and neither does the export.
extension ONNXGraphBuilder {
    mutating func operation(_ operation: TensorOperation, inputs: [ONNXValue]) -> ONNXValue {
        var remaining = inputs.makeIterator()
        var operands: [String] = []
        for argument in operation.arguments {
            switch argument {
            case .input:
                operands.append(remaining.next()!.name)
            case .constant(let tensor):
                operands.append(constant(tensor))
            }
        }
        return ONNXValue(name: function(operation.function, operands))
    }

    private mutating func function(_ function: OperationFunction, _ operands: [String]) -> String {
        let x = operands[0]
        switch function {
        case .compare(let comparison):
            let holds = switch comparison {
            case .notEqual: node("Not", [node("Equal", operands)])
            case .equal: node("Equal", operands)
            case .greater: node("Greater", operands)
            case .greaterEqual: node("GreaterOrEqual", operands)
            case .less: node("Less", operands)
            case .lessEqual: node("LessOrEqual", operands)
            }
            return asFloat(holds)
        case .arithmetic(let arithmetic):
            let op = switch arithmetic {
            case .add: "Add"
            case .subtract: "Sub"
            case .multiply: "Mul"
            case .divide, .trueDivide: "Div"
            case .power: "Pow"
            case .maximum: "Max"
            case .minimum: "Min"
            }
            return node(op, operands)
        case .logical(let connective):
            return asFloat(node(connective == .and ? "And" : "Or", operands.map { asBool($0) }))
        case .where:
            return node("Where", [asBool(x), operands[1], operands[2]])
        case .elementwise(let elementwise):
            return self.elementwise(elementwise, x)
        case .clip(let low, let high):
            return node("Clip", [x, scalar(low), scalar(high)])
        case .cast(let dtype):
            return cast(x, to: dtype)
        case .convertToTensor(let dtype):
            return dtype.map { cast(x, to: $0) } ?? x
        case .filled(let fill, _):
            // ConstantOfShape's value defaults to a float 0.
            let zeros = node("ConstantOfShape", [node("Shape", [x])])
            return fill == .ones ? node("Add", [zeros, scalar(1)]) : zeros
        case .softmax(let axis):
            return node("Softmax", [x], attributes: [.int("axis", Int64(axis))])
        case .reduce(let reduction, let axes, let keepDims):
            let axes = axes.map(Int64.init)
            switch reduction {
            case .mean: return reduce("ReduceMean", x, axes: axes, keepDims: keepDims)
            case .max: return reduce("ReduceMax", x, axes: axes, keepDims: keepDims)
            case .min: return reduce("ReduceMin", x, axes: axes, keepDims: keepDims)
            case .any: return reduce("ReduceMax", asFloat(asBool(x)), axes: axes, keepDims: keepDims)
            case .all: return reduce("ReduceMin", asFloat(asBool(x)), axes: axes, keepDims: keepDims)
            case .sum:
                // ReduceSum takes its axes as an input from opset 13.
                return node("ReduceSum", [x, ints(axes)], attributes: [.int("keepdims", keepDims ? 1 : 0)])
            }
        case .matmul:
            return node("MatMul", operands)
        case .einsum(let einsum):
            let equation = String(einsum.left) + "," + String(einsum.right) + "->" + String(einsum.output)
            return node("Einsum", operands, attributes: [.string("equation", equation)])
        case .concatenate(let axis):
            return operands.count == 1 ? x : node("Concat", operands, attributes: [.int("axis", Int64(axis))])
        case .stack(let axis):
            // Each operand gets the new axis (counted in the output's rank, as NumPy's stack) and
            // they are joined along it.
            let expanded = operands.map { node("Unsqueeze", [$0, ints([Int64(axis)])]) }
            return node("Concat", expanded, attributes: [.int("axis", Int64(axis))])
        case .expandDims(let axes):
            return node("Unsqueeze", [x, ints(axes.map(Int64.init))])
        case .squeeze(let axes):
            return node("Squeeze", [x, ints(axes.map(Int64.init))])
        case .reshape(let shape):
            // The batch entry (-1) becomes 0, which keeps the input's batch size.
            return node("Reshape", [x, ints([0] + shape.dropFirst().map(Int64.init))])
        case .transpose(let axes):
            return node("Transpose", [x], attributes: [.ints("perm", axes.map(Int64.init))])
        case .getItem(let key):
            return getItem(x, key)
        }
    }

    private mutating func elementwise(_ function: ElementwiseFunction, _ x: String) -> String {
        switch function {
        case .negative: return node("Neg", [x])
        case .absolute: return node("Abs", [x])
        case .sqrt: return node("Sqrt", [x])
        case .square: return node("Mul", [x, x])
        case .exp: return node("Exp", [x])
        case .log: return node("Log", [x])
        case .logicalNot: return asFloat(node("Not", [asBool(x)]))
        case .sign: return node("Sign", [x])
        case .elu(let alpha): return node("Elu", [x], attributes: [.float("alpha", alpha)])
        case .leakyRelu(let slope): return node("LeakyRelu", [x], attributes: [.float("alpha", slope)])
        case .gelu(approximate: true):
            // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
            let cube = node("Mul", [node("Mul", [x, x]), x])
            let inner = node("Mul", [node("Add", [x, node("Mul", [cube, scalar(0.044715)])]), scalar(0.7978845608028654)])
            return node("Mul", [node("Mul", [x, scalar(0.5)]), node("Add", [node("Tanh", [inner]), scalar(1)])])
        case .gelu(approximate: false): return activation(.gelu, x)
        case .tanh: return activation(.tanh, x)
        case .sigmoid: return activation(.sigmoid, x)
        case .relu: return activation(.relu, x)
        case .relu6: return activation(.relu6, x)
        case .softplus: return activation(.softplus, x)
        case .softsign: return activation(.softsign, x)
        case .silu: return activation(.swish, x)
        case .selu: return activation(.selu, x)
        case .hardSigmoid: return activation(.hardSigmoid(keras2: false), x)
        }
    }

    /// Cast to `dtype` and back to float: integers truncate toward zero, booleans become 1 and 0.
    private mutating func cast(_ x: String, to dtype: OperationDType) -> String {
        let type: Onnx_TensorProto.DataType = switch dtype {
        case .float32: .float
        case .int32: .int32
        case .int64: .int64
        case .bool: .bool
        }
        return type == .float ? x : asFloat(node("Cast", [x], attributes: [.int("to", Int64(type.rawValue))]))
    }

    /// Anything non-zero is true.
    private mutating func asBool(_ x: String) -> String {
        node("Cast", [x], attributes: [.int("to", Int64(Onnx_TensorProto.DataType.bool.rawValue))])
    }

    /// NumPy's `x[key]` without knowing the rank: the entries before the ellipsis count axes from
    /// the front, those after it from the back. Slices and indexes (a slice of one, squeezed
    /// after) are one Slice node on the input's axes; new axes are inserted last, at their output
    /// positions.
    private mutating func getItem(_ x: String, _ key: [IndexComponent]) -> String {
        let ellipsis = key.firstIndex(of: .ellipsis) ?? key.endIndex
        var bounds: (starts: [Int64], ends: [Int64], axes: [Int64], steps: [Int64]) = ([], [], [], [])
        var squeezed: [Int64] = [], newAxes: [Int64] = []
        for (position, component) in key.enumerated() where component != .ellipsis {
            let rest = position < ellipsis ? key[..<position] : key[(position + 1)...]
            // Input axes (slices and indexes) and output axes (slices and new axes) before this
            // entry, or from it to the end after the ellipsis.
            let inputAxes = Int64(rest.filter(Self.readsAxis).count)
            let outputAxes = Int64(rest.filter { if case .index = $0 { return false }; return $0 != .ellipsis }.count)
            let axis = position < ellipsis ? inputAxes : -(inputAxes + 1)
            switch component {
            case .index(let index):
                // The one position index..<index+1; -1 ends at the axis's end.
                bounds.starts.append(Int64(index))
                bounds.ends.append(index == -1 ? .max : Int64(index + 1))
                bounds.axes.append(axis)
                bounds.steps.append(1)
                squeezed.append(axis)
            case .slice(let start, let stop, let step):
                let step = Int64(step ?? 1)
                bounds.starts.append(start.map(Int64.init) ?? (step > 0 ? 0 : .max))
                bounds.ends.append(stop.map(Int64.init) ?? (step > 0 ? .max : .min))
                bounds.axes.append(axis)
                bounds.steps.append(step)
            case .newAxis:
                newAxes.append(position < ellipsis ? outputAxes : -(outputAxes + 1))
            case .ellipsis:
                break
            }
        }
        var result = x
        if !bounds.axes.isEmpty {
            result = node("Slice", [result, ints(bounds.starts), ints(bounds.ends), ints(bounds.axes), ints(bounds.steps)])
        }
        if !squeezed.isEmpty { result = node("Squeeze", [result, ints(squeezed)]) }
        if !newAxes.isEmpty { result = node("Unsqueeze", [result, ints(newAxes)]) }
        return result
    }

    /// Whether a key entry reads an input axis (a slice or an index).
    private static func readsAxis(_ component: IndexComponent) -> Bool {
        switch component {
        case .index, .slice: true
        case .newAxis, .ellipsis: false
        }
    }
}
