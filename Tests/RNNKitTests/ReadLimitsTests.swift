import XCTest
@testable import RNNKit

final class ReadLimitsTests: XCTestCase {
    /// The defaults the three former limit types had, now in one place.
    func testDefaults() {
        let limits = ReadLimits.default
        XCTAssertEqual(limits.maxBytes, 2 << 30)
        XCTAssertEqual(limits.maxTotalBytes, 4 << 30)
        XCTAssertEqual(limits.maxEntries, 10_000)
        XCTAssertEqual(limits.maxKerasCompressionRatio, 200)
        XCTAssertEqual(limits.maxNPZCompressionRatio, 1_100)
        XCTAssertEqual(limits.maxJSONBytes, 64 << 20)
        XCTAssertEqual(limits.maxNPYHeaderBytes, 1 << 20)
        XCTAssertEqual(limits.maxCSVBytes, 256 << 20)
        XCTAssertEqual(limits.maxRank, 64)
    }

    /// `--max-bytes n` allows pieces of n bytes and archives of 2n, saturating at `Int.max`.
    func testTotalFollowsMaxBytesUnlessGiven() {
        XCTAssertEqual(ReadLimits(maxBytes: 1000).maxTotalBytes, 2000)
        XCTAssertEqual(ReadLimits(maxBytes: .max).maxTotalBytes, .max)
        XCTAssertEqual(ReadLimits(maxBytes: 1000, maxTotalBytes: 1500).maxTotalBytes, 1500)
        var limits = ReadLimits.default
        limits.maxBytes = 10
        XCTAssertEqual(limits.maxTotalBytes, 4 << 30, "a stored total stays as it was")
    }
}
