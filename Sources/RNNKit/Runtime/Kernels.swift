internal import COpenBLAS

/// The dense kernels inference needs, on row-major float32 buffers, through OpenBLAS.
enum Kernels {
    /// c[m, n] = beta·c + a[m, k]·b[k, n], each matrix with its row stride (leading dimension).
    static func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                     c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            if beta == 0 { for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) } }
            return
        }
        if m == 1 {
            // A single row is a matrix-vector product: sgemv streams b once, where sgemm would
            // first copy (pack) all of it on every call.
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), 1, b, Int32(ldb), a, 1, beta, c, 1)
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// [rows, k] · kernel [k, n] + bias (broadcast over rows), into a new array.
    static func affine(_ input: [Float], rows: Int, kernel: Tensor, bias: [Float]?) -> [Float] {
        let k = kernel.shape[0], n = kernel.shape[1]
        var output = [Float](repeating: 0, count: rows * n)
        output.withUnsafeMutableBufferPointer { c in
            if let bias { fillRows(c.baseAddress!, rows: rows, with: bias) }
            input.withUnsafeBufferPointer { a in
                kernel.scalars.withUnsafeBufferPointer { b in
                    gemm(m: rows, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n,
                         c: c.baseAddress!, ldc: n, beta: bias == nil ? 0 : 1)
                }
            }
        }
        return output
    }

    /// Writes `row` into each of `rows` consecutive rows of `target`.
    static func fillRows(_ target: UnsafeMutablePointer<Float>, rows: Int, with row: [Float]) {
        row.withUnsafeBufferPointer { source in
            for index in 0..<rows { (target + index * row.count).update(from: source.baseAddress!, count: row.count) }
        }
    }
}

/// Process-wide settings of the compute runtime.
public enum RNNKitRuntime {
    /// Threads the matrix multiplies may use (OpenBLAS's pool); 1 by default for predictable latency.
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }
}
