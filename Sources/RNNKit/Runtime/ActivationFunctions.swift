import Foundation
internal import CRNNKitKernels

extension Activation {
    /// The activation of one value, with Keras's constants and its TensorFlow backend's formulas.
    /// The row-wise activations (softmax, log_softmax, sparsemax) are handled by `apply(to:width:)`.
    @inline(__always)
    func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .linear, .softmax, .logSoftmax, .sparsemax: return x
        case .tanh: return Foundation.tanh(x)
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .relu: return max(x, 0)
        case .elu: return x > 0 ? x : Foundation.expm1(x)
        case .selu:
            let alpha: Float = 1.6732632423543772, scale: Float = 1.0507009873554805
            return scale * (x > 0 ? x : alpha * Foundation.expm1(x))
        case .softplus: return Self.logOnePlusExp(x)
        case .softsign: return x / (1 + abs(x))
        case .swish: return x / (1 + Foundation.exp(-x))
        case .gelu: return 0.5 * x * (1 + Foundation.erf(x / Float(2).squareRoot()))
        case .exponential: return Foundation.exp(x)
        case .relu6: return min(max(x, 0), 6)
        case .leakyRelu: return x >= 0 ? x : 0.2 * x
        case .hardSigmoid(let keras2): return min(max(keras2 ? 0.2 * x + 0.5 : x / 6 + 0.5, 0), 1)
        // max(x, 0) + alpha · expm1(min(x, 0) / alpha), alpha 1.
        case .celu: return max(x, 0) + Foundation.expm1(min(x, 0))
        case .hardSilu: return x * Activation.hardSigmoid(keras2: false)(x)
        case .hardTanh: return min(max(x, -1), 1)
        case .hardShrink: return abs(x) > 0.5 ? x : 0
        case .softShrink: return x > 0.5 ? x - 0.5 : (x < -0.5 ? x + 0.5 : 0)
        case .tanhShrink: return x - Foundation.tanh(x)
        case .sparsePlus: return x <= -1 ? 0 : (x < 1 ? 0.25 * (x + 1) * (x + 1) : x)
        case .sparseSigmoid: return x <= -1 ? 0 : (x >= 1 ? 1 : 0.5 * (x + 1))
        case .squareplus: return (x + (x * x + 4).squareRoot()) / 2
        case .mish: return x * Foundation.tanh(Self.logOnePlusExp(x))
        case .logSigmoid: return -Self.logOnePlusExp(-x)
        }
    }

    /// log(1 + eˣ) without overflow.
    @inline(__always)
    private static func logOnePlusExp(_ x: Float) -> Float {
        max(x, 0) + Foundation.log1p(Foundation.exp(-abs(x)))
    }

    /// Applies the activation in place; the row-wise ones act on each row of `width` values
    /// (`apply(_:rows:width:)`: tanh and sigmoid through the vectorised kernels the cells use).
    func apply(to values: inout [Float], width: Int) {
        guard self != .linear, !values.isEmpty, width > 0 else { return }
        values.withUnsafeMutableBufferPointer { apply($0.baseAddress!, rows: $0.count / width, width: width) }
    }
}

extension Activation.RowWise {
    func apply(to row: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .softmax:
            rnnkit_softmax(row.baseAddress, 1, row.count)
        case .logSoftmax:
            let largest = row.max() ?? 0
            var total: Float = 0
            for value in row { total += Foundation.exp(value - largest) }
            let logTotal = Foundation.log(total)
            for index in row.indices { row[index] = row[index] - largest - logTotal }
        case .sparsemax:
            // Keras's threshold (every backend alike): with the values sorted in descending
            // order, their cumulative sums c and the support {j : sorted_j > (c_j − 1)/j} of
            // size k, tau = (Σ_{j in support} c_j − 1) / k; the output is max(x − tau, 0). (The
            // paper's tau uses c_k alone.)
            let sorted = row.sorted(by: >)
            var cumulative: Float = 0, supportSum: Float = 0, k: Float = 0
            for (j, value) in sorted.enumerated() {
                cumulative += value
                if value - (cumulative - 1) / Float(j + 1) > 0 {
                    supportSum += cumulative
                    k += 1
                }
            }
            let tau = (supportSum - 1) / k
            for index in row.indices { row[index] = max(row[index] - tau, 0) }
        }
    }
}
