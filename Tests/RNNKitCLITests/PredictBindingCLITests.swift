import Foundation
import RNNKit
import RNNKitTestSupport
import XCTest

/// `rnnkit predict` as issue #19 describes it, through the built binary: inputs bound by name or
/// refused, outputs that never clobber, CSV for token models, one-line messages, strict JSON and
/// empty batches. Input files are written by the tests from the fixtures' arrays; predictions are
/// compared with Keras's expected outputs.
final class PredictBindingCLITests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory()
    }

    private func rnnkit(_ arguments: [String]) throws -> RNNKitBinary.Run {
        try RNNKitBinary.run(arguments, besides: Self.self)
    }

    private func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func fixtureArray(_ relative: String) throws -> Tensor {
        try TensorFile.read(FixtureFiles.path(relative))[0].tensor
    }

    /// Writes `arrays` (name, tensor) to `name` in the temporary directory.
    @discardableResult
    private func write(_ name: String, _ arrays: [(String, Tensor)]) throws -> String {
        try TensorFile.write(arrays.map { NamedTensor(name: $0.0, tensor: $0.1) }, to: file(name))
        return file(name)
    }

    @discardableResult
    private func writeText(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: file(name), atomically: false, encoding: .utf8)
        return file(name)
    }

    private func inputNames(_ model: String) throws -> [String] {
        try Predictor(contentsOf: FixtureFiles.path(model)).inputSpecs.map(\.name)
    }

    /// Exit status and the whole of stderr: one line, exactly.
    private func assertRefused(_ arguments: [String], status: Int32 = 2, _ message: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try rnnkit(arguments)
        XCTAssertEqual(run.status, status, run.stderr, file: file, line: line)
        XCTAssertEqual(run.stderr, "rnnkit: error: \(message)\n", file: file, line: line)
        XCTAssertEqual(run.stdout, "", file: file, line: line)
    }

    /// Runs `predict` into a new .npy file and returns its first output.
    private func predicted(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Tensor {
        let output = self.file("out-\(UUID().uuidString).npy")
        let run = try rnnkit(["predict"] + arguments + ["--output", output])
        XCTAssertEqual(run.status, 0, run.stderr, file: file, line: line)
        return try TensorFile.read(output)[0].tensor
    }

    private func assertClose(_ actual: Tensor, _ expected: Tensor, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.shape, expected.shape, file: file, line: line)
        let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-5, file: file, line: line)
    }

    // MARK: - 1. Binding by name, by position, or refused

    func testArraysBindByNameWhateverTheirOrderAndByPositionWhenUnnamed() throws {
        let model = FixtureFiles.path("seq2seq/keras3.keras")
        let (encoder, decoder) = (try fixtureArray("seq2seq/input_0.npy"), try fixtureArray("seq2seq/input_1.npy"))
        let names = try inputNames("seq2seq/keras3.keras")
        let expected = try fixtureArray("seq2seq/expected_keras3_0.npy")
        // Named in the reverse of the model's order: bound by name.
        let reversed = try write("reversed.npz", [(names[1], decoder), (names[0], encoder)])
        assertClose(try predicted([model, "--input", reversed]), expected)
        let reversedJSON = try write("reversed.json", [(names[1], decoder), (names[0], encoder)])
        assertClose(try predicted([model, "--input", reversedJSON]), expected)
        // Across files, by name.
        let second = try write("decoder.npz", [(names[1], decoder)])
        let first = try write("encoder.npz", [(names[0], encoder)])
        assertClose(try predicted([model, "--input", second, "--input", first]), expected)
        // No name matches a model input (np.savez(A, B) writes arr_0, arr_1): by position.
        let positional = try write("positional.npz", [("arr_0", encoder), ("arr_1", decoder)])
        assertClose(try predicted([model, "--input", positional]), expected)
        let encoderNPY = try write("encoder.npy", [("x", encoder)])
        let decoderNPY = try write("decoder.npy", [("x", decoder)])
        assertClose(try predicted([model, "--input", encoderNPY, "--input", decoderNPY]), expected)
    }

    func testPartlyMatchingNamesAreRefusedInEveryFormat() throws {
        let model = FixtureFiles.path("seq2seq/keras3.keras")
        let (encoder, decoder) = (try fixtureArray("seq2seq/input_0.npy"), try fixtureArray("seq2seq/input_1.npy"))
        let names = try inputNames("seq2seq/keras3.keras")
        let (alpha, beta) = (names[0], names[1])
        let prefix = "cannot match the input arrays to the model's inputs: "
        let inputs = "the model's inputs: '\(alpha)', '\(beta)'"
        let advice = "name every array after a model input, or none to take them in order"

        for (name, stray) in [("zzz.npz", "zzz"), ("arr.npz", "arr_0"), ("alpha2.npz", alpha + "2"),
                              ("x.json", "x")] {
            let path = try write(name, [(beta, decoder), (stray, encoder)])
            try assertRefused(["predict", model, "--input", path, "--output", file("never.npy")], prefix
                + "'\(stray)' in \(path) names no model input, but '\(beta)' in \(path) names one; \(advice); "
                + "\(inputs); given: \(path) ('\(beta)', '\(stray)')")
        }
        // A control character in a name is shown escaped, as \t, not replaced.
        let tabbed = try write("tab.json", [(beta, decoder), ("x\ty", encoder)])
        try assertRefused(["predict", model, "--input", tabbed], prefix
            + "'x\\ty' in \(tabbed) names no model input, but '\(beta)' in \(tabbed) names one; \(advice); "
            + "\(inputs); given: \(tabbed) ('\(beta)', 'x\\ty')")
        // --input b.npz (holding beta) then an unnamed a.npy.
        let named = try write("b.npz", [(beta, decoder)])
        let unnamed = try write("a.npy", [("x", encoder)])
        try assertRefused(["predict", model, "--input", named, "--input", unnamed], prefix
            + "the array in \(unnamed) has no name, but '\(beta)' in \(named) names one; \(advice); "
            + "\(inputs); given: \(named) ('\(beta)'); \(unnamed) (unnamed)")
        // A name given twice, across files.
        let both = try write("both.npz", [(alpha, encoder), (beta, decoder)])
        try assertRefused(["predict", model, "--input", both, "--input", named], prefix
            + "'\(beta)' is given twice (\(both) and \(named)); \(inputs); "
            + "given: \(both) ('\(alpha)', '\(beta)'); \(named) ('\(beta)')")
        // A model input left without data.
        try assertRefused(["predict", model, "--input", named], prefix
            + "no array for the model input '\(alpha)'; \(inputs); given: \(named) ('\(beta)')")
        // In order, but too few.
        try assertRefused(["predict", model, "--input", unnamed], prefix
            + "the model takes 2 input(s), got 1 array(s); \(inputs); given: \(unnamed) (unnamed)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: file("never.npy")))
    }

    // MARK: - 2. Outputs never clobber

    func testOutputRefusesInputsAndModelAndExistingFilesWithoutForce() throws {
        let model = FixtureFiles.path("simple_rnn/keras3.h5")
        let input = try write("self.npy", [("x", try fixtureArray("simple_rnn/input_0.npy"))])
        let original = try Data(contentsOf: URL(fileURLWithPath: input))
        // The input itself, however spelled: the same path, ./, a symbolic link, a hard link.
        let symbolic = file("symbolic.npy"), hard = file("hard.npy")
        try FileManager.default.createSymbolicLink(atPath: symbolic, withDestinationPath: input)
        try FileManager.default.linkItem(atPath: input, toPath: hard)
        let dotted = directory.path + "/./self.npy"
        for output in [input, dotted, symbolic, hard] {
            for force in [[], ["--force"]] {
                try assertRefused(["predict", model, "--input", input, "--output", output] + force,
                                  "\(output): the output is the input file \(input); choose another name")
            }
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: input)), original)

        // The model, even with --force (an RNNKit JSON model has an extension outputs may have).
        let jsonModel = file("model.json")
        XCTAssertEqual(try rnnkit(["convert", model, jsonModel]).status, 0)
        let modelBytes = try Data(contentsOf: URL(fileURLWithPath: jsonModel))
        try assertRefused(["predict", jsonModel, "--input", input, "--output", jsonModel, "--force"],
                          "\(jsonModel): the output is the input file \(jsonModel); choose another name")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: jsonModel)), modelBytes)

        // Another existing file: only with --force.
        let existing = try writeText("existing.npy", "keep me")
        try assertRefused(["predict", model, "--input", input, "--output", existing],
                          "\(existing): already exists; use --force to replace it")
        XCTAssertEqual(try String(contentsOfFile: existing, encoding: .utf8), "keep me")
        let forced = try rnnkit(["predict", model, "--input", input, "--output", existing, "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        assertClose(try TensorFile.read(existing)[0].tensor, try fixtureArray("simple_rnn/expected_keras3_0.npy"))
        // A new file, put in place by a hard link: no temporary name is left beside it.
        let fresh = file("fresh.npz")
        XCTAssertEqual(try rnnkit(["predict", model, "--input", input, "--output", fresh]).status, 0)
        XCTAssertEqual(try TensorFile.read(fresh).map(\.name), ["output_0"])
        let contents = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(contents.filter { $0.contains(".rnnkit-tmp-") }, [], "\(contents)")
    }

    func testDashWritesToStdoutInTheFormatAsked() throws {
        let model = FixtureFiles.path("simple_rnn/keras3.h5")
        let input = FixtureFiles.path("simple_rnn/input_0.npy")
        let expected = try fixtureArray("simple_rnn/expected_keras3_0.npy")
        for arguments in [[], ["--output", "-"], ["--output", "-", "--format", "json"]] {
            let run = try rnnkit(["predict", model, "--input", input] + arguments)
            XCTAssertEqual(run.status, 0, run.stderr)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let rows = try XCTUnwrap(json["output_0"] as? [[Double]])
            assertClose(Tensor(shape: [rows.count, 1], scalars: rows.flatMap { $0.map(Float.init) }), expected)
        }
        let npy = try rnnkit(["predict", model, "--input", input, "--output", "-", "--format", "npy"])
        XCTAssertEqual(npy.status, 0, npy.stderr)
        XCTAssertTrue(npy.stdout.contains("NUMPY"), npy.stdout)
        XCTAssertTrue(npy.stdout.contains("'shape': (3, 1)"), npy.stdout)
        try assertRefused(["predict", model, "--input", input, "--output", file("o.npz"), "--format", "json"],
                          "--format json disagrees with the extension of \(file("o.npz"))")
    }

    // MARK: - 3. CSV for token-id models

    func testCSVFeedsTokenModelsRowsAsSequencesOrAWindowedSeries() throws {
        let model = FixtureFiles.path("embedding_mask/keras3.keras")
        let ids = try fixtureArray("embedding_mask/input_0.npy")
        let expected = try fixtureArray("embedding_mask/expected_keras3_0.npy")
        let columns = ids.shape[1]
        let rows = stride(from: 0, to: ids.count, by: columns).map { start in
            ids.scalars[start..<start + columns].map { String(Int($0)) }.joined(separator: ",")
        }
        // One row per sequence, with a header.
        let table = try writeText("tokens.csv", (["t0,t1,t2,t3,t4,t5"] + rows).joined(separator: "\n") + "\n")
        assertClose(try predicted([model, "--input", table]), expected)

        // One long series cut into windows: the same as giving the windows themselves.
        let series: [Float] = [3, 7, 1, 19, 0, 12, 5, 2]
        let column = try writeText("series.csv", series.map { String(Int($0)) }.joined(separator: "\n") + "\n")
        let windows = (0...(series.count - columns)).flatMap { series[$0..<$0 + columns] }
        let explicit = try write("windows.npy", [("x", Tensor(shape: [series.count - columns + 1, columns],
                                                              scalars: windows))])
        let fromSeries = try predicted([model, "--input", column, "--window", "\(columns)"])
        XCTAssertEqual(fromSeries.shape, [3, 2])
        XCTAssertEqual(fromSeries, try predicted([model, "--input", explicit]))
        // A single window equal to the fixture's first sequence gives Keras's first row.
        let first = try writeText("first.csv", rows[0].replacingOccurrences(of: ",", with: "\n") + "\n")
        assertClose(try predicted([model, "--input", first, "--window", "\(columns)"]),
                    Tensor(shape: [1, 2], scalars: Array(expected.scalars[0..<2])))

        try assertRefused(["predict", model, "--input", table, "--window", "3"],
                          "\(table): windows for an input of rank 2 (such as token ids) are cut from one series, "
                            + "one value per row; this file has 6 columns")
    }

    func testTokenIDErrorsNameTheInputThePositionAndTheValue() throws {
        let model = FixtureFiles.path("embedding_mask/keras3.keras")
        let input = try inputNames("embedding_mask/keras3.keras")[0]
        let fractional = try writeText("fractional.csv", "1,2,3,4,5,6\n7,8,9,39.5,0,0\n")
        try assertRefused(["predict", model, "--input", fractional],
                          "\(fractional): input '\(input)', batch 1, step 3: token id 39.5 is not an integer")
        let outside = try write("outside.npy", [("x", Tensor(shape: [2, 6], scalars: [1, 2, 3, 4, 5, 6,
                                                                                     7, 8, 57, 0, 0, 0]))])
        try assertRefused(["predict", model, "--input", outside],
                          "\(outside): input '\(input)', batch 1, step 2: token id 57 is outside the vocabulary "
                            + "[0, 20) of the Embedding it feeds")
        let negative = try writeText("negative.json", #"{"\#(input)": [[1, 2, 3, 4, 5, -1]]}"#)
        try assertRefused(["predict", model, "--input", negative],
                          "\(negative): input '\(input)', batch 0, step 5: token id -1 is outside the vocabulary "
                            + "[0, 20) of the Embedding it feeds")
        let huge = try writeText("huge.json", "[[1, 2, 3, 4, 1e30, 0]]")
        try assertRefused(["predict", model, "--input", huge],
                          "\(huge): input '\(input)', batch 0, step 4: token id 1e+30 is outside the vocabulary "
                            + "[0, 20) of the Embedding it feeds")
        // Whole numbers in a float file are token ids too, as Keras casts them.
        let floats = try write("floats.npy", [("x", try fixtureArray("embedding_mask/input_0.npy"))])
        assertClose(try predicted([model, "--input", floats]), try fixtureArray("embedding_mask/expected_keras3_0.npy"))
    }

    // MARK: - 4. Messages: one line, counts, size limits, separators

    func testUsageErrorsAreOneLineAndCountsMustBePositive() throws {
        let model = FixtureFiles.path("simple_rnn/keras3.h5")
        let input = FixtureFiles.path("simple_rnn/input_0.npy")
        try assertRefused(["predict", model, "--input", input, "--window", "-3"],
                          "--window must be a positive number of steps, not -3")
        try assertRefused(["predict", model, "--input", input, "--window", "0"],
                          "--window must be a positive number of steps, not 0")
        try assertRefused(["bench", model, "--batch", "-2"], "--batch must be a positive number of sequences, not -2")
        try assertRefused(["validate", model, "--max-bytes", "-5K"], "--max-bytes must be a positive number of bytes, not -5K")
        try assertRefused(["predict", model], "give at least one input file (- for standard input)")
        try assertRefused(["predict", model, "--input", input, "--frobnicate"], "Unknown option '--frobnicate'")
        try assertRefused(["predict", model, "--input", input, "--window", "many"],
                          "The value 'many' is invalid for '--window <window>'")
    }

    func testSizeRefusalsNameMaxBytes() throws {
        // CSV is streamed, windows and all: a record is bounded (128 bytes of text for --max-bytes 1K).
        let model = FixtureFiles.path("embedding_mask/keras3.h5")
        let series = try writeText("long.csv", "1,1\n" + String(repeating: "1,", count: 100) + "1\n")
        try assertRefused(["predict", model, "--input", series, "--max-bytes", "1K"],
                          "\(series): line 2: a record longer than 128 bytes; --max-bytes raises the limit")
        // .npy is streamed too, a batch at a time: a 368-byte array under --max-bytes 300 is scored.
        let array = FixtureFiles.path("simple_rnn/input_0.npy")
        let streamed = try rnnkit(["predict", FixtureFiles.path("simple_rnn/keras3.h5"), "--input", array,
                                   "--max-bytes", "300"])
        XCTAssertEqual(streamed.status, 0, streamed.stderr)
        // Read whole: a JSON data file's text (300 / 32 = 9 bytes for --max-bytes 300).
        let json = try writeText("data.json", "[[[1, 2, 3, 4, 5]]]")
        try assertRefused(["predict", FixtureFiles.path("simple_rnn/keras3.h5"), "--input", json, "--max-bytes", "300"],
                          "\(json): JSON file too large: 19 bytes, the limit is 9; --max-bytes raises the limit")
        // Model files too: an architecture JSON's text.
        let architecture = FixtureFiles.path("simple_rnn/keras3.json")
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: architecture)[.size] as? Int)
        XCTAssertGreaterThan(size, 1024)
        try assertRefused(["summary", architecture, "--weights", FixtureFiles.path("simple_rnn/keras3.weights.h5"),
                           "--max-bytes", "1K"],
                          "\(architecture): file is \(size) bytes, above the limit 1024; --max-bytes raises the limit")
    }

    func testTabSeparatedCSVIsShownAsATab() throws {
        let csv = try writeText("tabs.csv", "a\tb\n1\t2\n")
        try assertRefused(["predict", FixtureFiles.path("simple_rnn/keras3.h5"), "--input", csv],
                          "\(csv): line 2: field 1 is not a number: '1\\t2' (fields are separated by commas, not tabs)")
    }

    // MARK: - 5. Strict JSON

    func testNonFiniteOutputsAreNullInJSONWithAWarningOrRefusedWithStrict() throws {
        let model = FixtureFiles.path("simple_rnn/keras3.h5")
        var data = try fixtureArray("simple_rnn/input_0.npy")
        data.scalars[0] = .nan  // the first sequence's output becomes NaN; the others stay finite
        let input = try write("nan.npy", [("x", data)])
        let run = try rnnkit(["predict", model, "--input", input])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, "rnnkit: warning: standard output: 1 output value(s) are NaN or infinite, "
                       + "written as null\n")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(json["output_0"] as? [Any])
        XCTAssertTrue(((rows[0] as? [Any])?[0]) is NSNull, "\(rows)")
        XCTAssertFalse(run.stdout.contains("NaN"))

        let output = file("nan.json")
        let toFile = try rnnkit(["predict", model, "--input", input, "--output", output])
        XCTAssertEqual(toFile.status, 0, toFile.stderr)
        XCTAssertEqual(toFile.stderr, "rnnkit: warning: \(output): 1 output value(s) are NaN or infinite, "
                       + "written as null\n")
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output))))

        let strictOutput = file("strict.json")
        try assertRefused(["predict", model, "--input", input, "--output", strictOutput, "--strict"],
                          "\(strictOutput): 1 output value(s) are NaN or infinite, which JSON has no number for; "
                            + "refused by --strict (.npy and .npz keep them)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: strictOutput))
        // .npy keeps NaN, without a warning.
        let npy = file("nan.npy.out.npy")
        let kept = try rnnkit(["predict", model, "--input", input, "--output", npy, "--strict"])
        XCTAssertEqual(kept.status, 0, kept.stderr)
        XCTAssertEqual(kept.stderr, "")
        XCTAssertTrue(try TensorFile.read(npy)[0].tensor.scalars[0].isNaN)
    }

    // MARK: - 6. Empty batch

    func testEmptyBatchGivesEmptyOutputs() throws {
        let model = FixtureFiles.path("seq2seq/keras3.keras")
        let encoder = try write("encoder.npy", [("x", Tensor(shape: [0, 5, 4], scalars: []))])
        let decoder = try write("decoder.npy", [("x", Tensor(shape: [0, 7, 3], scalars: []))])
        // tf_keras: predict on 0 sequences gives (0, steps, 3).
        XCTAssertEqual(try predicted([model, "--input", encoder, "--input", decoder]).shape, [0, 7, 3])
        let json = try rnnkit(["predict", model, "--input", encoder, "--input", decoder])
        XCTAssertEqual(json.status, 0, json.stderr)
        XCTAssertEqual(json.stdout, #"{"output_0":[]}"# + "\n")
    }

    // MARK: - --version

    func testVersionNamesRNNKitAndTheLibrariesLoaded() throws {
        let run = try rnnkit(["--version"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, run.stdout)
        XCTAssertEqual(lines.first, "RNNKit \(Versions.rnnkit)")
        let hdf5 = try XCTUnwrap(lines.dropFirst().first)
        XCTAssertNotNil(hdf5.range(of: #"^HDF5 [0-9]+\.[0-9]+\.[0-9]+$"#, options: .regularExpression), hdf5)
        let jsonC = try XCTUnwrap(lines.last)
        XCTAssertNotNil(jsonC.range(of: #"^json-c [0-9]+\.[0-9]+(\.[0-9]+)?$"#, options: .regularExpression), jsonC)
        // The same numbers the library reports in this process, asked of the same loaded libraries.
        XCTAssertEqual(run.stdout, Versions.description + "\n")
    }
}
