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
        self.init(shape: shape, scalars: Array(filledWith: 0, count: Tensor.elementCount(shape)))
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

extension Array {
    /// `count` copies of `value`, as `Array(repeating:count:)` makes them, in about half the time
    /// for small arrays: that initializer allocates through the standard library's unspecialized
    /// code, which asks the runtime for the storage's type on every call (a few hundred
    /// instructions, a twentieth of a small model's prediction); this path is specialized for the
    /// element type.
    init(filledWith value: Element, count: Int) {
        self.init(repeatElement(value, count: count))
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
        let strides = Tensor.strides(of: shape)
        return gathering(shape: order.map { shape[$0] }, strides: order.map { strides[$0] })
    }

    /// A tensor of `shape` whose value at index (i₀, i₁, …) is this one's scalar at Σ iₖ·strides[k]
    /// (the same rank): a permutation, or a broadcast with stride 0 along repeated axes.
    func gathering(shape newShape: [Int], strides: [Int]) -> Tensor {
        var result = [Float]()
        result.reserveCapacity(Tensor.elementCount(newShape))
        Tensor.forEachPosition(of: newShape, strides: strides) { _, source in result.append(scalars[source]) }
        return Tensor(shape: newShape, scalars: result)
    }

    /// Row-major strides of `shape`.
    static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        return strides
    }

    /// Calls `body` for every position of this tensor in row-major order, with the position's
    /// flat index and its offset under `strides` (one per axis).
    func forEachPosition(strides: [Int], _ body: (Int, Int) -> Void) {
        Tensor.forEachPosition(of: shape, strides: strides, body)
    }

    /// `forEachPosition(strides:_:)` over a shape without its tensor.
    static func forEachPosition(of shape: [Int], strides: [Int], _ body: (Int, Int) -> Void) {
        var position = 0
        forEachPosition(of: shape, strides: [strides]) { offsets in
            body(position, offsets[0])
            position += 1
        }
    }

    /// Calls `body` for every position of `shape` in row-major order with its offset under each
    /// of `strides` (one stride per axis each), walking them together.
    static func forEachPosition(of shape: [Int], strides: [[Int]], _ body: ([Int]) -> Void) {
        let rank = shape.count, count = elementCount(shape)
        guard count > 0 else { return }
        var index = [Int](repeating: 0, count: rank)
        var offsets = [Int](repeating: 0, count: strides.count)
        for _ in 0..<count {
            body(offsets)
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                for walk in strides.indices { offsets[walk] += strides[walk][axis] }
                if index[axis] < shape[axis] { break }
                for walk in strides.indices { offsets[walk] -= index[axis] * strides[walk][axis] }
                index[axis] = 0
                axis -= 1
            }
        }
    }
}
