/// What the two Keras writers (legacy `.h5` and `.keras`) share: the checks that a model can be
/// written at all, the hard_sigmoid rule, the resolved graph (shapes, weight specs) and the layer
/// configs in both Keras spellings.
///
/// Configs carry what RNNKit's layer definitions hold (`kerasConfig()`) plus `name`, `trainable`
/// and `dtype`; initializers, regularizers and constraints are left to Keras's defaults (they do
/// not change predictions). The spellings are those both Keras 3 and tf_keras read:
/// - Keras 2 (`model_config` of a legacy `.h5`): InputLayer `batch_input_shape`, dtype "float32",
///   Bidirectional `layer` = the original layer (tf_keras style), node lists `[[name, node, index, {}]]`.
/// - Keras 3 (`config.json`): `{"module", "class_name", "config", "registered_name"}` objects, a
///   DTypePolicy, InputLayer `batch_shape`, Bidirectional `layer` = forward copy plus
///   `backward_layer`, `__keras_tensor__` nodes with `initial_state` in kwargs, `build_config`.
struct KerasWritePlan {
    enum Style { case keras2, keras3 }

    let model: Model
    let analysis: GraphAnalysis
    /// Weight specs by layer index (every layer with weights has an entry).
    let specs: [Int: [WeightSpec]]
    /// Whether the model is written as a Sequential: it says so and is a plain chain.
    let writesSequential: Bool
    /// The file being written, for errors.
    let path: String

    /// Checks everything a Keras file needs; throws `RNNKitError(.invalidModel)` naming the
    /// first thing that stops `source` from being written as `format`. CuDNN layers are written
    /// as the plain layers tf_keras loads their weights into (`CuDNNWeights.plain`).
    init(_ source: Model, format: String, path: String) throws {
        let model = CuDNNWeights.plain(source)
        func refuse(_ message: String, at location: String? = nil) -> RNNKitError {
            RNNKitError(.invalidModel, "cannot write \(format): \(message)", file: path, location: location)
        }
        try model.refuseErrors("cannot write \(format): the model has errors; the first is", file: path)
        var seen = Set<String>()
        for layer in model.layers {
            guard layer.kind != nil else {
                throw refuse("layer '\(layer.name)' (\(layer.className)) has no readable config", at: layer.name)
            }
            guard !layer.name.isEmpty, !layer.name.contains("/"), layer.name != "." else {
                throw refuse("layer name '\(layer.name)' is not a valid Keras layer name (empty or with '/')",
                             at: layer.name)
            }
            guard seen.insert(layer.name).inserted else {
                throw refuse("duplicate layer name '\(layer.name)'", at: layer.name)
            }
        }
        guard !model.inputs.isEmpty, !model.outputs.isEmpty else {
            throw refuse("the model has no \(model.inputs.isEmpty ? "inputs" : "outputs")")
        }
        let analysis = GraphAnalysis(model)
        if let first = analysis.problems.first(where: { $0.severity == .error }) {
            throw refuse(first.message, at: first.location)
        }
        let specs = WeightBinding.specs(of: model, analysis)
        for (index, layer) in model.layers.enumerated() {
            let layerSpecs = specs[index] ?? []
            if !layer.isInput && analysis.inputShapes(ofLayer: index, in: model) == nil {
                throw refuse("layer '\(layer.name)' is not connected to the model's outputs", at: layer.name)
            }
            for spec in layerSpecs {
                guard let tensor = layer.weights[spec.name] else {
                    throw refuse("layer '\(layer.name)' has no weight '\(spec.name)'", at: layer.name)
                }
                guard tensor.shape == spec.shape else {
                    throw refuse("\(layer.name).\(spec.name) has shape \(formatShape(tensor.shape)), "
                                 + "expected \(formatShape(spec.shape))", at: layer.name)
                }
            }
            let expected = Set(layerSpecs.map(\.name))
            if let extra = layer.weights.keys.sorted().first(where: { !expected.contains($0) }) {
                throw refuse("layer '\(layer.name)' holds weight '\(extra)', which its config does not imply",
                             at: layer.name)
            }
        }
        if let problem = WeightBinding.checkValues(model).first {
            throw refuse(problem.message, at: problem.location)
        }
        self.model = model
        self.analysis = analysis
        self.specs = specs
        self.path = path
        self.writesSequential = model.isSequential && Self.isChain(model)
    }

    /// InputLayer first, then layers each called once on the one before; one input, one output.
    private static func isChain(_ model: Model) -> Bool {
        let layers = model.layers
        guard layers.count >= 2, layers[0].isInput,
              model.inputs == [TensorRef(layer: layers[0].name)],
              model.outputs == [TensorRef(layer: layers[layers.count - 1].name)]
        else { return false }
        for index in layers.indices.dropFirst() {
            guard !layers[index].isInput,
                  layers[index].nodes == [LayerNode(inputs: [TensorRef(layer: layers[index - 1].name)])]
            else { return false }
        }
        return true
    }

    func kind(_ index: Int) -> LayerKind { model.layers[index].kind! }

    // MARK: - Keras versions and hard_sigmoid

    /// The Keras version of the source model when it is a full `x.y.z` version, otherwise the
    /// release RNNKit's fixtures come from for that major version (Keras 1 files become 2.x: RNNKit
    /// holds their weights fused, as Keras 2 does, and hard_sigmoid means the same in both).
    static func versionPreserving(_ model: Model) -> String {
        let version = model.kerasVersion
        let major = model.kerasMajorVersion
        let parts = version.split(separator: ".", omittingEmptySubsequences: false)
        let full = parts.count >= 2 && parts.allSatisfy { !$0.isEmpty } && Int(parts[0]) != nil
        if major >= 3 { return full ? version : defaultKeras3Version }
        return full && major == 2 ? version : defaultKeras2Version
    }

    static let defaultKeras3Version = "3.15.1"
    static let defaultKeras2Version = "2.21.0"

    /// Refuses when a hard_sigmoid in the model would mean something else in a file written as
    /// Keras `writtenMajor` (Keras 2: clip(0.2x + 0.5, 0, 1); Keras 3: clip(x/6 + 0.5, 0, 1)).
    func checkHardSigmoid(writtenMajor: Int, format: String, advice: String) throws {
        let writtenKeras2 = writtenMajor < 3
        for (index, layer) in model.layers.enumerated() {
            for activation in kind(index).activations {
                guard case .hardSigmoid(let keras2) = activation, keras2 != writtenKeras2 else { continue }
                let meaning = keras2 ? "Keras 2's clip(0.2x + 0.5, 0, 1)" : "Keras 3's clip(x/6 + 0.5, 0, 1)"
                let written = writtenKeras2 ? "Keras 2 computes clip(0.2x + 0.5, 0, 1)"
                                            : "Keras 3 computes clip(x/6 + 0.5, 0, 1)"
                let source = model.kerasVersion.isEmpty ? "" : " (the model was read as Keras \(model.kerasVersion))"
                throw RNNKitError(.invalidModel,
                    "cannot write \(format): layer '\(layer.name)' uses hard_sigmoid as \(meaning)\(source), "
                    + "but \(written) for a \(format) file, so its outputs would change; \(advice)",
                    file: path, location: layer.name)
            }
        }
    }

    // MARK: - Shapes

    func inputShapes(ofLayer index: Int, node: Int = 0) -> [Shape] {
        model.layers[index].nodes[node].inputs.map { analysis.shape(of: $0, in: model) ?? [] }
    }

    /// The dtype of a tensor: an InputLayer's own (token ids are integers), otherwise float32.
    func dtype(of ref: TensorRef) -> String {
        if let index = model.layerIndex(named: ref.layer), let input = kind(index).inputLayer {
            return input.dtype
        }
        if let index = model.layerIndex(named: ref.layer), case .operation(let operation) = kind(index),
           operation.function.isBoolean {
            return "bool"
        }
        return "float32"
    }

    /// Refuses a Keras 2 model for a Keras 3 file when a call given initial states may see a mask:
    /// tf_keras applies the mask a call's sequence carries, Keras 3 only to a call of one tensor
    /// argument (and a Keras 2 graph has no mask tensor to pass it explicitly).
    func checkMasksGivenInitialStates(format: String) throws {
        guard model.kerasMajorVersion < 3 else { return }
        for (index, layer) in model.layers.enumerated() where kind(index).takesInitialStates {
            for node in layer.nodes where node.inputs.count > 1 && node.masks.isEmpty && mayCarryMask(node.inputs[0]) {
                let source = model.kerasVersion.isEmpty ? "" : " (the model was read as Keras \(model.kerasVersion))"
                throw RNNKitError(.invalidModel,
                    "cannot write \(format): layer '\(layer.name)' is given initial_state on a sequence that may carry "
                    + "a mask\(source), which Keras 3 would not apply to that call, so its outputs could change; "
                    + "save it as a legacy .h5 file, which keeps its Keras 2 version", file: path, location: layer.name)
            }
        }
    }

    /// Whether a mask may reach `ref`: a Masking layer, an Embedding with mask_zero or a `mask=`
    /// upstream (whether the layers between pass it on is not looked at).
    func mayCarryMask(_ ref: TensorRef) -> Bool {
        var seen = Set<String>(), pending = [ref.layer]
        while let name = pending.popLast() {
            guard seen.insert(name).inserted, let index = model.layerIndex(named: name) else { continue }
            switch kind(index) {
            case .masking: return true
            case .embedding(let embedding) where embedding.maskZero: return true
            default: break
            }
            for node in model.layers[index].nodes {
                if node.masks.contains(where: { $0 != nil }) { return true }
                pending += node.inputs.map(\.layer)
            }
        }
        return false
    }

    /// Whether some call passes tensors as keyword arguments (`initial_state`, MultiHeadAttention's
    /// `value`...), which Keras 2 node lists and Keras 3 read differently.
    var passesTensorKeywords: Bool {
        model.layers.contains { layer in
            if case .multiHeadAttention? = layer.kind, !layer.nodes.isEmpty { return true }
            return layer.kind!.takesInitialStates && layer.nodes.contains { $0.inputs.count > 1 }
        }
    }

    // MARK: - Layer configs

    /// `{"class_name", "config"}` (Keras 2) or the full Keras 3 object of layer `index`, without
    /// the Functional `name`/`inbound_nodes` (see `functionalEntry`).
    func layerObject(_ index: Int, style: Style) -> JSONObject {
        let layer = model.layers[index]
        let kind = kind(index)
        let config: JSONObject
        if let input = kind.inputLayer {
            config = Self.inputConfig(input, name: layer.name, style: style)
        } else {
            // Keras 3's SpatialDropout1D takes no `trainable` and a plain dtype.
            var isSpatialDropout = false
            if case .spatialDropout1D = kind { isSpatialDropout = true }
            var object = JSONObject([("name", .string(layer.name))])
            if !isSpatialDropout { object["trainable"] = .bool(layer.trainable) }
            object["dtype"] = Self.floatDType(style, plain: isSpatialDropout)
            for entry in body(of: kind, layerIndex: index, style: style, trainable: layer.trainable).entries {
                object[entry.key] = entry.value
            }
            config = object
        }
        var result = Self.wrap(className: kind.className, config: config, style: style)
        if style == .keras3, let build = buildConfig(index) {
            result["build_config"] = .object(build)
        }
        return result
    }

    /// A layer object. Keras 2 style at the top of a legacy `model_config` is `{"class_name",
    /// "config"}`; `nested` ones (in Bidirectional and TimeDistributed) also carry `module` and
    /// `registered_name`, as tf_keras 2.21 writes them, because Keras 3 needs the module to find
    /// the class there.
    static func wrap(className: String, config: JSONObject, style: Style, nested: Bool = false) -> JSONObject {
        switch style {
        case .keras2 where !nested:
            return JSONObject([("class_name", .string(className)), ("config", .object(config))])
        case .keras2, .keras3:
            return JSONObject([("module", "keras.layers"), ("class_name", .string(className)),
                               ("config", .object(config)), ("registered_name", .null)])
        }
    }

    static func floatDType(_ style: Style, plain: Bool = false) -> JSONValue {
        guard style == .keras3, !plain else { return "float32" }
        return ["module": "keras", "class_name": "DTypePolicy", "config": ["name": "float32"],
                "registered_name": .null]
    }

    static func inputConfig(_ input: InputLayer, name: String, style: Style) -> JSONObject {
        JSONObject([
            (style == .keras2 ? "batch_input_shape" : "batch_shape", shapeJSON(input.batchShape)),
            ("dtype", .string(input.dtype)),
            ("sparse", false),
            ("ragged", false),
            ("name", .string(name)),
        ])
    }

    /// The class-specific keys: `kerasConfig()`, with wrapped layers spelled for `style`.
    private func body(of kind: LayerKind, layerIndex: Int, style: Style, trainable: Bool) -> JSONObject {
        switch kind {
        case .bidirectional(let wrapper):
            return bidirectionalBody(wrapper, layerIndex: layerIndex, style: style, trainable: trainable)
        case .timeDistributed(let wrapper):
            let innerClass = wrapper.inner.className
            let inner = nestedConfig(name: snakeCase(innerClass), trainable: trainable,
                                     body: body(of: wrapper.inner, layerIndex: layerIndex, style: style, trainable: trainable),
                                     style: style)
            var object = Self.wrap(className: innerClass, config: inner, style: style, nested: true)
            if style == .keras3, let sequence = inputShapes(ofLayer: layerIndex).first, sequence.count >= 2 {
                object["build_config"] = ["input_shape": shapeJSON([sequence[0]] + sequence.dropFirst(2))]
            }
            return JSONObject([("layer", .object(object))])
        case .rnn(let rnn):
            var object = rnn.cells[0].sequenceKerasConfig()
            object["cell"] = rnn.cellObject(
                config: { index, cell in
                    nestedConfig(name: rnn.cellName(index), trainable: trainable, body: cell.cellKerasConfig(), style: style)
                },
                wrap: { className, config in
                    let stack = className == "StackedRNNCells"
                        ? nestedConfig(name: "stacked_rnn_cells", trainable: trainable, body: config, style: style) : config
                    return .object(Self.wrap(className: className, config: stack, style: style, nested: true))
                })
            return object
        case .leakyReLU(let layer) where style == .keras2:
            // tf_keras knows only `alpha`; Keras 3 reads it too (with a deprecation warning).
            return JSONObject([("alpha", .double(layer.negativeSlope))])
        case .input, .recurrent, .dense, .embedding, .masking, .dropout, .spatialDropout1D, .gaussianNoise,
             .activation, .repeatVector, .flatten, .concatenate, .merge, .globalAveragePooling1D, .globalMaxPooling1D,
             .conv1D, .maxPooling1D, .averagePooling1D,
             .batchNormalization, .layerNormalization,
             .relu, .leakyReLU, .elu, .softmax, .reshape, .permute, .timeResampling,
             .attention,
             .multiHeadAttention,
             .unitNormalization,
             .prelu,
             .dot,
             .conv2D,
             .maxPooling2D,
             .averagePooling2D,
             .globalAveragePooling2D,
             .globalMaxPooling2D,
             .imageBorder2D,
             .depthwiseConvolution,
             .operation,
             .convLSTM:
            return kind.kerasConfig()
        }
    }

    private func nestedConfig(name: String, trainable: Bool, body: JSONObject, style: Style) -> JSONObject {
        var object = JSONObject([("name", .string(name)), ("trainable", .bool(trainable)),
                                 ("dtype", Self.floatDType(style))])
        for entry in body.entries { object[entry.key] = entry.value }
        return object
    }

    /// tf_keras: `layer` is the original layer (named like Keras's default, e.g. "lstm"); the
    /// backward copy is derived unless it differs from the mirrored forward one. Keras 3: `layer`
    /// is the forward copy ("forward_lstm") and `backward_layer` ("backward_lstm") is always there.
    private func bidirectionalBody(_ wrapper: Bidirectional, layerIndex: Int, style: Style,
                                   trainable: Bool) -> JSONObject {
        let base = Self.innerBaseName(wrapper)
        var mirrored = wrapper.forward
        mirrored.options.goBackwards.toggle()
        let derivable = mirrored == wrapper.backward
        var object = JSONObject([("merge_mode", wrapper.mergeMode.map { .string($0.rawValue) } ?? .null)])
        let buildShape = inputShapes(ofLayer: layerIndex).first
        func nested(_ layer: RecurrentLayer, name: String) -> JSONValue {
            var result = Self.wrap(className: layer.cell.className,
                                   config: nestedConfig(name: name, trainable: trainable,
                                                        body: layer.kerasConfig(), style: style),
                                   style: style, nested: true)
            if style == .keras3, let buildShape {
                result["build_config"] = ["input_shape": shapeJSON(buildShape)]
            }
            return .object(result)
        }
        switch style {
        case .keras2:
            object["layer"] = nested(wrapper.forward, name: base)
            if !derivable { object["backward_layer"] = nested(wrapper.backward, name: "backward_" + base) }
        case .keras3:
            object["layer"] = nested(wrapper.forward, name: "forward_" + base)
            object["backward_layer"] = nested(wrapper.backward, name: "backward_" + base)
        }
        return object
    }

    /// The name Keras gives the wrapped layer by default: "lstm", "gru", "simple_rnn".
    static func innerBaseName(_ wrapper: Bidirectional) -> String {
        snakeCase(wrapper.forward.cell.className)
    }

    /// Keras 3 `build_config` for layers with weights, which Keras builds before loading them.
    private func buildConfig(_ index: Int) -> JSONObject? {
        guard !(specs[index] ?? []).isEmpty, !model.layers[index].nodes.isEmpty else { return nil }
        let shapes = inputShapes(ofLayer: index)
        guard let first = shapes.first else { return nil }
        if case .multiHeadAttention = kind(index), shapes.count >= 3 {
            return JSONObject([("shapes_dict", [
                "query_shape": shapeJSON(shapes[0]), "value_shape": shapeJSON(shapes[1]), "key_shape": shapeJSON(shapes[2]),
            ])])
        }
        if kind(index).takesInitialStates {
            guard shapes.count > 1 else { return JSONObject([("input_shape", shapeJSON(first))]) }
            return JSONObject([("shapes_dict", [
                "sequences_shape": shapeJSON(first),
                "initial_state_shape": .array(shapes.dropFirst().map(shapeJSON)),
            ])])
        }
        return JSONObject([("input_shape", shapes.count == 1 ? shapeJSON(first) : .array(shapes.map(shapeJSON)))])
    }

    // MARK: - Model configs

    /// A layer of a Functional config: its object plus `name` and `inbound_nodes`.
    func functionalEntry(_ index: Int, style: Style, nodeStyle: Style) throws -> JSONValue {
        let layer = model.layers[index]
        if case .operation(let operation) = kind(index), let node = layer.nodes.first {
            guard style == .keras3 else {
                do {
                    return .object(try operation.tfKerasEntry(name: layer.name, inputs: node.inputs))
                } catch let error as RNNKitError {
                    throw RNNKitError(.invalidModel, "cannot write a Keras .h5 file: \(error.message)", file: path,
                                      location: layer.name)
                }
            }
            return .object(operationEntry(operation, name: layer.name, node: node))
        }
        // `mask=None` (a call that runs unmasked) both Kerases hold; a mask tensor only .keras files.
        if style == .keras2, layer.nodes.contains(where: { $0.masks.contains { $0 != nil } }) {
            throw RNNKitError(.invalidModel, "cannot write a Keras .h5 file: layer '\(layer.name)' is passed a mask "
                              + "explicitly, which only Keras 3 (.keras) files hold", file: path, location: layer.name)
        }
        var object = layerObject(index, style: style)
        if nodeStyle == .keras2, case .multiHeadAttention = kind(index), var config = object["config"]?.objectValue {
            // tf_keras builds MultiHeadAttention from these keys and refuses a config without them.
            let shapes = inputShapes(ofLayer: index)
            for (key, input) in [("query_shape", 0), ("key_shape", 2), ("value_shape", 1)] where input < shapes.count {
                config[key] = shapeJSON(shapes[input])
            }
            object["config"] = .object(config)
        }
        object["name"] = .string(layer.name)
        object["inbound_nodes"] = .array(layer.nodes.map { node(index, $0, style: nodeStyle) })
        return .object(object)
    }

    /// One call of a layer: a Keras 2 list of `[name, node, index, kwargs]`, or a Keras 3
    /// `{"args", "kwargs"}` object (initial states in `kwargs`). The kwargs hold the call
    /// arguments (attention's `use_causal_mask`...), in every entry of a Keras 2 list as
    /// tf_keras writes them.
    func node(_ index: Int, _ node: LayerNode, style: Style) -> JSONValue {
        let callArguments = kind(index).kerasCallArguments
        if case .multiHeadAttention = kind(index) { return attentionNode(node, callArguments: callArguments, style: style) }
        switch style {
        case .keras2:
            var kwargs = callArguments
            if !node.masks.isEmpty { kwargs["mask"] = .null }  // only `mask=None` gets here (functionalEntry)
            return .array(node.inputs.map { .array([.string($0.layer), .int($0.node), .int($0.index), .object(kwargs)]) })
        case .keras3:
            let tensors = node.inputs.map(kerasTensor)
            var kwargs = callArguments
            let args: [JSONValue]
            if kind(index).takesInitialStates {
                args = Array(tensors.prefix(1))
                if tensors.count > 1 { kwargs["initial_state"] = .array(Array(tensors.dropFirst())) }
            } else if tensors.count == 1 {
                args = tensors
            } else {
                args = [.array(tensors)]
            }
            if !node.masks.isEmpty {
                let masks = node.masks.map { $0.map(kerasTensor) ?? .null }
                kwargs["mask"] = masks.count == 1 ? masks[0] : .array(masks)
            }
            return .object(JSONObject([("args", .array(args)), ("kwargs", .object(kwargs))]))
        }
    }

    /// A Keras 3 operation node: its class in `keras.src.ops`, the parameters in `config`, the
    /// call's tensors and constants (arrays as `__numpy__`) in `args`, a GetItem key last.
    func operationEntry(_ operation: TensorOperation, name: String, node: LayerNode) -> JSONObject {
        var inputs = node.inputs.makeIterator()
        var args: [JSONValue] = operation.arguments.map { argument in
            switch argument {
            case .input: kerasTensor(inputs.next()!)
            case .constant(let tensor) where tensor.rank == 0: .float(tensor.scalars[0])
            case .constant(let tensor):
                ["class_name": "__numpy__", "config": ["value": TensorOperation.constantJSON(tensor), "dtype": "float32"]]
            }
        }
        switch operation.function {
        case .concatenate, .stack: args = [.array(args)]
        case .getItem(let key): args.append(TensorOperation.keyJSON(key, keras3: true))
        case .compare, .arithmetic, .logical, .elementwise, .reduce, .matmul, .einsum, .expandDims, .squeeze,
             .reshape, .transpose, .cast, .convertToTensor, .where, .clip, .softmax, .filled:
            break
        }
        var config = JSONObject([("name", .string(name))])
        for entry in operation.function.parameters().entries { config[entry.key] = entry.value }
        return JSONObject([
            ("module", .string(operation.function.kerasModule)), ("class_name", .string(operation.kerasClassName)),
            ("config", .object(config)), ("registered_name", .string(operation.kerasClassName)),
            ("name", .string(name)),
            ("inbound_nodes", [["args": .array(args), "kwargs": .object(JSONObject())]]),
        ])
    }

    /// A MultiHeadAttention call: the query (and in Keras 3 the value) positional, the other
    /// tensors by name (the key left out when it is the value), as Keras writes them.
    private func attentionNode(_ node: LayerNode, callArguments: JSONObject, style: Style) -> JSONValue {
        var named = Array(zip(MultiHeadAttention.kerasTensorArguments, node.inputs))
        if named.count > 2, named[2].1 == named[1].1 { named.remove(at: 2) }
        var kwargs = JSONObject()
        switch style {
        case .keras2:
            for (name, ref) in named.dropFirst() { kwargs[name] = Self.triple(ref) }
            for (key, value) in callArguments.entries { kwargs[key] = value }
            let query = node.inputs[0]
            return [[.string(query.layer), .int(query.node), .int(query.index), .object(kwargs)]]
        case .keras3:
            for (name, ref) in named.dropFirst(2) { kwargs[name] = kerasTensor(ref) }
            for (key, value) in callArguments.entries { kwargs[key] = value }
            return .object(JSONObject([("args", .array(node.inputs.prefix(2).map(kerasTensor))), ("kwargs", .object(kwargs))]))
        }
    }

    func kerasTensor(_ ref: TensorRef) -> JSONValue {
        let shape = analysis.shape(of: ref, in: model) ?? []
        return ["class_name": "__keras_tensor__", "config": [
            "shape": shapeJSON(shape),
            "dtype": .string(dtype(of: ref)),
            "keras_history": [.string(ref.layer), .int(ref.node), .int(ref.index)],
        ]]
    }

    static func triple(_ ref: TensorRef) -> JSONValue {
        [.string(ref.layer), .int(ref.node), .int(ref.index)]
    }

    /// The Keras 2 `model_config` of a legacy `.h5`. Node lists are Keras 2's unless a call
    /// passes tensors by keyword and the file is a Keras 3 one (`nodeStyle`).
    func keras2ModelConfig(nodeStyle: Style) throws -> JSONValue {
        if writesSequential {
            return ["class_name": "Sequential", "config": [
                "name": .string(model.name),
                "layers": .array(model.layers.indices.map { .object(layerObject($0, style: .keras2)) }),
            ]]
        }
        return ["class_name": "Functional", "config": [
            "name": .string(model.name),
            "trainable": true,
            "layers": .array(try model.layers.indices.map { try functionalEntry($0, style: .keras2, nodeStyle: nodeStyle) }),
            "input_layers": .array(model.inputs.map(Self.triple)),
            "output_layers": .array(model.outputs.map(Self.triple)),
        ]]
    }

    /// The Keras 3 `config.json` of a `.keras` archive.
    func keras3ModelConfig() throws -> JSONValue {
        if writesSequential {
            let inputShape = shapeJSON(kind(0).inputLayer!.batchShape)
            return ["module": "keras", "class_name": "Sequential", "config": [
                "name": .string(model.name),
                "trainable": true,
                "dtype": Self.floatDType(.keras3),
                "layers": .array(model.layers.indices.map { .object(layerObject($0, style: .keras3)) }),
                "build_input_shape": inputShape,
            ], "registered_name": .null, "build_config": ["input_shape": inputShape]]
        }
        func references(_ refs: [TensorRef]) -> JSONValue {
            refs.count == 1 ? Self.triple(refs[0]) : .array(refs.map(Self.triple))
        }
        return ["module": "keras.src.models.functional", "class_name": "Functional", "config": [
            "name": .string(model.name),
            "trainable": true,
            "layers": .array(try model.layers.indices.map { try functionalEntry($0, style: .keras3, nodeStyle: .keras3) }),
            "input_layers": references(model.inputs),
            "output_layers": references(model.outputs),
        ], "registered_name": "Functional", "build_config": ["input_shape": .null]]
    }

    // MARK: - Weights

    /// The layer's weights in Keras order, with their specs.
    func weights(ofLayer index: Int) -> [(spec: WeightSpec, tensor: Tensor)] {
        (specs[index] ?? []).map { ($0, model.layers[index].weights[$0.name]!) }
    }
}
