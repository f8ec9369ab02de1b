import CRNNKitKernels
import Foundation
@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// The packed products and the scan for non-finite values give the numbers of plain loops. (The
/// gate activations and the fused cell steps are checked against libm and double precision on
/// every kernel path in KernelPathTests.)
final class RuntimeKernelTests: XCTestCase {
    func testMatrixVectorAndMatrixProductsAgree() {
        let kernel = PackedMatrix(Tensor(shape: [3, 4], scalars: (0..<12).map { Float($0) - 5 }))
        let rows: [Float] = [1, 2, 3, -1, 0.5, 2]
        let both = Kernels.affine(rows, rows: 2, kernel: kernel, bias: [1, 0, 0, -1])
        let first = Kernels.affine(Array(rows[0..<3]), rows: 1, kernel: kernel, bias: [1, 0, 0, -1])
        XCTAssertEqual(Array(both[0..<4]), first)
        // Row [1, 2, 3] times the columns of [[-5, -4, -3, -2], [-1, 0, 1, 2], [3, 4, 5, 6]], plus the bias.
        let expected: [Float] = [3, 8, 14, 19]
        XCTAssertEqual(first, expected)
    }

    /// The packed product against a plain triple loop in double precision, on shapes that hit
    /// every path: one row, remainder rows after blocks of six (one to five), a partial last
    /// panel, several threads, a bias, and accumulation into what is there.
    func testPackedProductMatchesPlainProduct() {
        var generator = SeededGenerator(seed: 20_261_130)
        // Split small products too, so that row counts that do not divide evenly among the
        // threads (56 rows in 3 parts) are covered.
        let defaultWork = RNNKitRuntime.multiplyAddsPerThread
        RNNKitRuntime.multiplyAddsPerThread = 1
        defer {
            RNNKitRuntime.setThreadCount(1)
            RNNKitRuntime.multiplyAddsPerThread = defaultWork
        }
        for (m, k, n, threads) in [(1, 7, 5, 1), (1, 64, 80, 1), (13, 33, 37, 1), (32, 256, 1024, 2), (7, 1, 16, 2),
                                     (10, 20, 70, 1), (11, 5, 3, 1), (9, 4, 33, 1), (8, 6, 16, 1), (56, 8, 16, 3),
                                     (25, 3, 17, 2)] {
            RNNKitRuntime.setThreadCount(threads)
            let a = (0..<m * k).map { _ in Float.random(in: -1...1, using: &generator) }
            let b = Tensor(shape: [k, n], scalars: (0..<k * n).map { _ in Float.random(in: -1...1, using: &generator) })
            let start = (0..<m * n).map { _ in Float.random(in: -1...1, using: &generator) }
            let someBias = (0..<n).map { _ in Float.random(in: -1...1, using: &generator) }
            for accumulate in [false, true] {
                for bias in [nil, someBias] {
                    var c = start
                    a.withUnsafeBufferPointer { a in
                        c.withUnsafeMutableBufferPointer { c in
                            Kernels.gemm(m: m, a: a.baseAddress!, lda: k, b: PackedMatrix(b), bias: bias,
                                         c: c.baseAddress!, ldc: n, accumulate: accumulate)
                        }
                    }
                    var plain = [Float](repeating: 0, count: m * n)
                    for row in 0..<m {
                        for column in 0..<n {
                            var sum = (accumulate ? Double(start[row * n + column]) : 0) + Double(bias?[column] ?? 0)
                            for index in 0..<k {
                                sum += Double(a[row * k + index]) * Double(b.scalars[index * n + column])
                            }
                            plain[row * n + column] = Float(sum)
                        }
                    }
                    assertClose(c, plain, within: 1e-4, "m \(m) k \(k) n \(n) threads \(threads) accumulate \(accumulate) "
                                + "bias \(bias != nil), \(generator)")
                }
            }
        }
    }

    /// A predictor packs each weight matrix once, whatever the batch size: the batch-1 products
    /// and the stacked ones of larger batches multiply by the same packed [kernel;
    /// recurrent_kernel] (one entry per Dense kernel and per recurrent cell; GRU without reset_after
    /// packs its candidate block apart too when its columns do not start at a panel of 16).
    func testOnePackedCopyOfEachWeightForEveryBatchSize() throws {
        for fixture in ["stacked_lstm", "gru_reset_after", "bidirectional_concat", "simple_rnn"] {
            let predictor = try Predictor(contentsOf: FixtureFiles.path("\(fixture)/keras3.keras"))
            let inputs = try FixtureFiles.inputs(of: fixture)
            let one = inputs.map { Tensor(shape: [1] + $0.shape.dropFirst(), scalars: Array($0.scalars.prefix($0.count / $0.shape[0]))) }
            _ = try predictor.predict(one)
            let cells = predictor.model.layers.reduce(0) { count, layer in
                count + layer.weights.keys.filter { $0.hasSuffix("kernel") && !$0.hasSuffix("recurrent_kernel") }.count
            }
            XCTAssertEqual(predictor.packedMatrices.count, cells, fixture)
            let eight = inputs.map { input in
                Tensor(shape: [8] + input.shape.dropFirst(), scalars: (0..<8).flatMap { row in
                    input.scalars[row % input.shape[0] * (input.count / input.shape[0])..<(row % input.shape[0] + 1) * (input.count / input.shape[0])]
                })
            }
            _ = try predictor.predict(eight)
            XCTAssertEqual(predictor.packedMatrices.count, cells, fixture)
        }
    }

    /// The scan for NaN and infinity that validation runs on every weight: found wherever it is,
    /// including at the edges of the blocks it tests at once.
    func testFirstNonFiniteValueIsFoundAnywhere() {
        var values = [Float](repeating: 0.5, count: 5000)
        values.withUnsafeBufferPointer { XCTAssertEqual(rnnkit_first_nonfinite($0.baseAddress, $0.count), -1) }
        XCTAssertEqual(rnnkit_first_nonfinite(nil, 0), -1)
        for (position, value) in [(0, Float.nan), (1023, .infinity), (1024, -.infinity), (2049, .nan), (4999, .nan)] {
            var copy = values
            copy[position] = value
            if position > 0 { copy[position - 1] = .greatestFiniteMagnitude }  // finite, exponent almost all ones
            copy.withUnsafeBufferPointer {
                XCTAssertEqual(rnnkit_first_nonfinite($0.baseAddress, $0.count), position, "\(value) at \(position)")
            }
        }
        values[3000] = .nan
        values[4000] = .infinity
        values.withUnsafeBufferPointer { XCTAssertEqual(rnnkit_first_nonfinite($0.baseAddress, $0.count), 3000) }
    }
}
