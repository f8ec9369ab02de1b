/// Keras `Bidirectional`: two copies of a recurrent layer on the same input, the backward one
/// with go_backwards flipped; their outputs merged (concat, sum, mul, ave) or returned apart
/// (merge_mode None). Weights: the forward cell's, then the backward cell's.
public struct Bidirectional: LayerDefinition {
    public static let className = "Bidirectional"

    public enum MergeMode: String, Sendable, CaseIterable {
        case concat, sum, mul, ave
    }

    public var forward: any RecurrentLayerDefinition
    public var backward: any RecurrentLayerDefinition
    /// nil is Keras's merge_mode=None: the two directions are separate outputs.
    public var mergeMode: MergeMode?

    public init(config: KerasConfig) throws {
        switch config.value("merge_mode") {
        case nil, .null?: mergeMode = nil
        case .string(let name)?:
            guard let mode = MergeMode(rawValue: name) else {
                throw config.error("merge_mode",
                                   "invalid merge mode '\(name)', expected one of concat, sum, mul, ave, None")
            }
            mergeMode = mode
        default: throw config.error("merge_mode", "merge_mode is not a string")
        }
        guard let wrapped = try config.nestedLayer("layer") else {
            throw config.error("layer", "Bidirectional needs a 'layer'")
        }
        forward = try Self.recurrent(wrapped.className, wrapped.config)
        // tf.keras stores the original layer and derives the backward copy; Keras 3 stores both.
        if let explicit = try config.nestedLayer("backward_layer") {
            backward = try Self.recurrent(explicit.className, explicit.config)
        } else {
            backward = forward
            backward.options.goBackwards.toggle()
        }
        guard forward.options.goBackwards != backward.options.goBackwards else {
            throw config.error("backward_layer", "forward and backward layers must differ in go_backwards")
        }
        guard type(of: forward) == type(of: backward),
              forward.options.units == backward.options.units,
              forward.options.returnSequences == backward.options.returnSequences,
              forward.options.returnState == backward.options.returnState
        else {
            throw config.error("backward_layer", "backward layer does not mirror the forward layer")
        }
    }

    private static func recurrent(_ className: String, _ config: KerasConfig) throws -> any RecurrentLayerDefinition {
        let decoded = try LayerRegistry.decode(className: className, config: config)
        guard let recurrent = decoded as? any RecurrentLayerDefinition else {
            throw RNNKitError(.invalidModel, "Bidirectional wraps '\(className)', expected SimpleRNN, LSTM or GRU",
                              location: config.pointer)
        }
        return recurrent
    }

    public func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        // Initial states are split in halves between the two directions.
        let states = Array(inputs.dropFirst())
        let half = states.count / 2
        let forwardShapes = try forward.outputShapes(for: [inputs[0]] + states.prefix(half))
        let backwardShapes = try backward.outputShapes(for: [inputs[0]] + states.suffix(states.count - half))
        var output = forwardShapes[0]
        let stateShapes = Array(forwardShapes.dropFirst() + backwardShapes.dropFirst())
        guard let mergeMode else { return [forwardShapes[0], backwardShapes[0]] + stateShapes }
        if mergeMode == .concat { output[output.count - 1] = 2 * forward.options.units }
        return [output] + stateShapes
    }

    public func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] {
        let inputDim = try ShapeCheck.features(inputs[0], Self.className)
        return forward.cellWeightSpecs(inputDim: inputDim, namePrefix: "forward.",
                                       keras3Group: "forward_layer/cell/vars")
            + backward.cellWeightSpecs(inputDim: inputDim, namePrefix: "backward.",
                                       keras3Group: "backward_layer/cell/vars")
    }

    public func kerasConfig() -> JSONObject {
        func wrapped(_ layer: any RecurrentLayerDefinition) -> JSONValue {
            ["class_name": .string(layer.className), "config": .object(layer.kerasConfig())]
        }
        return JSONObject([
            ("merge_mode", mergeMode.map { .string($0.rawValue) } ?? .null),
            ("layer", wrapped(forward)),
            ("backward_layer", wrapped(backward)),
        ])
    }
}
