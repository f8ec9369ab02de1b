/// The layer graph checked and resolved: every reference points at an existing tensor, there
/// are no cycles, every output is computed from the inputs, and every tensor has a shape.
/// Problems are collected, not thrown, so that `validate` can list all of them.
struct GraphAnalysis: Sendable {
    /// Layer calls in an order where each call's inputs are computed before it.
    private(set) var order: [NodeID] = []
    /// Output shapes of each call, by layer name and node index.
    private(set) var outputShapes: [NodeID: [Shape]] = [:]
    private(set) var problems: [Problem] = []

    struct NodeID: Hashable, Sendable {
        var layer: Int
        var node: Int
    }

    init(_ model: Model) {
        var state: [NodeID: VisitState] = [:]
        let layerIndices = Dictionary(model.layers.enumerated().map { ($1.name, $0) },
                                      uniquingKeysWith: { first, _ in first })
        for (index, layer) in model.layers.enumerated() where layer.isInput {
            resolveInput(model, index: index, state: &state)
        }
        for output in model.outputs {
            visit(model, output, from: "/outputs", layerIndices: layerIndices, state: &state)
        }
        // A layer that no output depends on is not run; Keras would keep it, so say so.
        for (index, layer) in model.layers.enumerated() where !layer.isInput {
            let used = (0..<max(layer.nodes.count, 1)).contains { state[NodeID(layer: index, node: $0)] == .done }
            if !used && !state.keys.contains(where: { $0.layer == index }) {
                problems.append(Problem(.warning, layer.name, "layer is not connected to any model output"))
            }
        }
        if model.outputs.isEmpty {
            problems.append(Problem(.error, "/outputs", "model has no outputs"))
        }
        if model.inputs.isEmpty {
            problems.append(Problem(.error, "/inputs", "model has no inputs"))
        }
        for input in model.inputs where !(layerIndices[input.layer].map { model.layers[$0].isInput } ?? false) {
            problems.append(Problem(.error, "/inputs", "model input '\(input.layer)' is not an InputLayer"))
        }
    }

    private enum VisitState { case visiting, done, failed }

    private mutating func resolveInput(_ model: Model, index: Int, state: inout [NodeID: VisitState]) {
        let id = NodeID(layer: index, node: 0)
        guard let input = model.layers[index].kind?.inputLayer else { return }
        outputShapes[id] = [input.batchShape]
        state[id] = .done
        order.append(id)
    }

    /// Depth-first resolution of the call that produces `ref`. Returns its shape, or nil when
    /// it cannot be computed (the reason is recorded once, where it arises).
    @discardableResult
    private mutating func visit(_ model: Model, _ ref: TensorRef, from location: String,
                                layerIndices: [String: Int], state: inout [NodeID: VisitState]) -> Shape? {
        guard let layerIndex = layerIndices[ref.layer] else {
            // A nested model's calls were flattened into its layers' calls; what is left names one
            // it does not make (numbered as in the file).
            let isNestedModel = model.layers.contains { $0.nesting.contains { $0.model == ref.layer } }
            problems.append(Problem(.error, location, isNestedModel
                ? "reference to call \(ref.node), output \(ref.index) of nested model '\(ref.layer)', which it does not make"
                : "reference to unknown layer '\(ref.layer)'"))
            return nil
        }
        let layer = model.layers[layerIndex]
        let id = NodeID(layer: layerIndex, node: ref.node)
        // An InputLayer has exactly one call, made by `resolveInput`, whatever its config lists.
        let calls = layer.isInput ? 1 : layer.nodes.count
        guard ref.node >= 0, ref.node < calls else {
            problems.append(Problem(.error, location,
                                    "reference to call \(ref.node) of layer '\(ref.layer)', which has \(calls)"))
            return nil
        }
        switch state[id] {
        case .visiting?:
            problems.append(Problem(.error, layer.name, "the layer graph has a cycle through '\(layer.name)'"))
            state[id] = .failed
            return nil
        case .failed?:
            return nil
        case .done?:
            return shape(of: ref, id: id, layer: layer, location: location)
        case nil:
            // An InputLayer left unresolved failed to parse; that problem is already recorded.
            guard !layer.isInput else { return nil }
        }
        state[id] = .visiting
        var inputShapes: [Shape] = []
        var inputsKnown = true
        for (position, input) in layer.nodes[ref.node].inputs.enumerated() {
            let inputLocation = "\(layer.name): input \(position) (\(input.layer))"
            if let shape = visit(model, input, from: inputLocation, layerIndices: layerIndices, state: &state) {
                inputShapes.append(shape)
            } else {
                inputsKnown = false
            }
        }
        for (position, mask) in layer.nodes[ref.node].masks.enumerated() {
            guard let mask else { continue }
            let maskLocation = "\(layer.name): mask \(position) (\(mask.layer))"
            guard let shape = visit(model, mask, from: maskLocation, layerIndices: layerIndices, state: &state) else {
                inputsKnown = false
                continue
            }
            // A Keras mask has one entry per step of a [batch, steps, ...] input.
            if position < inputShapes.count, inputShapes[position].count < 2 || shape.count != 2
                || !dimensionsAgree(shape[1], inputShapes[position][1]) {
                problems.append(Problem(.error, maskLocation, "mask of shape \(formatShape(shape)) does not fit "
                                        + "input shape \(formatShape(inputShapes[position]))"))
                inputsKnown = false
            }
        }
        if state[id] == .failed { return nil }
        guard inputsKnown, let kind = layer.kind else {
            state[id] = .failed
            return nil
        }
        if layer.nodes[ref.node].inputs.isEmpty {
            problems.append(Problem(.error, layer.name, "layer is called on no inputs"))
            state[id] = .failed
            return nil
        }
        do {
            outputShapes[id] = try kind.outputShapes(for: inputShapes)
        } catch let error as RNNKitError {
            problems.append(Problem(.error, layer.name, error.message))
            state[id] = .failed
            return nil
        } catch {
            problems.append(Problem(.error, layer.name, "\(error)"))
            state[id] = .failed
            return nil
        }
        state[id] = .done
        order.append(id)
        return shape(of: ref, id: id, layer: layer, location: location)
    }

    private mutating func shape(of ref: TensorRef, id: NodeID, layer: ModelLayer, location: String) -> Shape? {
        guard let shapes = outputShapes[id], ref.index >= 0, ref.index < shapes.count else {
            problems.append(Problem(.error, location,
                                    "reference to output \(ref.index) of '\(layer.name)', which has \(outputShapes[id]?.count ?? 0)"))
            return nil
        }
        return shapes[ref.index]
    }

    /// The shapes a layer's first call received, which fix its weight shapes.
    func inputShapes(ofLayer index: Int, in model: Model) -> [Shape]? {
        let layer = model.layers[index]
        // A call on no inputs is reported by the analysis; it fixes no weight shapes.
        guard let node = layer.nodes.first, !node.inputs.isEmpty else { return nil }
        var shapes: [Shape] = []
        for input in node.inputs {
            guard let producer = model.layerIndex(named: input.layer),
                  let outputs = outputShapes[NodeID(layer: producer, node: input.node)],
                  input.index < outputs.count
            else { return nil }
            shapes.append(outputs[input.index])
        }
        return shapes
    }

    func shape(of ref: TensorRef, in model: Model) -> Shape? {
        guard let producer = model.layerIndex(named: ref.layer),
              let outputs = outputShapes[NodeID(layer: producer, node: ref.node)],
              ref.index < outputs.count
        else { return nil }
        return outputs[ref.index]
    }
}
