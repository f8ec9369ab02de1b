import Dispatch
import Synchronization
internal import COpenBLAS
internal import CRNNKitKernels

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

    /// c[m, n] = (accumulate ? c : 0) + bias + a[m, k]·b, b packed (the recurrent layers'
    /// kernels), the bias broadcast over rows.
    /// With several threads, each takes its own rows (in whole blocks of the kernel's six).
    static func gemm(m: Int, a: UnsafePointer<Float>, lda: Int, b: PackedMatrix, bias: [Float]? = nil,
                     c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                     threads: Int = RNNKitRuntime.threadCount) {
        let parts = min(threads, m / 6)
        func product(_ bias: UnsafePointer<Float>?) {
            guard parts > 1 else {
                rnnkit_gemm_packed(m, b.columns, b.rows, a, lda, b.storage, bias, c, ldc, accumulate ? 1 : 0)
                return
            }
            let rowsPerPart = (m / parts + 5) / 6 * 6
            nonisolated(unsafe) let (a, c, bias) = (a, c, bias)  // each part reads and writes rows of its own
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let first = part * rowsPerPart, count = min(rowsPerPart, m - first)
                guard count > 0 else { return }
                rnnkit_gemm_packed(count, b.columns, b.rows, a + first * lda, lda, b.storage, bias, c + first * ldc,
                                   ldc, accumulate ? 1 : 0)
            }
        }
        guard let bias else { return product(nil) }
        bias.withUnsafeBufferPointer { product($0.baseAddress) }
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

/// A [rows, columns] matrix in the panel layout of the packed product, made once when a layer's
/// weights are prepared: every time step multiplies by it.
final class PackedMatrix: @unchecked Sendable {
    let rows: Int
    let columns: Int
    /// Immutable after init; shared read-only by the threads of one product.
    let storage: UnsafeMutablePointer<Float>

    init(_ matrix: Tensor) {
        rows = matrix.shape[0]
        columns = matrix.shape[1]
        storage = .allocate(capacity: rnnkit_packed_count(rows, columns))
        matrix.scalars.withUnsafeBufferPointer { rnnkit_pack(rows, columns, $0.baseAddress!, columns, storage) }
    }

    deinit { storage.deallocate() }
}

/// The packed forms of one predictor's weight matrices, made on first use and kept while the
/// predictor lives, so that a prediction does not repack every kernel. Keyed by the matrix's
/// storage, which the cache retains: while an entry exists, that storage cannot be freed and
/// reused for other values.
final class PackedMatrixCache: Sendable {
    private let entries = Mutex<[UnsafeRawPointer: (retained: [Float], packed: PackedMatrix)]>([:])

    /// The cache of the prediction running on this thread, if any.
    @TaskLocal static var current: PackedMatrixCache?

    /// `matrix` packed: from the current cache when there is one, else packed now.
    static func packed(_ matrix: Tensor) -> PackedMatrix {
        guard let cache = current else { return PackedMatrix(matrix) }
        let key = matrix.scalars.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress!) }
        if let hit = cache.entries.withLock({ $0[key] }), hit.retained.count == matrix.scalars.count {
            return hit.packed
        }
        let packed = PackedMatrix(matrix)
        cache.entries.withLock { $0[key] = (matrix.scalars, packed) }
        return packed
    }
}

/// Process-wide settings of the compute runtime.
public enum RNNKitRuntime {
    private static let threads = Atomic<Int>(1)

    /// Threads the matrix multiplies may use; 1 by default for predictable latency.
    public static var threadCount: Int { threads.load(ordering: .relaxed) }

    /// Sets the threads of RNNKit's packed products (split by rows) and of OpenBLAS's pool.
    public static func setThreadCount(_ count: Int) {
        threads.store(max(1, count), ordering: .relaxed)
        openblas_set_num_threads(Int32(max(1, count)))
    }
}
