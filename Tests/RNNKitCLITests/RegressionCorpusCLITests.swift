import Foundation
import RNNKitTestSupport
import XCTest

/// Hostile and broken model files through the built `rnnkit` binary, each in its own process:
/// the files of Fixtures/regressions/ (some crash libhdf5 itself, which only a child process can
/// survive), a dozen mutated fixtures through `validate` and `predict`, and the named
/// cases (zip bomb, path traversal, truncated and bit-flipped HDF5, a 2^40-unit layer, a
/// 100,000-deep JSON array), each under a second with bounded memory.
///
/// Every failure must exit 1 (invalid model) or 2 (unreadable), with one line on stderr naming
/// the file and no "HDF5-DIAG" dump; `predict --output X` must leave neither X nor a temporary
/// `.X.rnnkit-tmp-*` behind.
final class RegressionCorpusCLITests: XCTestCase {
    private var directory: URL!
    /// rnnkit's TMPDIR, so that what it leaves behind is told apart from other processes' files.
    private var temporaryFolder: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory()
        temporaryFolder = try makeTemporaryDirectory()
    }

    // MARK: - Fixtures/regressions (see its README.md)

    // libhdf5 1.10.8 crashes (or allocates without bound) on these; they pass once the reading
    // runs in a child process with time and memory limits.

    func testRegressionGlobalHeapCrash() throws {
        try assertRegression("hdf5-global-heap.h5")
    }

    func testRegressionGlobalHeapCrashInFixture() throws {
        try assertRegression("hdf5-global-heap-embedding_mask-tfkeras.h5")
    }

    func testRegressionLocalHeapCrashInFixture() throws {
        try assertRegression("hdf5-local-heap-bidirectional_none-tfkeras.h5")
    }

    func testRegressionAttributeMessageCrash() throws {
        try assertRegression("hdf5-attribute-message.h5")
    }

    func testRegressionVariableLengthMemoryBomb() throws {
        try assertRegression("hdf5-vlen-length-memory.h5")
    }

    func testRegressionGlobalHeapHang() throws {
        // libhdf5 loops in its global-heap decoder (found by the hdf5 fuzzer). Only a time limit on
        // the reading can end it; 5 s is far more than any real 31 KB file needs.
        try assertRegression("hdf5-global-heap-hang.h5", within: 5)
    }

    func testRegressionAttributeNameOverread() throws {
        // libhdf5 strdup()s an attribute name that is not terminated inside its message (an
        // over-read that AddressSanitizer reports; found by the hdf5 fuzzer).
        try assertRegression("hdf5-attribute-name-overread.h5")
    }

    // RNNKit bugs.

    func testRegressionInputNodeIndex() throws {
        // Call 7 of an InputLayer does not exist: an invalid model, not a trap.
        try assertRegression("input-node-index.json", weights: "malformed/functional_ok.h5", expected: [1])
    }

    func testRegressionDenseCalledOnNothing() throws {
        // A Dense whose inbound node has no arguments (found by the json fuzzer): an invalid model,
        // not an index out of range when its weight shapes are worked out.
        try assertRegression("dense-called-on-nothing.json", weights: "seq2seq/keras3.weights.h5", expected: [1])
    }

    func testMalformedOperationNodesAreInvalidModels() throws {
        // Keras 3 operation nodes and tf_keras TFOpLambda layers broken in their args, constants,
        // configs and keys: one-line problems naming the layer and place, exit 1.
        try assertRegression("op-getitem-tensor-index.json", weights: "ops_graph/keras3.weights.h5", expected: [1])
        try assertRegression("op-node-malformed.json", weights: "ops_graph/keras3.weights.h5", expected: [1])
        try assertRegression("tfop-malformed.json", weights: "ops_graph/tfkeras_weights.h5", expected: [1])
    }

    func testRegressionHardLinkCycle() throws {
        // A group linking to itself must neither hang nor crash; reporting it as a problem (exit 1)
        // or ignoring the repeated group (exit 0) are both acceptable.
        try assertRegression("hard-link-cycle.weights.h5", asWeightsOf: "simple_rnn/keras3.json", expected: [0, 1])
    }

    func testRegressionNewlineInLayerName() throws {
        let model = FixtureFiles.path("regressions/newline-in-layer-name.json")
        let weights = FixtureFiles.path("simple_rnn/tfkeras_weights.h5")
        let validate = try rnnkit(["validate", model, "--weights", weights])
        XCTAssertEqual(validate.status, 1, validate.outcome)
        // One problem per line: every line starts with the model's name.
        for line in validate.stdout.split(separator: "\n") {
            XCTAssertTrue(line.hasPrefix("\(model) + \(weights): "), "validate printed a broken line: \(line.debugDescription)")
        }
        let predict = try rnnkit(["predict", model, "--weights", weights, "--input", FixtureFiles.path("simple_rnn/input_0.npy")])
        assertCleanFailure(predict, expected: [1], naming: [model], "predict")
    }

    /// `rnnkit validate` on a regression file (or, with `asWeightsOf`, on a fixture architecture
    /// with the file as its weights) fails cleanly, quickly and in bounded memory.
    private func assertRegression(_ name: String, weights: String? = nil, asWeightsOf architecture: String? = nil,
                                  expected: Set<Int32> = [1, 2], within seconds: TimeInterval = 1,
                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let path = FixtureFiles.path("regressions/" + name)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path), "missing \(path)", file: file, line: line)
        var arguments = ["validate"]
        var named = [path]
        if let architecture {
            arguments += [FixtureFiles.path(architecture), "--weights", path]
            named.append(FixtureFiles.path(architecture))
        } else {
            arguments.append(path)
            if let weights { arguments += ["--weights", FixtureFiles.path(weights)] }
        }
        let run = try rnnkit(arguments)
        if run.status == 0 && expected.contains(0) {
            XCTAssertEqual(run.stderr, "", name, file: file, line: line)
        } else {
            assertCleanFailure(run, expected: expected, naming: named, name, file: file, line: line)
        }
        assertQuickAndSmall(run, name, within: seconds, file: file, line: line)
    }

    // MARK: - Mutated fixtures through validate and predict

    func testMutatedFilesThroughValidateAndPredict() throws {
        let cases = try mutatedCases()
        XCTAssertGreaterThanOrEqual(cases.count, 12)
        for mutant in cases {
            var arguments = [mutant.model]
            if let weights = mutant.weights { arguments += ["--weights", weights] }
            let validate = try rnnkit(["validate"] + arguments)
            assertCleanFailure(validate, expected: mutant.expected, naming: mutant.names, "validate \(mutant.label)")

            // predict --output into an empty folder: nothing may be left there.
            let outputs = directory.appendingPathComponent("out-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
            for name in ["result.npy", "result.npz", "result.json"] {
                let output = outputs.appendingPathComponent(name).path
                let inputs = mutant.inputs.flatMap { ["--input", $0] }
                let predict = try rnnkit(["predict"] + arguments + inputs + ["--output", output])
                assertCleanFailure(predict, expected: mutant.expected, naming: mutant.names, "predict \(mutant.label) \(name)")
                XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outputs.path), [],
                               "predict \(mutant.label) left files behind")
            }
            // An existing output is left as it was.
            let existing = outputs.appendingPathComponent("kept.npy").path
            XCTAssertTrue(FileManager.default.createFile(atPath: existing, contents: Data("keep me".utf8)))
            let predict = try rnnkit(["predict"] + arguments + mutant.inputs.flatMap { ["--input", $0] } + ["--output", existing])
            assertCleanFailure(predict, expected: mutant.expected, naming: mutant.names, "predict over existing \(mutant.label)")
            XCTAssertEqual(try String(contentsOfFile: existing, encoding: .utf8), "keep me", mutant.label)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outputs.path), ["kept.npy"], mutant.label)
        }
    }

    private struct Case {
        var label: String
        var model: String
        var weights: String?
        var inputs: [String]
        var expected: Set<Int32>
        var names: [String] { [model] + (weights.map { [$0] } ?? []) }

        init(label: String, model: String, weights: String? = nil, inputs: [String], expected: Set<Int32>) {
            (self.label, self.model, self.weights, self.inputs, self.expected) = (label, model, weights, inputs, expected)
        }

        /// A mutant from the corpus's engine, which must be refused with one of `expected`.
        init(_ mutant: Mutant, expected: Set<Int32>) {
            self.init(label: mutant.name, model: mutant.model, weights: mutant.weights, inputs: mutant.inputs,
                      expected: expected)
        }
    }

    /// A dozen broken files made from the simple_rnn and seq2seq fixtures, each broken in a way
    /// that must fail (never load as valid).
    private func mutatedCases() throws -> [Case] {
        var cases: [Case] = []
        func fixture(_ relative: String) throws -> [UInt8] {
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: FixtureFiles.path(relative))))
        }
        func mutating(_ fixture: String, _ model: String, weights: String? = nil) -> BaseFile {
            BaseFile(fixture: fixture, model: model, weights: weights, mutated: .model)
        }
        // Truncations of every container format. Each mutant gets a folder of its own, so that
        // writing the next one does not replace it.
        func folder() throws -> URL {
            let url = directory.appendingPathComponent(UUID().uuidString)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }
        for (fixtureName, model, fraction) in [("simple_rnn", "tfkeras.h5", 0.5), ("simple_rnn", "keras3.h5", 0.9),
                                               ("seq2seq", "keras3.keras", 0.5), ("seq2seq", "keras3.keras", 0.999)] {
            let base = mutating(fixtureName, model)
            let bytes = try base.bytes()
            let cut = Int(Double(bytes.count) * fraction)
            cases.append(Case(try base.with(Array(bytes[..<cut]), "truncated@\(cut)", in: try folder()), expected: [2]))
        }
        // The HDF5 signature damaged.
        var flipped = try fixture("simple_rnn/tfkeras.h5")
        flipped[3] ^= 0x01
        cases.append(Case(try mutating("simple_rnn", "tfkeras.h5").with(flipped, "signature bit flip", in: try folder()),
                          expected: [2]))
        // The weights inside a .keras damaged (CRC-32 fails).
        let archive = mutating("simple_rnn", "keras3.keras")
        let zip = try ZipLayout(try archive.bytes())
        let weightsEntry = try XCTUnwrap(zip.entries.first { $0.name == "model.weights.h5" })
        let damaged = try XCTUnwrap(zip.mutations(of: weightsEntry, in: try archive.bytes()).first { $0.0 == "data flipped, crc stale" })
        cases.append(Case(try archive.with(damaged.1, damaged.0, in: try folder()), expected: [2]))
        // The weights file of an architecture JSON truncated.
        let weights = BaseFile(fixture: "seq2seq", model: "keras3.json", weights: "keras3.weights.h5", mutated: .weights)
        let weightBytes = try weights.bytes()
        cases.append(Case(try weights.with(Array(weightBytes[..<(weightBytes.count / 3)]), "truncated@\(weightBytes.count / 3)",
                                           in: try folder()), expected: [2]))
        // Config edits: units changed, class unknown, JSON truncated, reference nowhere, layer removed.
        let simple = mutating("simple_rnn", "keras3.json", weights: "keras3.weights.h5")
        let seq = mutating("seq2seq", "keras3.json", weights: "keras3.weights.h5")
        let simpleText = try simple.configText(), seqText = try seq.configText()
        let edits: [(BaseFile, String, String, Set<Int32>)] = [
            (simple, "units 3 -> 4", simpleText.replacingOccurrences(of: "\"units\": 3", with: "\"units\": 4"), [1]),
            (simple, "class FancyDense",
             simpleText.replacingOccurrences(of: "\"class_name\": \"Dense\"", with: "\"class_name\": \"FancyDense\""), [1]),
            (simple, "json truncated@\(simpleText.count / 2)", String(simpleText.prefix(simpleText.count / 2)), [2]),
            (seq, "inbound nowhere", seqText.replacingOccurrences(of: "[\"lstm\", 0, 1]", with: "[\"no_such_layer\", 0, 1]"), [1]),
            (seq, "layer removed", try removingLayer(named: "lstm_1", from: seqText), [1]),
        ]
        for (base, label, edited, expected) in edits {
            XCTAssertNotEqual(edited, simpleText, label)
            XCTAssertNotEqual(edited, seqText, label)
            cases.append(Case(try XCTUnwrap(try base.withConfig(edited, label, in: try folder())), expected: expected))
        }
        // Weights Keras itself loads wrongly or not at all.
        let simpleInput = [FixtureFiles.path("simple_rnn/input_0.npy")]
        cases.append(Case(label: "nan weight", model: FixtureFiles.path("malformed/nan_weight.h5"), inputs: simpleInput, expected: [1]))
        cases.append(Case(label: "misshaped weight", model: FixtureFiles.path("malformed/misshaped_weight.h5"),
                          inputs: simpleInput, expected: [1]))
        return cases
    }

    /// Mutants that change nothing the maths reads (the archive rebuilt deflated, metadata.json
    /// missing or not JSON, an asset that is a zip bomb) predict Keras's outputs within 1e-5
    /// through the binary too, or (where refusing is allowed) fail cleanly.
    func testMutantsThatChangeNoMathsPredictKerasOutputs() throws {
        var matched = 0
        for fixture in ["simple_rnn", "seq2seq"] {
            let base = BaseFile(fixture: fixture, model: "keras3.keras", weights: nil, mutated: .model)
            let bytes = try base.bytes()
            for (label, copy) in try CorpusMutations.archiveLevelMutations(of: bytes, zip: try ZipLayout(bytes), in: directory) {
                let mutant = try base.with(copy, label, in: directory)
                guard [.kerasOutputs, .kerasOutputsOrRefusal].contains(mutant.expectation) else { continue }
                let run = try rnnkit(["predict", mutant.model] + mutant.inputs.flatMap { ["--input", $0] })
                if run.status != 0 && mutant.expectation == .kerasOutputsOrRefusal {
                    assertCleanFailure(run, expected: [1, 2], naming: [mutant.model], mutant.name)
                    continue
                }
                assertSucceeded(run, mutant.name)
                assertClose(try PredictionFiles.outputs(PredictionFiles.json(run.stdout)), try mutant.kerasOutputs(), mutant.name)
                matched += 1
            }
        }
        XCTAssertGreaterThanOrEqual(matched, 4)
    }

    private func removingLayer(named name: String, from text: String) throws -> String {
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        var config = try XCTUnwrap(json["config"] as? [String: Any])
        let layers = try XCTUnwrap(config["layers"] as? [[String: Any]])
        config["layers"] = layers.filter { ($0["config"] as? [String: Any])?["name"] as? String != name }
        json["config"] = config
        return String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
    }

    // MARK: - The named cases

    func testZipBombIsRefusedQuickly() throws {
        // 1 GiB of zeros in a ~1 MB deflate stream (ratio ~1030:1), as model.weights.h5.
        let zeros = 1 + 258 * 4_161_000
        // The hand-made helpers agree with zlib (values from Python's zlib.crc32).
        XCTAssertEqual(HandMadeZip.crcOfZeros(2_580_001), 0x8254_89E3)
        XCTAssertEqual(HandMadeZip.crcOfZeros(1000), HandMadeZip.Member(name: "z", stored: [UInt8](repeating: 0, count: 1000)).crc)
        let bomb = try kerasArchive("bomb.keras") {
            $0.filter { $0.name != "model.weights.h5" }
                + [HandMadeZip.Member(name: "model.weights.h5", deflated: HandMadeZip.deflate(zeros), size: zeros)]
        }
        let run = try rnnkit(["validate", bomb])
        assertCleanFailure(run, expected: [2], naming: [bomb], "zip bomb")
        XCTAssertTrue(run.stderr.contains("zip bomb"), run.stderr)
        assertQuickAndSmall(run, "zip bomb")
        XCTAssertEqual(kerasTemporaryDirectories(), [], "the refused bomb left a temporary directory")
    }

    func testPathTraversalEntryIsRefused() throws {
        for name in ["../evil", "assets/../../evil", "/tmp/evil"] {
            let archive = try kerasArchive("extra-\(UUID().uuidString).keras") {
                $0 + [HandMadeZip.Member(name: name, stored: Array("owned".utf8))]
            }
            let run = try rnnkit(["validate", archive])
            assertCleanFailure(run, expected: [2], naming: [archive], "traversal \(name)")
            XCTAssertTrue(run.stderr.contains("unsafe entry name"), run.stderr)
            assertQuickAndSmall(run, "traversal \(name)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory.deletingLastPathComponent().appendingPathComponent("evil").path))
        }
    }

    func testTruncatedHDF5FailsCleanly() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: FixtureFiles.path("simple_rnn/tfkeras.h5"))))
        var paths = [FixtureFiles.path("malformed/truncated.h5")]
        for cut in [8, 100, 512, 2048, bytes.count - 1] {
            let path = directory.appendingPathComponent("truncated-\(cut).h5").path
            try Data(bytes[..<cut]).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        for path in paths {
            let run = try rnnkit(["validate", path])
            assertCleanFailure(run, expected: [2], naming: [path], "truncated \(path)")
            assertQuickAndSmall(run, "truncated \(path)")
        }
    }

    func testBitFlippedHDF5FailsCleanly() throws {
        // One flip HDF5 rejects, and the global-heap flip that crashes libhdf5 in-process.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: FixtureFiles.path("simple_rnn/tfkeras.h5"))))
        bytes[9] ^= 0x10  // superblock version
        let flipped = directory.appendingPathComponent("flipped.h5").path
        try Data(bytes).write(to: URL(fileURLWithPath: flipped))
        let cases: [(String, Set<Int32>)] = [
            (flipped, [2]), (FixtureFiles.path("regressions/hdf5-global-heap-embedding_mask-tfkeras.h5"), [1, 2])]
        for (path, expected) in cases {
            let run = try rnnkit(["validate", path])
            assertCleanFailure(run, expected: expected, naming: [path], "bit flip \(path)")
            assertQuickAndSmall(run, "bit flip \(path)")
        }
    }

    func testHugeUnitsLayerIsInvalidNotAllocated() throws {
        let model = FixtureFiles.path("malformed/huge_units.json")
        let weights = FixtureFiles.path("simple_rnn/keras3.weights.h5")
        let validate = try rnnkit(["validate", model, "--weights", weights])
        XCTAssertEqual(validate.status, 1, validate.stderr)
        XCTAssertFalse(validate.stderr.contains("HDF5-DIAG"))
        assertQuickAndSmall(validate, "huge units validate")
        let output = directory.appendingPathComponent("huge.npy").path
        let predict = try rnnkit(["predict", model, "--weights", weights, "--input",
                                  FixtureFiles.path("simple_rnn/input_0.npy"), "--output", output])
        assertCleanFailure(predict, expected: [1], naming: [model, weights], "huge units predict")
        assertQuickAndSmall(predict, "huge units predict")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }

    func testDeeplyNestedJSONIsRefused() throws {
        let depth = 100_000
        let array = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let object = "{\"class_name\": \"Sequential\", \"config\": " + array + "}"
        let unclosed = "{\"a\": " + String(repeating: "[", count: depth)
        for (name, text) in [("deep-array.json", array), ("deep-object.json", object), ("deep-unclosed.json", unclosed)] {
            let path = directory.appendingPathComponent(name).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let run = try rnnkit(["validate", path])
            assertCleanFailure(run, expected: [2], naming: [path], name)
            assertQuickAndSmall(run, name)
            // As the weights of an architecture JSON too.
            let asWeights = try rnnkit(["validate", FixtureFiles.path("simple_rnn/keras3.json"), "--weights", path])
            assertCleanFailure(asWeights, expected: [2], naming: [path], name + " as weights")
        }
    }

    // MARK: - Checks

    private func kerasTemporaryDirectories() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: temporaryFolder.path)) ?? []
    }

    // MARK: - Running rnnkit

    /// Runs rnnkit with its own TMPDIR, killed after `timeout` seconds.
    private func rnnkit(_ arguments: [String], timeout: TimeInterval = 10) throws -> RNNKitBinary.Run {
        try RNNKitBinary.run(arguments, besides: Self.self, environment: ["TMPDIR": temporaryFolder.path], timeout: timeout)
    }

    // MARK: - Building archives

    /// simple_rnn's .keras (its three stored entries) rebuilt by hand with `edit` applied to its entries.
    private func kerasArchive(_ name: String, _ edit: ([HandMadeZip.Member]) -> [HandMadeZip.Member]) throws -> String {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: FixtureFiles.path("simple_rnn/keras3.keras"))))
        let members = try ZipLayout(bytes).entries.map {
            HandMadeZip.Member(name: $0.name, stored: Array(bytes[$0.dataOffset..<($0.dataOffset + $0.size)]))
        }
        XCTAssertEqual(members.map(\.name), ["metadata.json", "config.json", "model.weights.h5"])
        let path = directory.appendingPathComponent(name).path
        try Data(HandMadeZip.zip(edit(members))).write(to: URL(fileURLWithPath: path))
        return path
    }
}
