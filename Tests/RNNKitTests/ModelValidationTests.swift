import Foundation
@testable import RNNKit
import RNNKitTestSupport
import XCTest

/// The hand-broken files of Fixtures/malformed (see Fixtures/README.md): each is refused with
/// a located message, either as an unreadable file or as a model problem.
final class ModelValidationTests: XCTestCase {
    private func problems(_ name: String, weights: String? = nil) throws -> [Problem] {
        try Model.load(contentsOf: FixtureFiles.path("malformed/" + name),
                       weights: weights.map(FixtureFiles.path)).errors
    }

    private func assertThrows(_ name: String, _ kind: RNNKitError.Kind, containing text: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        let path = FixtureFiles.path("malformed/" + name)
        XCTAssertThrowsError(try Model.load(contentsOf: path), file: file, line: line) { error in
            guard let error = error as? RNNKitError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.kind, kind, error.description, file: file, line: line)
            XCTAssertEqual(error.file, path, file: file, line: line)
            XCTAssertTrue(error.description.contains(text), error.description, file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
        }
    }

    func testTruncatedHDF5IsUnreadable() {
        assertThrows("truncated.h5", .unreadable, containing: "truncated.h5")
    }

    func testBitFlippedArchiveIsUnreadable() {
        assertThrows("bitflipped.keras", .unreadable, containing: "bitflipped.keras")
    }

    func testHDF5WithoutModelIsUnreadable() {
        assertThrows("not_a_model.h5", .unreadable, containing: "no model_config")
    }

    func testConfigThatIsNotJSON() {
        assertThrows("config_not_json.h5", .invalidModel, containing: "model_config is not valid JSON")
    }

    func testMissingWeightIsLocated() throws {
        let found = try problems("missing_weight.h5")
        XCTAssertEqual(found.count, 1, "\(found)")
        XCTAssertTrue(found[0].location.hasPrefix("/model_weights/simple_rnn/"), found[0].location)
        XCTAssertTrue(found[0].message.contains("missing"), found[0].message)
    }

    func testMisshapedWeightNamesBothShapes() throws {
        let found = try problems("misshaped_weight.h5")
        XCTAssertEqual(found.count, 1, "\(found)")
        XCTAssertTrue(found[0].location.hasPrefix("/model_weights/dense/"), found[0].location)
        XCTAssertTrue(found[0].message.contains("(4, 1)") && found[0].message.contains("(3, 1)"), found[0].message)
    }

    func testNaNWeight() throws {
        let found = try problems("nan_weight.h5")
        XCTAssertEqual(found.map(\.location), ["simple_rnn.kernel"])
        XCTAssertTrue(found[0].message.contains("NaN"))
    }

    func testUnknownLayerClassIsNamed() throws {
        let found = try problems("unknown_layer.h5")
        XCTAssertTrue(found.contains { $0.message.contains("unsupported layer class 'FancyDense'") }, "\(found)")
    }

    func testDanglingAndCyclicReferences() throws {
        XCTAssertTrue(try problems("dangling_ref.h5").contains { $0.message.contains("unknown layer") })
        XCTAssertTrue(try problems("cyclic_ref.h5").contains { $0.message.contains("cycle") })
        XCTAssertEqual(try problems("functional_ok.h5"), [])
    }

    func testAbsurdSizesAreRefusedWithoutAllocating() throws {
        let huge = try problems("huge_units.json", weights: "simple_rnn/keras3.weights.h5")
        XCTAssertTrue(huge.contains { $0.location.contains("/config/layers/1/config/units") && $0.message.contains("limit") }, "\(huge)")
        let negative = try problems("negative_dim.json", weights: "simple_rnn/keras3.weights.h5")
        XCTAssertTrue(negative.contains { $0.message.contains("negative dimension -5") }, "\(negative)")
    }

    func testMissingEmptyAndForeignFiles() throws {
        let directory = try makeTemporaryDirectory()
        let empty = directory.appendingPathComponent("empty.h5").path
        let text = directory.appendingPathComponent("notes.txt").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        _ = FileManager.default.createFile(atPath: text, contents: Data("hello".utf8))
        for (path, message) in [(empty, "empty file"), (text, "unrecognized file format (expected HDF5, a .keras archive, JSON, safetensors or .npz)"),
                                (directory.appendingPathComponent("absent.h5").path, "no such file")] {
            XCTAssertThrowsError(try Model.load(contentsOf: path)) { error in
                XCTAssertEqual((error as? RNNKitError)?.kind, .unreadable)
                XCTAssertEqual((error as? RNNKitError)?.description, "\(path): \(message)")
            }
        }
    }

    func testArchitectureJSONNeedsWeights() {
        let path = FixtureFiles.path("simple_rnn/keras3.json")
        XCTAssertThrowsError(try Model.load(contentsOf: path)) { error in
            XCTAssertEqual((error as? RNNKitError)?.kind, .badUsage)
            XCTAssertTrue("\(error)".contains("--weights"))
        }
    }

    func testWeightsOnlyFileAsModelIsBadUsage() {
        let path = FixtureFiles.path("simple_rnn/tfkeras_weights.h5")
        XCTAssertThrowsError(try Model.load(contentsOf: path)) { error in
            XCTAssertEqual((error as? RNNKitError)?.kind, .badUsage)
            XCTAssertTrue("\(error)".contains("weights-only"), "\(error)")
        }
    }

    func testStatefulLayerIsAWarningNotAnError() throws {
        let config: JSONValue = [
            "class_name": "Sequential",
            "config": ["name": "s", "layers": [
                ["class_name": "InputLayer", "config": ["batch_shape": [2, 3, 4], "name": "in"]],
                ["class_name": "SimpleRNN", "config": ["name": "rnn", "units": 2, "stateful": true]],
            ]],
        ]
        let model = try KerasModelConfig.parse(config, kerasVersion: "3.15.1", source: "inline")
        XCTAssertEqual(model.warnings.map(\.location), ["rnn"])
        XCTAssertEqual(model.errors, [])
    }
}
