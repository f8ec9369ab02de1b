/// Tensor operations as Keras files spell them, both ways.
///
/// - Keras 3 saves an operation as a layer entry `{"module": "keras.src.ops.numpy", "class_name":
///   "Mean", "config": {"name", "axis", "keepdims"}}` whose one inbound node holds the call's
///   `args`: `__keras_tensor__` references, numbers, `__tensor__` constants, and for `GetItem`
///   the key (`__slice__`, `__ellipsis__`, null for a new axis).
/// - tf_keras saves a `TFOpLambda` (`SlicingOpLambda` for `getitem`) whose `config.function` names
///   the TensorFlow function (`math.reduce_mean`) and whose node entries
///   `[layer, node, index, kwargs]` hold the first argument; the others are in `kwargs` by the
///   function's parameter names, tensors among them as `[layer, node, index]`.
/// - RNNKit JSON holds the `canonicalConfig()`: the Keras 3 config plus `operation` (the Keras 3
///   class), `arguments` ("input" for the layer's next input, or a constant) and `key` (GetItem).
extension TensorOperation {
    /// Whether a Keras layer entry is an operation node (read by `keras3` or `tfKeras`). Keras 3's
    /// legacy `.h5` drops the module: there an operation is a known operation class whose config,
    /// unlike every layer's, has no `trainable`, called in Keras 3's node format.
    static func isOperationEntry(_ entry: JSONValue, className: String) -> Bool {
        if tfKerasClasses.contains(className) { return true }
        if let module = entry["module"]?.stringValue { return module.hasPrefix("keras.src.ops.") }
        return isKnownKeras3Class(className) && entry["config"]?["trainable"] == nil
            && entry["inbound_nodes"]?.arrayValue?.first?.objectValue != nil
    }

    static let tfKerasClasses: Set = ["TFOpLambda", "SlicingOpLambda"]

    /// The Keras 3 classes RNNKit runs.
    static func isKnownKeras3Class(_ className: String) -> Bool {
        OperationFunction.Comparison(rawValue: className) != nil || OperationFunction.Arithmetic(rawValue: className) != nil
            || OperationFunction.LogicalConnective(rawValue: className) != nil
            || OperationFunction.Reduction(rawValue: className) != nil || ElementwiseFunction.plain[className] != nil
            || parameterKeys[className] != nil
    }

    /// Config keys (besides `name`) of the Keras 3 classes that have parameters.
    static let parameterKeys: [String: Set<String>] = [
        "Mean": ["axis", "keepdims"], "Sum": ["axis", "keepdims"], "Any": ["axis", "keepdims"], "All": ["axis", "keepdims"],
        "Max": ["axis", "keepdims", "initial"], "Min": ["axis", "keepdims", "initial"],
        "Elu": ["alpha"], "LeakyRelu": ["negative_slope"], "Gelu": ["approximate"], "Einsum": ["subscripts"],
        "Concatenate": ["axis"], "Stack": ["axis"], "ExpandDims": ["axis"], "Squeeze": ["axis"], "Softmax": ["axis"],
        "Reshape": ["newshape"], "Transpose": ["axes"], "Cast": ["dtype"], "ConvertToTensor": ["dtype", "sparse", "ragged"], "Clip": ["x_min", "x_max"],
        "ZerosLike": ["dtype"], "OnesLike": ["dtype"],
        "Matmul": [], "Where": [], "GetItem": [],
    ]

    // MARK: - Keras 3

    /// A Keras 3 operation entry and its one inbound node: the operation and the tensors it reads.
    static func keras3(className: String, module: String, config: KerasConfig, nodes: [JSONValue],
                       pointer: String) throws -> (TensorOperation, [TensorRef]) {
        guard isKnownKeras3Class(className) else {
            throw RNNKitError(.invalidModel, "unsupported operation \(module).\(className)", location: pointer + "/class_name")
        }
        let nodePointer = pointer + "/inbound_nodes/0"
        guard nodes.count == 1, let node = nodes[0].objectValue else {
            throw RNNKitError(.invalidModel, "\(module).\(className) must have one inbound node, found \(nodes.count)",
                              location: pointer + "/inbound_nodes")
        }
        if let kwargs = node["kwargs"]?.objectValue, let first = kwargs.entries.first {
            throw RNNKitError(.invalidModel, "\(module).\(className) with keyword argument '\(first.key)' is not supported",
                              location: "\(nodePointer)/kwargs/\(first.key)")
        }
        guard var args = node["args"]?.arrayValue, !args.isEmpty else {
            throw RNNKitError(.invalidModel, "\(module).\(className) call has no 'args' list", location: nodePointer)
        }
        var key: [IndexComponent]?
        if className == "GetItem" {
            guard args.count == 2 else {
                throw RNNKitError(.invalidModel, "GetItem takes a tensor and a key", location: nodePointer + "/args")
            }
            if containsKerasTensor(args[1]) {
                throw RNNKitError(.invalidModel, "\(module).GetItem with a tensor index is not supported",
                                  location: nodePointer + "/args/1")
            }
            key = try indexKey(args[1], pointer: nodePointer + "/args/1")
            args.removeLast()
        }
        // Concatenate and Stack take their tensors as one list.
        if ["Concatenate", "Stack"].contains(className), args.count == 1, let list = args[0].arrayValue { args = list }
        var arguments: [OperationArgument] = []
        var references: [TensorRef] = []
        for (index, arg) in args.enumerated() {
            let argPointer = "\(nodePointer)/args/\(index)"
            if let object = arg.objectValue, object["class_name"]?.stringValue == "__keras_tensor__" {
                references.append(try tensorReference(object["config"]?["keras_history"], pointer: argPointer))
                arguments.append(.input)
            } else {
                arguments.append(.constant(try constant(arg, pointer: argPointer)))
            }
        }
        let function = try OperationFunction(kerasClass: className, config: config, key: key)
        return (try checked(TensorOperation(function: function, arguments: arguments), at: nodePointer), references)
    }

    static func containsKerasTensor(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let object):
            object["class_name"]?.stringValue == "__keras_tensor__" || object.entries.contains { containsKerasTensor($0.value) }
        case .array(let items): items.contains(where: containsKerasTensor)
        default: false
        }
    }

    /// `[layer, node, index]`.
    static func tensorReference(_ value: JSONValue?, pointer: String) throws -> TensorRef {
        guard let items = value?.arrayValue, items.count >= 3, let layer = items[0].stringValue,
              let node = items[1].intValue, let index = items[2].intValue
        else { throw RNNKitError(.invalidModel, "expected a [layer, node, index] reference", location: pointer) }
        return TensorRef(layer: layer, node: node, index: index)
    }

    /// Refuses argument counts the function does not take.
    static func checked(_ operation: TensorOperation, at pointer: String) throws -> TensorOperation {
        let count = operation.arguments.count
        if let arity = operation.function.arity, count != arity {
            throw RNNKitError(.invalidModel, "\(operation.kerasClassName) takes \(arity) argument(s), got \(count)",
                              location: pointer)
        }
        guard operation.inputCount > 0 else {
            throw RNNKitError(.invalidModel, "\(operation.kerasClassName) is called on no tensor", location: pointer)
        }
        return operation
    }

    /// Most values a constant argument holds: operations carry scalars and small arrays.
    static let maxConstantCount = 1 << 16

    /// A number, boolean, nested list of numbers or Keras 3 `__tensor__` as a float32 tensor.
    static func constant(_ value: JSONValue, pointer: String) throws -> Tensor {
        if let object = value.objectValue, ["__tensor__", "__numpy__"].contains(object["class_name"]?.stringValue) {
            let dtype = object["config"]?["dtype"]?.stringValue ?? "float32"
            guard ["float32", "int32", "int64", "bool"].contains(dtype) else {
                throw RNNKitError(.invalidModel, "a constant of dtype \(dtype) is not supported", location: pointer)
            }
            return try constant(object["config"]?["value"] ?? .null, pointer: pointer + "/config/value")
        }
        var shape: [Int] = []
        var level = value
        while let items = level.arrayValue {
            guard let first = items.first else {
                throw RNNKitError(.invalidModel, "an empty constant is not supported", location: pointer)
            }
            shape.append(items.count)
            level = first
        }
        guard let count = Tensor.checkedElementCount(shape), count <= maxConstantCount else {
            throw RNNKitError(.invalidModel, "a constant of shape \(shape) is larger than \(maxConstantCount) values",
                              location: pointer)
        }
        var scalars: [Float] = []
        scalars.reserveCapacity(count)
        func collect(_ value: JSONValue, depth: Int) throws {
            if depth == shape.count {
                switch value {
                case .bool(let flag): scalars.append(flag ? 1 : 0)
                case .number:
                    guard let number = value.floatValue, number.isFinite else { fallthrough }
                    scalars.append(number)
                default:
                    throw RNNKitError(.invalidModel, "a constant argument must be numbers, found \(value.typeName)",
                                      location: pointer)
                }
                return
            }
            guard let items = value.arrayValue, items.count == shape[depth] else {
                throw RNNKitError(.invalidModel, "a constant argument is not a rectangular array", location: pointer)
            }
            for item in items { try collect(item, depth: depth + 1) }
        }
        try collect(value, depth: 0)
        return Tensor(shape: shape, scalars: scalars)
    }

    /// A GetItem key in any spelling: Keras 3 (`__slice__`, `__ellipsis__` objects), tf_keras
    /// (`{"start", "stop", "step"}`, `{"class_name": "__ellipsis__"}`) or canonical ("..."); null
    /// is a new axis. A single entry need not be in a list.
    static func indexKey(_ value: JSONValue, pointer: String) throws -> [IndexComponent] {
        guard let items = value.arrayValue else { return [try indexComponent(value, pointer: pointer)] }
        return try items.enumerated().map { try indexComponent($1, pointer: "\(pointer)/\($0)") }
    }

    private static func indexComponent(_ value: JSONValue, pointer: String) throws -> IndexComponent {
        switch value {
        case .null: return .newAxis
        case .string("..."): return .ellipsis
        case .number:
            guard let position = value.intValue else { break }
            return .index(position)
        case .object(let object):
            if object["class_name"]?.stringValue == "__ellipsis__" { return .ellipsis }
            let bounds = object["class_name"]?.stringValue == "__slice__" ? object["config"]?.objectValue : object
            guard let bounds, Set(bounds.entries.map(\.key)).isSubset(of: ["start", "stop", "step"]) else { break }
            func bound(_ name: String) throws -> Int? {
                guard let item = bounds[name], !item.isNull else { return nil }
                guard let number = item.intValue else {
                    throw RNNKitError(.invalidModel, "slice \(name) must be an integer or null", location: pointer)
                }
                return number
            }
            return .slice(start: try bound("start"), stop: try bound("stop"), step: try bound("step"))
        default: break
        }
        throw RNNKitError(.invalidModel, "unsupported index \(JSONWriter.string(value)): RNNKit takes integers, "
                          + "slices, None and Ellipsis", location: pointer)
    }

    // MARK: - Canonical (RNNKit JSON)

    /// Decodes `canonicalConfig()`.
    init(canonical config: KerasConfig) throws {
        let className = try config.string("operation")
        guard Self.isKnownKeras3Class(className) else {
            throw config.error("operation", "unsupported operation '\(className)'")
        }
        guard let list = config.value("arguments")?.arrayValue else {
            throw config.error("arguments", "'arguments' is not a list")
        }
        arguments = try list.enumerated().map { index, item in
            item == .string("input") ? .input : .constant(try Self.constant(item, pointer: config.path("arguments/\(index)")))
        }
        let key = try config.value("key").map { try Self.indexKey($0, pointer: config.path("key")) }
        function = try OperationFunction(kerasClass: className, config: config, key: key,
                                         extraKeys: ["operation", "arguments", "key", "trainable"])
        self = try Self.checked(self, at: config.pointer)
    }

    /// The RNNKit JSON config: `operation`, `arguments`, the parameters and the GetItem key.
    func canonicalConfig() -> JSONObject {
        var object = JSONObject([("operation", .string(kerasClassName)), ("arguments", .array(arguments.map { argument in
            switch argument {
            case .input: "input"
            case .constant(let tensor): Self.constantJSON(tensor)
            }
        }))])
        for entry in function.parameters().entries { object[entry.key] = entry.value }
        if case .getItem(let key) = function { object["key"] = Self.keyJSON(key, keras3: false) }
        return object
    }

    static func constantJSON(_ tensor: Tensor) -> JSONValue {
        func nest(_ offset: Int, _ depth: Int) -> JSONValue {
            guard depth < tensor.rank else { return .float(tensor.scalars[offset]) }
            let inner = tensor.shape[(depth + 1)...].reduce(1, *)
            return .array((0..<tensor.shape[depth]).map { nest(offset + $0 * inner, depth + 1) })
        }
        return nest(0, 0)
    }

    static func keyJSON(_ key: [IndexComponent], keras3: Bool) -> JSONValue {
        .array(key.map { component in
            switch component {
            case .index(let position): .int(position)
            case .newAxis: .null
            case .ellipsis: keras3 ? ["class_name": "__ellipsis__", "config": .object(JSONObject())] : "..."
            case .slice(let start, let stop, let step):
                JSONValue.object(JSONObject([
                    ("start", start.map(JSONValue.int) ?? .null), ("stop", stop.map(JSONValue.int) ?? .null),
                    ("step", step.map(JSONValue.int) ?? .null),
                ])).wrapped(keras3 ? "__slice__" : nil)
            }
        })
    }
}

private extension JSONValue {
    /// `{"class_name": name, "config": self}`, or self without a name.
    func wrapped(_ className: String?) -> JSONValue {
        guard let className else { return self }
        return ["class_name": .string(className), "config": self]
    }
}

extension OperationFunction {
    /// The function of Keras 3 class `className` with the parameters in `config`; a config key
    /// that is not one of the class's parameters is refused (it could change the result).
    init(kerasClass className: String, config: KerasConfig, key: [IndexComponent]?,
         extraKeys: Set<String> = []) throws {
        let allowed = (TensorOperation.parameterKeys[className] ?? []).union(extraKeys).union(["name"])
        if let unknown = config.object.entries.first(where: { !allowed.contains($0.key) }) {
            throw config.error(unknown.key, "\(className): config key '\(unknown.key)' is not supported")
        }
        func axes(_ name: String) throws -> [Int]? {
            guard config.has(name) else { return nil }
            return try config.axes(name, default: 0)
        }
        if let comparison = Comparison(rawValue: className) { self = .compare(comparison); return }
        if let arithmetic = Arithmetic(rawValue: className) { self = .arithmetic(arithmetic); return }
        if let connective = LogicalConnective(rawValue: className) { self = .logical(connective); return }
        if let function = ElementwiseFunction.plain[className] { self = .elementwise(function); return }
        if let fill = Fill(rawValue: className) {
            let name = config.has("dtype") ? try config.string("dtype") : nil
            let dtype = try name.map { name in
                guard let dtype = OperationDType(rawValue: name) else {
                    throw config.error("dtype", "\(className) of dtype \(name) is not supported (float32, int32, int64, bool are)")
                }
                return dtype
            }
            self = .filled(fill, dtype: dtype)
            return
        }
        if let reduction = Reduction(rawValue: className) {
            if config.has("initial") { throw config.error("initial", "\(className) with an initial value is not supported") }
            // Keras reduces every axis, the batch too, when none is given.
            guard let list = try axes("axis") else {
                throw config.error("axis", "\(className) over every axis, the batch included, is not supported")
            }
            self = .reduce(reduction, axes: list, keepDims: try config.bool("keepdims", default: false))
            return
        }
        switch className {
        case "Elu": self = .elementwise(.elu(alpha: Float(try config.double("alpha", default: 1))))
        case "LeakyRelu":
            self = .elementwise(.leakyRelu(negativeSlope: Float(try config.double("negative_slope", default: 0.2))))
        case "Gelu": self = .elementwise(.gelu(approximate: try config.bool("approximate", default: true)))
        case "Matmul": self = .matmul
        case "Einsum":
            do {
                self = .einsum(try Einsum(try config.string("subscripts")))
            } catch let error as RNNKitError where error.location == nil {
                throw config.error("subscripts", error.message)
            }
        case "Concatenate": self = .concatenate(axis: try config.int("axis", default: 0))
        case "Stack": self = .stack(axis: try config.int("axis", default: 0))
        case "ExpandDims":
            guard let list = try axes("axis") else { throw config.error("axis", "ExpandDims needs an axis") }
            self = .expandDims(axes: list)
        case "Squeeze":
            // Without axes Keras also squeezes a batch of one.
            guard let list = try axes("axis") else {
                throw config.error("axis", "Squeeze without an axis is not supported: it would drop a batch of one")
            }
            self = .squeeze(axes: list)
        case "Softmax":
            let list = try axes("axis") ?? [-1]
            guard list.count == 1 else { throw config.error("axis", "Softmax over several axes \(list) is not supported") }
            self = .softmax(axis: list[0])
        case "Reshape":
            guard let shape = try axes("newshape") else { throw config.error("newshape", "Reshape needs a new shape") }
            self = .reshape(shape)
        case "Transpose":
            guard let list = try axes("axes") else {
                throw config.error("axes", "Transpose without axes reverses the batch axis too, which is not supported")
            }
            self = .transpose(axes: list)
        case "Cast":
            let name = try config.string("dtype")
            guard let dtype = OperationDType(rawValue: name) else {
                throw config.error("dtype", "Cast to \(name) is not supported (float32, int32, int64, bool are)")
            }
            self = .cast(dtype)
        case "ConvertToTensor":
            for key in ["sparse", "ragged"] where try config.bool(key, default: false) {
                throw config.error(key, "ConvertToTensor to a \(key) tensor is not supported")
            }
            guard let name = config.value("dtype")?.stringValue else { self = .convertToTensor(dtype: nil); break }
            guard let dtype = OperationDType(rawValue: name) else {
                throw config.error("dtype", "ConvertToTensor to \(name) is not supported (float32, int32, int64, bool are)")
            }
            self = .convertToTensor(dtype: dtype)
        case "Where": self = .where
        case "Clip":
            self = .clip(min: Float(try config.double("x_min", default: -.infinity)),
                         max: Float(try config.double("x_max", default: .infinity)))
        case "GetItem":
            guard let key else { throw config.error("key", "GetItem has no key") }
            self = .getItem(key)
        default:
            throw config.error("operation", "unsupported operation '\(className)'")
        }
    }

    /// The Keras 3 config keys of this function's parameters (the config holds `name` besides).
    func parameters() -> JSONObject {
        func axesJSON(_ axes: [Int]) -> JSONValue {
            axes.count == 1 ? .int(axes[0]) : .array(axes.map(JSONValue.int))
        }
        switch self {
        case .compare, .arithmetic, .logical, .matmul, .where, .getItem: return JSONObject()
        case .elementwise(.elu(let alpha)): return JSONObject([("alpha", .float(alpha))])
        case .elementwise(.leakyRelu(let slope)): return JSONObject([("negative_slope", .float(slope))])
        case .elementwise(.gelu(let approximate)): return JSONObject([("approximate", .bool(approximate))])
        case .elementwise: return JSONObject()
        case .reduce(let reduction, let axes, let keepDims):
            var object = JSONObject([("axis", axesJSON(axes)), ("keepdims", .bool(keepDims))])
            if reduction == .max || reduction == .min { object["initial"] = .null }
            return object
        case .einsum(let einsum): return JSONObject([("subscripts", .string(einsum.equation))])
        case .concatenate(let axis), .stack(let axis), .softmax(let axis): return JSONObject([("axis", .int(axis))])
        case .expandDims(let axes): return JSONObject([("axis", axesJSON(axes))])
        case .squeeze(let axes): return JSONObject([("axis", axesJSON(axes))])
        case .reshape(let shape): return JSONObject([("newshape", .array(shape.map(JSONValue.int)))])
        case .transpose(let axes): return JSONObject([("axes", .array(axes.map(JSONValue.int)))])
        case .cast(let dtype): return JSONObject([("dtype", .string(dtype.rawValue))])
        case .convertToTensor(let dtype):
            return JSONObject([("dtype", dtype.map { .string($0.rawValue) } ?? .null), ("sparse", .null), ("ragged", .null)])
        case .filled(_, let dtype): return JSONObject([("dtype", dtype.map { .string($0.rawValue) } ?? .null)])
        case .clip(let low, let high): return JSONObject([("x_min", .float(low)), ("x_max", .float(high))])
        }
    }

    /// The Keras 3 module that defines the class.
    var kerasModule: String {
        switch self {
        case .cast, .convertToTensor: "keras.src.ops.core"
        case .softmax: "keras.src.ops.nn"
        case .elementwise(let function) where function.isNeuralNetworkOp: "keras.src.ops.nn"
        case .compare, .arithmetic, .logical, .elementwise, .reduce, .matmul, .einsum, .concatenate, .stack,
             .expandDims, .squeeze, .reshape, .transpose, .where, .clip, .getItem, .filled:
            "keras.src.ops.numpy"
        }
    }

    /// Whether the function works on each time step alone, so that a stream can run it chunk by chunk.
    var isStepwise: Bool {
        switch self {
        case .compare, .arithmetic, .logical, .elementwise, .cast, .convertToTensor, .where, .clip, .filled: true
        case .reduce, .matmul, .einsum, .concatenate, .stack, .expandDims, .squeeze, .reshape, .transpose,
             .softmax, .getItem:
            false
        }
    }

    /// Whether the result is boolean (Keras dtype "bool").
    var isBoolean: Bool {
        switch self {
        case .compare, .logical: true
        case .elementwise(let function): function == .logicalNot
        case .reduce(let reduction, _, _): reduction == .any || reduction == .all
        case .cast(let dtype), .filled(_, dtype: let dtype?), .convertToTensor(dtype: let dtype?): dtype == .bool
        case .convertToTensor(dtype: nil): false  // the input's dtype, which the writer does not track
        case .filled(_, dtype: nil): false
        case .arithmetic, .matmul, .einsum, .concatenate, .stack, .expandDims, .squeeze, .reshape, .transpose,
             .where, .clip, .softmax, .getItem:
            false
        }
    }
}

extension ElementwiseFunction {
    /// Keras 3 defines the activations in `keras.src.ops.nn`, the rest (tanh too) in numpy.
    var isNeuralNetworkOp: Bool {
        switch self {
        case .sigmoid, .relu, .relu6, .softplus, .softsign, .silu, .selu, .hardSigmoid, .elu, .leakyRelu, .gelu: true
        case .negative, .absolute, .sqrt, .square, .exp, .log, .logicalNot, .sign, .tanh: false
        }
    }
}

// MARK: - tf_keras

/// A TensorFlow function tf_keras saves as a TFOpLambda: the Keras 3 class that computes the
/// same, the names of its parameters after the first (tensors or constants, in order), and how
/// its other keyword arguments read as Keras 3 config keys.
struct TFFunction: Sendable {
    var kerasClass: String
    var operands: [String]
    /// tf keyword → Keras 3 config key.
    var parameters: [String: String] = [:]
    /// Parameters whose only accepted value is their default (tf's own flags).
    var fixed: [String: JSONValue] = [:]
    /// Keras 3 config values tf implies when the call does not give them.
    var defaults: JSONObject = JSONObject()

    static let reduceParameters = ["axis": "axis", "keepdims": "keepdims"]

    static let table: [String: TFFunction] = {
        var table: [String: TFFunction] = [
            "__operators__.getitem": TFFunction(kerasClass: "GetItem", operands: []),
            "math.reduce_mean": TFFunction(kerasClass: "Mean", operands: [], parameters: reduceParameters),
            "math.reduce_sum": TFFunction(kerasClass: "Sum", operands: [], parameters: reduceParameters),
            "math.reduce_max": TFFunction(kerasClass: "Max", operands: [], parameters: reduceParameters),
            "math.reduce_min": TFFunction(kerasClass: "Min", operands: [], parameters: reduceParameters),
            "math.reduce_any": TFFunction(kerasClass: "Any", operands: [], parameters: reduceParameters),
            "math.reduce_all": TFFunction(kerasClass: "All", operands: [], parameters: reduceParameters),
            "concat": TFFunction(kerasClass: "Concatenate", operands: [], parameters: ["axis": "axis"]),
            "stack": TFFunction(kerasClass: "Stack", operands: [], parameters: ["axis": "axis"]),
            "expand_dims": TFFunction(kerasClass: "ExpandDims", operands: [], parameters: ["axis": "axis"]),
            "squeeze": TFFunction(kerasClass: "Squeeze", operands: [], parameters: ["axis": "axis"]),
            // tf.squeeze and tf.transpose resolve to these in tf_keras 2.21.
            "compat.v1.squeeze": TFFunction(kerasClass: "Squeeze", operands: [], parameters: ["axis": "axis"],
                                            fixed: ["squeeze_dims": .null]),
            "reshape": TFFunction(kerasClass: "Reshape", operands: [], parameters: ["shape": "newshape"]),
            "transpose": TFFunction(kerasClass: "Transpose", operands: [], parameters: ["perm": "axes"],
                                    fixed: ["conjugate": false]),
            "compat.v1.transpose": TFFunction(kerasClass: "Transpose", operands: [], parameters: ["perm": "axes"],
                                              fixed: ["conjugate": false]),
            "cast": TFFunction(kerasClass: "Cast", operands: [], parameters: ["dtype": "dtype"]),
            "zeros_like": TFFunction(kerasClass: "ZerosLike", operands: [], parameters: ["dtype": "dtype"]),
            "ones_like": TFFunction(kerasClass: "OnesLike", operands: [], parameters: ["dtype": "dtype"]),
            "where": TFFunction(kerasClass: "Where", operands: ["x", "y"]),
            "clip_by_value": TFFunction(kerasClass: "Clip", operands: [],
                                        parameters: ["clip_value_min": "x_min", "clip_value_max": "x_max"]),
            "nn.softmax": TFFunction(kerasClass: "Softmax", operands: [], parameters: ["axis": "axis"],
                                     defaults: JSONObject([("axis", .int(-1))])),
            "linalg.matmul": TFFunction(kerasClass: "Matmul", operands: ["b"],
                                        fixed: ["transpose_a": false, "transpose_b": false, "adjoint_a": false,
                                                "adjoint_b": false, "a_is_sparse": false, "b_is_sparse": false,
                                                "output_type": .null]),
            "math.logical_not": TFFunction(kerasClass: "LogicalNot", operands: []),
            "nn.leaky_relu": TFFunction(kerasClass: "LeakyRelu", operands: [], parameters: ["alpha": "negative_slope"],
                                        defaults: JSONObject([("negative_slope", .float(0.2))])),
            "nn.gelu": TFFunction(kerasClass: "Gelu", operands: [], parameters: ["approximate": "approximate"],
                                  defaults: JSONObject([("approximate", false)])),
        ]
        let binary: [String: String] = [
            "math.not_equal": "NotEqual", "math.equal": "Equal", "math.greater": "Greater",
            "math.greater_equal": "GreaterEqual", "math.less": "Less", "math.less_equal": "LessEqual",
            "__operators__.add": "Add", "math.add": "Add", "math.subtract": "Subtract", "math.multiply": "Multiply",
            "math.truediv": "TrueDivide", "math.divide": "Divide", "math.pow": "Power", "math.maximum": "Maximum",
            "math.minimum": "Minimum", "math.logical_and": "LogicalAnd", "math.logical_or": "LogicalOr",
        ]
        for (function, kerasClass) in binary { table[function] = TFFunction(kerasClass: kerasClass, operands: ["y"]) }
        let unary: [String: String] = [
            "math.negative": "Negative", "math.abs": "Absolute", "math.sqrt": "Sqrt", "math.square": "Square",
            "math.exp": "Exp", "math.log": "Log", "math.sign": "Sign", "math.tanh": "Tanh", "nn.tanh": "Tanh",
            "math.sigmoid": "Sigmoid", "nn.sigmoid": "Sigmoid", "nn.relu": "Relu", "nn.relu6": "Relu6",
            "math.softplus": "Softplus", "nn.softplus": "Softplus", "nn.softsign": "Softsign",
            "math.softsign": "Softsign", "nn.silu": "Silu", "nn.swish": "Silu", "nn.selu": "Selu",
        ]
        for (function, kerasClass) in unary { table[function] = TFFunction(kerasClass: kerasClass, operands: []) }
        // tf.nn.elu has no alpha: it is 1.
        table["nn.elu"] = TFFunction(kerasClass: "Elu", operands: [], defaults: JSONObject([("alpha", .float(1))]))
        return table
    }()
}

extension TensorOperation {
    /// A tf_keras TFOpLambda or SlicingOpLambda and its one inbound node (Keras 2 node format).
    static func tfKeras(className: String, config: KerasConfig, nodes: [JSONValue],
                        pointer: String) throws -> (TensorOperation, [TensorRef]) {
        let name = try config.string("function")
        guard let function = TFFunction.table[name] else {
            throw config.error("function", "\(className) tf.\(name) is not supported")
        }
        let nodePointer = pointer + "/inbound_nodes/0"
        // One entry [layer, node, index, kwargs] for a first argument that is one tensor, a list of
        // them for a list (concat).
        let node = nodes.count == 1 ? nodes[0].arrayValue : nil
        guard let node, !node.isEmpty else {
            throw RNNKitError(.invalidModel, "\(className) tf.\(name) must have one inbound node",
                              location: pointer + "/inbound_nodes")
        }
        let entries = node[0].stringValue != nil ? [nodes[0]] : node
        let entryPointers = node[0].stringValue != nil ? [nodePointer] : entries.indices.map { "\(nodePointer)/\($0)" }
        var arguments: [OperationArgument] = []
        var references: [TensorRef] = []
        var kwargs = JSONObject()
        var kwargsPointer = nodePointer
        // The first argument: one entry per tensor of it, each [layer, node, index, kwargs] or
        // ["_CONSTANT_VALUE", -1, value, kwargs].
        for (entry, entryPointer) in zip(entries, entryPointers) {
            guard let items = entry.arrayValue, items.count >= 3, let layer = items[0].stringValue else {
                throw RNNKitError(.invalidModel, "expected a [layer, node, index, kwargs] entry", location: entryPointer)
            }
            if layer == "_CONSTANT_VALUE" {
                arguments.append(.constant(try constant(items[2], pointer: entryPointer + "/2")))
            } else {
                references.append(try tensorReference(entry, pointer: entryPointer))
                arguments.append(.input)
            }
            if items.count > 3, let object = items[3].objectValue {
                kwargs = object
                kwargsPointer = entryPointer + "/3"
            }
        }
        var keras3 = JSONObject([("name", config.value("name") ?? .null)])
        for entry in function.defaults.entries { keras3[entry.key] = entry.value }
        var key: [IndexComponent]?
        var operands: [String: JSONValue] = [:]
        for (keyword, value) in kwargs.entries {
            let kwargPointer = "\(kwargsPointer)/\(keyword)"
            if keyword == "name" { continue }
            if keyword == "slice_spec", function.kerasClass == "GetItem" {
                if containsTensorReference(value) {
                    throw RNNKitError(.invalidModel, "\(className) tf.\(name) with a tensor index is not supported",
                                      location: kwargPointer)
                }
                key = try indexKey(value, pointer: kwargPointer)
            } else if function.operands.contains(keyword) {
                operands[keyword] = value
            } else if let kerasKey = function.parameters[keyword] {
                keras3[kerasKey] = value
            } else if let accepted = function.fixed[keyword] {
                guard value == accepted else {
                    throw RNNKitError(.invalidModel, "tf.\(name) with \(keyword)=\(JSONWriter.string(value)) is not supported",
                                      location: kwargPointer)
                }
            } else {
                throw RNNKitError(.invalidModel, "tf.\(name) with keyword argument '\(keyword)' is not supported",
                                  location: kwargPointer)
            }
        }
        for operand in function.operands {
            let operandPointer = "\(kwargsPointer)/\(operand)"
            guard let value = operands[operand] else {
                throw RNNKitError(.invalidModel, "tf.\(name) call has no '\(operand)'", location: operandPointer)
            }
            if let items = value.arrayValue, items.count == 3, items[0].stringValue != nil {
                references.append(try tensorReference(value, pointer: operandPointer))
                arguments.append(.input)
            } else {
                arguments.append(.constant(try constant(value, pointer: operandPointer)))
            }
        }
        let parameters = KerasConfig(object: keras3, pointer: config.pointer, kerasMajorVersion: config.kerasMajorVersion)
        let operation = TensorOperation(
            function: try OperationFunction(kerasClass: function.kerasClass, config: parameters, key: key),
            arguments: arguments)
        return (try checked(operation, at: nodePointer), references)
    }

    /// Whether a tf_keras value holds a `[layer, node, index]` reference.
    static func containsTensorReference(_ value: JSONValue) -> Bool {
        guard let items = value.arrayValue else {
            return value.objectValue?.entries.contains { containsTensorReference($0.value) } ?? false
        }
        return (items.count == 3 && items[0].stringValue != nil && items[0] != "...") || items.contains(where: containsTensorReference)
    }
}

extension TensorOperation {
    /// The tf_keras layer entry (`TFOpLambda`, `SlicingOpLambda` for GetItem) that computes this
    /// operation on `inputs`, as tf_keras writes it in a Keras 2 `model_config`; throws when no
    /// TensorFlow function RNNKit knows computes it.
    func tfKerasEntry(name: String, inputs: [TensorRef]) throws -> JSONObject {
        let className = kerasClassName
        guard let (functionName, function) = TFFunction.table.filter({ $0.value.kerasClass == className })
            .min(by: { $0.key < $1.key })
        else {
            throw RNNKitError(.invalidModel, "operation \(className) has no tf_keras form", location: name)
        }
        var kwargs = JSONObject()
        let tfNames = Dictionary(function.parameters.map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        for (key, value) in self.function.parameters().entries where !value.isNull {
            if let tfName = tfNames[key] {
                kwargs[tfName] = value
            } else if function.defaults[key] != value {
                throw RNNKitError(.invalidModel, "operation \(className) with \(key)=\(JSONWriter.string(value)) "
                                  + "has no tf_keras form", location: name)
            }
        }
        if case .getItem(let key) = self.function { kwargs["slice_spec"] = Self.tfSliceSpec(key) }
        var references = inputs.makeIterator()
        func value(_ argument: OperationArgument) -> JSONValue {
            switch argument {
            case .input:
                let ref = references.next()!
                return [.string(ref.layer), .int(ref.node), .int(ref.index)]
            case .constant(let tensor): return Self.constantJSON(tensor)
            }
        }
        // The first argument (all of them for concat and stack) goes in the node entries, the
        // others in kwargs by the function's parameter names.
        let firstCount = function.operands.isEmpty ? arguments.count : 1
        let first = arguments.prefix(firstCount).map(value)
        for (operand, argument) in zip(function.operands, arguments.dropFirst(firstCount)) {
            kwargs[operand] = value(argument)
        }
        let entries: [JSONValue] = first.map { item in
            guard case .array(var reference) = item, reference.count == 3, reference[0].stringValue != nil else {
                return [.string("_CONSTANT_VALUE"), .int(-1), item, .object(kwargs)]
            }
            reference.append(.object(kwargs))
            return .array(reference)
        }
        let node: JSONValue = entries.count == 1 && function.kerasClass != "Concatenate" && function.kerasClass != "Stack"
            ? entries[0] : .array(entries)
        let config = JSONObject([("name", .string(name)), ("trainable", true), ("dtype", "float32"),
                                 ("function", .string(functionName))])
        return JSONObject([("class_name", .string(className == "GetItem" ? "SlicingOpLambda" : "TFOpLambda")),
                           ("config", .object(config)), ("name", .string(name)), ("inbound_nodes", [node])])
    }

    /// A GetItem key as tf_keras spells `slice_spec`.
    static func tfSliceSpec(_ key: [IndexComponent]) -> JSONValue {
        .array(key.map { component in
            switch component {
            case .index(let position): .int(position)
            case .newAxis: .null
            case .ellipsis: ["class_name": "__ellipsis__"]
            case .slice(let start, let stop, let step):
                .object(JSONObject([
                    ("start", start.map(JSONValue.int) ?? .null), ("stop", stop.map(JSONValue.int) ?? .null),
                    ("step", step.map(JSONValue.int) ?? .null),
                ]))
            }
        })
    }
}
