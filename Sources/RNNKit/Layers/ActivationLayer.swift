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

    public func forward(_ inputs: [LayerValue], weights: [String: Tensor]) throws -> [LayerValue] {
        var value = inputs[0]
        activation.apply(to: &value.tensor.scalars, width: value.tensor.shape.last ?? 1)
        return [value]
    }
}
