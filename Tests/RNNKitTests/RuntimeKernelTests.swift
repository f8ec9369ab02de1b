import Foundation
@testable import RNNKit
import XCTest

/// The vectorised gate activations stay within 1e-6 of libm, so that speed changes no numbers
/// beyond float rounding.
final class RuntimeKernelTests: XCTestCase {
    private func maximumError(_ activation: Activation, _ reference: (Float) -> Float) -> Float {
        var values = stride(from: Float(-30), through: 30, by: 0.0007).map { $0 } + [0, -0, 1e-8, -1e-8, 88, -88, 200, -200]
        let inputs = values
        values.withUnsafeMutableBufferPointer { activation.apply($0.baseAddress!, count: $0.count) }
        return zip(values, inputs).map { abs($0 - reference($1)) }.max() ?? .infinity
    }

    func testVectorisedTanhAndSigmoidMatchLibm() {
        XCTAssertLessThanOrEqual(maximumError(.tanh) { Foundation.tanh($0) }, 1e-6)
        XCTAssertLessThanOrEqual(maximumError(.sigmoid) { 1 / (1 + Foundation.exp(-$0)) }, 1e-6)
    }

    func testMatrixVectorAndMatrixProductsAgree() {
        let kernel = Tensor(shape: [3, 4], scalars: (0..<12).map { Float($0) - 5 })
        let rows: [Float] = [1, 2, 3, -1, 0.5, 2]
        let both = Kernels.affine(rows, rows: 2, kernel: kernel, bias: [1, 0, 0, -1])
        let first = Kernels.affine(Array(rows[0..<3]), rows: 1, kernel: kernel, bias: [1, 0, 0, -1])
        XCTAssertEqual(Array(both[0..<4]), first)
        // Row [1, 2, 3] times the columns of [[-5, -4, -3, -2], [-1, 0, 1, 2], [3, 4, 5, 6]], plus the bias.
        let expected: [Float] = [3, 8, 14, 19]
        XCTAssertEqual(first, expected)
    }
}
