import Foundation

extension Activation {
    /// The activation of one value, with Keras's constants. Softmax is not element-wise and is
    /// handled by `apply(toRowsOf:)`.
    @inline(__always)
    func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .linear, .softmax: return x
        case .tanh: return Foundation.tanh(x)
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .relu: return max(x, 0)
        case .elu: return x > 0 ? x : Foundation.expm1(x)
        case .selu:
            let alpha: Float = 1.6732632423543772, scale: Float = 1.0507009873554805
            return scale * (x > 0 ? x : alpha * Foundation.expm1(x))
        case .softplus: return max(x, 0) + Foundation.log1p(Foundation.exp(-abs(x)))
        case .softsign: return x / (1 + abs(x))
        case .swish: return x / (1 + Foundation.exp(-x))
        case .gelu: return 0.5 * x * (1 + Foundation.erf(x / Float(2).squareRoot()))
        case .exponential: return Foundation.exp(x)
        case .relu6: return min(max(x, 0), 6)
        case .leakyRelu: return x >= 0 ? x : 0.2 * x
        case .hardSigmoid(let keras2): return min(max(keras2 ? 0.2 * x + 0.5 : x / 6 + 0.5, 0), 1)
        }
    }

    /// Applies the activation in place; softmax acts on each row of `width` values.
    func apply(to values: inout [Float], width: Int) {
        guard self != .linear else { return }
        guard self == .softmax else {
            for index in values.indices { values[index] = self(values[index]) }
            return
        }
        var start = 0
        while start < values.count {
            let row = start..<(start + width)
            let largest = values[row].max() ?? 0
            var total: Float = 0
            for index in row {
                values[index] = Foundation.exp(values[index] - largest)
                total += values[index]
            }
            for index in row { values[index] /= total }
            start += width
        }
    }
}
