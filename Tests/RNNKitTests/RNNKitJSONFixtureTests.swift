import Foundation
@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// Every Keras fixture written as RNNKit JSON, in every weight layout it can take, reads back
/// with the same weights bit for bit and predicts the same outputs.
final class RNNKitJSONFixtureTests: XCTestCase {
    func testFixturesRoundTripThroughRNNKitJSONInEveryLayout() throws {
        let directory = try makeTemporaryDirectory()
        try FixtureFiles.assertEveryFixtureRoundTrips(
            into: directory, fileExtension: "json",
            write: { model, layout, path in
                try JSONWriter.string(RNNKitJSON.write(model, layout: layout)).write(toFile: path, atomically: false,
                                                                                      encoding: .utf8)
            },
            read: { path in try Model.load(contentsOf: path) })
    }
}
