/// The few exact tensor rearrangements layouts are made of, written once: a block-permuted
/// transpose and its inverse, block permutations of vectors, and slicing and stacking along the
/// first axis. Values are only moved, never computed, except in `exactSum`.
enum BlockMatrix {
    /// `m` [N, G·H] (a Keras kernel) to [π.count·H, N]: `out[q·H + j, k] = m[k, π(q)·H + j]`.
    /// With π = [p] this is the transpose of block p alone (a split-layout gate matrix).
    static func transposed(_ m: Tensor, blocks permutation: [Int], units: Int) -> Tensor {
        precondition(m.rank == 2)
        let rows = m.shape[0], columns = m.shape[1]
        let outRows = permutation.count * units
        var out = [Float](repeating: 0, count: outRows * rows)
        m.scalars.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for (q, block) in permutation.enumerated() {
                    transpose(rows: rows, columns: units, from: source.baseAddress! + block * units, stride: columns,
                              to: target.baseAddress! + q * units * rows, stride: rows)
                }
            }
        }
        return Tensor(shape: [outRows, rows], scalars: out)
    }

    /// The inverse of `transposed`: `t` [G·H, N] to [N, G·H] with `out[k, π(q)·H + j] = t[q·H + j, k]`.
    /// π must be a permutation of 0..<G.
    static func untransposed(_ t: Tensor, blocks permutation: [Int], units: Int) -> Tensor {
        precondition(t.rank == 2 && t.shape[0] == permutation.count * units)
        let rows = t.shape[1], columns = t.shape[0]
        var out = [Float](repeating: 0, count: rows * columns)
        t.scalars.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for (q, block) in permutation.enumerated() {
                    transpose(rows: units, columns: rows, from: source.baseAddress! + q * units * rows, stride: rows,
                              to: target.baseAddress! + block * units, stride: columns)
                }
            }
        }
        return Tensor(shape: [rows, columns], scalars: out)
    }

    /// `target[c·targetStride + r] = source[r·sourceStride + c]` for a rows × columns block, in
    /// tiles of 32 × 32: element by element, one side would touch a new cache line (and, for
    /// a large kernel, a new page) at every value; a tile's lines stay in L1 while it is copied.
    private static func transpose(rows: Int, columns: Int, from source: UnsafePointer<Float>, stride sourceStride: Int,
                                  to target: UnsafeMutablePointer<Float>, stride targetStride: Int) {
        let tile = 32
        for firstRow in Swift.stride(from: 0, to: rows, by: tile) {
            let lastRow = min(firstRow + tile, rows)
            for firstColumn in Swift.stride(from: 0, to: columns, by: tile) {
                for c in firstColumn..<min(firstColumn + tile, columns) {
                    for r in firstRow..<lastRow {
                        target[c * targetStride + r] = source[r * sourceStride + c]
                    }
                }
            }
        }
    }

    /// A vector of gate blocks reordered: `out[q·H + j] = v[π(q)·H + j]`.
    static func permuted(_ v: ArraySlice<Float>, blocks permutation: [Int], units: Int) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(permutation.count * units)
        for block in permutation {
            let start = v.startIndex + block * units
            out += v[start..<(start + units)]
        }
        return out
    }

    /// The inverse of `permuted`: `out[π(q)·H + j] = v[q·H + j]`.
    static func unpermuted(_ v: ArraySlice<Float>, blocks permutation: [Int], units: Int) -> [Float] {
        var out = [Float](repeating: 0, count: permutation.count * units)
        for (q, block) in permutation.enumerated() {
            for j in 0..<units {
                out[block * units + j] = v[v.startIndex + q * units + j]
            }
        }
        return out
    }

    /// Row `index` of the first axis: [D, ...] to [...].
    static func slice(_ t: Tensor, _ index: Int) -> Tensor {
        let inner = Array(t.shape.dropFirst())
        let size = Tensor.elementCount(inner)
        return Tensor(shape: inner, scalars: Array(t.scalars[(index * size)..<((index + 1) * size)]))
    }

    /// Equal-shaped tensors stacked along a new first axis.
    static func stack(_ tensors: [Tensor]) -> Tensor {
        let inner = tensors.first?.shape ?? []
        precondition(tensors.allSatisfy { $0.shape == inner })
        return Tensor(shape: [tensors.count] + inner, scalars: tensors.flatMap(\.scalars))
    }

    /// Matrices with equal columns, one after the other along the first axis.
    static func concatenateRows(_ tensors: [Tensor]) -> Tensor {
        let columns = Array(tensors.first?.shape.dropFirst() ?? [])
        precondition(tensors.allSatisfy { Array($0.shape.dropFirst()) == columns })
        return Tensor(shape: [tensors.reduce(0) { $0 + $1.shape[0] }] + columns,
                      scalars: tensors.flatMap(\.scalars))
    }

    /// `a + b`, except that where one side is zero the other is kept bit for bit, so that a bias
    /// split into (b, 0) comes back as exactly b (even -0.0 or NaN).
    static func exactSum(_ a: [Float], _ b: [Float]) -> [Float] {
        zip(a, b).map { x, y in y == 0 ? x : (x == 0 ? y : x + y) }
    }
}
