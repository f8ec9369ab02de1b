import Foundation
import RNNKitTestSupport
import XCTest

/// Runs the built `rnnkit` binary and checks its output and exit status, as a user meets them.
final class CLITests: XCTestCase {
    private func rnnkit(_ arguments: String...) throws -> RNNKitBinary.Run {
        try RNNKitBinary.run(arguments, besides: Self.self)
    }

    func testSummaryJSONReportsKerasCounts() throws {
        let run = try rnnkit("summary", FixtureFiles.path("simple_rnn/keras3.keras"), "--json")
        XCTAssertEqual(run.status, 0, run.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(json?["total_params"] as? Int, 31)
        let layers = json?["layers"] as? [[String: Any]]
        XCTAssertEqual(layers?.map { $0["name"] as? String }, ["simple_rnn", "dense"])
        XCTAssertEqual(layers?.map { $0["params"] as? Int }, [27, 4])
    }

    func testSummaryTable() throws {
        let run = try rnnkit("summary", FixtureFiles.path("stacked_lstm/tfkeras.json"),
                             "--weights", FixtureFiles.path("stacked_lstm/tfkeras_weights.h5"))
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("Total params:"), run.stdout)
        XCTAssertTrue(run.stdout.contains("(LSTM)"), run.stdout)
    }

    func testBenchPrintsTimesAndTheLoad() throws {
        let run = try rnnkit("bench", FixtureFiles.path("simple_rnn/keras3.h5"), "--batch", "2", "--threads", "2",
                             "--json")
        XCTAssertEqual(run.status, 0, run.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["batch"] as? Int, 2)
        XCTAssertEqual(json["steps"] as? Int, 100)
        XCTAssertEqual(json["threads"] as? Int, 2)
        XCTAssertEqual(json["weight_bytes"] as? Int, 31 * 4)
        for key in ["median_ms", "min_ms", "max_ms", "gflops", "load_ms", "read_ms"] {
            XCTAssertGreaterThan(json[key] as? Double ?? 0, 0, key)
        }
        XCTAssertGreaterThanOrEqual(json["runs"] as? Int ?? 0, 10)
        XCTAssertGreaterThan(json["peak_rss_bytes"] as? Int ?? 0, 0)
        XCTAssertEqual(run.stderr, "")  // the child's marks of each load are not shown
        XCTAssertEqual(try rnnkit("bench", FixtureFiles.path("simple_rnn/keras3.h5"), "--batch", "0").status, 2)
    }

    func testValidModelExitsZero() throws {
        let run = try rnnkit("validate", FixtureFiles.path("seq2seq/keras3.h5"))
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("valid"))
    }

    func testInvalidModelListsLocatedProblemsAndExitsOne() throws {
        let path = FixtureFiles.path("malformed/misshaped_weight.h5")
        let run = try rnnkit("validate", path)
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stdout.contains("\(path): error: /model_weights/dense/"), run.stdout)
        let json = try rnnkit("validate", path, "--json")
        XCTAssertEqual(json.status, 1)
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(report?["valid"] as? Bool, false)
    }

    func testUnreadableFileExitsTwoWithOneLineAndNoHDF5Dump() throws {
        let path = FixtureFiles.path("malformed/truncated.h5")
        let run = try rnnkit("validate", path)
        XCTAssertEqual(run.status, 2)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        XCTAssertTrue(run.stderr.hasPrefix("rnnkit: error: \(path): "), run.stderr)
        XCTAssertFalse(run.stderr.contains("HDF5-DIAG"))
    }

    func testConfigErrorExitsOne() throws {
        let run = try rnnkit("summary", FixtureFiles.path("malformed/config_not_json.h5"))
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("model_config is not valid JSON"), run.stderr)
    }

    func testBadUsageExitsTwo() throws {
        XCTAssertEqual(try rnnkit("summary").status, 2)
        XCTAssertEqual(try rnnkit("frobnicate").status, 2)
        let weightsOnly = try rnnkit("summary", FixtureFiles.path("simple_rnn/tfkeras_weights.h5"))
        XCTAssertEqual(weightsOnly.status, 2)
        XCTAssertTrue(weightsOnly.stderr.contains("--weights"), weightsOnly.stderr)
        XCTAssertEqual(try rnnkit("--help").status, 0)
    }
}

extension CLITests {
    func testPredictWritesKerasOutputs() throws {
        let directory = try makeTemporaryDirectory()
        let output = directory.appendingPathComponent("out.npy").path
        let fixture = "seq2seq"
        let run = try rnnkit("predict", FixtureFiles.path("\(fixture)/keras3.h5"),
                             "--input", FixtureFiles.path("\(fixture)/input_0.npy"),
                             "--input", FixtureFiles.path("\(fixture)/input_1.npy"), "--output", output)
        XCTAssertEqual(run.status, 0, run.stderr)
        let written = try Data(contentsOf: URL(fileURLWithPath: output))
        XCTAssertEqual(Array(written.prefix(6)), [0x93] + Array("NUMPY".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["out.npy"])
    }

    func testPredictPrintsJSONWithoutOutput() throws {
        let run = try rnnkit("predict", FixtureFiles.path("simple_rnn/keras3.keras"),
                             "--input", FixtureFiles.path("simple_rnn/input_0.npy"))
        XCTAssertEqual(run.status, 0, run.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        XCTAssertEqual((json?["output_0"] as? [[Double]])?.count, 3)
    }

    func testPredictRefusesWrongInputsWithOneLine() throws {
        let cases: [([String], String)] = [
            (["seq2seq/keras3.keras", "seq2seq/input_0.npy"], "the model takes 2 input(s)"),
            (["embedding_mask/keras3.keras", "simple_rnn/input_0.npy"], "expects shape (None, 6), got (3, 4, 5)"),
            (["simple_rnn/keras3.keras", "lstm_sequences/input_0.npy"], "expects shape (None, 4, 5)"),
        ]
        for (files, message) in cases {
            let run = try rnnkit("predict", FixtureFiles.path(files[0]), "--input", FixtureFiles.path(files[1]))
            XCTAssertEqual(run.status, 2, run.stderr)
            XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
            XCTAssertTrue(run.stderr.contains(message), run.stderr)
        }
        XCTAssertEqual(try rnnkit("predict", FixtureFiles.path("simple_rnn/keras3.keras")).status, 2)
    }

    func testPredictOnInvalidModelExitsOne() throws {
        let run = try rnnkit("predict", FixtureFiles.path("malformed/nan_weight.h5"),
                             "--input", FixtureFiles.path("simple_rnn/input_0.npy"))
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("NaN"), run.stderr)
    }

    func testMaxBytesBoundsWhatIsReadAndTakesUnits() throws {
        // model.weights.h5 in the archive is a few KiB: over a 1K cap, under the 2 GiB default.
        let archive = FixtureFiles.path("simple_rnn/keras3.keras")
        let capped = try rnnkit("validate", archive, "--max-bytes", "1K")
        XCTAssertEqual(capped.status, 2, capped.stdout + capped.stderr)
        XCTAssertTrue(capped.stderr.hasPrefix("rnnkit: error: \(archive): "), capped.stderr)
        XCTAssertTrue(capped.stderr.contains("too large"), capped.stderr)
        XCTAssertEqual(capped.stderr.split(separator: "\n").count, 1, capped.stderr)
        XCTAssertEqual(try rnnkit("validate", archive, "--max-bytes", "64MiB").status, 0)
        for bad in ["0", "-5", "12X", "99999999999T"] {
            let run = try rnnkit("validate", archive, "--max-bytes", bad)
            XCTAssertEqual(run.status, 2, "--max-bytes \(bad): \(run.stderr)")
        }
    }

    /// A JSON model's text is bounded by --max-bytes, and so is the tree parsing it would build (256
    /// bytes a value), which for a list of small numbers is far larger than the text.
    func testMaxBytesBoundsTheTreeOfAJSONModel() throws {
        let path = try makeTemporaryDirectory().appendingPathComponent("model.json").path
        let zeros = Array(repeating: "0", count: 1000).joined(separator: ",")
        try #"{"format": "rnnkit", "weights": [\#(zeros)]}"#.write(toFile: path, atomically: false, encoding: .utf8)
        // 2 KB of text and 1003 values: the object, its string, the list and 1000 zeros.
        let run = try rnnkit("validate", path, "--max-bytes", "64K")
        XCTAssertEqual(run.status, 2, run.stdout + run.stderr)
        XCTAssertEqual(run.stderr, "rnnkit: error: \(path): JSON text of up to 1003 values, which would take about "
                       + "256768 bytes parsed; the limit is 65536; --max-bytes raises the limit\n")
    }

    func testMaxBytesBoundsPredictionInputs() throws {
        // A JSON data file is read whole: its text is bounded (300 / 32 = 9 bytes); the model's HDF5
        // reads are bounded by the file's own size. (An .npy is streamed a batch at a time.)
        let folder = try makeTemporaryDirectory()
        let json = folder.appendingPathComponent("input.json").path
        try "[[[1, 2, 3, 4, 5]]]".write(toFile: json, atomically: false, encoding: .utf8)
        let run = try rnnkit("predict", FixtureFiles.path("simple_rnn/keras3.h5"), "--input", json, "--max-bytes", "300")
        XCTAssertEqual(run.status, 2, run.stdout + run.stderr)
        XCTAssertTrue(run.stderr.hasPrefix("rnnkit: error: \(json): "), run.stderr)
    }
}
