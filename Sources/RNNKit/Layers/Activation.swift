import Foundation

/// The element-wise activations Keras offers for recurrent and dense layers.
public enum Activation: Equatable, Sendable {
    case linear, tanh, sigmoid, relu, elu, selu, softplus, softsign, swish, gelu, exponential
    case relu6, leakyRelu
    /// Keras 1/2 and tf_keras: clip(0.2x + 0.5, 0, 1). Keras 3: clip(x/6 + 0.5, 0, 1).
    case hardSigmoid(keras2: Bool)
    /// Softmax over the last axis; only meaningful where a whole vector is at hand.
    case softmax

    public init?(kerasName: String, kerasMajorVersion: Int) {
        switch kerasName {
        case "linear", "None": self = .linear
        case "tanh": self = .tanh
        case "sigmoid": self = .sigmoid
        case "relu": self = .relu
        case "elu": self = .elu
        case "selu": self = .selu
        case "softplus": self = .softplus
        case "softsign": self = .softsign
        case "swish", "silu": self = .swish
        case "gelu": self = .gelu
        case "exponential": self = .exponential
        case "relu6": self = .relu6
        case "leaky_relu": self = .leakyRelu
        case "hard_sigmoid": self = .hardSigmoid(keras2: kerasMajorVersion < 3)
        case "softmax": self = .softmax
        default: return nil
        }
    }

    /// The name Keras uses in configs.
    public var kerasName: String {
        switch self {
        case .linear: "linear"
        case .tanh: "tanh"
        case .sigmoid: "sigmoid"
        case .relu: "relu"
        case .elu: "elu"
        case .selu: "selu"
        case .softplus: "softplus"
        case .softsign: "softsign"
        case .swish: "silu"
        case .gelu: "gelu"
        case .exponential: "exponential"
        case .relu6: "relu6"
        case .leakyRelu: "leaky_relu"
        case .hardSigmoid: "hard_sigmoid"
        case .softmax: "softmax"
        }
    }
}
