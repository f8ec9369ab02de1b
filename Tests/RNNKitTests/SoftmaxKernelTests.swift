import Foundation
import CRNNKitKernels
@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// The exp and softmax kernels of the attention layers and the softmax activation, on every
/// kernel path this CPU can run, against double-precision references.
final class SoftmaxKernelTests: XCTestCase {
    func testExpIsWithinTwoUlpOfTheExactValue() {
        onEveryKernelPath { path in
            let inputs = stride(from: Float(-87.33), through: 88.72, by: 0.00731).map { $0 } + [0, -0.0, 1e-8, -1e-8, 88.7228]
            var values = inputs
            rnnkit_exp(&values, values.count)
            var worst = 0.0
            for (value, input) in zip(values, inputs) {
                let exact = Foundation.exp(Double(input))
                worst = max(worst, abs(Double(value) - exact) / exact)
            }
            XCTAssertLessThanOrEqual(worst, 2.5e-7, "relative error on \(path)")
            var edges: [Float] = [-87.34, -1e9, 88.723, .infinity, -.infinity, .nan]
            rnnkit_exp(&edges, edges.count)
            XCTAssertEqual(Array(edges.prefix(2)), [0, 0], "subnormal on \(path)")
            XCTAssertEqual(edges[2], .infinity, "overflow on \(path)")
            XCTAssertEqual(edges[3], .infinity, "+inf on \(path)")
            XCTAssertEqual(edges[4], 0, "-inf on \(path)")
            XCTAssertTrue(edges[5].isNaN, "NaN on \(path)")
        }
    }

    /// Rows of lengths around the 16 lanes, with values far apart and masked (−1e9) steps.
    func testSoftmaxMatchesTheExactValues() {
        var generator = SeededGenerator(seed: "softmax rows")
        onEveryKernelPath { path in
            for length in [1, 2, 7, 15, 16, 17, 33, 100] {
                let rows = 3
                var values = (0..<rows * length).map { _ in Float.random(in: -20...20, using: &generator) }
                values[length - 1] -= 1e9  // a hidden step in the first row
                let inputs = values
                rnnkit_softmax(&values, rows, length)
                for row in 0..<rows {
                    let scores = inputs[row * length..<(row + 1) * length].map(Double.init)
                    let largest = scores.max()!
                    let total = scores.reduce(0) { $0 + Foundation.exp($1 - largest) }
                    for (j, score) in scores.enumerated() {
                        let exact = Foundation.exp(score - largest) / total
                        XCTAssertEqual(Double(values[row * length + j]), exact, accuracy: 1e-6,
                                       "row \(row), step \(j) of \(length) on \(path), \(generator)")
                    }
                }
                if length > 1 { XCTAssertEqual(values[length - 1], 0, "a hidden step on \(path)") }
            }
            // A row hidden entirely is uniform, as in Keras.
            var hidden: [Float] = [1 - 1e9, 2 - 1e9, 3 - 1e9, -1e9]
            rnnkit_softmax(&hidden, 1, 4)
            XCTAssertEqual(hidden, [0.25, 0.25, 0.25, 0.25], "on \(path)")
        }
    }
}
