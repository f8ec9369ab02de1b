/// One tensor in the layer graph: output `index` of call `node` of layer `layer`, as Keras's
/// `keras_history` names it.
public struct TensorRef: Hashable, Sendable, CustomStringConvertible {
    public var layer: String
    public var node: Int
    public var index: Int

    public init(layer: String, node: Int = 0, index: Int = 0) {
        self.layer = layer
        self.node = node
        self.index = index
    }

    public var description: String { "\(layer)[\(node)][\(index)]" }
}

/// One call of a layer: the tensors it was applied to. For recurrent layers the sequence comes
/// first, then any `initial_state` tensors.
public struct LayerNode: Equatable, Sendable {
    public var inputs: [TensorRef]
    public init(inputs: [TensorRef]) { self.inputs = inputs }
}

/// A layer of a model: what Keras calls it, how it is defined, where it is called, and the
/// weights bound to it (named as in the keras layout).
public struct ModelLayer: Sendable {
    public var name: String
    public var className: String
    public var trainable: Bool
    /// What kind of layer it is, with its config; nil when the config could not be decoded
    /// (the reason is among the model's problems).
    var kind: LayerKind?
    public var nodes: [LayerNode]
    /// Bound weights by spec name (`kernel`, `forward.bias`...).
    public var weights: [String: Tensor]
    /// Where the layer's config sits in its file (a JSON pointer).
    public var configPointer: String

    init(name: String, className: String, trainable: Bool = true,
                kind: LayerKind?, nodes: [LayerNode] = [],
                weights: [String: Tensor] = [:], configPointer: String = "") {
        self.name = name
        self.className = className
        self.trainable = trainable
        self.kind = kind
        self.nodes = nodes
        self.weights = weights
        self.configPointer = configPointer
    }

    public var isInput: Bool { kind?.inputLayer != nil }
}

/// Something wrong (or worth knowing) about a model, with the place it was found.
public struct Problem: Equatable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }
    public var severity: Severity
    public var location: String
    public var message: String

    public init(_ severity: Severity, _ location: String, _ message: String) {
        self.severity = severity
        self.location = location
        self.message = message
    }

    init(_ error: RNNKitError, at fallbackLocation: String) {
        self.init(.error, error.location ?? fallbackLocation, error.message)
    }

    public var description: String { oneLine("\(severity.rawValue): \(location): \(message)") }
}

/// A Keras model as RNNKit holds it: the layers in Keras's `model.layers` order (InputLayers
/// included, also for Sequential models, whose summary hides them), the graph's inputs and
/// outputs, and whatever problems were found while reading it.
public struct Model: Sendable {
    public var name: String
    public var isSequential: Bool
    public var layers: [ModelLayer]
    public var inputs: [TensorRef]
    public var outputs: [TensorRef]
    /// The Keras version that wrote the file, e.g. "2.21.0" or "3.15.1".
    public var kerasVersion: String
    /// The file (or files) the model was read from, for messages.
    public var source: String
    public var problems: [Problem]

    public init(name: String, isSequential: Bool, layers: [ModelLayer], inputs: [TensorRef],
                outputs: [TensorRef], kerasVersion: String, source: String = "", problems: [Problem] = []) {
        self.name = name
        self.isSequential = isSequential
        self.layers = layers
        self.inputs = inputs
        self.outputs = outputs
        self.kerasVersion = kerasVersion
        self.source = source
        self.problems = problems
    }

    public var kerasMajorVersion: Int { kerasMajor(kerasVersion) }

    public func layerIndex(named name: String) -> Int? {
        layers.firstIndex { $0.name == name }
    }

    public var errors: [Problem] { problems.filter { $0.severity == .error } }
    public var warnings: [Problem] { problems.filter { $0.severity == .warning } }
}

/// The major version in a Keras version string; files that do not say are Keras 2.
func kerasMajor(_ version: String) -> Int {
    Int(version.split(separator: ".").first ?? "") ?? 2
}
