/// What one Keras layer class means to RNNKit: how its config decodes, which weights it owns
/// and with which shapes, and what shapes it produces. One type per layer kind, one file each.
public protocol LayerDefinition: Sendable {
    /// The Keras `class_name` this definition decodes.
    static var className: String { get }
    /// Decodes the layer's Keras `config` object, validating every field that changes the maths.
    init(config: KerasConfig) throws
    /// Output shapes for the given input shapes (the batch dimension included, as nil).
    /// Inputs beyond the first are, for recurrent layers, initial states.
    func outputShapes(for inputs: [Shape]) throws -> [Shape]
    /// The weights this layer owns for these input shapes, in Keras's order.
    func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec]
    /// The Keras `config` object that re-creates this layer (name and trainable are added by the caller).
    func kerasConfig() -> JSONObject
    /// Inference: the layer's outputs for these inputs, with bound weights named as in
    /// `weightSpecs`. Inputs have already been checked against `outputShapes`.
    func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue]
}

extension LayerDefinition {
    public func weightSpecs(for inputs: [Shape]) throws -> [WeightSpec] { [] }
    public var className: String { Self.className }
}

/// One weight a layer owns, named as in the keras layout (layouts.md): `kernel`,
/// `recurrent_kernel`, `bias`, `forward.kernel`, `embeddings`...
public struct WeightSpec: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    /// Where Keras 3 stores it below the layer's group in a `.weights.h5` file, e.g. `cell/vars/0`.
    public var keras3Path: String

    public init(name: String, shape: [Int], keras3Path: String) {
        self.name = name
        self.shape = shape
        self.keras3Path = keras3Path
    }
}

/// Every layer class RNNKit understands, keyed by Keras `class_name`.
public enum LayerRegistry {
    public static let definitions: [String: any LayerDefinition.Type] = {
        let all: [any LayerDefinition.Type] = [
            InputLayer.self, SimpleRNN.self, LSTM.self, GRU.self, Bidirectional.self,
            Dense.self, Embedding.self, TimeDistributed.self, Masking.self,
            Dropout.self, SpatialDropout1D.self, GaussianNoise.self, ActivationLayer.self,
            RepeatVector.self, Flatten.self, Concatenate.self, Add.self,
            GlobalAveragePooling1D.self, GlobalMaxPooling1D.self,
        ]
        return Dictionary(uniqueKeysWithValues: all.map { ($0.className, $0) })
    }()

    /// Decodes a layer config, or throws naming the unknown class.
    public static func decode(className: String, config: KerasConfig) throws -> any LayerDefinition {
        guard let definition = definitions[className] else {
            throw RNNKitError(.invalidModel,
                              "unsupported layer class '\(className)'",
                              location: config.pointer)
        }
        return try definition.init(config: config)
    }
}

/// Shared input checks, so that every layer words its shape errors the same way.
enum ShapeCheck {
    static func single(_ inputs: [Shape], _ layer: String) throws -> Shape {
        guard inputs.count == 1 else {
            throw RNNKitError(.invalidModel, "\(layer) takes 1 input, got \(inputs.count)")
        }
        return inputs[0]
    }

    static func rank(_ shape: Shape, _ expected: Int, _ layer: String) throws {
        guard shape.count == expected else {
            throw RNNKitError(.invalidModel,
                              "\(layer) expects a rank-\(expected) input, got shape \(formatShape(shape))")
        }
    }

    /// The last dimension, which weight shapes depend on, so it must be known.
    static func features(_ shape: Shape, _ layer: String) throws -> Int {
        guard let last = shape.last, let features = last else {
            throw RNNKitError(.invalidModel,
                              "\(layer) needs a known last dimension, got shape \(formatShape(shape))")
        }
        return features
    }
}
