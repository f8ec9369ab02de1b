import Foundation
import RNNKitTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

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
    }

    /// A dozen broken files made from the simple_rnn and seq2seq fixtures, each broken in a way
    /// that must fail (never load as valid).
    private func mutatedCases() throws -> [Case] {
        var cases: [Case] = []
        func write(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        func fixture(_ relative: String) throws -> [UInt8] {
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: FixtureFiles.path(relative))))
        }
        func text(_ relative: String) throws -> String {
            try String(contentsOfFile: FixtureFiles.path(relative), encoding: .utf8)
        }
        let simpleInput = [FixtureFiles.path("simple_rnn/input_0.npy")]
        let seqInputs = [FixtureFiles.path("seq2seq/input_0.npy"), FixtureFiles.path("seq2seq/input_1.npy")]

        // Truncations of every container format.
        for (relative, fraction) in [("simple_rnn/tfkeras.h5", 0.5), ("simple_rnn/keras3.h5", 0.9),
                                     ("seq2seq/keras3.keras", 0.5), ("seq2seq/keras3.keras", 0.999)] {
            let bytes = try fixture(relative)
            let cut = Int(Double(bytes.count) * fraction)
            let name = relative.replacingOccurrences(of: "/", with: "-")
            cases.append(Case(label: "\(relative) truncated@\(cut)", model: try write("trunc-\(cut)-" + name, Array(bytes[..<cut])),
                              inputs: relative.hasPrefix("seq2seq") ? seqInputs : simpleInput, expected: [2]))
        }
        // The HDF5 signature damaged.
        var flipped = try fixture("simple_rnn/tfkeras.h5")
        flipped[3] ^= 0x01
        cases.append(Case(label: "signature bit flip", model: try write("sig.h5", flipped), inputs: simpleInput, expected: [2]))
        // The weights inside a .keras damaged (CRC-32 fails).
        var archive = try fixture("simple_rnn/keras3.keras")
        for k in 0..<16 { archive[archive.count / 2 + k] ^= 0xFF }
        cases.append(Case(label: "keras archive damaged", model: try write("damaged.keras", archive), inputs: simpleInput, expected: [2]))
        // The weights file of an architecture JSON truncated.
        let weights = try fixture("seq2seq/keras3.weights.h5")
        cases.append(Case(label: "weights truncated", model: FixtureFiles.path("seq2seq/keras3.json"),
                          weights: try write("w.weights.h5", Array(weights[..<(weights.count / 3)])),
                          inputs: seqInputs, expected: [2]))
        // Config edits: units changed, class unknown, JSON truncated, reference nowhere, layer removed.
        let simple = try text("simple_rnn/keras3.json")
        let seq = try text("seq2seq/keras3.json")
        let simpleWeights = FixtureFiles.path("simple_rnn/keras3.weights.h5")
        let seqWeights = FixtureFiles.path("seq2seq/keras3.weights.h5")
        let edits: [(String, String, String, [String], Set<Int32>)] = [
            ("units 3 -> 4", simple.replacingOccurrences(of: "\"units\": 3", with: "\"units\": 4"), simpleWeights, simpleInput, [1]),
            ("class FancyDense", simple.replacingOccurrences(of: "\"class_name\": \"Dense\"", with: "\"class_name\": \"FancyDense\""),
             simpleWeights, simpleInput, [1]),
            ("json truncated", String(simple.prefix(simple.count / 2)), simpleWeights, simpleInput, [2]),
            ("inbound nowhere", seq.replacingOccurrences(of: "[\"lstm\", 0, 1]", with: "[\"no_such_layer\", 0, 1]"),
             seqWeights, seqInputs, [1]),
            ("layer removed", try removingLayer(named: "lstm_1", from: seq), seqWeights, seqInputs, [1]),
        ]
        for (index, (label, edited, weightsPath, inputs, expected)) in edits.enumerated() {
            XCTAssertNotEqual(edited, simple, label)
            XCTAssertNotEqual(edited, seq, label)
            cases.append(Case(label: label, model: try write("edit-\(index).json", Array(edited.utf8)), weights: weightsPath,
                              inputs: inputs, expected: expected))
        }
        // Weights Keras itself loads wrongly or not at all.
        cases.append(Case(label: "nan weight", model: FixtureFiles.path("malformed/nan_weight.h5"), inputs: simpleInput, expected: [1]))
        cases.append(Case(label: "misshaped weight", model: FixtureFiles.path("malformed/misshaped_weight.h5"),
                          inputs: simpleInput, expected: [1]))
        return cases
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
        XCTAssertEqual(CRC32.ofZeros(2_580_001), 0x8254_89E3)
        XCTAssertEqual(CRC32.ofZeros(1000), CRC32.of([UInt8](repeating: 0, count: 1000)))
        let bomb = try kerasArchive(replacingWeightsWith: .deflatedZeros(count: zeros))
        let run = try rnnkit(["validate", bomb])
        assertCleanFailure(run, expected: [2], naming: [bomb], "zip bomb")
        XCTAssertTrue(run.stderr.contains("zip bomb"), run.stderr)
        assertQuickAndSmall(run, "zip bomb")
        XCTAssertEqual(kerasTemporaryDirectories(), [], "the refused bomb left a temporary directory")
    }

    func testPathTraversalEntryIsRefused() throws {
        for name in ["../evil", "assets/../../evil", "/tmp/evil"] {
            let archive = try kerasArchive(adding: [(name, Array("owned".utf8))])
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

    private enum Payload {
        case bytes([UInt8])
        case deflatedZeros(count: Int)
    }

    /// simple_rnn's .keras with model.weights.h5 replaced by `payload`.
    private func kerasArchive(replacingWeightsWith payload: Payload) throws -> String {
        var members = try fixtureMembers()
        members.removeAll { $0.name == "model.weights.h5" }
        members.append(("model.weights.h5", payload))
        return try writeZip("bomb.keras", members)
    }

    /// simple_rnn's .keras with extra entries.
    private func kerasArchive(adding extra: [(String, [UInt8])]) throws -> String {
        try writeZip("extra-\(UUID().uuidString).keras", try fixtureMembers() + extra.map { ($0.0, .bytes($0.1)) })
    }

    /// The three entries of simple_rnn/keras3.keras (all stored), read by their local headers.
    private func fixtureMembers() throws -> [(name: String, payload: Payload)] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: FixtureFiles.path("simple_rnn/keras3.keras"))))
        var members: [(String, Payload)] = []
        var offset = 0
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        while offset + 30 <= bytes.count, u32(offset) == 0x0403_4B50 {
            let size = u32(offset + 18), nameLength = u16(offset + 26), extraLength = u16(offset + 28)
            let name = String(decoding: bytes[(offset + 30)..<(offset + 30 + nameLength)], as: UTF8.self)
            let data = offset + 30 + nameLength + extraLength
            members.append((name, .bytes(Array(bytes[data..<(data + size)]))))
            offset = data + size
        }
        XCTAssertEqual(members.map(\.0), ["metadata.json", "config.json", "model.weights.h5"])
        return members
    }

    /// A ZIP of stored entries and deflated runs of zeros, written by hand.
    private func writeZip(_ name: String, _ members: [(name: String, payload: Payload)]) throws -> String {
        var out = [UInt8](), central = [UInt8]()
        func u16(_ v: Int, _ to: inout [UInt8]) { to += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: Int, _ to: inout [UInt8]) { for k in 0..<4 { to.append(UInt8(v >> (8 * k) & 0xFF)) } }
        for (entryName, payload) in members {
            let nameBytes = Array(entryName.utf8)
            let (method, data, size, crc): (Int, [UInt8], Int, UInt32)
            switch payload {
            case .bytes(let bytes): (method, data, size, crc) = (0, bytes, bytes.count, CRC32.of(bytes))
            case .deflatedZeros(let count): (method, data, size, crc) = (8, Deflate.zeros(count), count, CRC32.ofZeros(count))
            }
            let offset = out.count
            u32(0x0403_4B50, &out); u16(20, &out); u16(0, &out); u16(method, &out); u16(0, &out); u16(0x21, &out)
            u32(Int(crc), &out); u32(data.count, &out); u32(size, &out); u16(nameBytes.count, &out); u16(0, &out)
            out += nameBytes + data
            u32(0x0201_4B50, &central); u16(0x0314, &central); u16(20, &central); u16(0, &central); u16(method, &central)
            u16(0, &central); u16(0x21, &central); u32(Int(crc), &central); u32(data.count, &central); u32(size, &central)
            u16(nameBytes.count, &central); u16(0, &central); u16(0, &central); u16(0, &central); u16(0, &central)
            u32(0o100644 << 16, &central); u32(offset, &central)
            central += nameBytes
        }
        let centralOffset = out.count
        out += central
        u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out); u16(members.count, &out); u16(members.count, &out)
        u32(central.count, &out); u32(centralOffset, &out); u16(0, &out)
        let path = directory.appendingPathComponent(name).path
        try Data(out).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// CRC-32 (ISO-HDLC, as ZIP uses), for the hand-made archives.
private enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        var c = UInt32(index)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func of(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// The CRC-32 of `count` zero bytes, in O(log count) steps: the register after n zero bytes
    /// is a linear map of the register before, applied by squaring (zlib's crc32_combine method).
    static func ofZeros(_ count: Int) -> UInt32 {
        // The operator for one zero *bit*, as a 32×32 GF(2) matrix (one column per input bit).
        var operatorMatrix = [UInt32](repeating: 0, count: 32)
        operatorMatrix[0] = 0xEDB8_8320
        for n in 1..<32 { operatorMatrix[n] = 1 << (n - 1) }
        func times(_ matrix: [UInt32], _ vector: UInt32) -> UInt32 {
            var sum: UInt32 = 0, v = vector, i = 0
            while v != 0 { if v & 1 != 0 { sum ^= matrix[i] }; v >>= 1; i += 1 }
            return sum
        }
        func square(_ matrix: [UInt32]) -> [UInt32] { matrix.map { times(matrix, $0) } }
        for _ in 0..<3 { operatorMatrix = square(operatorMatrix) }  // one zero byte = 8 zero bits
        var crc: UInt32 = 0xFFFF_FFFF
        var n = count
        while n > 0 {
            if n & 1 != 0 { crc = times(operatorMatrix, crc) }
            operatorMatrix = square(operatorMatrix)
            n >>= 1
        }
        return crc ^ 0xFFFF_FFFF
    }
}

/// A raw deflate stream of zeros at the format's best ratio (1032:1): one dynamic-Huffman block
/// whose literal/length code has just literal 0 (2 bits), end of block (2 bits) and length 258
/// (1 bit), and whose only distance code is distance 1 (1 bit). After one literal zero, every
/// 258 more zeros cost two zero bits.
private enum Deflate {
    static func zeros(_ count: Int) -> [UInt8] {
        precondition(count >= 1 && (count - 1) % 258 == 0, "count must be 1 + 258·k")
        var writer = BitWriter()
        writer.bits(1, 1)           // BFINAL
        writer.bits(2, 2)           // BTYPE = dynamic
        writer.bits(29, 5)          // HLIT: 286 literal/length codes
        writer.bits(0, 5)           // HDIST: 1 distance code
        writer.bits(14, 4)          // HCLEN: 18 code-length codes
        // Code-length code lengths in the format's order 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1:
        // 18 (runs of zeros) gets 1 bit, lengths 1 and 2 get 2 bits.
        for length in [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2] { writer.bits(length, 3) }
        // Canonical code-length codes: 18 → 0, 1 → 10, 2 → 11 (Huffman codes go most significant bit first).
        func codeLength(_ symbol: Int) {
            switch symbol {
            case 18: writer.huffman(0b0, 1)
            case 1: writer.huffman(0b10, 2)
            default: writer.huffman(0b11, 2)
            }
        }
        func zeroRun(_ count: Int) {
            var left = count
            while left > 0 {
                let run = min(left, 138)
                precondition(run >= 11)
                codeLength(18)
                writer.bits(run - 11, 7)
                left -= run
            }
        }
        // Literal/length lengths: 0 → 2, 1...255 → 0, 256 → 2, 257...284 → 0, 285 → 1; distance 0 → 1.
        codeLength(2); zeroRun(138); zeroRun(117); codeLength(2); zeroRun(28); codeLength(1); codeLength(1)
        // Data: literal 0 ("10"), then (length 258 "0", distance 1 "0") per 258 zeros, then end ("11").
        writer.huffman(0b10, 2)
        writer.zeroBits(2 * ((count - 1) / 258))
        writer.huffman(0b11, 2)
        return writer.finish()
    }

    private struct BitWriter {
        var bytes: [UInt8] = []
        var current: UInt32 = 0
        var used = 0

        /// `count` bits of `value`, least significant first (header fields, extra bits).
        mutating func bits(_ value: Int, _ count: Int) {
            for k in 0..<count { bit((value >> k) & 1) }
        }

        /// A Huffman code of `length` bits, most significant first.
        mutating func huffman(_ code: Int, _ length: Int) {
            for k in stride(from: length - 1, through: 0, by: -1) { bit((code >> k) & 1) }
        }

        mutating func zeroBits(_ count: Int) {
            var left = count
            while left > 0 && used != 0 { bit(0); left -= 1 }
            bytes += [UInt8](repeating: 0, count: left / 8)
            for _ in 0..<(left % 8) { bit(0) }
        }

        mutating func bit(_ value: Int) {
            current |= UInt32(value & 1) << used
            used += 1
            if used == 8 { bytes.append(UInt8(current)); current = 0; used = 0 }
        }

        mutating func finish() -> [UInt8] {
            if used > 0 { bytes.append(UInt8(current)) }
            return bytes
        }
    }
}
