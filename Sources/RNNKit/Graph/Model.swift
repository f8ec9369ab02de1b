/// One tensor in the layer graph: output `index` of call `node` of layer `layer`, as Keras's
/// `keras_history` names it. A model's inputs and outputs are named this way.
public struct TensorRef: Hashable, Sendable, CustomStringConvertible {
    /// The name of the layer that makes the tensor.
    public var layer: String
    /// Which call of that layer (0 unless the layer is shared).
    public var node: Int
    /// Which output of that call (recurrent layers with `return_state` have several).
    public var index: Int

    /// A reference to output `index` of call `node` of `layer`.
    public init(layer: String, node: Int = 0, index: Int = 0) {
        self.layer = layer
        self.node = node
        self.index = index
    }

    /// `layer[node][index]`.
    public var description: String { "\(layer)[\(node)][\(index)]" }
}

/// One call of a layer: the tensors it was applied to. For recurrent layers the sequence comes
/// first, then any `initial_state` tensors.
struct LayerNode: Equatable, Sendable {
    var inputs: [TensorRef]
    /// Keras masks passed explicitly (`mask=`), one per leading input (nil: that input has
    /// none); empty when the call passes none and masks ride along with the inputs.
    var masks: [TensorRef?] = []
}

/// A Sequential or Functional model that the file uses as a layer of the outer one. RNNKit
/// flattens it into the outer graph when reading (its layers are named `<model>.<layer>`), so that
/// inference, shapes, layouts and writers see plain layers; this keeps what the Keras weight
/// layouts and the summary need to know of it.
struct NestedOrigin: Equatable, Sendable {
    /// The nested model's flattened name (`encoder`, or `middle.inner` for a model nested in
    /// `middle`), which its layers' names start with.
    var model: String
    /// Its Keras class: `Sequential` or `Functional`; `TimeDistributed` for the wrapper of a
    /// model, whose layers were each wrapped in a TimeDistributed of their own.
    var className: String
    /// Its (first) output in the flattened graph, whose shape the summary shows.
    var output: TensorRef
}

/// A layer of a model: what Keras calls it, and the weights bound to it.
public struct ModelLayer: Sendable {
    /// The layer's name in the file, unique within the model.
    public internal(set) var name: String
    /// The Keras `class_name` as the file gives it (`LSTM`, `Dense`...), also for a class RNNKit
    /// does not support.
    public internal(set) var className: String
    /// Whether Keras trains its weights; the summary counts them as trainable or not.
    public internal(set) var trainable: Bool = true
    /// Bound weights by the keras layout's names (`kernel`, `recurrent_kernel`, `bias`,
    /// `forward.kernel`, `embeddings`...; docs/layouts.md). Empty until weights are bound, and for
    /// layers without weights.
    public internal(set) var weights: [String: Tensor] = [:]
    /// What kind of layer it is, with its config; nil when the config could not be decoded
    /// (the reason is among the model's problems).
    var kind: LayerKind?
    /// The layer's calls, in the order the file lists them.
    var nodes: [LayerNode] = []
    /// Where the layer's config sits in its file (a JSON pointer).
    var configPointer: String = ""
    /// The models this layer belonged to when the file nests them, outermost first (empty for
    /// the outer model's own layers): a layer of a model nested two deep has two.
    var nesting: [NestedOrigin] = []
    /// The outermost nested model this layer belonged to, which the summary shows as one row.
    var nestedIn: NestedOrigin? { nesting.first }

    /// Whether this is an `InputLayer`, which declares one of the model's inputs.
    public var isInput: Bool { kind?.inputLayer != nil }
}

/// Something wrong (or worth knowing) about a model, with the place it was found.
public struct Problem: Equatable, Sendable, CustomStringConvertible {
    /// An error stops the model from running or being written; a warning does not.
    public enum Severity: String, Sendable { case error, warning }
    /// Whether the problem stops the model.
    public internal(set) var severity: Severity
    /// Where: an HDF5 path, a JSON pointer, a layer name or `layer.weight`.
    public internal(set) var location: String
    /// What is wrong, in one line.
    public internal(set) var message: String

    init(_ severity: Severity, _ location: String, _ message: String) {
        self.severity = severity
        self.location = location
        self.message = message
    }

    init(_ error: RNNKitError, at fallbackLocation: String) {
        self.init(.error, error.location ?? fallbackLocation, error.message)
    }

    /// `error: location: message`, on one line whatever the file held.
    public var description: String { oneLine("\(severity.rawValue): \(location): \(message)") }
}

/// A Keras model as RNNKit holds it: the layers in Keras's `model.layers` order (InputLayers
/// included, also for Sequential models, whose summary hides them), the graph's inputs and
/// outputs, and whatever problems were found while reading it.
///
/// Load one with ``load(contentsOf:weights:limits:)``, run it with ``Predictor``, write it with
/// ``write(to:layout:replacing:inputs:opset:externalData:)``.
public struct Model: Sendable {
    /// The model's name in the file (`sequential`, `functional`, or the name it was given).
    public internal(set) var name: String
    /// Whether Keras saved it as a `Sequential` model.
    public internal(set) var isSequential: Bool
    /// The layers, in Keras's `model.layers` order, InputLayers included.
    public internal(set) var layers: [ModelLayer]
    /// The model's inputs, in the order `predict` takes them.
    public internal(set) var inputs: [TensorRef]
    /// The model's outputs, in the order `predict` returns them.
    public internal(set) var outputs: [TensorRef]
    /// The Keras version that wrote the file, e.g. "2.21.0" or "3.15.1".
    public internal(set) var kerasVersion: String
    /// The file (or files) the model was read from, for messages.
    public internal(set) var source: String = ""
    /// Every inconsistency found while reading: errors stop the model, warnings do not.
    public internal(set) var problems: [Problem] = []

    /// The major version of the Keras that wrote the file (2 when the file does not say).
    public var kerasMajorVersion: Int { kerasMajor(kerasVersion) }

    /// The position of the layer named `name` in ``layers``.
    public func layerIndex(named name: String) -> Int? {
        layers.firstIndex { $0.name == name }
    }

    /// The problems that stop the model from running or being written.
    public var errors: [Problem] { problems.filter { $0.severity == .error } }
    /// The problems that do not.
    public var warnings: [Problem] { problems.filter { $0.severity == .warning } }
}

/// The major version in a Keras version string; files that do not say are Keras 2.
func kerasMajor(_ version: String) -> Int {
    Int(version.split(separator: ".").first ?? "") ?? 2
}
