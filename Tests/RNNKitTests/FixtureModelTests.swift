import Foundation
@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// Every Keras-made fixture, in every file format it was saved in, reads without problems and
/// reports exactly the parameter counts and output shapes Keras's model.summary() gave.
final class FixtureModelTests: XCTestCase {
    func testEveryFixtureMatchesKerasSummaryInEveryFormat() throws {
        var checked = 0
        for fixture in try FixtureFiles.manifest() {
            for writer in fixture.writers {
                let expected = try JSONParser.parse(
                    String(contentsOfFile: FixtureFiles.path("\(fixture.name)/summary_\(writer).json"), encoding: .utf8))
                for (modelPath, weightsPath) in FixtureFiles.files(of: fixture.name, writer: writer) {
                    let model = try Model.load(contentsOf: modelPath, weights: weightsPath)
                    XCTAssertEqual(model.problems.filter { $0.severity == .error }, [], modelPath)
                    let summary = try JSONParser.parse(String(decoding: JSONEncoder().encode(ModelSummary(model)),
                                                              as: UTF8.self))
                    for key in ["total_params", "trainable_params", "non_trainable_params"] {
                        XCTAssertEqual(summary[key], expected[key], "\(modelPath): \(key)")
                    }
                    XCTAssertEqual(summary["layers"].map(sortingKeys), expected["layers"].map(sortingKeys), modelPath)
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 75)
    }

    /// `value` with every object's keys in sorted order, so that objects compare by content.
    private func sortingKeys(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            .object(JSONObject(object.entries.sorted { $0.key < $1.key }.map { ($0.key, sortingKeys($0.value)) }))
        case .array(let items): .array(items.map(sortingKeys))
        case .null, .bool, .number, .string: value
        }
    }

    func testSimpleRNNCountsThirtyOneParameters() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("simple_rnn/tfkeras.h5"))
        let summary = ModelSummary(model)
        XCTAssertEqual(summary.rows.map(\.params), [27, 4])
        XCTAssertEqual(summary.totalParams, 31)
        XCTAssertEqual(model.kerasMajorVersion, 2)
        XCTAssertTrue(summary.table.contains("simple_rnn (SimpleRNN)"))
    }

    func testWeightsAreBoundUnderKerasNames() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("bidirectional_concat/keras3.keras"))
        let layer = try XCTUnwrap(model.layers.first { $0.className == "Bidirectional" })
        XCTAssertEqual(Set(layer.weights.keys), ["forward.kernel", "forward.recurrent_kernel", "forward.bias",
                                                  "backward.kernel", "backward.recurrent_kernel", "backward.bias"])
        XCTAssertEqual(model.kerasMajorVersion, 3)
    }
}
