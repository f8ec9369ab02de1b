import RNNKit
import RNNKitTestSupport
import XCTest

/// The one comparison every test uses against Keras's numbers: it must not let a NaN, an
/// infinity or a shape mismatch through, wherever it sits.
final class NumericDifferenceTests: XCTestCase {
    private let expected = [Tensor(shape: [2, 3], scalars: [0.5, -0.25, 1, 2, 3, 4])]

    private func outputs(replacing index: Int, with value: Float) -> [Tensor] {
        var scalars = expected[0].scalars
        scalars[index] = value
        return [Tensor(shape: [2, 3], scalars: scalars)]
    }

    func testEqualNumbersDifferByNothing() {
        let difference = NumericDifference.between(expected, expected)
        XCTAssertNil(difference.mismatch)
        XCTAssertEqual(difference.largest, 0)
    }

    func testLargestDifferenceIsFoundAndLocated() {
        let difference = NumericDifference.between(outputs(replacing: 4, with: 3.5), expected)
        XCTAssertNil(difference.mismatch)
        XCTAssertEqual(difference.largest, 0.5)
        XCTAssertEqual(difference.largestAt, "output 0 [4]: 3.5 vs 3.0")
    }

    func testNonFiniteValuesFailWhereverTheySit() {
        for index in [0, 2, 5] {
            for value in [Float.nan, -.nan, .infinity, -.infinity] {
                let difference = NumericDifference.between(outputs(replacing: index, with: value), expected)
                XCTAssertEqual(difference.largest, .infinity, "\(value) at \(index)")
                XCTAssertEqual(difference.mismatch, "output 0 [\(index)]: \(value) vs reference \(expected[0].scalars[index]) "
                               + "(not finite)", "\(value) at \(index)")
                // In the reference too (a damaged expected file must not pass either).
                let reversed = NumericDifference.between(expected, outputs(replacing: index, with: value))
                XCTAssertNotNil(reversed.mismatch, "\(value) at \(index) in the reference")
            }
        }
        // Swift's max() is what this replaces: it skips a NaN that does not come first.
        XCTAssertEqual([Float(0.1), .nan, 0.2].max(), 0.2)
    }

    func testShapeAndCountMismatchesFail() {
        let reshaped = [Tensor(shape: [3, 2], scalars: expected[0].scalars)]
        XCTAssertEqual(NumericDifference.between(reshaped, expected).mismatch,
                       "output 0 has shape [3, 2], expected [2, 3]")
        XCTAssertEqual(NumericDifference.between(expected + expected, expected).mismatch, "2 outputs, expected 1")
        XCTAssertEqual(NumericDifference.between([], expected).mismatch, "0 outputs, expected 1")
        XCTAssertEqual(NumericDifference.between([1, 2], [1, 2, 3]).mismatch, "has 2 values, the reference 3")
    }

    func testPlainArraysFollowTheSameRules() {
        XCTAssertEqual(NumericDifference.between([1, 2, 3], [1, 2.25, 3]).largest, 0.25)
        XCTAssertNotNil(NumericDifference.between([1, .nan, 3], [1, 2, 3]).mismatch)
        XCTAssertNotNil(NumericDifference.between([1, 2, .infinity], [1, 2, .infinity]).mismatch)
    }
}
