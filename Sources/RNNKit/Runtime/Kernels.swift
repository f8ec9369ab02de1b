/// The few dense kernels inference needs, on row-major float32 buffers.
enum Kernels {
    /// c[m, n] (+)= a[m, k] · b[k, n]. With `accumulate` false, c is overwritten.
    /// The inner loop runs along contiguous rows of b and c so that it vectorises.
    static func matmul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                       m: Int, k: Int, n: Int, accumulate: Bool) {
        if !accumulate { c.update(repeating: 0, count: m * n) }
        for row in 0..<m {
            let cRow = c + row * n
            let aRow = a + row * k
            for inner in 0..<k {
                let scale = aRow[inner]
                if scale == 0 { continue }
                let bRow = b + inner * n
                for column in 0..<n { cRow[column] += scale * bRow[column] }
            }
        }
    }

    /// [rows, k] · [k, n] + bias (broadcast over rows), into a new array.
    static func affine(_ input: [Float], rows: Int, kernel: Tensor, bias: [Float]?) -> [Float] {
        let k = kernel.shape[0], n = kernel.shape[1]
        var output = [Float](repeating: 0, count: rows * n)
        if let bias {
            for row in 0..<rows { output.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: row * n).update(from: bias, count: n) } }
        }
        input.withUnsafeBufferPointer { a in
            kernel.scalars.withUnsafeBufferPointer { b in
                output.withUnsafeMutableBufferPointer { c in
                    matmul(a.baseAddress!, b.baseAddress!, c.baseAddress!, m: rows, k: k, n: n, accumulate: true)
                }
            }
        }
        return output
    }
}
