/// A model ready to run: checked once at creation, then `predict` as often as wanted, from any
/// number of threads at once (it holds no mutable state).
public final class Predictor: Sendable {
    public let model: Model
    let analysis: GraphAnalysis

    /// What one model input expects: its InputLayer's name, shape and whether it takes token ids.
    public struct InputSpec: Sendable, Equatable {
        public var name: String
        public var shape: Shape
        public var takesTokenIDs: Bool
    }

    public let inputSpecs: [InputSpec]
    /// The recurrent layers' kernels in the runtime's packed layout, made by the first prediction.
    let packedMatrices = PackedMatrixCache()

    /// Refuses a model with any error among its problems (see `Model.checked()`).
    public init(_ model: Model) throws {
        self.model = try model.checked()
        analysis = GraphAnalysis(model)
        inputSpecs = try model.inputs.map { reference in
            guard let index = model.layerIndex(named: reference.layer),
                  let input = model.layers[index].definition as? InputLayer
            else { throw RNNKitError(.invalidModel, "model input '\(reference.layer)' is not an InputLayer") }
            return InputSpec(name: reference.layer, shape: input.batchShape, takesTokenIDs: input.takesTokenIDs)
        }
    }

    public convenience init(contentsOf path: String, weights: String? = nil) throws {
        try self.init(Model.load(contentsOf: path, weights: weights))
    }

    /// Runs the model on one tensor per input (in model input order; token ids as whole
    /// numbers) and returns one tensor per model output.
    public func predict(_ inputs: [Tensor]) throws -> [Tensor] {
        var noCarries: [String: RecurrentCarry]?
        return try run(inputs, carries: &noCarries)
    }

    /// Evaluates the graph. With `carries`, recurrent layers start from (and update) the state
    /// a stream carried over from its previous chunk.
    func run(_ inputs: [Tensor], carries: inout [String: RecurrentCarry]?) throws -> [Tensor] {
        try PackedMatrixCache.$current.withValue(packedMatrices) {
            try evaluate(inputs, carries: &carries)
        }
    }

    private func evaluate(_ inputs: [Tensor], carries: inout [String: RecurrentCarry]?) throws -> [Tensor] {
        // A stream's chunks may be shorter than a declared sequence length.
        try checkInputs(inputs, anyLength: carries != nil)
        var values: [TensorRef: LayerValue] = [:]
        for node in analysis.order {
            let layer = model.layers[node.layer]
            guard let definition = layer.definition else { continue }
            let outputs: [LayerValue]
            if let position = model.inputs.firstIndex(where: { $0.layer == layer.name }) {
                outputs = [LayerValue(inputs[position])]
            } else {
                let arguments = try layer.nodes[node.node].inputs.map { reference in
                    guard let value = values[reference] else {
                        throw RNNKitError(.invalidModel, "\(layer.name): input \(reference) was not computed")
                    }
                    return value
                }
                do {
                    if carries != nil, let recurrent = definition as? any RecurrentLayerDefinition {
                        let result = try recurrent.forward(arguments, weights: layer.weights,
                                                           carry: carries?[layer.name])
                        carries?[layer.name] = result.carry
                        outputs = result.outputs
                    } else {
                        outputs = try definition.forward(arguments, weights: layer.weights)
                    }
                } catch let error as RNNKitError {
                    throw RNNKitError(error.kind, error.message, location: error.location ?? layer.name)
                }
            }
            for (index, output) in outputs.enumerated() {
                values[TensorRef(layer: layer.name, node: node.node, index: index)] = output
            }
        }
        return try model.outputs.map { reference in
            guard let value = values[reference] else {
                throw RNNKitError(.invalidModel, "model output \(reference) was not computed")
            }
            return value.tensor
        }
    }

    /// Every input present, with the model's rank, known dimensions and one batch size.
    func checkInputs(_ inputs: [Tensor], anyLength: Bool) throws {
        guard inputs.count == inputSpecs.count else {
            throw RNNKitError(.badUsage, "the model takes \(inputSpecs.count) input(s), got \(inputs.count)")
        }
        for (spec, tensor) in zip(inputSpecs, inputs) {
            let expected = formatShape(spec.shape)
            guard tensor.rank == spec.shape.count,
                  zip(spec.shape, tensor.shape).enumerated().allSatisfy({ axis, pair in
                      pair.0 == nil || pair.0 == pair.1 || (anyLength && axis == 1)
                  })
            else {
                throw RNNKitError(.badUsage,
                                  "input '\(spec.name)' expects shape \(expected), got \(formatShape(tensor.shape))")
            }
            guard tensor.shape.allSatisfy({ $0 > 0 }) else {
                throw RNNKitError(.badUsage, "input '\(spec.name)' is empty: shape \(formatShape(tensor.shape))")
            }
        }
        if Set(inputs.map { $0.shape[0] }).count > 1 {
            throw RNNKitError(.badUsage, "inputs disagree on the batch size: \(inputs.map { $0.shape[0] })")
        }
    }
}
