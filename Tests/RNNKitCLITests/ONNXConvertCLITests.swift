import Foundation
import RNNKit
import RNNKitTestSupport
import XCTest

/// `rnnkit convert MODEL OUT.onnx` through the built binary: the output rules of every format
/// (atomic, --force, never over an input), --opset checked as usage, refusals named.
final class ONNXConvertCLITests: TemporaryFolderTestCase {
    private func rnnkit(_ arguments: String...) throws -> RNNKitBinary.Run {
        try RNNKitBinary.run(arguments, besides: Self.self)
    }

    func testWritesOnlyWithForceOverAnExistingFile() throws {
        let source = FixtureFiles.path("seq2seq/tfkeras.h5")
        let target = temporary("m.onnx")
        let written = try rnnkit("convert", source, target, "--opset", "14")
        XCTAssertEqual(written.status, 0, written.stderr)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: target))
        XCTAssertGreaterThan(bytes.count, 1000)
        let refused = try rnnkit("convert", source, target)
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("already exists; use --force"), refused.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), bytes)
        let replaced = try rnnkit("convert", source, target, "--force")
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: target)), bytes, "opset 17 differs from 14")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["m.onnx"])
    }

    func testRefusalsAndBadOptionsLeaveNothingBehind() throws {
        // Keras's Softmax leaves out masked values when the mask covers the whole input.
        let scores = temporary("scores.json")
        try #"""
            {"format": "rnnkit", "format_version": 1, "layers": [
              {"name": "ids", "class_name": "InputLayer", "config": {"batch_shape": [null, 3], "dtype": "int32"}},
              {"name": "embedding", "class_name": "Embedding", "config": {"input_dim": 4, "output_dim": 1, "mask_zero": true},
               "weights": {"embeddings": {"shape": [4, 1], "data": [[0], [1], [2], [3]]}}},
              {"name": "scores", "class_name": "Softmax", "config": {"axis": 1}}]}
            """#.write(toFile: scores, atomically: true, encoding: .utf8)
        let simple = FixtureFiles.path("simple_rnn/keras3.keras")
        let cases: [([String], Int32, String)] = [
            (["convert", scores, temporary("m.onnx")], 1, "\(scores): scores: cannot export Softmax to ONNX exactly"),
            (["convert", simple, temporary("s.onnx"), "--opset", "9"], 2, "--opset 9 is not one RNNKit writes: use 14 to 21"),
            (["convert", simple, temporary("s.h5"), "--opset", "17"], 2, "--opset is for .onnx outputs"),
            (["convert", simple, temporary("s.onnx"), "--layout", "pytorch"], 2, "holds the ONNX operators' own layout"),
        ]
        for (arguments, status, message) in cases {
            let run = try RNNKitBinary.run(arguments, besides: Self.self)
            XCTAssertEqual(run.status, status, "\(arguments): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(message), run.stderr)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["scores.json"])
    }

    func testExternalDataGoesBesideTheModelUnderTheSameRules() throws {
        let source = FixtureFiles.path("seq2seq/tfkeras.h5")
        let target = temporary("m.onnx")
        let written = try rnnkit("convert", source, target, "--external-data")
        XCTAssertEqual(written.status, 0, written.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(),
                       ["m.onnx", "m.onnx.data"])
        let valid = try rnnkit("validate", target)
        XCTAssertEqual(valid.stdout, "\(target): valid (0 warning(s))\n", valid.stderr)
        let again = try rnnkit("convert", source, target, "--external-data")
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.stderr.contains("already exists; use --force"), again.stderr)
        XCTAssertEqual(try rnnkit("convert", source, target, "--external-data", "--force").status, 0)
        // Without its data file the model is reported, not read past.
        try FileManager.default.removeItem(atPath: target + ".data")
        let orphan = try rnnkit("validate", target)
        XCTAssertEqual(orphan.status, 1, orphan.stderr)
        XCTAssertTrue(orphan.stdout.contains("external data file 'm.onnx.data' is missing"), orphan.stdout + orphan.stderr)
        let misused = try rnnkit("convert", source, temporary("m.h5"), "--external-data")
        XCTAssertEqual(misused.status, 2)
        XCTAssertTrue(misused.stderr.contains("--external-data is for .onnx outputs"), misused.stderr)
    }

    func testHelpStatesTheOpsets() throws {
        let help = try rnnkit("convert", "--help")
        XCTAssertTrue(help.stdout.contains("ONNX operator set for .onnx, 14 to 21 (default 17)"), help.stdout)
    }

    func testSummaryAndValidateReadTheONNXBack() throws {
        let target = temporary("m.onnx")
        XCTAssertEqual(try rnnkit("convert", FixtureFiles.path("bidirectional_none/tfkeras.h5"), target).status, 0)
        let summary = try rnnkit("summary", target)
        XCTAssertEqual(summary.status, 0, summary.stderr)
        XCTAssertTrue(summary.stdout.hasPrefix("ONNX model: IR version 8, opsets ai.onnx 17, produced by rnnkit "),
                      summary.stdout)
        XCTAssertTrue(summary.stdout.contains("\n GRU  1\n"), summary.stdout)
        let json = try rnnkit("summary", target, "--json")
        XCTAssertTrue(json.stdout.contains("\"format\" : \"onnx\""), json.stdout)
        let valid = try rnnkit("validate", target)
        XCTAssertEqual(valid.status, 0, valid.stderr)
        XCTAssertEqual(valid.stdout, "\(target): valid (0 warning(s))\n")
        let predict = try rnnkit("predict", target, "--input", FixtureFiles.path("bidirectional_none/input_0.npy"))
        XCTAssertEqual(predict.status, 2)
        XCTAssertTrue(predict.stderr.contains("an ONNX model: RNNKit runs and converts Keras models"), predict.stderr)
        let truncated = temporary("t.onnx")
        try Data(try Data(contentsOf: URL(fileURLWithPath: target)).prefix(200)).write(to: URL(fileURLWithPath: truncated))
        let broken = try rnnkit("validate", truncated)
        XCTAssertEqual(broken.status, 2)
        XCTAssertTrue(broken.stderr.contains("\(truncated): not an ONNX model"), broken.stderr)
    }
}
