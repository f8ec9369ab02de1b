import Foundation
import RNNKit
import XCTest

/// How far computed numbers are from reference numbers (Keras's outputs, libm, a plain loop).
///
/// Unlike `zip(a, b).map { abs($0 - $1) }.max()`, which skips a NaN unless it comes first (every
/// comparison with NaN is false), any NaN or infinity, in either side and at any position, is a
/// mismatch, and so are a different number of tensors or a different shape.
public struct NumericDifference: Equatable, CustomStringConvertible {
    /// The largest absolute difference over every value; infinity when `mismatch` is set.
    public var largest: Float
    /// Where the largest difference is: "output 1 [5]: 0.25 vs 0.2500002".
    public var largestAt: String
    /// Why the numbers cannot be compared at all (non-finite value, count or shape mismatch).
    public var mismatch: String?

    public var description: String {
        mismatch ?? "max abs error \(largest)" + (largestAt.isEmpty ? "" : " at \(largestAt)")
    }

    /// Compares `values` with `reference`, position by position.
    public static func between(_ values: [Float], _ reference: [Float], label: String = "") -> NumericDifference {
        let prefix = label.isEmpty ? "" : label + " "
        guard values.count == reference.count else {
            return NumericDifference(mismatch: "\(prefix)has \(values.count) values, the reference \(reference.count)")
        }
        var result = NumericDifference(largest: 0, largestAt: "", mismatch: nil)
        for index in values.indices {
            let value = values[index], want = reference[index]
            guard value.isFinite && want.isFinite else {
                return NumericDifference(mismatch: "\(prefix)[\(index)]: \(value) vs reference \(want) (not finite)")
            }
            let difference = abs(value - want)
            if difference > result.largest || result.largestAt.isEmpty {
                result.largest = difference
                result.largestAt = "\(prefix)[\(index)]: \(value) vs \(want)"
            }
        }
        return result
    }

    /// Compares `outputs` with `expected`, tensor by tensor: counts, shapes, then values.
    public static func between(_ outputs: [Tensor], _ expected: [Tensor]) -> NumericDifference {
        guard outputs.count == expected.count else {
            return NumericDifference(mismatch: "\(outputs.count) outputs, expected \(expected.count)")
        }
        var worst = NumericDifference(largest: 0, largestAt: "", mismatch: nil)
        for (index, (output, want)) in zip(outputs, expected).enumerated() {
            guard output.shape == want.shape else {
                return NumericDifference(mismatch: "output \(index) has shape \(output.shape), expected \(want.shape)")
            }
            let difference = between(output.scalars, want.scalars, label: "output \(index)")
            if difference.mismatch != nil { return difference }
            if difference.largest > worst.largest || worst.largestAt.isEmpty { worst = difference }
        }
        return worst
    }

    private init(largest: Float = .infinity, largestAt: String = "", mismatch: String?) {
        self.largest = largest
        self.largestAt = largestAt
        self.mismatch = mismatch
    }
}

/// Keras's tolerance for RNNKit's outputs: max abs error 1e-5 (float32 rounding in a different
/// order of operations; a wrong formula is off by 1e-3 or more).
public let kerasTolerance: Float = 1e-5

/// Fails unless `outputs` are `expected` within `tolerance`: same count, same shapes, every value
/// finite on both sides. Returns the largest absolute difference (infinity on a mismatch), for
/// reports of the worst case.
@discardableResult
public func assertClose(_ outputs: [Tensor], _ expected: [Tensor], within tolerance: Float = kerasTolerance,
                        _ message: @autoclosure () -> String = "",
                        file: StaticString = #filePath, line: UInt = #line) -> Float {
    report(NumericDifference.between(outputs, expected), tolerance, message(), file: file, line: line)
}

/// `assertClose` for plain arrays of numbers (a kernel against libm or a double-precision loop).
@discardableResult
public func assertClose(_ values: [Float], _ reference: [Float], within tolerance: Float,
                        _ message: @autoclosure () -> String = "",
                        file: StaticString = #filePath, line: UInt = #line) -> Float {
    report(NumericDifference.between(values, reference), tolerance, message(), file: file, line: line)
}

private func report(_ difference: NumericDifference, _ tolerance: Float, _ message: String,
                    file: StaticString, line: UInt) -> Float {
    let context = message.isEmpty ? "" : message + ": "
    if let mismatch = difference.mismatch {
        XCTFail(context + mismatch, file: file, line: line)
    } else if !(difference.largest <= tolerance) {
        XCTFail(context + "\(difference) > \(tolerance)", file: file, line: line)
    }
    return difference.largest
}
