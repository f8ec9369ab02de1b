/// Keras `Activation` layer: an activation on its own (softmax acts on the last axis).
struct ActivationLayer: Equatable, Sendable {
    var activation: Activation

    func forward(_ input: LayerValue) -> LayerValue {
        var value = input
        activation.apply(to: &value.tensor.scalars, width: value.tensor.shape.last ?? 1)
        return value
    }
}
