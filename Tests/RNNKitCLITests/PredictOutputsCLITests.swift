import Foundation
import RNNKit
import RNNKitTestSupport
import XCTest

/// `rnnkit predict`'s numbers, in every form it gives them (JSON on stdout, --output .npy, .npz
/// and .json), are Keras's outputs for every fixture within 1e-5, read back without RNNKit's
/// own readers.
final class PredictOutputsCLITests: TemporaryFolderTestCase {
    /// `predict` on `model` (with `weights`) and the fixture's inputs, with `extra` arguments.
    private func predict(_ fixture: String, _ model: String, weights: String? = nil,
                         _ extra: [String] = []) throws -> RNNKitBinary.Run {
        let inputs = (0..<4).map { FixtureFiles.path("\(fixture)/input_\($0).npy") }
            .filter { FileManager.default.fileExists(atPath: $0) }
        let arguments = ["predict", FixtureFiles.path("\(fixture)/\(model)")]
            + (weights.map { ["--weights", FixtureFiles.path("\(fixture)/\($0)")] } ?? [])
            + inputs.flatMap { ["--input", $0] } + extra
        return try RNNKitBinary.run(arguments, besides: Self.self)
    }

    func testEveryOutputFormatGivesKerasNumbers() throws {
        var checked = 0
        for entry in try FixtureFiles.manifest() {
            let (fixture, (file, writer)) = (entry.name, FixtureFiles.mainModel(of: entry))
            let model = String(file.dropFirst(fixture.count + 1))
            let expected = try FixtureFiles.kerasOutputs(of: fixture, writer: writer)
            let printed = try predict(fixture, model)
            assertSucceeded(printed, "\(fixture) to stdout")
            assertClose(try PredictionFiles.outputs(PredictionFiles.json(printed.stdout)), expected, "\(fixture) stdout")

            var forms = ["json", "npz"]
            if expected.count == 1 { forms.append("npy") }
            for form in forms {
                let output = temporary("\(fixture).\(form)")
                let run = try predict(fixture, model, ["--output", output])
                assertSucceeded(run, "\(fixture) to .\(form)")
                XCTAssertEqual(run.stdout, "", "\(fixture) to .\(form)")
                let outputs: [Tensor]
                switch form {
                case "npy": outputs = [try PredictionFiles.npy([UInt8](try Data(contentsOf: URL(fileURLWithPath: output))))]
                case "npz": outputs = try PredictionFiles.outputs(PredictionFiles.npz(output))
                default: outputs = try PredictionFiles.outputs(PredictionFiles.json(String(contentsOfFile: output, encoding: .utf8)))
                }
                assertClose(outputs, expected, "\(fixture) .\(form)")
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 40)
    }

    /// tf_keras's files give tf_keras's numbers (they differ from Keras 3's in `activations`,
    /// whose hard_sigmoid is Keras 2's).
    func testTfKerasFilesGiveTfKerasNumbers() throws {
        for fixture in try FixtureFiles.manifest() where fixture.writers.contains("tfkeras") {
            let expected = try FixtureFiles.kerasOutputs(of: fixture.name, writer: "tfkeras")
            let run = try predict(fixture.name, "tfkeras.json", weights: "tfkeras_weights.h5")
            assertSucceeded(run, fixture.name)
            assertClose(try PredictionFiles.outputs(PredictionFiles.json(run.stdout)), expected, "\(fixture.name) tfkeras")
        }
    }

    func testSeveralOutputsAreRefusedAsOneNpyAndNothingIsWritten() throws {
        let output = temporary("two.npy")
        let run = try predict("bidirectional_none", "keras3.keras", ["--output", output])
        assertCleanFailure(run, expected: [2], naming: [output], "two outputs as .npy")
        XCTAssertTrue(run.stderr.contains("holds exactly one array"), run.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }

    /// The readers used above do read what they are given: a damaged number is seen.
    func testTheIndependentReadersSeeEveryNumber() throws {
        let expected = try FixtureFiles.kerasOutputs(of: "simple_rnn", writer: "keras3")
        let path = FixtureFiles.path("simple_rnn/expected_keras3_0.npy")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        assertClose([try PredictionFiles.npy(bytes)], expected, within: 0, path)
        var damaged = bytes
        damaged[damaged.count - 1] = 0x7F  // the last float's top byte: now far off (or not finite)
        let difference = NumericDifference.between([try PredictionFiles.npy(damaged)], expected)
        XCTAssertTrue(difference.mismatch != nil || difference.largest > 1, "\(difference)")
        let withNull = try PredictionFiles.json("{\"output_0\": [[0.5, null], [1, 2]]}")
        XCTAssertEqual(withNull["output_0"]?.shape, [2, 2])
        XCTAssertNotNil(NumericDifference.between([withNull["output_0"]!], [Tensor(shape: [2, 2], scalars: [0.5, 0, 1, 2])]).mismatch)
    }
}
