/// The element-wise activations Keras offers for recurrent and dense layers.
enum Activation: Equatable, Sendable {
    case linear, tanh, sigmoid, relu, elu, selu, softplus, softsign, swish, gelu, exponential
    case relu6, leakyRelu
    /// Keras 1/2 and tf_keras: clip(0.2x + 0.5, 0, 1). Keras 3: clip(x/6 + 0.5, 0, 1).
    case hardSigmoid(keras2: Bool)
    /// Softmax over the last axis; only meaningful where a whole vector is at hand.
    case softmax
}
