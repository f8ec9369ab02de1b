import XCTest
@testable import RNNKit

final class HalfFloatTests: XCTestCase {
    /// All 65 536 half patterns: numbers convert to the value Swift's own `Float16` gives, and
    /// every NaN keeps its sign and payload bit for bit (where `Float16` would quiet signalling ones).
    func testEveryHalfBitPattern() {
        for bits in UInt16.min...UInt16.max {
            let converted = Float(halfBitPattern: bits)
            let half = Float16(bitPattern: bits)
            if half.isNaN {
                let expected = UInt32(bits & 0x8000) << 16 | 0x7F80_0000 | UInt32(bits & 0x3FF) << 13
                XCTAssertEqual(converted.bitPattern, expected, String(bits, radix: 16))
            } else {
                XCTAssertEqual(converted.bitPattern, Float(half).bitPattern, String(bits, radix: 16))
            }
        }
        XCTAssertEqual(Float(halfBitPattern: 0x7C01).bitPattern, 0x7F80_2000, "a signalling NaN stays signalling")
    }
}
