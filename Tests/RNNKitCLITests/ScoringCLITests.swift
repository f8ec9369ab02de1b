import Foundation
import RNNKit
import RNNKitTestSupport
import XCTest

/// `rnnkit predict` streaming: NDJSON through a pipe line for line, bad lines named (exit 2, no
/// output file) or skipped, and CSV windows scored with less memory than the windows take.
final class ScoringCLITests: TemporaryFolderTestCase {
    private let model = FixtureFiles.path("simple_rnn/keras3.keras")  // input (None, 4, 5)

    /// The three fixture sequences, one per line.
    private func sequences() throws -> [String] {
        let tensor = try PredictionFiles.npy([UInt8](try Data(contentsOf: URL(fileURLWithPath:
            FixtureFiles.path("simple_rnn/input_0.npy")))))
        return (0..<3).map { batch in
            "[" + (0..<4).map { step in
                "[" + (0..<5).map { String(tensor.scalars[batch * 20 + step * 5 + $0]) }.joined(separator: ",") + "]"
            }.joined(separator: ",") + "]"
        }
    }

    /// Runs `command` in sh (for pipes), returning status, stdout and stderr.
    private func shell(_ command: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var environment = ProcessInfo.processInfo.environment
        environment["RNNKIT"] = RNNKitBinary.path(besides: Self.self)
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func testNDJSONThroughAPipeLineForLine() throws {
        let lines = try sequences()
        let input = temporary("seqs.ndjson")
        try (lines.joined(separator: "\n") + "\n").write(toFile: input, atomically: false, encoding: .utf8)
        let piped = try shell("cat '\(input)' | \"$RNNKIT\" predict '\(model)' --format ndjson - ")
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(piped.stderr, "")
        let direct = try RNNKitBinary.run(["predict", model, "--input", FixtureFiles.path("simple_rnn/input_0.npy")],
                                          besides: Self.self)
        let whole = try PredictionFiles.outputs(PredictionFiles.json(direct.stdout))[0]
        let outputs = piped.stdout.split(separator: "\n")
        XCTAssertEqual(outputs.count, 3)
        for (index, line) in outputs.enumerated() {
            let value = try PredictionFiles.outputs(PredictionFiles.json(String(line)))[0]
            assertClose([value], [Tensor(shape: [1], scalars: [whole.scalars[index]])], "line \(index + 1)")
        }
    }

    func testABadLineIsNamedExit2AndNoOutputIsLeft() throws {
        let lines = try sequences()
        let input = temporary("bad.ndjson")
        try ([lines[0], "[[1, 2]]", lines[1]].joined(separator: "\n") + "\n")
            .write(toFile: input, atomically: false, encoding: .utf8)
        let output = temporary("out.ndjson")
        let run = try RNNKitBinary.run(["predict", model, input, "--output", output], besides: Self.self)
        XCTAssertEqual(run.status, 2)
        XCTAssertEqual(run.stderr, "rnnkit: error: \(input): line 2: input 'input_layer' expects a sample of shape "
            + "(4, 5), got (1, 2)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))

        let skipped = try shell("\"$RNNKIT\" predict '\(model)' --on-error skip - < '\(input)'")
        XCTAssertEqual(skipped.status, 0, skipped.stderr)
        XCTAssertEqual(skipped.stdout.split(separator: "\n")[1],
                       #"{"line":2,"error":"input 'input_layer' expects a sample of shape (4, 5), got (1, 2)"}"#)
        XCTAssertEqual(skipped.stderr, "rnnkit: warning: standard input: line 2: input 'input_layer' expects a sample "
            + "of shape (4, 5), got (1, 2) (skipped)\n")
    }

    func testABadCSVRowIsSkippedWithARecordAndNoWindowSpansIt() throws {
        let rows = (0..<8).map { row in (0..<5).map { "\(row).\($0)" }.joined(separator: ",") }
        var lines = rows
        lines[4] = "1,2,3,4"
        let input = temporary("bad.csv")
        try (lines.joined(separator: "\n") + "\n").write(toFile: input, atomically: false, encoding: .utf8)
        let stopped = try RNNKitBinary.run(["predict", model, input, "--window", "4"], besides: Self.self)
        XCTAssertEqual(stopped.status, 2)
        XCTAssertEqual(stopped.stderr, "rnnkit: error: \(input): line 5: ragged row: 4 fields, but line 1 has 5\n")
        let skipped = try RNNKitBinary.run(["predict", model, input, "--window", "4", "--on-error", "skip",
                                            "--format", "ndjson"], besides: Self.self)
        XCTAssertEqual(skipped.status, 0, skipped.stderr)
        // Rows 0-3 make one window; the bad row 4 a record; rows 5-7 are too few for another.
        let outputs = skipped.stdout.split(separator: "\n")
        XCTAssertEqual(outputs.count, 2)
        XCTAssertTrue(outputs[0].hasPrefix(#"{"output_0":["#), String(outputs[0]))
        XCTAssertEqual(outputs[1], #"{"line":5,"error":"ragged row: 4 fields, but line 1 has 5"}"#)
    }

    /// The memory bound, checked without timing: with --max-bytes 64K nothing the size of the
    /// input (or of its windows, 45 times larger) may be held, and the run still succeeds and
    /// equals runs on the same series cut into small files.
    func testCSVWindowsAreScoredWithinABoundThatTheWholeWindowsExceed() throws {
        var generator = SeededGenerator(seed: 17)
        let rows = (0..<3000).map { _ in
            (0..<5).map { _ in String(Float.random(in: -1...1, using: &generator)) }.joined(separator: ",")
        }
        let input = temporary("series.csv")
        try (rows.joined(separator: "\n") + "\n").write(toFile: input, atomically: false, encoding: .utf8)
        let output = temporary("scored.npy")
        let run = try RNNKitBinary.run(["predict", model, input, "--window", "4", "--max-bytes", "64K",
                                        "--batch-size", "100", "--output", output], besides: Self.self)
        XCTAssertEqual(run.status, 0, run.stderr)
        let scored = try PredictionFiles.npy([UInt8](try Data(contentsOf: URL(fileURLWithPath: output))))
        XCTAssertEqual(scored.shape, [2997, 1])
        // The same series in files of 1000 rows, each overlapping the next by 3 rows.
        var pieces: [Float] = []
        for start in stride(from: 0, to: 3000 - 3, by: 997) {
            let piece = temporary("piece-\(start).csv")
            try (rows[start..<min(3000, start + 1000)].joined(separator: "\n") + "\n")
                .write(toFile: piece, atomically: false, encoding: .utf8)
            let pieceOutput = temporary("piece-\(start).npy")
            let pieceRun = try RNNKitBinary.run(["predict", model, piece, "--window", "4", "--output", pieceOutput],
                                                besides: Self.self)
            XCTAssertEqual(pieceRun.status, 0, pieceRun.stderr)
            pieces += try PredictionFiles.npy([UInt8](try Data(contentsOf: URL(fileURLWithPath: pieceOutput)))).scalars
        }
        XCTAssertEqual(pieces, scored.scalars)
    }
}
