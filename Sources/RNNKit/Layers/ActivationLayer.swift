/// Keras `Activation` layer: an activation on its own (softmax acts on the last axis).
public struct ActivationLayer: LayerDefinition {
    public static let className = "Activation"
    public var activation: Activation

    public init(config: KerasConfig) throws {
        activation = try config.activation("activation", default: "linear")
    }

    public func outputShapes(for inputs: [Shape]) throws -> [Shape] {
        [try ShapeCheck.single(inputs, Self.className)]
    }

    public func kerasConfig() -> JSONObject { JSONObject([("activation", .string(activation.kerasName))]) }
}
