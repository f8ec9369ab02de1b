import Foundation

/// RNNKit's own JSON model format: the architecture and the weights in one file, meant to be
/// read and written by hand. Schemas/rnnkit-model.schema.json describes it.
///
/// ```json
/// {"format": "rnnkit", "format_version": 1, "keras_version": "3.15.1", "name": "sequential",
///  "inputs": ["input_layer"], "outputs": ["dense"],
///  "layers": [
///    {"name": "input_layer", "class_name": "InputLayer", "config": {"batch_shape": [null, 4, 5]}},
///    {"name": "simple_rnn", "class_name": "SimpleRNN", "config": {"units": 3},
///     "layout": "keras", "weights": {"kernel": {"shape": [5, 3], "data": [[0.1, 0.2, 0.3], ...]}, ...}},
///    {"name": "dense", "class_name": "Dense", "config": {"units": 1}, "inputs": ["simple_rnn"], ...}]}
/// ```
///
/// - Layer configs use Keras's vocabulary and defaults (those of `keras_version`, default "3").
/// - A layer without `inputs` (other than an InputLayer) takes the previous layer's output, so a
///   plain list reads like a Sequential model. `inputs` entries are `"layer"` or `"layer:k"`
///   (output k); for recurrent layers, entries after the first are initial states. The top-level
///   `inputs` default to the InputLayers, `outputs` to the last layer.
/// - `weights` are named as in the layer's `layout` (default "keras"; see `WeightLayout`),
///   without the layer-name prefix. Each is `{"shape": [...], "data": nested lists}`, a bare
///   number for shape `[]`. Numbers are read from their text to float32, so written weights read
///   back bit for bit; NaN and Infinity are not JSON numbers and are refused.
/// - Without its weights (`writeWithoutWeights`), the same JSON keeps each layer's `layout` but
///   no `weights`; the tensors travel beside it named `<layer name>.<tensor>` (layouts.md), in a
///   safetensors or npz model file, and `read(_:tensors:defaultLayout:source:)` joins them.
enum RNNKitJSON {
    /// The value of the top-level `format` key.
    static let formatName = "rnnkit"
    /// The only `format_version` this RNNKit reads and writes.
    static let formatVersion = 1

    static let topKeys: Set = ["format", "format_version", "keras_version", "name", "inputs", "outputs", "layers"]
    static let layerKeys: Set = ["name", "class_name", "config", "inputs", "mask", "layout", "weights"]
    static let weightKeys: Set = ["shape", "data"]

    /// Whether `json` claims to be an RNNKit model (`"format": "rnnkit"`), as opposed to a Keras
    /// architecture.
    static func isRNNKitModel(_ json: JSONValue) -> Bool {
        json["format"]?.stringValue == formatName
    }

    /// Reads an RNNKit JSON model.
    ///
    /// Structural errors (wrong JSON types, unknown keys, an unknown `format_version`, bad or
    /// dangling `inputs`/`outputs` references, `data` not matching `shape`) throw
    /// `RNNKitError(.invalidModel)` located by JSON pointer. Everything else (undecodable configs,
    /// unknown classes or layouts, graph errors, missing, unexpected or misshaped weights) is
    /// returned in `problems`, also located by JSON pointer (`/layers/1/weights/kernel`).
    static func read(_ json: JSONValue, source: String) throws -> Model {
        do {
            var reader = Reader()
            return try reader.read(json, source: source)
        } catch let error as RNNKitError {
            throw error.inFile(source)
        }
    }

    /// Reads an RNNKit JSON model written without its weights (see `writeWithoutWeights`), its
    /// weights given as `tensors` named `<layer name>.<tensor>` in each layer's `layout`
    /// (`lstm.kernel`, `bidirectional.forward.kernel`, `lstm.weight_ih_l0`, `dense.weight`...),
    /// as safetensors and npz model files hold them.
    ///
    /// A layer without a `layout` key takes `defaultLayout`. Layers must not hold `weights` in
    /// the JSON. Missing, unexpected and misshaped tensors, and tensors that belong to no layer,
    /// are returned in `problems`, located by the tensor's full name (`lstm.kernel`); everything
    /// else is reported as `read(_:source:)` reports it.
    static func read(_ json: JSONValue, tensors: [String: Tensor], defaultLayout: WeightLayout = .keras,
                            source: String) throws -> Model {
        do {
            var reader = Reader()
            reader.separateTensors = tensors
            reader.defaultLayout = defaultLayout
            return try reader.read(json, source: source)
        } catch let error as RNNKitError {
            throw error.inFile(source)
        }
    }

    /// The RNNKit JSON of `model`, its weights in `layout`. Every layer is written, InputLayers
    /// included; `inputs` are left out only for the layers of a Sequential model.
    ///
    /// Throws `RNNKitError(.invalidModel)` for what the format or the layout cannot hold: a
    /// layer whose config could not be read, a layer called more than once, a name with ':',
    /// NaN or infinite weights, a layer `layout` cannot express.
    static func write(_ model: Model, layout: WeightLayout) throws -> JSONValue {
        var separate: [(name: String, tensor: Tensor)]? = nil
        return try write(model, layout: layout, separate: &separate)
    }

    /// The RNNKit JSON of `model` without its weights (each layer that has weights keeps its
    /// `"layout"`), and the weights in `layout` as tensors named `<layer name>.<tensor>`, in
    /// file order: layers in model order, each layer's tensors in the order of
    /// `LayoutConversion.tensorNames`. `read(_:tensors:defaultLayout:source:)` reads them back.
    ///
    /// Throws what `write(_:layout:)` throws, except for NaN and infinite weights, which tensor
    /// files can hold; and `RNNKitError(.invalidModel)` when two layers would write tensors of
    /// the same name (layers `a` and `a.forward` of a Bidirectional `a`, say).
    static func writeWithoutWeights(_ model: Model, layout: WeightLayout) throws
        -> (json: JSONValue, tensors: [(name: String, tensor: Tensor)]) {
        var separate: [(name: String, tensor: Tensor)]? = []
        let json = try write(model, layout: layout, separate: &separate)
        var seen: Set<String> = []
        for (name, _) in separate! where !seen.insert(name).inserted {
            throw RNNKitError(.invalidModel, "two layers would write a tensor named '\(name)'", location: name)
        }
        return (json, separate!)
    }

    /// `write`, with the weights inline (`separate` nil) or appended to `separate`.
    private static func write(_ model: Model, layout: WeightLayout,
                              separate: inout [(name: String, tensor: Tensor)]?) throws -> JSONValue {
        var layers: [JSONValue] = []
        for (index, layer) in model.layers.enumerated() {
            layers.append(try write(layer, at: index, of: model, layout: layout, separate: &separate))
        }
        let version = model.kerasVersion.isEmpty ? String(model.kerasMajorVersion) : model.kerasVersion
        return .object(JSONObject([
            ("format", .string(formatName)),
            ("format_version", .int(formatVersion)),
            ("keras_version", .string(version)),
            ("name", .string(model.name)),
            ("inputs", .array(try model.inputs.map(referenceText))),
            ("outputs", .array(try model.outputs.map(referenceText))),
            ("layers", .array(layers)),
        ]))
    }
}

// MARK: - Writing

extension RNNKitJSON {
    private static func write(_ layer: ModelLayer, at index: Int, of model: Model, layout: WeightLayout,
                              separate: inout [(name: String, tensor: Tensor)]?) throws -> JSONValue {
        guard let kind = layer.kind else {
            throw RNNKitError(.invalidModel, "layer '\(layer.name)' has no readable config, so it cannot be written",
                              location: layer.name)
        }
        guard !layer.name.isEmpty, !layer.name.contains(":") else {
            throw RNNKitError(.invalidModel,
                              "layer name '\(layer.name)' cannot be written: RNNKit JSON names are non-empty and without ':'",
                              location: layer.name)
        }
        var object = JSONObject([("name", .string(layer.name)), ("class_name", .string(kind.className))])
        // RNNKit JSON keeps a layer's Keras call arguments (attention's use_causal_mask...) in its config.
        var config = kind.kerasConfig()
        for (key, value) in kind.kerasCallArguments.entries { config[key] = value }
        if !layer.trainable { config["trainable"] = .bool(false) }
        object["config"] = .object(config)
        if !layer.isInput {
            guard layer.nodes.count == 1 else {
                throw RNNKitError(.invalidModel,
                                  "layer '\(layer.name)' is called \(layer.nodes.count) times; RNNKit JSON holds layers called once",
                                  location: layer.name)
            }
            let inputs = layer.nodes[0].inputs
            let follows = model.isSequential && index > 0 && inputs == [TensorRef(layer: model.layers[index - 1].name)]
            if !follows { object["inputs"] = .array(try inputs.map(referenceText)) }
            let masks = layer.nodes[0].masks
            if !masks.isEmpty { object["mask"] = .array(try masks.map { try $0.map(referenceText) ?? .null }) }
        }
        if !layer.weights.isEmpty {
            let exported: [String: Tensor]
            let order: [String]
            do {
                exported = try LayoutConversion.export(layer.weights, of: kind, to: layout)
                order = try LayoutConversion.tensorNames(of: kind, in: layout)
            } catch let error as RNNKitError {
                throw RNNKitError(.invalidModel, "layer '\(layer.name)': \(error.message)",
                                  location: layer.name + (error.location.map { "." + $0 } ?? ""))
            }
            object["layout"] = .string(layout.rawValue)
            if separate != nil {
                for name in order {
                    guard let tensor = exported[name] else { continue }
                    separate!.append(("\(layer.name).\(name)", tensor))
                }
            } else {
                var weights = JSONObject()
                for name in order {
                    guard let tensor = exported[name] else { continue }
                    weights[name] = try tensorJSON(tensor, name: "\(layer.name).\(name)")
                }
                object["weights"] = .object(weights)
            }
        }
        return .object(object)
    }

    private static func referenceText(_ ref: TensorRef) throws -> JSONValue {
        guard ref.node == 0 else {
            throw RNNKitError(.invalidModel,
                              "reference to call \(ref.node) of layer '\(ref.layer)': RNNKit JSON holds layers called once",
                              location: ref.layer)
        }
        return .string(ref.index == 0 ? ref.layer : "\(ref.layer):\(ref.index)")
    }

    /// `{"shape": [...], "data": nested lists}`, each float as the shortest text that reads back
    /// to the same bits.
    static func tensorJSON(_ tensor: Tensor, name: String) throws -> JSONValue {
        if let position = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
            let kind = tensor.scalars[position].isNaN ? "NaN" : "an infinite value"
            throw RNNKitError(.invalidModel, "\(name) holds \(kind) at flat index \(position), which JSON cannot hold",
                              location: name)
        }
        var offset = 0
        func nested(_ shape: ArraySlice<Int>) -> JSONValue {
            guard let size = shape.first else {
                defer { offset += 1 }
                return .float(tensor.scalars[offset])
            }
            var items: [JSONValue] = []
            items.reserveCapacity(size)
            for _ in 0..<size { items.append(nested(shape.dropFirst())) }
            return .array(items)
        }
        let data = nested(tensor.shape[...])
        return .object(JSONObject([("shape", .array(tensor.shape.map(JSONValue.int))), ("data", data)]))
    }
}

// MARK: - Reading

extension RNNKitJSON {
    /// A JSON pointer reference token: `~` and `/` escaped.
    static func token(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    static func error(_ location: String, _ message: String) -> RNNKitError {
        RNNKitError(.invalidModel, message, location: location)
    }

    static func checkKeys(_ object: JSONObject, _ allowed: Set<String>, at pointer: String) throws {
        for key in object.keys where !allowed.contains(key) {
            throw error("\(pointer)/\(token(key))",
                        "unknown key '\(key)' (expected \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    /// One layer as read, before the graph is resolved.
    private struct Entry {
        var pointer: String
        var layer: ModelLayer
        /// The `inputs` strings, when given, with their pointers.
        var inputs: [(text: String, pointer: String)]?
        /// The explicit `mask` references (null: none for that input), with their pointers.
        var masks: [(text: String?, pointer: String)] = []
        /// nil when the `layout` is unknown (a problem says so).
        var layout: WeightLayout?
        /// nil when the layer has no `weights`.
        var weights: [String: StoredWeight]?
    }

    private struct Reader {
        var problems: [Problem] = []
        var major = 3
        /// The weights, by full tensor name, when they are not in the JSON.
        var separateTensors: [String: Tensor]?
        /// The layout of a layer without a `layout` key.
        var defaultLayout: WeightLayout = .keras

        mutating func read(_ json: JSONValue, source: String) throws -> Model {
            guard let root = json.objectValue else {
                throw error("", "an RNNKit model is a JSON object, found \(json.typeName)")
            }
            try checkKeys(root, topKeys, at: "")
            guard let format = root["format"] else { throw error("", "missing 'format' (\"rnnkit\")") }
            guard format.stringValue == formatName else {
                throw error("/format", "'format' must be \"\(formatName)\"")
            }
            guard let version = root["format_version"] else {
                throw error("", "missing 'format_version' (\(formatVersion))")
            }
            guard case .number = version, let number = version.intValue else {
                throw error("/format_version", "'format_version' is not an integer")
            }
            guard number == formatVersion else {
                throw error("/format_version",
                            "unsupported format_version \(number): this RNNKit reads format_version \(formatVersion)")
            }
            let kerasVersion = try string(root, "keras_version", at: "") ?? "3"
            major = kerasMajor(kerasVersion)
            let name = try string(root, "name", at: "") ?? "model"
            guard let layersValue = root["layers"] else { throw error("", "missing 'layers'") }
            guard let layerValues = layersValue.arrayValue else {
                throw error("/layers", "'layers' is not a list")
            }
            guard !layerValues.isEmpty else { throw error("/layers", "'layers' is empty") }

            var entries: [Entry] = []
            var names: Set<String> = []
            for (index, value) in layerValues.enumerated() {
                let entry = try layer(value, pointer: "/layers/\(index)")
                guard names.insert(entry.layer.name).inserted else {
                    throw error(entry.pointer + "/name", "duplicate layer name '\(entry.layer.name)'")
                }
                entries.append(entry)
            }
            if let tensors = separateTensors {
                assign(tensors, to: &entries)
            }

            // The graph: explicit inputs, or the previous layer's output.
            var layers: [ModelLayer] = []
            for (index, entry) in entries.enumerated() {
                var layer = entry.layer
                if let inputs = entry.inputs {
                    layer.nodes = [LayerNode(inputs: try inputs.map { try reference($0.text, at: $0.pointer, names: names) })]
                } else if !layer.isInput {
                    guard index > 0 else {
                        throw error(entry.pointer, "the first layer has no 'inputs' and no previous layer to take them from")
                    }
                    layer.nodes = [LayerNode(inputs: [TensorRef(layer: entries[index - 1].layer.name)])]
                }
                if !entry.masks.isEmpty, !layer.nodes.isEmpty {
                    layer.nodes[0].masks = try entry.masks.map { mask in
                        try mask.text.map { try reference($0, at: mask.pointer, names: names) }
                    }
                }
                layers.append(layer)
            }
            let inputs = try references(root, "inputs", names: names)
                ?? layers.filter(\.isInput).map { TensorRef(layer: $0.name) }
            let outputs = try references(root, "outputs", names: names)
                ?? [TensorRef(layer: layers[layers.count - 1].name)]
            let sequential = entries.allSatisfy { $0.inputs == nil } && inputs.count == 1
            var model = Model(name: name, isSequential: sequential, layers: layers, inputs: inputs,
                              outputs: outputs, kerasVersion: kerasVersion, source: source, problems: problems)
            let specs = Model.analyze(&model)
            for (index, entry) in entries.enumerated() {
                bindWeights(entry, index: index, specs: specs[index], model: &model)
            }
            return model
        }

        func string(_ object: JSONObject, _ key: String, at pointer: String) throws -> String? {
            guard let value = object[key] else { return nil }
            guard let string = value.stringValue else {
                throw error("\(pointer)/\(key)", "'\(key)' is not a string")
            }
            return string
        }

        /// The layer's kind, or nil with the reason among the problems: an unknown class or a
        /// config that does not decode.
        mutating func decodeKind(_ className: String, _ config: KerasConfig, pointer: String) -> LayerKind? {
            guard LayerKind.isKnownKerasClass(className) else {
                problems.append(Problem(.error, pointer + "/class_name", LayerKind.unsupportedClassMessage(className)))
                return nil
            }
            do {
                let kind = try LayerKind(kerasClass: className, config: config)
                if let warning = kind.inferenceWarning {
                    problems.append(Problem(.warning, pointer + "/config/stateful", warning))
                }
                return kind
            } catch let error as RNNKitError {
                problems.append(Problem(error, at: pointer + "/config"))
            } catch {
                problems.append(Problem(.error, pointer + "/config", "\(error)"))
            }
            return nil
        }

        /// One entry of `layers`: its identity and config, then what it is called on, its layout
        /// and its weights, each read by a step of its own.
        mutating func layer(_ value: JSONValue, pointer: String) throws -> Entry {
            guard let object = value.objectValue else {
                throw error(pointer, "a layer is a JSON object, found \(value.typeName)")
            }
            try checkKeys(object, layerKeys, at: pointer)
            let (name, className, config) = try identity(of: object, at: pointer)
            var entry = Entry(pointer: pointer,
                              layer: ModelLayer(name: name, className: className,
                                                trainable: try config.bool("trainable", default: true),
                                                kind: decodeKind(className, config, pointer: pointer),
                                                configPointer: config.pointer))
            if let inputs = object["inputs"] {
                guard entry.layer.kind?.inputLayer == nil else {
                    throw error(pointer + "/inputs", "an InputLayer takes no 'inputs'")
                }
                entry.inputs = try references(inputs, at: pointer + "/inputs")
            }
            if let masks = object["mask"] {
                guard let items = masks.arrayValue, !items.isEmpty, !entry.layer.isInput else {
                    throw error(pointer + "/mask", "'mask' is a non-empty list of layer references or nulls, on a layer that takes inputs")
                }
                entry.masks = try items.enumerated().map { position, item in
                    guard item.isNull || item.stringValue != nil else {
                        throw error("\(pointer)/mask/\(position)", "expected a layer reference or null, found \(item.typeName)")
                    }
                    return (item.stringValue, "\(pointer)/mask/\(position)")
                }
            }
            entry.layout = try layout(object["layout"], at: pointer + "/layout")
            if let weights = object["weights"] {
                entry.weights = try storedWeights(weights, of: name, at: pointer + "/weights")
            }
            return entry
        }

        /// The layer's name, class and config object.
        func identity(of object: JSONObject, at pointer: String) throws
            -> (name: String, className: String, config: KerasConfig) {
            guard let name = try string(object, "name", at: pointer) else {
                throw error(pointer, "layer has no 'name'")
            }
            guard !name.isEmpty, !name.contains(":") else {
                throw error(pointer + "/name", "layer name '\(name)' must be non-empty and without ':'")
            }
            guard let className = try string(object, "class_name", at: pointer) else {
                throw error(pointer, "layer '\(name)' has no 'class_name'")
            }
            guard let configValue = object["config"] else { throw error(pointer, "layer '\(name)' has no 'config'") }
            guard let configObject = configValue.objectValue else {
                throw error(pointer + "/config", "'config' is not an object")
            }
            return (name, className,
                    KerasConfig(object: configObject, pointer: pointer + "/config", kerasMajorVersion: major))
        }

        /// `inputs`: a non-empty list of `"layer"` or `"layer:k"` references, with their places.
        func references(_ inputs: JSONValue, at pointer: String) throws -> [(text: String, pointer: String)] {
            guard let items = inputs.arrayValue else {
                throw error(pointer, "'inputs' is not a list of layer references")
            }
            guard !items.isEmpty else { throw error(pointer, "'inputs' is empty") }
            return try items.enumerated().map { position, item in
                guard let text = item.stringValue else {
                    throw error("\(pointer)/\(position)",
                                "expected a layer reference \"layer\" or \"layer:k\", found \(item.typeName)")
                }
                return (text, "\(pointer)/\(position)")
            }
        }

        /// The layer's `layout`, the model's default when absent. An unknown name gives nil and a
        /// problem (the layer's weights are then not read), not a reason to stop reading the model.
        mutating func layout(_ value: JSONValue?, at pointer: String) throws -> WeightLayout? {
            guard let value else { return defaultLayout }
            guard let name = value.stringValue else { throw error(pointer, "'layout' is not a string") }
            guard let layout = WeightLayout(rawValue: name) else {
                problems.append(Problem(.error, pointer,
                    "unknown layout '\(name)' (expected \(WeightLayout.allCases.map(\.rawValue).joined(separator: ", ")))"))
                return nil
            }
            return layout
        }

        /// The layer's inline `weights`: named tensors, refused when the model's weights are
        /// separate tensors.
        func storedWeights(_ value: JSONValue, of layerName: String, at pointer: String) throws
            -> [String: StoredWeight] {
            guard separateTensors == nil else {
                throw error(pointer, "layer '\(layerName)' holds 'weights', but this model's weights are separate tensors")
            }
            guard let weights = value.objectValue else {
                throw error(pointer, "'weights' is not an object of named tensors")
            }
            var stored: [String: StoredWeight] = [:]
            for (key, value) in weights.entries {
                let location = "\(pointer)/\(token(key))"
                stored[key] = StoredWeight(location: location, tensor: try tensor(value, pointer: location))
            }
            return stored
        }

        /// Gives each separate tensor to its layer: the layer that expects its full name in its
        /// layout, else (to be reported as unexpected) the layer with the longest name that
        /// prefixes it followed by '.'. A tensor no layer's name prefixes is a problem here.
        mutating func assign(_ tensors: [String: Tensor], to entries: inout [Entry]) {
            var expected: [String: Int] = [:]
            for (index, entry) in entries.enumerated() {
                guard let layerKind = entry.layer.kind, let layout = entry.layout,
                      let names = try? LayoutConversion.tensorNames(of: layerKind, in: layout) else { continue }
                for name in names where expected[entry.layer.name + "." + name] == nil {
                    expected[entry.layer.name + "." + name] = index
                }
            }
            for name in tensors.keys.sorted() {
                var owner = expected[name]
                if owner == nil {
                    var longest = -1
                    for (index, entry) in entries.enumerated()
                    where entry.layer.name.count > longest && name.hasPrefix(entry.layer.name + ".") {
                        owner = index
                        longest = entry.layer.name.count
                    }
                }
                guard let owner else {
                    problems.append(Problem(.error, name,
                        "tensor '\(name)' of shape \(formatShape(tensors[name]!.shape)) belongs to no layer "
                            + "(tensors are named <layer name>.<tensor>)"))
                    continue
                }
                let layerName = entries[owner].layer.name
                let local = String(name.dropFirst(layerName.count + 1))
                if entries[owner].weights == nil { entries[owner].weights = [:] }
                entries[owner].weights![local] = StoredWeight(location: name, tensor: tensors[name]!)
            }
        }

        /// `"layer"` or `"layer:k"`, naming an existing layer.
        func reference(_ text: String, at pointer: String, names: Set<String>) throws -> TensorRef {
            var name = text
            var index = 0
            if let colon = text.lastIndex(of: ":") {
                let suffix = String(text[text.index(after: colon)...])
                guard let output = Int(suffix), output >= 0, String(output) == suffix else {
                    throw error(pointer, "bad reference '\(text)': expected \"layer\" or \"layer:k\" with k an output index")
                }
                name = String(text[..<colon])
                index = output
            }
            guard names.contains(name) else {
                throw error(pointer, "reference to unknown layer '\(name)'")
            }
            return TensorRef(layer: name, node: 0, index: index)
        }

        /// The top-level `inputs` or `outputs`, when given.
        func references(_ root: JSONObject, _ key: String, names: Set<String>) throws -> [TensorRef]? {
            guard let value = root[key] else { return nil }
            guard let items = value.arrayValue else {
                throw error("/\(key)", "'\(key)' is not a list of layer references")
            }
            return try items.enumerated().map { position, item in
                guard let text = item.stringValue else {
                    throw error("/\(key)/\(position)",
                                "expected a layer reference \"layer\" or \"layer:k\", found \(item.typeName)")
                }
                return try reference(text, at: "/\(key)/\(position)", names: names)
            }
        }

        /// `{"shape": [...], "data": ...}`. The data's nesting is checked against the shape
        /// before anything is allocated for it.
        func tensor(_ value: JSONValue, pointer: String) throws -> Tensor {
            guard let object = value.objectValue else {
                throw error(pointer, "a weight is an object {\"shape\": [...], \"data\": [...]}, found \(value.typeName)")
            }
            try checkKeys(object, weightKeys, at: pointer)
            guard let shapeValue = object["shape"] else { throw error(pointer, "weight has no 'shape'") }
            guard let dimensions = shapeValue.arrayValue else {
                throw error(pointer + "/shape", "'shape' is not a list of dimensions")
            }
            var shape: [Int] = []
            for (axis, item) in dimensions.enumerated() {
                guard case .number = item, let size = item.intValue else {
                    throw error("\(pointer)/shape/\(axis)", "dimension is not an integer")
                }
                guard size >= 0 else { throw error("\(pointer)/shape/\(axis)", "negative dimension \(size)") }
                guard size <= maximumDimension else {
                    throw error("\(pointer)/shape/\(axis)", "dimension \(size) is above the limit \(maximumDimension)")
                }
                shape.append(size)
            }
            guard let count = Tensor.checkedElementCount(shape) else {
                throw error(pointer + "/shape", "shape \(formatShape(shape)) holds too many elements")
            }
            guard let data = object["data"] else { throw error(pointer, "weight has no 'data'") }
            var path: [Int] = []
            try checkNesting(data, shape: shape, pointer: pointer + "/data", path: &path)
            var scalars: [Float] = []
            scalars.reserveCapacity(count)
            try collect(data, into: &scalars, pointer: pointer + "/data", path: &path)
            return Tensor(shape: shape, scalars: scalars)
        }

        private func location(_ pointer: String, _ path: [Int]) -> String {
            path.reduce(pointer) { "\($0)/\($1)" }
        }

        /// Lists of exactly the shape's sizes down to numbers. No allocation.
        private func checkNesting(_ value: JSONValue, shape: [Int], pointer: String,
                                  path: inout [Int]) throws {
            let axis = path.count
            guard axis < shape.count else {
                guard case .number = value else {
                    var message = "expected a number, found \(value.typeName)"
                    if case .string(let text) = value, Float(text)?.isFinite == false {
                        message += "; NaN and Infinity are not JSON numbers, and RNNKit JSON holds finite weights only"
                    }
                    throw error(location(pointer, path), message)
                }
                return
            }
            let size = shape[axis]
            guard let items = value.arrayValue else {
                throw error(location(pointer, path),
                            "expected a list of \(size) along axis \(axis) of shape \(formatShape(shape)), found \(value.typeName)")
            }
            guard items.count == size else {
                throw error(location(pointer, path),
                            "expected \(size) item(s) along axis \(axis) of shape \(formatShape(shape)), found \(items.count)")
            }
            for (index, item) in items.enumerated() {
                path.append(index)
                try checkNesting(item, shape: shape, pointer: pointer, path: &path)
                path.removeLast()
            }
        }

        /// The numbers in row-major order, each rounded once from its text to float32.
        private func collect(_ value: JSONValue, into scalars: inout [Float], pointer: String,
                             path: inout [Int]) throws {
            switch value {
            case .array(let items):
                for (index, item) in items.enumerated() {
                    path.append(index)
                    try collect(item, into: &scalars, pointer: pointer, path: &path)
                    path.removeLast()
                }
            case .number(let text):
                guard let scalar = value.floatValue, scalar.isFinite else {
                    let isNumber = text.drop(while: { $0 == "-" }).first?.isNumber == true
                    throw error(location(pointer, path), isNumber
                        ? "\(text) is outside the float32 range"
                        : "\(text) is not a JSON number: RNNKit JSON holds finite weights only")
                }
                scalars.append(scalar)
            default:
                break  // checkNesting let only numbers and lists through.
            }
        }

        /// Binds a layer's weights, converted from its layout, to its specs.
        func bindWeights(_ entry: Entry, index: Int, specs: [WeightSpec]?, model: inout Model) {
            guard let layerKind = model.layers[index].kind, let specs, let layout = entry.layout else {
                return  // Unknown class or layout, bad config or unknown input shapes: reported already.
            }
            let layerName = entry.layer.name
            let separate = separateTensors != nil
            /// Where a tensor of this layer is, by its name in the layout.
            func locate(_ name: String) -> String {
                separate ? "\(layerName).\(name)" : "\(entry.pointer)/weights/\(token(name))"
            }
            guard let stored = entry.weights ?? (separate ? [:] : nil) else {
                if !specs.isEmpty {
                    let expected = (try? LayoutConversion.tensorNames(of: layerKind, in: layout))
                        ?? specs.map(\.name)
                    model.problems.append(Problem(.error, entry.pointer,
                        "layer '\(layerName)' has no 'weights' (expected \(expected.joined(separator: ", ")))"))
                }
                return
            }
            if layout == .keras {
                var complete = true
                for spec in specs where stored[spec.name] == nil {
                    model.problems.append(Problem(.error, locate(spec.name),
                        "missing weight '\(spec.name)' of shape \(formatShape(spec.shape))"))
                    complete = false
                }
                let expected = Set(specs.map(\.name))
                for name in stored.keys.sorted() where !expected.contains(name) {
                    let has = specs.isEmpty ? "has no weights"
                        : "has " + specs.map(\.name).joined(separator: ", ")
                    model.problems.append(Problem(.error, stored[name]!.location,
                        "unexpected weight '\(name)': \(layerKind.className) layer '\(layerName)' \(has)"))
                    complete = false
                }
                if complete {
                    WeightBinding.bind(specs.map { ($0, stored[$0.name]!) }, to: index, model: &model)
                } else {
                    // Nothing is bound, but the misshaped weights are worth reporting too.
                    var scratch = model
                    let present = specs.compactMap { spec in stored[spec.name].map { (spec, $0) } }
                    WeightBinding.bind(present, to: index, model: &scratch)
                    model.problems = scratch.problems
                }
                return
            }
            let tensors = stored.mapValues(\.tensor)
            let inputDim = LayoutConversion.inputDim(of: layerKind, specs: specs)
            let issues = LayoutConversion.problems(in: tensors, of: layerKind, layout: layout, inputDim: inputDim)
            for issue in issues {
                let location = issue.location.map(locate) ?? entry.pointer + "/layout"
                model.problems.append(Problem(.error, location, issue.message))
            }
            guard issues.isEmpty else { return }
            let weightsPointer = separate ? layerName : entry.pointer + "/weights"
            do {
                let keras = try LayoutConversion.importWeights(tensors, of: layerKind, from: layout, inputDim: inputDim)
                let pairs = specs.compactMap { spec in
                    keras[spec.name].map { (spec, StoredWeight(location: weightsPointer, tensor: $0)) }
                }
                guard pairs.count == specs.count, keras.count == specs.count else {
                    model.problems.append(Problem(.error, weightsPointer,
                        "the \(layout.rawValue) weights give \(keras.keys.sorted().joined(separator: ", ")), "
                            + "layer '\(layerName)' needs \(specs.map(\.name).joined(separator: ", "))"))
                    return
                }
                WeightBinding.bind(pairs, to: index, model: &model)
            } catch let error as RNNKitError {
                model.problems.append(Problem(error, at: weightsPointer))
            } catch {
                model.problems.append(Problem(.error, weightsPointer, "\(error)"))
            }
        }
    }
}
