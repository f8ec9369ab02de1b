import Foundation
import RNNKitTestSupport
import XCTest
@testable import RNNKit

/// Every fixture written as a safetensors model in every layout reads back bit for bit and
/// predicts the same; the reader refuses each malformed file with a one-line error naming it.
final class SafetensorsTests: TemporaryFolderTestCase {

    // MARK: - Models

    func testFixturesRoundTripInEveryLayout() throws {
        try FixtureFiles.assertEveryFixtureRoundTrips(
            into: directory, fileExtension: "safetensors",
            write: { try SafetensorsModel.write($0, layout: $1, to: $2) },
            read: { path in
                XCTAssertTrue(SafetensorsModel.isSafetensors(path))
                return try SafetensorsModel.read(path)
            },
            check: { original, layout, path in
                let (tensors, metadata) = try SafetensorsFile.readTensors(path)
                XCTAssertEqual(metadata["format"], "rnnkit")
                XCTAssertEqual(metadata["layout"], layout.rawValue)
                XCTAssertEqual(tensors.count, try RNNKitJSON.writeWithoutWeights(original, layout: layout).tensors.count)
            })
    }

    func testTensorNamesFollowTheLayouts() throws {
        let bidirectional = try Model.load(contentsOf: FixtureFiles.path("bidirectional_concat/keras3.keras"))
        let expected: [WeightLayout: [String]] = [
            .keras: ["bidirectional.backward.bias", "bidirectional.backward.kernel", "bidirectional.backward.recurrent_kernel",
                     "bidirectional.forward.bias", "bidirectional.forward.kernel", "bidirectional.forward.recurrent_kernel"],
            .pytorch: ["bidirectional.bias_hh_l0", "bidirectional.bias_hh_l0_reverse", "bidirectional.bias_ih_l0",
                       "bidirectional.bias_ih_l0_reverse", "bidirectional.weight_hh_l0", "bidirectional.weight_hh_l0_reverse",
                       "bidirectional.weight_ih_l0", "bidirectional.weight_ih_l0_reverse"],
            .onnx: ["bidirectional.B", "bidirectional.R", "bidirectional.W"],
        ]
        for (layout, names) in expected {
            let path = temporary("bidirectional-\(layout).safetensors")
            try SafetensorsModel.write(bidirectional, layout: layout, to: path)
            XCTAssertEqual(try SafetensorsFile.readTensors(path).tensors.keys.sorted(), names, "\(layout)")
        }
        let simple = try Model.load(contentsOf: FixtureFiles.path("simple_rnn/keras3.keras"))
        let path = temporary("simple-pytorch.safetensors")
        try SafetensorsModel.write(simple, layout: .pytorch, to: path)
        let tensors = try SafetensorsFile.readTensors(path).tensors
        XCTAssertEqual(tensors.keys.sorted(), ["dense.bias", "dense.weight", "simple_rnn.bias_hh_l0",
                                               "simple_rnn.bias_ih_l0", "simple_rnn.weight_hh_l0", "simple_rnn.weight_ih_l0"])
        XCTAssertEqual(tensors["dense.weight"]?.shape, [1, 3])
        XCTAssertEqual(tensors["simple_rnn.weight_ih_l0"]?.shape, [3, 5])
    }

    func testTheFileIsWhatTheReferenceWriterWrites() throws {
        let path = temporary("small.safetensors")
        try SafetensorsFile.write(["b": Tensor(shape: [2], scalars: [1, -2]), "a": Tensor(shape: [], scalars: [0.5])],
                                  metadata: ["k": "v \"quoted\""], to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let length = Int(LittleEndianBytes(Array(bytes[0..<8]), base: 0).u64(0))
        XCTAssertEqual(length % 8, 0)
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces),
                       #"{"__metadata__":{"k":"v \"quoted\""},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"#
                           + #""b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#)
        XCTAssertTrue(header.hasSuffix("}") || header.hasSuffix(" "))
        XCTAssertEqual(Array(bytes[(8 + length)...]), [0, 0, 0, 0x3F, 0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0])
        let (tensors, metadata) = try SafetensorsFile.readTensors(path)
        XCTAssertEqual(metadata, ["k": "v \"quoted\""])
        XCTAssertEqual(tensors, ["a": Tensor(shape: [], scalars: [0.5]), "b": Tensor(shape: [2], scalars: [1, -2])])
        XCTAssertTrue(SafetensorsFile.looksLikeSafetensors(Array(bytes.prefix(16)), fileSize: bytes.count))
    }

    func testOtherFileKindsDoNotLookLikeSafetensors() throws {
        for file in ["simple_rnn/keras3.h5", "simple_rnn/keras3.keras", "simple_rnn/keras3.json", "simple_rnn/input_0.npy"] {
            XCTAssertFalse(SafetensorsModel.isSafetensors(FixtureFiles.path(file)), file)
        }
        XCTAssertFalse(SafetensorsFile.looksLikeSafetensors(Array("{\"a\": 1}       ".utf8), fileSize: 16))
        XCTAssertFalse(SafetensorsFile.looksLikeSafetensors([16, 0, 0, 0, 0, 0, 0, 0, 0x7B], fileSize: 20))
    }

    func testWeightsOnlyFilesAreRefused() throws {
        let path = temporary("weights.safetensors")
        try SafetensorsFile.write(["dense.kernel": Tensor(zeros: [3, 1])], metadata: ["format": "pt"], to: path)
        XCTAssertThrowsError(try SafetensorsModel.read(path)) { error in
            let error = error as! RNNKitError
            XCTAssertEqual(error.kind, .badUsage)
            XCTAssertEqual(error.description, "\(path): weights only: no RNNKit model metadata")
        }
    }

    func testMissingExtraAndMisshapedTensorsAreProblemsNamedByTensor() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("simple_rnn/keras3.keras"))
        let path = temporary("model.safetensors")
        try SafetensorsModel.write(model, layout: .split, to: path)
        var (tensors, metadata) = try SafetensorsFile.readTensors(path)
        tensors["simple_rnn.W"] = nil
        tensors["simple_rnn.U"] = Tensor(zeros: [3, 4])
        tensors["dense.extra"] = Tensor(zeros: [2])
        tensors["nowhere.kernel"] = Tensor(zeros: [1])
        try SafetensorsFile.write(tensors, metadata: metadata, to: path)
        let reread = try SafetensorsModel.read(path)
        XCTAssertEqual(reread.errors.map(\.location).sorted(),
                       ["dense.extra", "nowhere.kernel", "simple_rnn.U", "simple_rnn.W"], "\(reread.problems)")
        let messages = Dictionary(uniqueKeysWithValues: reread.errors.map { ($0.location, $0.message) })
        XCTAssertEqual(messages["simple_rnn.W"], "missing tensor 'W' of shape (3, 5) (split layout)")
        XCTAssertEqual(messages["simple_rnn.U"], "tensor 'U' has shape (3, 4), expected (3, 3)")
        XCTAssertTrue(messages["dense.extra"]?.hasPrefix("unexpected tensor 'extra' of shape (2,)") == true)
        XCTAssertTrue(messages["nowhere.kernel"]?.contains("belongs to no layer") == true)
        XCTAssertThrowsError(try reread.checked())

        metadata["layout"] = "tensorflow"
        try SafetensorsFile.write(tensors, metadata: metadata, to: path)
        XCTAssertThrowsError(try SafetensorsModel.read(path)) { error in
            XCTAssertEqual((error as! RNNKitError).location, "__metadata__.layout")
        }
        metadata["layout"] = "split"
        metadata["model"] = "{\"format\": \"rnnkit\""
        try SafetensorsFile.write(tensors, metadata: metadata, to: path)
        XCTAssertThrowsError(try SafetensorsModel.read(path)) { error in
            let error = error as! RNNKitError
            XCTAssertEqual(error.kind, .unreadable)
            XCTAssertEqual(error.file, path)
            XCTAssertEqual(error.location, "__metadata__.model")
        }
    }

    func testWritersRefuseModelsWithErrorsAndInexpressibleLayers() throws {
        let gru = try Model.load(contentsOf: FixtureFiles.path("gru_reset_before/keras3.keras"))
        let path = temporary("gru.safetensors")
        XCTAssertThrowsError(try SafetensorsModel.write(gru, layout: .pytorch, to: path)) { error in
            let error = error as! RNNKitError
            XCTAssertEqual(error.kind, .invalidModel)
            XCTAssertEqual(error.file, path)
            XCTAssertTrue(error.message.contains("cannot express GRU reset_after=false"), error.message)
        }
        let broken = try Model.load(contentsOf: FixtureFiles.path("malformed/missing_weight.h5"))
        XCTAssertFalse(broken.errors.isEmpty)
        XCTAssertThrowsError(try SafetensorsModel.write(broken, layout: .keras, to: path)) { error in
            let error = error as! RNNKitError
            XCTAssertEqual(error.kind, .invalidModel)
            XCTAssertTrue(error.message.hasPrefix("cannot write a model with errors"), error.message)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    // MARK: - Reading other dtypes

    func testReadsF16BF16AndF64() throws {
        let halves: [UInt16] = [0x3C00, 0xC000, 0x0001, 0x7C00, 0x8000, 0x3555]
        let brains: [UInt16] = [0x3F80, 0xC040]
        let doubles: [Double] = [0.1, -3]
        var data: [UInt8] = []
        for half in halves { data += [UInt8(half & 0xFF), UInt8(half >> 8)] }
        for brain in brains { data += [UInt8(brain & 0xFF), UInt8(brain >> 8)] }
        for double in doubles { data += (0..<8).map { UInt8(truncatingIfNeeded: double.bitPattern >> (8 * $0)) } }
        let path = try file(#"{"h": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 12]}, "#
            + #""b": {"dtype": "BF16", "shape": [2], "data_offsets": [12, 16]}, "#
            + #""d": {"dtype": "F64", "shape": [2], "data_offsets": [16, 32]}}"#, data: data)
        let tensors = try SafetensorsFile.readTensors(path).tensors
        XCTAssertEqual(tensors["h"]?.shape, [2, 3])
        XCTAssertEqual(tensors["h"]?.scalars.map(\.bitPattern), halves.map { Float(Float16(bitPattern: $0)).bitPattern })
        XCTAssertEqual(tensors["h"]?.scalars[..<4], [1, -2, 0x1p-24, .infinity])
        XCTAssertEqual(tensors["b"]?.scalars, [1, -3])
        XCTAssertEqual(tensors["d"]?.scalars, [Float(0.1), -3])
    }

    func testHeaderPaddingAndEmptyFiles() throws {
        let padded = try file(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"# + "     ",
                              data: [0, 0, 0x80, 0x3F])
        XCTAssertEqual(try SafetensorsFile.readTensors(padded).tensors["a"]?.scalars, [1])
        let empty = try file("{}", data: [])
        XCTAssertEqual(try SafetensorsFile.readTensors(empty).tensors.count, 0)
        let nullMetadata = try file(#"{"__metadata__": null}"#, data: [])
        XCTAssertEqual(try SafetensorsFile.readTensors(nullMetadata).metadata, [:])
    }

    // MARK: - Reader errors, one per rule

    private let one = #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#

    func testHeaderTooLarge() throws {
        try assertRefused(raw: length(100_000_001) + Array("{}".utf8), "header length 100000001 is above the limit of 100000000 bytes")
    }

    func testHeaderLengthBeyondTheFile() throws {
        try assertRefused(raw: length(64) + Array("{}".utf8), "truncated: the header length is 64 bytes, but only 2 byte(s) follow it")
    }

    func testTruncatedLength() throws {
        try assertRefused(raw: [2, 0, 0], "truncated: 3 byte(s), but a safetensors file starts with an 8-byte header length")
    }

    func testTruncatedData() throws {
        try assertRefused(one, data: [0, 0], "truncated: the tensors take 4 byte(s) of data, but the file holds only 2")
    }

    func testNotJSON() throws {
        try assertRefused("{\"a\": ", data: [], "the header is not JSON: invalid JSON at line 1")
        try assertRefused("[1, 2]", data: [], "the header is not a JSON object")
        try assertRefused(#"{"a": {"dtype": 'F32', "shape": [1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0],
                          "the header is not JSON: single-quoted strings are not JSON")
        try assertRefused(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4],}}"#, data: [0, 0, 0, 0],
                          "the header is not JSON: trailing comma before '}'")
        try assertRefused(#"{"a": {dtype: "F32", "shape": [1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0],
                          "the header is not JSON: object keys must be double-quoted strings")
        try assertRefused(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]} /* c */}"#, data: [0, 0, 0, 0],
                          "the header is not JSON: comments are not JSON")
        try assertRefused(raw: length(3) + [0x7B, 0xFF, 0x7D], "the header is not JSON")
    }

    func testHeadersThatWouldBeCostlyToParse() throws {
        let shape = "[" + Array(repeating: "1", count: 65).joined(separator: ",") + "]"
        try assertRefused(one.replacingOccurrences(of: "[1]", with: shape), data: [0, 0, 0, 0], at: "shape",
                          "a list of more than 64 items (shapes have at most 64 dimensions)")
        let strings = "[" + Array(repeating: "\"\"", count: 65).joined(separator: ", ") + "]"
        try assertRefused(one.replacingOccurrences(of: "[1]", with: strings), data: [0, 0, 0, 0], at: "shape",
                          "a list of more than 64 items")
        try assertRefused(one.replacingOccurrences(of: "[1]", with: "[[1]]"), data: [0, 0, 0, 0], at: "shape",
                          "lists and objects nested more than 3 deep")
        // 64 dimensions are fine.
        let rank64 = "[" + Array(repeating: "1", count: 64).joined(separator: ",") + "]"
        let path = try file(one.replacingOccurrences(of: "[1]", with: rank64), data: [0, 0, 0x80, 0x3F])
        XCTAssertEqual(try SafetensorsFile.readTensors(path).tensors["a"]?.rank, 64)
    }

    func testDuplicateName() throws {
        try assertRefused(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "#
                          + #""\u0061": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#,
                          data: [UInt8](repeating: 0, count: 8), at: "a", "duplicate tensor name in the header")
        try assertRefused(#"{"a": {"dtype": "F32", "dtype": "F64", "shape": [1], "data_offsets": [0, 4]}}"#,
                          data: [0, 0, 0, 0], at: "a", "duplicate key 'dtype' in the header")
    }

    func testBadDtype() throws {
        try assertRefused(one.replacingOccurrences(of: "F32", with: "I32"), data: [0, 0, 0, 0], at: "a",
                          "dtype I32 is not supported: RNNKit reads F32, F16, BF16 and F64 tensors")
        try assertRefused(one.replacingOccurrences(of: "F32", with: "Q7"), data: [0, 0, 0, 0], at: "a",
                          "unknown dtype 'Q7'")
    }

    func testShapeMismatch() throws {
        try assertRefused(one.replacingOccurrences(of: "[1]", with: "[2]"), data: [0, 0, 0, 0], at: "a",
                          "shape (2,) of F32 takes 8 byte(s), but data_offsets [0, 4] hold 4")
        try assertRefused(one.replacingOccurrences(of: "[1]", with: "[4611686018427387904, 4]"), data: [0, 0, 0, 0],
                          at: "a", "shape (4611686018427387904, 4) holds too many elements")
        try assertRefused(one.replacingOccurrences(of: "[1]", with: "[2305843009213693952, 2]"), data: [0, 0, 0, 0],
                          at: "a", "shape (2305843009213693952, 2) of F32 is too many bytes")
        try assertRefused(one.replacingOccurrences(of: "[1]", with: "[-1]"), data: [0, 0, 0, 0], at: "a",
                          "'shape' holds something other than non-negative integers")
    }

    func testGap() throws {
        try assertRefused(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "#
                          + #""b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}"#,
                          data: [UInt8](repeating: 0, count: 12), at: "b",
                          "gap in the byte buffer: data_offsets begin at byte 8, but the previous tensor 'a' ends at byte 4")
        try assertRefused(one.replacingOccurrences(of: "[0, 4]", with: "[4, 8]"), data: [UInt8](repeating: 0, count: 8),
                          at: "a", "gap in the byte buffer: data_offsets begin at byte 4, but the byte buffer starts at 0")
    }

    func testOverlap() throws {
        try assertRefused(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "#
                          + #""b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#,
                          data: [UInt8](repeating: 0, count: 8), at: "b",
                          "data_offsets [4, 8] overlap the previous tensor 'a', which ends at byte 8")
        try assertRefused(one.replacingOccurrences(of: "[0, 4]", with: "[4, 0]"), data: [0, 0, 0, 0], at: "a",
                          "data_offsets [4, 0] end before they begin")
    }

    func testTrailingBytes() throws {
        try assertRefused(one, data: [UInt8](repeating: 0, count: 6),
                          "2 trailing byte(s) after the tensors' data, which ends at byte 4 of the 6-byte buffer")
    }

    func testMalformedEntriesAndMetadata() throws {
        try assertRefused(#"{"a": [1]}"#, data: [], at: "a", "a tensor is an object")
        try assertRefused(one.replacingOccurrences(of: "\"shape\"", with: "\"shap\""), data: [0, 0, 0, 0], at: "a",
                          "unknown key 'shap'")
        try assertRefused(#"{"__metadata__": {"k": 1}}"#, data: [], at: "__metadata__", "metadata value 'k' is not a string")
        try assertRefused(one.replacingOccurrences(of: "[0, 4]", with: "[0, 4, 8]"), data: [0, 0, 0, 0], at: "a",
                          "'data_offsets' is not a list of two non-negative integers")
    }

    func testMissingFile() {
        let path = temporary("absent.safetensors")
        XCTAssertThrowsError(try SafetensorsFile.readTensors(path)) { error in
            XCTAssertEqual((error as? RNNKitError)?.file, path)
        }
    }

    // MARK: - Helpers

    private func bits(_ weights: [String: Tensor]) -> [String: [UInt32]] {
        weights.mapValues { $0.scalars.map(\.bitPattern) }
    }

    private func length(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    private var fileCount = 0

    /// A file of `raw` bytes.
    private func file(raw: [UInt8]) throws -> String {
        fileCount += 1
        let path = temporary("case\(fileCount).safetensors")
        try Data(raw).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A well-framed file: the header's length, the header, the data.
    private func file(_ header: String, data: [UInt8]) throws -> String {
        try file(raw: length(UInt64(header.utf8.count)) + Array(header.utf8) + data)
    }

    private func assertRefused(raw: [UInt8], at location: String? = nil, _ message: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try self.file(raw: raw)
        XCTAssertThrowsError(try SafetensorsFile.readTensors(path), file: file, line: line) { error in
            guard let error = error as? RNNKitError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.kind, .unreadable, file: file, line: line)
            XCTAssertEqual(error.file, path, file: file, line: line)
            XCTAssertEqual(error.location, location, file: file, line: line)
            XCTAssertTrue(error.message.hasPrefix(message), error.message, file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(path + ": "), file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
        }
        XCTAssertThrowsError(try SafetensorsModel.read(path), file: file, line: line)
    }

    private func assertRefused(_ header: String, data: [UInt8], at location: String? = nil, _ message: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        try assertRefused(raw: length(UInt64(header.utf8.count)) + Array(header.utf8) + data, at: location, message,
                          file: file, line: line)
    }
}

/// The RNNKit JSON model without its weights, read back with separate tensors.
final class RNNKitJSONSeparateWeightsTests: XCTestCase {
    private func model(_ fixture: String) throws -> Model {
        try Model.load(contentsOf: FixtureFiles.path("\(fixture)/keras3.keras"))
    }

    func testTheJSONHoldsLayoutsButNoWeights() throws {
        let original = try model("stacked_lstm")
        let (json, tensors) = try RNNKitJSON.writeWithoutWeights(original, layout: .split)
        let inline = try RNNKitJSON.write(original, layout: .split)
        let layers = json["layers"]!.arrayValue!
        XCTAssertTrue(layers.allSatisfy { $0["weights"] == nil })
        for (index, layer) in original.layers.enumerated() {
            XCTAssertEqual(layers[index]["layout"], layer.weights.isEmpty ? nil : "split")
            XCTAssertEqual(layers[index]["config"], inline["layers"]!.arrayValue![index]["config"])
        }
        // File order: layers in model order, each layer's tensors in layout order.
        let lstm = original.layers.first { $0.className == "LSTM" }!.name
        XCTAssertEqual(Array(tensors.map(\.name).prefix(3)), ["\(lstm).W_i", "\(lstm).W_f", "\(lstm).W_c"])
        let reread = try RNNKitJSON.read(json, tensors: Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) }),
                                         source: "m")
        XCTAssertEqual(reread.problems, [])
        for (before, after) in zip(original.layers, reread.layers) {
            XCTAssertEqual(before.weights, after.weights)
        }
    }

    func testKerasLayoutProblemsAreNamedByTensor() throws {
        let original = try model("bidirectional_concat")
        let (json, tensors) = try RNNKitJSON.writeWithoutWeights(original, layout: .keras)
        var dictionary = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) })
        XCTAssertNotNil(dictionary["bidirectional.forward.kernel"])
        dictionary["bidirectional.forward.kernel"] = nil
        dictionary["bidirectional.backward.bias"] = Tensor(zeros: [5])
        dictionary["bidirectional.sideways.bias"] = Tensor(zeros: [5])
        let reread = try RNNKitJSON.read(json, tensors: dictionary, source: "m")
        XCTAssertEqual(reread.errors.map(\.location).sorted(),
                       ["bidirectional.backward.bias", "bidirectional.forward.kernel", "bidirectional.sideways.bias"],
                       "\(reread.problems)")
        XCTAssertTrue(reread.layers.allSatisfy { $0.weights.isEmpty })
    }

    func testALayerWithoutTensorsReportsEachMissingTensor() throws {
        let original = try model("simple_rnn")
        let (json, tensors) = try RNNKitJSON.writeWithoutWeights(original, layout: .pytorch)
        let dictionary = Dictionary(uniqueKeysWithValues: tensors.filter { !$0.name.hasPrefix("dense.") }
            .map { ($0.name, $0.tensor) })
        let reread = try RNNKitJSON.read(json, tensors: dictionary, source: "m")
        XCTAssertEqual(reread.errors.map(\.location), ["dense.weight", "dense.bias"])
    }

    func testDefaultLayoutAppliesToLayersWithoutOne() throws {
        let original = try model("simple_rnn")
        var (json, tensors) = try RNNKitJSON.writeWithoutWeights(original, layout: .onnx)
        guard case .object(var root) = json, case .array(var layers) = root["layers"]! else { return XCTFail() }
        for index in layers.indices {
            guard case .object(var layer) = layers[index] else { continue }
            layer["layout"] = nil
            layers[index] = .object(layer)
        }
        root["layers"] = .array(layers)
        json = .object(root)
        let dictionary = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) })
        XCTAssertEqual(try RNNKitJSON.read(json, tensors: dictionary, defaultLayout: .onnx, source: "m").problems, [])
        XCTAssertFalse(try RNNKitJSON.read(json, tensors: dictionary, source: "m").errors.isEmpty)
    }

    func testInlineWeightsAreRefusedWithSeparateTensors() throws {
        let original = try model("simple_rnn")
        let json = try RNNKitJSON.write(original, layout: .keras)
        XCTAssertThrowsError(try RNNKitJSON.read(json, tensors: [:], source: "m")) { error in
            let error = error as! RNNKitError
            XCTAssertEqual(error.location, "/layers/1/weights")
            XCTAssertEqual(error.file, "m")
        }
    }

    func testCollidingTensorNamesAreRefused() throws {
        let original = try model("bidirectional_concat")
        var renamed = original
        // A second layer named like the forward direction of the Bidirectional.
        let index = renamed.layers.firstIndex { $0.className == "Bidirectional" }!
        var twin = renamed.layers[index]
        twin.name = "bidirectional.forward"
        guard case .bidirectional(let wrapper)? = twin.kind else { return XCTFail("expected a Bidirectional") }
        twin.kind = .recurrent(wrapper.forward)
        twin.weights = ["kernel": twin.weights["forward.kernel"]!,
                        "recurrent_kernel": twin.weights["forward.recurrent_kernel"]!,
                        "bias": twin.weights["forward.bias"]!]
        renamed.layers.append(twin)
        XCTAssertThrowsError(try RNNKitJSON.writeWithoutWeights(renamed, layout: .keras)) { error in
            XCTAssertTrue((error as! RNNKitError).message.contains("two layers would write a tensor named"))
        }
    }
}
