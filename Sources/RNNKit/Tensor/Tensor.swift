/// A dense, row-major (C order) float32 tensor: the unit in which weights are read, checked,
/// converted and computed.
public struct Tensor: Equatable, Sendable {
    /// The dimensions, outermost first.
    public private(set) var shape: [Int]
    /// The values in row-major order.
    public var scalars: [Float]

    /// Creates a tensor; `scalars.count` must equal the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(Tensor.elementCount(shape) == scalars.count,
                     "shape \(shape) does not hold \(scalars.count) scalars")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, scalars: Array(repeating: 0, count: Tensor.elementCount(shape)))
    }

    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The number of values.
    public var count: Int { scalars.count }

    /// The same scalars seen with another shape of the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Product of the dimensions, or nil when it overflows `Int`. Shapes read from files go
    /// through this so that an absurd shape is an error, never a trap or a huge allocation.
    public static func checkedElementCount(_ shape: [Int]) -> Int? {
        var product = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            product = next
        }
        return product
    }

    static func elementCount(_ shape: [Int]) -> Int {
        guard let count = checkedElementCount(shape) else {
            preconditionFailure("shape \(shape) overflows")
        }
        return count
    }
}

extension Tensor: CustomStringConvertible {
    /// `Tensor[2, 3]`: the shape, not the values.
    public var description: String { "Tensor\(shape)" }
}

/// Formats a shape the way Keras prints it: `(None, 4, 3)`.
public func formatShape(_ shape: [Int?]) -> String {
    let parts = shape.map { $0.map(String.init) ?? "None" }
    return "(" + parts.joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
}

extension Tensor {
    /// The tensor with axis `order[i]` of this one as its axis i (NumPy's `transpose(order)`).
    func permutingAxes(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "\(order) is not a permutation of the axes of \(shape)")
        guard rank > 1 else { return self }
        var strides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        return gathering(shape: order.map { shape[$0] }, strides: order.map { strides[$0] })
    }

    /// A tensor of `shape` whose value at index (i₀, i₁, …) is this one's scalar at Σ iₖ·strides[k]
    /// (the same rank): a permutation, or a broadcast with stride 0 along repeated axes.
    func gathering(shape newShape: [Int], strides: [Int]) -> Tensor {
        var result = [Float](repeating: 0, count: Tensor.elementCount(newShape))
        var index = [Int](repeating: 0, count: newShape.count)  // position in the result
        for target in result.indices {
            var source = 0
            for axis in index.indices { source += index[axis] * strides[axis] }
            result[target] = scalars[source]
            var axis = newShape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < newShape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return Tensor(shape: newShape, scalars: result)
    }
}
