import Foundation
import RNNKit
import RNNKitTestSupport
import XCTest

/// `rnnkit convert` through the built binary: every output format reads back and predicts the
/// same, outputs are written atomically and never over an input or an existing file unasked.
final class ConvertCLITests: TemporaryFolderTestCase {

    private func rnnkit(_ arguments: String...) throws -> RNNKitBinary.Run { try rnnkit(arguments) }

    private func rnnkit(_ arguments: [String]) throws -> RNNKitBinary.Run {
        try RNNKitBinary.run(arguments, besides: Self.self)
    }

    func testEveryFormatAndLayoutPredictsTheSame() throws {
        let source = FixtureFiles.path("seq2seq/keras3.keras")
        let inputs = ["--input", FixtureFiles.path("seq2seq/input_0.npy"), "--input", FixtureFiles.path("seq2seq/input_1.npy")]
        let reference = try rnnkit(["predict", source] + inputs)
        XCTAssertEqual(reference.status, 0, reference.stderr)
        // Every converted file must print these very numbers, which are Keras's.
        assertClose(try PredictionFiles.outputs(PredictionFiles.json(reference.stdout)),
                    try FixtureFiles.kerasOutputs(of: "seq2seq", writer: "keras3"), source)
        var targets = ["m.h5", "m.keras"]
        for layout in ["keras", "split", "pytorch", "onnx"] {
            targets += ["m-\(layout).json", "m-\(layout).safetensors", "m-\(layout).npz"]
        }
        for target in targets {
            let layout = target.split(separator: "-").dropFirst().first.map { String($0.split(separator: ".")[0]) } ?? "keras"
            let converted = try rnnkit("convert", source, temporary(target), "--layout", layout)
            XCTAssertEqual(converted.status, 0, "\(target): \(converted.stderr)")
            let predicted = try rnnkit(["predict", temporary(target)] + inputs)
            XCTAssertEqual(predicted.stdout, reference.stdout, target)
            XCTAssertEqual(try rnnkit("validate", temporary(target)).status, 0, target)
        }
    }

    func testRefusalsLeaveNothingBehind() throws {
        let source = FixtureFiles.path("gru_reset_before/keras3.keras")
        let cases: [([String], Int32, String)] = [
            (["convert", source, temporary("g.safetensors"), "--layout", "pytorch"], 1, "cannot express GRU reset_after=false"),
            (["convert", source, temporary("g.h5"), "--layout", "onnx"], 2, "holds Keras's own layout"),
            (["convert", source, temporary("g.txt")], 2, "cannot tell the output format"),
            (["convert", source, source, "--force"], 2, "is the input file"),
            (["convert", FixtureFiles.path("malformed/nan_weight.h5"), temporary("n.h5")], 1, "NaN"),
        ]
        for (arguments, status, message) in cases {
            let run = try rnnkit(arguments)
            XCTAssertEqual(run.status, status, "\(arguments): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(message), run.stderr)
            XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }

    func testExistingOutputIsReplacedOnlyWithForce() throws {
        let target = temporary("m.json")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: target))
        let refused = try rnnkit("convert", FixtureFiles.path("simple_rnn/keras3.keras"), target)
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("already exists; use --force"), refused.stderr)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "keep me")
        XCTAssertEqual(try rnnkit("convert", FixtureFiles.path("simple_rnn/keras3.keras"), target, "--force").status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["m.json"])
    }
}
