/// Keras `InputLayer`: declares a model input's shape (batch included) and dtype.
public struct InputLayer: LayerDefinition {
    public static let className = "InputLayer"
    public var batchShape: Shape
    /// "float32" or an integer type for token ids.
    public var dtype: String

    public init(config: KerasConfig) throws {
        // Keras 3 writes batch_shape; Keras 2 batch_input_shape.
        guard let shape = try config.shape("batch_shape") ?? config.shape("batch_input_shape") else {
            throw config.error("batch_shape", "InputLayer has no batch_shape")
        }
        guard !shape.isEmpty else { throw config.error("batch_shape", "InputLayer shape is empty") }
        batchShape = shape
        if case .object(let policy)? = config.value("dtype") {
            dtype = policy["config"]?["name"]?.stringValue ?? "float32"
        } else {
            dtype = try config.string("dtype", default: "float32")
        }
    }

    public init(batchShape: Shape, dtype: String = "float32") {
        self.batchShape = batchShape
        self.dtype = dtype
    }

    public var takesTokenIDs: Bool { dtype.hasPrefix("int") || dtype.hasPrefix("uint") }

    public func outputShapes(for inputs: [Shape]) throws -> [Shape] { [batchShape] }

    public func kerasConfig() -> JSONObject {
        JSONObject([("batch_shape", .array(batchShape.map { $0.map(JSONValue.int) ?? .null })),
                    ("dtype", .string(dtype))])
    }
}

extension InputLayer {
    public func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] { inputs }
}
