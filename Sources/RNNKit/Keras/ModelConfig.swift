/// Turns a Keras model config (`model_config` of an .h5 file, `config.json` of a .keras
/// archive, or `model.to_json()` text) into a `Model` without weights.
///
/// Both Keras 2 and Keras 3 spellings are read: Sequential configs as a bare list or with
/// `layers`; Functional nodes as Keras 2 `[name, node, index, kwargs]` lists or Keras 3
/// `{"args", "kwargs"}` objects holding `__keras_tensor__` entries. A layer whose config cannot
/// be decoded stays in the model without a definition, and the reason joins its problems.
enum KerasModelConfig {
    static func parse(_ root: JSONValue, kerasVersion: String?, source: String) throws -> Model {
        guard let rootObject = root.objectValue,
              let className = rootObject["class_name"]?.stringValue
        else {
            throw RNNKitError(.invalidModel, "model config has no 'class_name'", file: source, location: "/")
        }
        let version = kerasVersion ?? rootObject["keras_version"]?.stringValue
            ?? (rootObject["module"] != nil ? "3" : "2")
        var parser = Parser(major: kerasMajor(version))
        let config = rootObject["config"] ?? .null
        var model: Model
        switch className {
        case "Sequential":
            model = try parser.sequential(config, pointer: "/config")
        case "Functional", "Model":  // = modelClasses minus Sequential
            model = try parser.functional(config, pointer: "/config")
        default:
            throw RNNKitError(.invalidModel,
                              "unsupported model class '\(className)' (expected Sequential or Functional)",
                              file: source, location: "/class_name")
        }
        model.kerasVersion = version
        model.source = source
        model.problems = parser.problems
        return model
    }

    /// The Keras classes of models, which a Functional model may use as layers.
    static let modelClasses: Set<String> = ["Sequential", "Functional", "Model"]

    /// Whether a layer entry is a model used as a layer, or a TimeDistributed wrapping one:
    /// both are flattened into the outer graph.
    static func isNestedModel(_ entry: JSONValue, className: String) -> Bool {
        modelClasses.contains(className) || (className == TimeDistributed.className
            && modelClasses.contains(entry["config"]?["layer"]?["class_name"]?.stringValue ?? ""))
    }

    private struct Parser {
        let major: Int
        var problems: [Problem] = []

        mutating func sequential(_ config: JSONValue, pointer: String) throws -> Model {
            // Keras ≤ 2.2.2 wrote the layer list itself as the config.
            let entries: [JSONValue]
            let listPointer: String
            if let list = config.arrayValue {
                entries = list
                listPointer = pointer
            } else if let list = config["layers"]?.arrayValue {
                entries = list
                listPointer = pointer + "/layers"
            } else {
                throw RNNKitError(.invalidModel, "Sequential config has no layer list", location: pointer)
            }
            // Each layer is called on the tensor the one before makes; a nested model is flattened
            // in place (its layers call one another as in its own graph) and makes its output.
            var layers: [ModelLayer] = []
            var previous: TensorRef?
            func addImplicitInput(first: JSONValue?, firstName: String?) throws {
                let input = try implicitInput(config, first: first, firstName: firstName, pointer: pointer)
                layers.append(input)
                previous = TensorRef(layer: input.name)
            }
            for (index, entry) in entries.enumerated() {
                let entryPointer = "\(listPointer)/\(index)"
                let className = entry["class_name"]?.stringValue ?? ""
                if KerasModelConfig.isNestedModel(entry, className: className) {
                    if previous == nil { try addImplicitInput(first: entry, firstName: nil) }
                    let nested = nestedModel(entry, className: className, pointer: entryPointer,
                                             sequentialInput: previous)
                    let outputs = nested.callOutputs.first ?? []
                    if outputs.count > 1 {
                        problems.append(Problem(.error, "\(nested.name) (\(entryPointer))", "a model in a Sequential "
                                                + "model must have one output, it has \(outputs.count)"))
                    }
                    layers += nested.layers
                    previous = outputs.first ?? TensorRef(layer: nested.name)
                    continue
                }
                var layer = layer(entry, pointer: entryPointer)
                if previous == nil && !layer.isInput { try addImplicitInput(first: entry, firstName: layer.name) }
                if let previous { layer.nodes = [LayerNode(inputs: [previous])] }
                layers.append(layer)
                previous = TensorRef(layer: layer.name)
            }
            if layers.isEmpty { try addImplicitInput(first: nil, firstName: nil) }
            return Model(name: config["name"]?.stringValue ?? "sequential", isSequential: true,
                         layers: layers, inputs: layers.first.map { [TensorRef(layer: $0.name)] } ?? [],
                         outputs: layers.count > 1 ? previous.map { [$0] } ?? [] : [],
                         kerasVersion: "")
        }

        /// Sequential models without an InputLayer give their input shape on the first layer
        /// (`batch_input_shape`) or as `build_input_shape`.
        func implicitInput(_ config: JSONValue, first: JSONValue?, firstName: String?,
                           pointer: String) throws -> ModelLayer {
            let firstConfig = first?["config"]?.objectValue ?? JSONObject()
            let shapeSource: (JSONObject, String)
            if firstConfig["batch_input_shape"] != nil {
                shapeSource = (firstConfig, pointer + "/layers/0/config")
            } else if let object = config.objectValue, object["build_input_shape"] != nil {
                shapeSource = (JSONObject([("batch_shape", object["build_input_shape"]!)]), pointer)
            } else {
                throw RNNKitError(.invalidModel, "Sequential model has no input shape (no InputLayer, "
                                  + "batch_input_shape or build_input_shape)", location: pointer)
            }
            var inputConfig = shapeSource.0
            if inputConfig["batch_shape"] == nil { inputConfig["batch_shape"] = inputConfig["batch_input_shape"] }
            let input = try InputLayer(keras: KerasConfig(object: inputConfig, pointer: shapeSource.1,
                                                          kerasMajorVersion: major))
            return ModelLayer(name: (firstName ?? "model") + "_input", className: "InputLayer",
                              kind: .input(input), configPointer: shapeSource.1)
        }

        mutating func functional(_ config: JSONValue, pointer: String) throws -> Model {
            guard let entries = config["layers"]?.arrayValue else {
                throw RNNKitError(.invalidModel, "Functional config has no 'layers' list", location: pointer)
            }
            var layers: [ModelLayer] = []
            var nestedModels: [String: (className: String, callOutputs: [[TensorRef]])] = [:]
            for (index, entry) in entries.enumerated() {
                let layerPointer = "\(pointer)/layers/\(index)"
                let className = entry["class_name"]?.stringValue ?? ""
                if KerasModelConfig.isNestedModel(entry, className: className) {
                    let nested = nestedModel(entry, className: className, pointer: layerPointer, sequentialInput: nil)
                    layers += nested.layers
                    nestedModels[nested.name] = (className, nested.callOutputs)
                    continue
                }
                if TensorOperation.isOperationEntry(entry, className: className) {
                    layers.append(operationLayer(entry, className: className, pointer: layerPointer))
                    continue
                }
                // The nodes first: their call arguments join the config the layer is decoded from.
                var nodes: [LayerNode] = [], callArguments: [JSONObject] = []
                var nodeErrors: [RNNKitError] = []
                switch entry["inbound_nodes"] {
                case .array(let list)?:
                    for (nodeIndex, node) in list.enumerated() {
                        do {
                            let parsed = try self.node(node, pointer: "\(layerPointer)/inbound_nodes/\(nodeIndex)",
                                                       className: entry["class_name"]?.stringValue ?? "")
                            nodes.append(parsed.node)
                            callArguments.append(parsed.callArguments)
                        } catch let error as RNNKitError {
                            nodeErrors.append(error)
                        }
                    }
                case nil, .null?: break
                default:
                    nodeErrors.append(RNNKitError(.invalidModel, "inbound_nodes is not a list", location: layerPointer + "/inbound_nodes"))
                }
                if callArguments.contains(where: { $0 != callArguments[0] }) {
                    nodeErrors.append(RNNKitError(.invalidModel, "the layer's calls differ in use_causal_mask or "
                                                  + "return_attention_scores, which RNNKit keeps per layer",
                                                  location: layerPointer + "/inbound_nodes"))
                }
                var layer = layer(entry, pointer: layerPointer, callArguments: callArguments.first ?? JSONObject())
                if let name = text(entry["name"], at: layerPointer + "/name") { layer.name = name }
                layer.nodes = nodes
                // Keras 3 fills a call's mask from its input only when the call has one tensor
                // argument: a call given initial states runs unmasked unless it passes `mask=`
                // (tf_keras applies the mask). Keras 3 files pass the mask on explicitly to the
                // calls after it that use it.
                if major >= 3, layer.kind?.takesInitialStates == true {
                    for call in layer.nodes.indices where layer.nodes[call].inputs.count > 1 && layer.nodes[call].masks.isEmpty {
                        layer.nodes[call].masks = [nil]
                    }
                }
                problems += nodeErrors.map { Problem($0, at: layer.name) }
                layers.append(layer)
            }
            var seen = Set<String>()
            for layer in layers where !seen.insert(layer.name).inserted {
                problems.append(Problem(.error, layer.configPointer, "duplicate layer name '\(layer.name)'"))
            }
            // A nested model's output, read by a later layer or listed in output_layers, is the
            // flattened layer call that makes it. tf_keras numbers a model's calls from 1 (its node
            // 0 is the model's own graph); Keras 3 from 0 in inbound nodes, but from 1 for a
            // Functional (not a Sequential) in output_layers, as its loader reads them. A lone
            // call's number is not checked.
            func flattened(_ reference: TensorRef, inOutputLayers: Bool = false) -> TensorRef {
                guard let nested = nestedModels[reference.layer] else { return reference }
                let firstCall = major < 3 || (inOutputLayers && nested.className != "Sequential") ? 1 : 0
                let call = nested.callOutputs.count == 1 ? 0 : reference.node - firstCall
                guard nested.callOutputs.indices.contains(call), nested.callOutputs[call].indices.contains(reference.index)
                else { return reference }
                return nested.callOutputs[call][reference.index]
            }
            for index in layers.indices {
                for node in layers[index].nodes.indices {
                    layers[index].nodes[node].inputs = layers[index].nodes[node].inputs.map { flattened($0) }
                    layers[index].nodes[node].masks = layers[index].nodes[node].masks.map { $0.map { flattened($0) } }
                }
            }
            return Model(name: config["name"]?.stringValue ?? "functional", isSequential: false, layers: layers,
                         inputs: try references(config["input_layers"], pointer: pointer + "/input_layers"),
                         outputs: try references(config["output_layers"], pointer: pointer + "/output_layers")
                             .map { flattened($0, inOutputLayers: true) },
                         kerasVersion: "")
        }

        /// The layers of a Sequential or Functional model used as a layer, flattened into the
        /// outer graph: named `<model>.<layer>` ('.' is valid in HDF5 group names, Keras layer
        /// names and RNNKit tensor names, which RNNKit matches by the longest layer name), its
        /// InputLayers replaced by the tensors the outer model calls it on: `sequentialInput` in a
        /// Sequential model, each of its inbound nodes in a Functional one. Also the tensors its
        /// outputs became at each call. Models it nests were flattened into it already and are
        /// flattened further (`outer.inner.layer`). A model called more than once (a siamese
        /// encoder) keeps one weight set: each of its layers is called once per call of the model,
        /// call c's nodes after call c − 1's, as a shared layer's are.
        ///
        /// A TimeDistributed wrapping a model (`className` TimeDistributed) is flattened the same
        /// way, each of the model's layers wrapped in a TimeDistributed of its own (applying the
        /// layers one after the other to every step is applying the model to every step); the
        /// layers are named after the TimeDistributed layer (`time_distributed.conv2d`).
        mutating func nestedModel(_ entry: JSONValue, className: String, pointer: String, sequentialInput: TensorRef?)
            -> (name: String, layers: [ModelLayer], callOutputs: [[TensorRef]]) {
            let name = text(entry["name"], at: pointer + "/name")
                ?? text(entry["config"]?["name"], at: pointer + "/config/name") ?? snakeCase(className)
            let distributed = className == TimeDistributed.className
            let (modelEntry, modelClass, modelPointer) = distributed
                ? (entry["config"]?["layer"] ?? .null, entry["config"]?["layer"]?["class_name"]?.stringValue ?? "",
                   pointer + "/config/layer")
                : (entry, className, pointer)
            func refusal(_ message: String, at location: String) -> (String, [ModelLayer], [[TensorRef]]) {
                problems.append(Problem(.error, "\(name) (\(location))", message))
                return (name, [ModelLayer(name: name, className: className, kind: nil, configPointer: pointer)], [])
            }
            let calls = entry["inbound_nodes"]?.arrayValue ?? []
            guard sequentialInput != nil || !calls.isEmpty else {
                return refusal("a nested model that is never called is not supported", at: pointer + "/inbound_nodes")
            }
            guard !distributed || calls.count <= 1 else {
                return refusal("a TimeDistributed of a model called \(calls.count) times is not supported",
                               at: pointer + "/inbound_nodes")
            }
            let nested: Model, callNodes: [LayerNode]
            do {
                callNodes = try sequentialInput.map { [LayerNode(inputs: [$0])] } ?? calls.enumerated().map {
                    try node($1, pointer: "\(pointer)/inbound_nodes/\($0)", className: className).node
                }
                var inner = Parser(major: major)
                let config = modelEntry["config"] ?? .null
                nested = modelClass == "Sequential" ? try inner.sequential(config, pointer: modelPointer + "/config")
                    : try inner.functional(config, pointer: modelPointer + "/config")
                problems += inner.problems
            } catch let error as RNNKitError {
                return refusal(error.message, at: error.location ?? pointer)
            } catch {
                return refusal("\(error)", at: pointer)
            }
            if let (index, call) = callNodes.enumerated().first(where: { $1.inputs.count != nested.inputs.count }) {
                return refusal("the nested model takes \(nested.inputs.count) input(s), it is called on "
                               + "\(call.inputs.count)", at: "\(pointer)/inbound_nodes/\(index)")
            }
            let callsOfLayer = Dictionary(nested.layers.map { ($0.name, $0.nodes.count) }, uniquingKeysWith: { first, _ in first })
            // A tensor of the nested model in the outer graph at call `call`: an input is what the
            // call passes; a layer's node k is node call·n + k of its flattened layer (n: its calls
            // within the model).
            func outer(_ reference: TensorRef, call: Int) -> TensorRef {
                if let position = nested.inputs.firstIndex(of: reference) { return callNodes[call].inputs[position] }
                return TensorRef(layer: name + "." + reference.layer,
                                 node: call * (callsOfLayer[reference.layer] ?? 1) + reference.node, index: reference.index)
            }
            if distributed, let deeper = nested.layers.first(where: { !$0.nesting.isEmpty }) {
                return refusal("a model nested in the model a TimeDistributed wraps is not supported",
                               at: deeper.configPointer)
            }
            let callOutputs = callNodes.indices.map { call in nested.outputs.map { outer($0, call: call) } }
            let trainable = flag(entry["config"]?["trainable"], at: pointer + "/config/trainable") ?? true
                && (!distributed || flag(modelEntry["config"]?["trainable"], at: modelPointer + "/config/trainable") ?? true)
            let origin = NestedOrigin(model: name, className: className, output: callOutputs[0].first ?? TensorRef(layer: name))
            let layers = nested.layers.filter { !$0.isInput }.map { layer in
                var flat = layer
                if distributed, let kind = layer.kind {
                    if let reason = TimeDistributed.refusal(of: kind) {
                        problems.append(Problem(.error, "\(name).\(layer.name) (\(layer.configPointer))",
                                                "TimeDistributed of '\(layer.className)' is not supported: \(reason)"))
                        flat.kind = nil
                    } else {
                        flat.kind = .timeDistributed(TimeDistributed(inner: kind))
                    }
                    flat.className = TimeDistributed.className
                }
                flat.name = name + "." + layer.name
                flat.trainable = layer.trainable && trainable
                flat.nodes = callNodes.indices.flatMap { call in
                    layer.nodes.map { node in
                        LayerNode(inputs: node.inputs.map { outer($0, call: call) },
                                  masks: node.masks.map { $0.map { outer($0, call: call) } })
                    }
                }
                flat.nesting = [origin] + layer.nesting.map { deeper in
                    NestedOrigin(model: name + "." + deeper.model, className: deeper.className,
                                 output: outer(deeper.output, call: 0))
                }
                return flat
            }
            return (name, layers, callOutputs)
        }

        /// A layer entry, decoded from its config with `callArguments` (from its inbound nodes) added.
        mutating func layer(_ entry: JSONValue, pointer: String, callArguments: JSONObject = JSONObject()) -> ModelLayer {
            let className = entry["class_name"]?.stringValue ?? ""
            var configObject = entry["config"]?.objectValue ?? JSONObject()
            for (key, value) in callArguments.entries { configObject[key] = value }
            let name = text(configObject["name"], at: pointer + "/config/name")
                ?? text(entry["name"], at: pointer + "/name") ?? className.lowercased()
            let config = KerasConfig(object: configObject, pointer: pointer + "/config", kerasMajorVersion: major)
            var kind: LayerKind?
            do {
                guard !className.isEmpty else {
                    throw RNNKitError(.invalidModel, "layer has no 'class_name'", location: pointer)
                }
                guard entry["config"]?.objectValue != nil else {
                    throw RNNKitError(.invalidModel, "layer has no 'config' object", location: pointer)
                }
                guard LayerKind.isKnownKerasClass(className) else {
                    throw RNNKitError(.invalidModel, LayerKind.unsupportedClassMessage(
                        className, registeredName: entry["registered_name"]?.stringValue,
                        module: entry["module"]?.stringValue), location: pointer + "/class_name")
                }
                kind = try LayerKind(kerasClass: className, config: config)
            } catch let error as RNNKitError {
                problems.append(Problem(.error, "\(name) (\(error.location ?? pointer))", error.message))
            } catch {
                problems.append(Problem(.error, name, "\(error)"))
            }
            if let warning = kind?.inferenceWarning { problems.append(Problem(.warning, name, warning)) }
            return ModelLayer(name: name, className: className,
                              trainable: flag(configObject["trainable"], at: pointer + "/config/trainable") ?? true,
                              kind: kind, configPointer: pointer)
        }

        /// A Keras 3 operation node or a tf_keras TFOpLambda / SlicingOpLambda layer, with its one call.
        mutating func operationLayer(_ entry: JSONValue, className: String, pointer: String) -> ModelLayer {
            let configObject = entry["config"]?.objectValue ?? JSONObject()
            let name = text(entry["name"], at: pointer + "/name") ?? text(configObject["name"], at: pointer + "/config/name")
                ?? snakeCase(className)
            var layer = ModelLayer(name: name, className: className, kind: nil, configPointer: pointer)
            let nodes = entry["inbound_nodes"]?.arrayValue ?? []
            do {
                let config = KerasConfig(object: configObject, pointer: pointer + "/config", kerasMajorVersion: major)
                let (operation, inputs) = if TensorOperation.tfKerasClasses.contains(className) {
                    try TensorOperation.tfKeras(className: className, config: config, nodes: nodes, pointer: pointer)
                } else {
                    try TensorOperation.keras3(className: className, module: entry["module"]?.stringValue ?? "keras.src.ops",
                                               config: config, nodes: nodes, pointer: pointer)
                }
                layer.kind = .operation(operation)
                layer.nodes = [LayerNode(inputs: inputs)]
            } catch let error as RNNKitError {
                problems.append(Problem(.error, "\(name) (\(error.location ?? pointer))", error.message))
                // The tensors it reads, as far as they parse, so that only this layer is in error
                // (tf_keras writes a TFOpLambda's one-tensor node as a bare entry).
                layer.nodes = nodes.enumerated().compactMap { index, node in
                    let entries = node.arrayValue?.first?.stringValue != nil ? JSONValue.array([node]) : node
                    return try? self.node(entries, pointer: "\(pointer)/inbound_nodes/\(index)", className: className).node
                }
            } catch {
                problems.append(Problem(.error, name, "\(error)"))
            }
            return layer
        }

        /// A string field of a layer entry; a value of another type is recorded as a problem.
        mutating func text(_ value: JSONValue?, at location: String) -> String? {
            field(value, \.stringValue, "a string", at: location)
        }

        /// A boolean field of a layer entry; a value of another type is recorded as a problem.
        mutating func flag(_ value: JSONValue?, at location: String) -> Bool? {
            field(value, \.boolValue, "a boolean", at: location)
        }

        /// `value` as the type `read` gets, nil when absent; any other JSON type is recorded as a
        /// problem at `location`, never taken for absent.
        private mutating func field<Value>(_ value: JSONValue?, _ read: (JSONValue) -> Value?, _ expected: String,
                                           at location: String) -> Value? {
            guard let value, !value.isNull else { return nil }
            guard let result = read(value) else {
                problems.append(Problem(.error, location, "expected \(expected), got \(value.typeName)"))
                return nil
            }
            return result
        }

        /// One call of a layer, in either Keras node format, with the call arguments among
        /// `LayerKind.kerasCallArgumentKeys` it passes. Recurrent layers' initial states are
        /// appended after the sequence input; MultiHeadAttention's tensor arguments are ordered
        /// by `MultiHeadAttention.inputs`.
        func node(_ node: JSONValue, pointer: String, className: String) throws -> (node: LayerNode, callArguments: JSONObject) {
            func callArguments(_ kwargs: JSONObject?) -> JSONObject {
                JSONObject((kwargs?.entries ?? []).filter { LayerKind.kerasCallArgumentKeys.contains($0.key) })
            }
            let attendsByName = className == MultiHeadAttention.className
            if let object = node.objectValue {  // Keras 3
                var inputs = try kerasTensors(in: object["args"] ?? .null, pointer: pointer + "/args")
                var masks: [TensorRef?] = []
                let kwargs = object["kwargs"]?.objectValue
                for (key, value) in kwargs?.entries ?? [] where key == "mask" {
                    masks = try explicitMasks(value, pointer: "\(pointer)/kwargs/mask")
                }
                if attendsByName {
                    let named = try (kwargs?.entries ?? []).filter { $0.key != "mask" }.compactMap {
                        key, value -> (String, TensorRef)? in
                        let found = try kerasTensors(in: value, pointer: "\(pointer)/kwargs/\(key)")
                        guard found.count <= 1 else {
                            throw RNNKitError(.invalidModel, "tensor argument '\(key)' holds several tensors",
                                              location: "\(pointer)/kwargs/\(key)")
                        }
                        return found.first.map { (key, $0) }
                    }
                    inputs = try MultiHeadAttention.inputs(positional: inputs, named: named, pointer: pointer + "/kwargs")
                } else if let kwargs {
                    for (key, value) in kwargs.entries where key != "mask" {
                        let found = try kerasTensors(in: value, pointer: "\(pointer)/kwargs/\(key)")
                        guard found.isEmpty || key == "initial_state" else {
                            throw RNNKitError(.invalidModel, "tensor argument '\(key)' is not supported",
                                              location: "\(pointer)/kwargs/\(key)")
                        }
                        inputs += found
                    }
                }
                return (LayerNode(inputs: inputs, masks: masks), callArguments(kwargs))
            }
            guard let entries = node.arrayValue else {
                throw RNNKitError(.invalidModel, "inbound node is neither a list nor an object", location: pointer)
            }
            // tf_keras repeats the call's kwargs in every entry.
            let kwargs = entries.first?.arrayValue?.dropFirst(3).first?.objectValue
            if attendsByName {  // one entry, the query; the other tensors are references in kwargs
                let named = try (kwargs?.entries ?? []).compactMap { key, value -> (String, TensorRef)? in
                    guard MultiHeadAttention.kerasTensorArguments.contains(key), !value.isNull else { return nil }
                    return (key, try reference(value, pointer: "\(pointer)/0/3/\(key)"))
                }
                let positional = try entries.enumerated().map { try reference($1, pointer: "\(pointer)/\($0)") }
                let inputs = try MultiHeadAttention.inputs(positional: positional, named: named, pointer: pointer + "/0/3")
                return (LayerNode(inputs: inputs), callArguments(kwargs))
            }
            var inputs: [TensorRef] = []
            // `mask=None`: the call runs unmasked whatever its sequence carries.
            let masks: [TensorRef?] = kwargs.map { $0["mask"]?.isNull == true } == true ? [nil] : []
            for (index, entry) in entries.enumerated() {  // Keras 2: [name, node, index, kwargs]
                let entryPointer = "\(pointer)/\(index)"
                inputs.append(try reference(entry, pointer: entryPointer))
                if let kwargs = entry.arrayValue?.dropFirst(3).first?.objectValue,
                   let states = kwargs["initial_state"] {
                    inputs += try references(states, pointer: entryPointer + "/3/initial_state")
                }
            }
            return (LayerNode(inputs: inputs, masks: masks), callArguments(kwargs))
        }

        /// Keras 3's `mask=` keyword: one tensor, or a list with one entry (a tensor or null) per input.
        func explicitMasks(_ value: JSONValue, pointer: String) throws -> [TensorRef?] {
            let entries = value.arrayValue ?? [value]
            let masks = try entries.enumerated().map { index, entry -> TensorRef? in
                guard !entry.isNull else { return nil }
                let found = try kerasTensors(in: entry, pointer: "\(pointer)/\(index)")
                guard found.count == 1 else {
                    throw RNNKitError(.invalidModel, "a mask must be one tensor or null", location: "\(pointer)/\(index)")
                }
                return found[0]
            }
            return masks.allSatisfy { $0 == nil } ? [] : masks
        }

        func kerasTensors(in value: JSONValue, pointer: String) throws -> [TensorRef] {
            switch value {
            case .array(let items):
                return try items.enumerated().flatMap { try kerasTensors(in: $1, pointer: "\(pointer)/\($0)") }
            case .object(let object) where object["class_name"]?.stringValue == "__keras_tensor__":
                return [try reference(object["config"]?["keras_history"] ?? .null,
                                      pointer: pointer + "/config/keras_history")]
            case .object(let object):
                return try object.entries.flatMap { try kerasTensors(in: $0.value, pointer: "\(pointer)/\($0.key)") }
            default:
                return []
            }
        }

        /// `["name", node, index]` (extra elements ignored).
        func reference(_ value: JSONValue, pointer: String) throws -> TensorRef {
            guard let items = value.arrayValue, items.count >= 3, let name = items[0].stringValue,
                  let node = items[1].intValue, let index = items[2].intValue
            else {
                throw RNNKitError(.invalidModel, "expected a [layer, node, index] reference", location: pointer)
            }
            return TensorRef(layer: name, node: node, index: index)
        }

        /// A single reference, a list of them, or (Keras 3) a dict of them.
        func references(_ value: JSONValue?, pointer: String) throws -> [TensorRef] {
            switch value {
            case nil, .null?: return []
            case .array(let items)? where items.first?.stringValue != nil:
                return [try reference(.array(items), pointer: pointer)]
            case .array(let items)?:
                return try items.enumerated().map { try reference($1, pointer: "\(pointer)/\($0)") }
            case .object(let object)?:
                return try object.entries.map { try reference($0.value, pointer: "\(pointer)/\($0.key)") }
            default:
                throw RNNKitError(.invalidModel, "expected layer references", location: pointer)
            }
        }
    }
}
