internal import CRNNKitKernels

extension Activation {
    /// Applies the activation to `count` contiguous values in place (element-wise kinds only).
    /// tanh and sigmoid, the gates' activations, run through vectorised C kernels that stay
    /// within 4e-7 of libm; relu is a loop the compiler vectorises; the rest call libm per value.
    func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .linear: return
        case .tanh: rnnkit_tanh(values, count)
        case .sigmoid: rnnkit_sigmoid(values, count)
        case .relu: for index in 0..<count { values[index] = max(values[index], 0) }
        default: for index in 0..<count { values[index] = self(values[index]) }
        }
    }

    /// `rows` rows of `width` values at `values`, activated in place: the row-wise kinds row by
    /// row, the element-wise ones as one stretch (`apply(_:count:)`).
    func apply(_ values: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        guard let rowWise else { return apply(values, count: rows * width) }
        for row in 0..<rows { rowWise.apply(to: UnsafeMutableBufferPointer(start: values + row * width, count: width)) }
    }
}
