import Foundation
import RNNKit
import RNNKitTestSupport
import XCTest

/// Every Keras fixture written as RNNKit JSON, in every weight layout it can take, reads back
/// with the same weights bit for bit and predicts the same outputs.
final class RNNKitJSONFixtureTests: XCTestCase {
    func testFixturesRoundTripThroughRNNKitJSONInEveryLayout() throws {
        var written = 0
        for fixture in try FixtureFiles.manifest() {
            let original = try Model.load(contentsOf: FixtureFiles.path("\(fixture.name)/keras3.keras"))
            let inputs = try (0..<original.inputs.count).map {
                try TensorFile.read(FixtureFiles.path("\(fixture.name)/input_\($0).npy"))[0].tensor
            }
            let expected = try Predictor(original).predict(inputs)
            for layout in WeightLayout.allCases {
                let json: JSONValue
                do {
                    json = try RNNKitJSON.write(original, layout: layout)
                } catch let error as RNNKitError where layout == .pytorch {
                    continue  // PyTorch cannot express some layers; refused with a reason.
                } catch {
                    throw error
                }
                let text = JSONWriter.string(json)
                let reread = try RNNKitJSON.read(JSONParser.parse(text), source: "\(fixture.name).\(layout)")
                XCTAssertEqual(reread.errors, [], "\(fixture.name) \(layout)")
                for (before, after) in zip(original.layers, reread.layers) {
                    XCTAssertEqual(before.weights, after.weights, "\(fixture.name) \(layout) \(before.name)")
                }
                XCTAssertEqual(try Predictor(reread).predict(inputs), expected, "\(fixture.name) \(layout)")
                written += 1
            }
        }
        XCTAssertGreaterThan(written, 45)
    }
}
