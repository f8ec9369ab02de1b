import Dispatch
import Synchronization
internal import CRNNKitKernels

/// The dense kernels inference needs, on row-major float32 buffers: products against a
/// right-hand matrix packed once per predictor (weights), in CRNNKitKernels.
enum Kernels {
    /// c[m, n] = (accumulate ? c : 0) + bias + a[m, k]·b, b a weight matrix packed once per
    /// predictor, the bias broadcast over rows.
    /// With several threads, each takes its own rows (in whole blocks of the kernel's six).
    /// `backward` goes over b's panels from the last to the first (the same numbers): a time loop
    /// alternates, so that each step starts on what the previous one left in the cache.
    static func gemm(m: Int, a: UnsafePointer<Float>, lda: Int, b: PackedMatrix, bias: [Float]? = nil,
                     c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, backward: Bool = false,
                     threads: Int = RNNKitRuntime.threadCount) {
        let parts = RNNKitRuntime.parts(threads: threads, items: m / 6, multiplyAdds: m * b.columns * b.rows)
        let flags = Self.flags(accumulate: accumulate, backward: backward)
        func product(_ bias: UnsafePointer<Float>?) {
            guard parts > 1 else {
                rnnkit_gemm_packed(m, b.columns, b.rows, a, lda, b.storage, b.panelStride, bias, c, ldc, flags)
                return
            }
            // Rounded up twice, so that the parts cover every row: 56 rows in 3 parts are 24, 24, 8.
            let rowsPerPart = ((m + parts - 1) / parts + 5) / 6 * 6
            nonisolated(unsafe) let (a, c, bias) = (a, c, bias)  // each part reads and writes rows of its own
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let first = part * rowsPerPart, count = min(rowsPerPart, m - first)
                guard count > 0 else { return }
                rnnkit_gemm_packed(count, b.columns, b.rows, a + first * lda, lda, b.storage, b.panelStride, bias,
                                   c + first * ldc, ldc, flags)
            }
        }
        guard let bias else { return product(nil) }
        bias.withUnsafeBufferPointer { product($0.baseAddress) }
    }

    /// The columns `columns` (starting at a multiple of `PackedMatrix.panelWidth`) of
    /// c[m, ·] = (accumulate ? c : 0) + bias + a·b, on the calling thread: one thread's share of
    /// a product whose columns two threads split. `bias` and `c` point at column 0.
    static func gemm(m: Int, a: UnsafePointer<Float>, lda: Int, b: PackedMatrix, columns: Range<Int>,
                     bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                     backward: Bool = false) {
        precondition(columns.lowerBound % PackedMatrix.panelWidth == 0 && columns.upperBound <= b.columns)
        rnnkit_gemm_packed(m, columns.count, b.rows, a, lda,
                           b.storage + columns.lowerBound / PackedMatrix.panelWidth * b.panelStride, b.panelStride,
                           bias.map { $0 + columns.lowerBound }, c + columns.lowerBound, ldc,
                           flags(accumulate: accumulate, backward: backward))
    }

    /// Rows of an input projection that `gemv(a:b:columns:bias:c:accumulate:backward:riding:)` computes in
    /// the same pass as the product: `RidingProjection.rows` where that pays on this kernel path
    /// (AVX-512), 0 where the two products apart are faster.
    static var ridingRows: Int { rnnkit_riding_rows() }

    /// The columns `columns` (from a panel's start) of c[1, ·] = (accumulate ? c : 0) + bias + a·b
    /// for one row a, on the calling thread (as `gemm` with m = 1), and in the same pass over b
    /// the panels `riding.panels` of a projection of later time steps: see `RidingProjection`.
    /// The same numbers as the two products apart. `bias` and `c` point at column 0.
    static func gemv(a: UnsafePointer<Float>, b: PackedMatrix, columns: Range<Int>, bias: UnsafePointer<Float>?,
                     c: UnsafeMutablePointer<Float>, accumulate: Bool, backward: Bool, riding: RidingProjection) {
        precondition(columns.lowerBound % PackedMatrix.panelWidth == 0 && columns.upperBound <= b.columns)
        var ride = rnnkit_riding_projection(
            n: riding.kernel.columns, k: riding.kernel.rows, a: riding.input, packed: riding.kernel.storage,
            panel_stride: riding.kernel.panelStride, bias: riding.bias, out: riding.output, ldo: riding.kernel.columns,
            first_panel: riding.panels.lowerBound, last_panel: riding.panels.upperBound)
        let first = b.storage + columns.lowerBound / PackedMatrix.panelWidth * b.panelStride
        rnnkit_gemv_riding(columns.count, b.rows, a, first, b.panelStride, bias.map { $0 + columns.lowerBound },
                           c + columns.lowerBound, flags(accumulate: accumulate, backward: backward), &ride)
    }

    private static func flags(accumulate: Bool, backward: Bool) -> Int32 {
        Int32((accumulate ? RNNKIT_GEMM_ACCUMULATE : 0) | (backward ? RNNKIT_GEMM_BACKWARD : 0))
    }

    /// [rows, k] · kernel [k, n] + bias (broadcast over rows), into a new array.
    static func affine(_ input: [Float], rows: Int, kernel: PackedMatrix, bias: [Float]?) -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * kernel.columns) { output, count in
            input.withUnsafeBufferPointer { a in
                gemm(m: rows, a: a.baseAddress!, lda: kernel.rows, b: kernel, bias: bias, c: output.baseAddress!,
                     ldc: kernel.columns, accumulate: false)
            }
            count = rows * kernel.columns
        }
    }
}

/// The input projection of `rows` later time steps, bias + input·kernel ([rows, features] by
/// [features, G·U], into `output` [rows, G·U]), of which a batch-1 recurrent product computes the
/// panels `panels` (16 columns each) as it goes (`Kernels.gemv`): that product waits on L2 for
/// the recurrent kernel with the multiply units mostly idle, and the projection gives them work.
struct RidingProjection {
    static let rows = Int(RNNKIT_RIDING_ROWS)
    /// The input rows k-major, [features, rows]: the rows' values of one feature side by side.
    var input: UnsafePointer<Float>
    var kernel: PackedMatrix
    var bias: UnsafePointer<Float>?
    var output: UnsafeMutablePointer<Float>
    var panels: Range<Int>
}

/// The address of `values`' storage (nil for nil) while `body` runs.
func withPointer<Result>(to values: [Float]?, _ body: (UnsafePointer<Float>?) -> Result) -> Result {
    guard let values else { return body(nil) }
    return values.withUnsafeBufferPointer { body($0.baseAddress) }
}

/// A [rows, columns] matrix in the panel layout of the packed product, made once when a layer's
/// weights are prepared: every time step multiplies by it. Also a view of some rows (or of
/// columns from a panel's start) of a packed matrix, sharing its storage: one packed copy of
/// [kernel; recurrent_kernel] serves every product of a recurrent layer.
final class PackedMatrix: @unchecked Sendable {
    /// Columns per panel: a view of columns starts at a multiple of it.
    static let panelWidth = 16

    let rows: Int
    let columns: Int
    /// Immutable after init; shared read-only by the threads of one product. The first row of
    /// the first panel.
    let storage: UnsafeMutablePointer<Float>
    /// Floats from one panel to the next.
    let panelStride: Int
    /// The matrix a view's storage belongs to (nil when this one owns it).
    private let parent: PackedMatrix?

    /// The columns `columnRange` (all by default) of a [rows, n] matrix.
    convenience init(_ matrix: Tensor, columns columnRange: Range<Int>? = nil) {
        self.init(stacking: [matrix], columns: columnRange)
    }

    /// The matrices (of equal column counts) stacked, the rows of the first on top, packed
    /// straight from their own storage.
    init(stacking matrices: [Tensor], columns columnRange: Range<Int>? = nil) {
        let range = columnRange ?? 0..<matrices[0].shape[1]
        rows = matrices.reduce(0) { $0 + $1.shape[0] }
        columns = range.count
        panelStride = rows * Self.panelWidth
        parent = nil
        storage = .allocateCacheAligned(capacity: max(1, rnnkit_packed_count(rows, columns)))
        var row = 0
        for matrix in matrices {
            matrix.scalars.withUnsafeBufferPointer {
                rnnkit_pack(matrix.shape[0], columns, $0.baseAddress! + range.lowerBound, matrix.shape[1],
                            storage + row * Self.panelWidth, panelStride)
            }
            row += matrix.shape[0]
        }
    }

    /// The [rows, columns] matrix at `matrix` (row stride `rowStride`), or with `transposed` the
    /// transpose of the [columns, rows] matrix there: an operand made at run time (attention's
    /// keys and values), packed straight from where it lies.
    init(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int, rowStride: Int, transposed: Bool = false) {
        self.rows = rows
        self.columns = columns
        panelStride = rows * Self.panelWidth
        parent = nil
        storage = .allocateCacheAligned(capacity: max(1, rnnkit_packed_count(rows, columns)))
        if transposed {
            rnnkit_pack_transposed(rows, columns, matrix, rowStride, storage, panelStride)
        } else {
            rnnkit_pack(rows, columns, matrix, rowStride, storage, panelStride)
        }
    }

    /// The rows `rowRange` and columns `columnRange` (all by default; starting at a panel) of
    /// `matrix`, without copying.
    init(rows rowRange: Range<Int>, columns columnRange: Range<Int>? = nil, of matrix: PackedMatrix) {
        let range = columnRange ?? 0..<matrix.columns
        precondition(range.lowerBound % Self.panelWidth == 0 && range.upperBound <= matrix.columns
                     && rowRange.upperBound <= matrix.rows)
        rows = rowRange.count
        columns = range.count
        panelStride = matrix.panelStride
        parent = matrix.parent ?? matrix
        storage = matrix.storage + range.lowerBound / Self.panelWidth * matrix.panelStride
            + rowRange.lowerBound * Self.panelWidth
    }

    deinit { if parent == nil { UnsafeMutableRawPointer(storage).deallocate() } }
}

extension UnsafeMutablePointer<Float> {
    /// Uninitialised room for `capacity` floats from the start of a cache line (64 bytes), freed
    /// by `UnsafeMutableRawPointer(pointer).deallocate()`. The kernels load 16 floats at a time
    /// from panels and rows that are whole multiples of 64 bytes: on malloc's 16-byte alignment
    /// every such load straddles two lines, which costs a batch-1 step, bound by how fast it
    /// reads the recurrent kernel from L2, 7% (LSTM(256)) to 18% (LSTM(128)) of its speed.
    static func allocateCacheAligned(capacity: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: capacity)
    }
}

/// The packed forms of one predictor's weight matrices, made on first use and kept while the
/// predictor lives, so that a prediction does not repack every kernel. Keyed by the matrix's
/// storage (and the columns taken), which the cache retains: while an entry exists, that storage
/// cannot be freed and reused for other values.
final class PackedMatrixCache: Sendable {
    private struct Key: Hashable {
        var storage: UnsafeRawPointer
        var count: Int
        var columns: Range<Int>? = nil
        /// The matrix stacked under it, if any.
        var below: UnsafeRawPointer? = nil
        var belowCount = 0

        /// Hashed by the addresses alone (equality still compares every field; the column views
        /// of one matrix share a hash): every prediction looks its kernels up, and a lookup costs
        /// a quarter less than with all five fields hashed.
        func hash(into hasher: inout Hasher) {
            hasher.combine(storage)
            hasher.combine(below)
        }
    }

    /// A matrix packed, or two stacked with views of their blocks (made once: a prediction of a
    /// small model is a few microseconds).
    private enum Packing {
        case single(PackedMatrix)
        case stacked(StackedPacking)
    }

    private let entries = Mutex<[Key: (retained: [[Float]], packing: Packing)]>([:])

    /// The packed matrices held.
    var count: Int { entries.withLock { $0.count } }

    /// The cache of the prediction running on this thread, if any.
    @TaskLocal static var current: PackedMatrixCache?

    /// `matrix` (its `columns`, or all) packed: from the current cache when there is one, else
    /// packed now.
    static func packed(_ matrix: Tensor, columns: Range<Int>? = nil) -> PackedMatrix {
        let key = Key(storage: address(of: matrix), count: matrix.scalars.count, columns: columns)
        guard case .single(let packed) = cached(key, retaining: { [matrix.scalars] }, make: {
            .single(PackedMatrix(matrix, columns: columns))
        }) else { preconditionFailure("a packed matrix's key names one matrix") }
        return packed
    }

    /// [top; bottom] (the rows of `top`, then those of `bottom`) packed, with views of the two
    /// blocks, from the current cache when there is one.
    static func packed(_ top: Tensor, stackedOn bottom: Tensor) -> StackedPacking {
        let key = Key(storage: address(of: top), count: top.scalars.count, below: address(of: bottom),
                      belowCount: bottom.scalars.count)
        guard case .stacked(let packed) = cached(key, retaining: { [top.scalars, bottom.scalars] }, make: {
            .stacked(StackedPacking(top, bottom))
        }) else { preconditionFailure("a stacked matrix's key names two matrices") }
        return packed
    }

    private static func address(of matrix: Tensor) -> UnsafeRawPointer {
        matrix.scalars.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress!) }
    }

    /// A hit costs one lock and one lookup.
    private static func cached(_ key: Key, retaining: () -> [[Float]], make: () -> Packing) -> Packing {
        guard let cache = current else { return make() }
        if let hit = cache.entries.withLock({ $0[key]?.packing }) { return hit }
        let packing = make()
        let retained = retaining()
        cache.entries.withLock { $0[key] = (retained, packing) }
        return packing
    }
}

/// [top; bottom] packed as one matrix, and views of its two blocks of rows: a recurrent layer's
/// [kernel; recurrent_kernel], multiplied whole by [x_t, h] or block by block.
final class StackedPacking: Sendable {
    let whole: PackedMatrix
    let top: PackedMatrix
    let bottom: PackedMatrix

    init(_ top: Tensor, _ bottom: Tensor) {
        whole = PackedMatrix(stacking: [top, bottom])
        self.top = PackedMatrix(rows: 0..<top.shape[0], of: whole)
        self.bottom = PackedMatrix(rows: top.shape[0]..<whole.rows, of: whole)
    }
}

/// Process-wide settings of the compute runtime.
enum RNNKitRuntime {
    private static let threads = Atomic<Int>(1)
    private static let minimumMultiplyAdds = Atomic<Int>(250_000)

    /// Threads the matrix multiplies may use; 1 by default for predictable latency.
    static var threadCount: Int { threads.load(ordering: .relaxed) }

    /// Below this many multiply-adds for each thread, waking another thread costs more than it
    /// saves (250 000 by default, about 10 µs of work). Tests lower it to split small models.
    static var multiplyAddsPerThread: Int {
        get { minimumMultiplyAdds.load(ordering: .relaxed) }
        set { minimumMultiplyAdds.store(max(1, newValue), ordering: .relaxed) }
    }

    /// Into how many parts to split `items` independent pieces of work, with `threads` at hand.
    static func parts(threads: Int, items: Int, multiplyAdds: Int) -> Int {
        max(1, min(threads, items, multiplyAdds / multiplyAddsPerThread))
    }

    /// Sets the threads of a prediction: a recurrent layer's batch rows, or a product's rows,
    /// are split among them.
    static func setThreadCount(_ count: Int) {
        threads.store(max(1, count), ordering: .relaxed)
    }

    /// Runs `body(0)` on this thread and `body(1)` at the same time on the runtime's helper
    /// thread (kept asleep between jobs), so that the two may wait for each other inside; returns
    /// false, running nothing, when the helper is taken (by a pair running on this thread or on
    /// another one).
    static func runPair(_ body: (Int) -> Void) -> Bool {
        withoutActuallyEscaping(body) { body in
            var job = body
            return withUnsafeMutablePointer(to: &job) { job in
                rnnkit_run_pair({ context, part in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(part)
                }, job) != 0
            }
        }
    }
}

/// A barrier at which the two threads of `RNNKitRuntime.runPair` meet, spinning (a time step
/// is a few microseconds: waking a sleeping thread would cost more).
final class SpinBarrier: @unchecked Sendable {
    private let barrier: OpaquePointer

    init(parties: Int = 2) { barrier = rnnkit_barrier_create(parties) }

    /// Waits for the other parties; `part` is this thread's number, 0 to parties − 1.
    func wait(part: Int) { rnnkit_barrier_wait(barrier, part) }

    deinit { rnnkit_barrier_destroy(barrier) }
}
