/// The activations Keras offers for recurrent and dense layers, with Keras's default parameters
/// (celu alpha 1, squareplus b 4, soft_shrink and hard_shrink threshold 0.5). Keras 3 added those
/// after `softmax`; tf_keras has only mish of them.
enum Activation: Equatable, Sendable {
    case linear, tanh, sigmoid, relu, elu, selu, softplus, softsign, swish, gelu, exponential
    case relu6, leakyRelu
    /// Keras 1/2 and tf_keras: clip(0.2x + 0.5, 0, 1). Keras 3: clip(x/6 + 0.5, 0, 1).
    case hardSigmoid(keras2: Bool)
    /// Softmax over the last axis; only meaningful where a whole vector is at hand.
    case softmax
    case celu
    case hardSilu
    case hardTanh
    case hardShrink
    case softShrink
    case tanhShrink
    case sparsePlus
    case sparseSigmoid
    case squareplus
    case mish
    case logSigmoid
    /// log(softmax(x)) over the last axis, computed as x − max − log Σ exp(x − max).
    case logSoftmax
    /// Keras's sparsemax over the last axis (see `ActivationFunctions.swift` for its threshold).
    case sparsemax

    /// The activations that act on whole rows (the last axis), which a recurrent cell's gates are not.
    enum RowWise {
        case softmax, logSoftmax, sparsemax
    }

    /// The row-wise form of the activation; nil for the element-wise ones.
    var rowWise: RowWise? {
        switch self {
        case .softmax: .softmax
        case .logSoftmax: .logSoftmax
        case .sparsemax: .sparsemax
        case .linear, .tanh, .sigmoid, .relu, .elu, .selu, .softplus, .softsign, .swish, .gelu, .exponential, .relu6,
             .leakyRelu, .hardSigmoid,
             .celu,
             .hardSilu,
             .hardTanh,
             .hardShrink,
             .softShrink,
             .tanhShrink,
             .sparsePlus,
             .sparseSigmoid,
             .squareplus,
             .mish,
             .logSigmoid:
            nil
        }
    }

    /// Whether the activation acts on each value alone.
    var isElementwise: Bool { rowWise == nil }
}
