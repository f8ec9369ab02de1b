internal import CRNNKitKernels

extension Activation {
    /// Applies the activation to `count` contiguous values in place (element-wise kinds only).
    /// tanh and sigmoid, the gates' activations, run through vectorised C kernels that stay
    /// within 4e-7 of libm; the rest call libm per value.
    func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .linear: return
        case .tanh: rnnkit_tanh(values, count)
        case .sigmoid: rnnkit_sigmoid(values, count)
        default: for index in 0..<count { values[index] = self(values[index]) }
        }
    }
}
