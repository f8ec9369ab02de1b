import Foundation
import RNNKitTestSupport
import XCTest
@testable import RNNKit

/// Every fixture written as an npz model in every layout reads back bit for bit and predicts
/// the same; the archive is a plain NumPy `.npz` that TensorFile (and NumPy) reads.
final class NPZModelTests: TemporaryFolderTestCase {

    func testFixturesRoundTripInEveryLayout() throws {
        try FixtureFiles.assertEveryFixtureRoundTrips(
            into: directory, fileExtension: "npz",
            write: { try NPZModel.write($0, layout: $1, to: $2) },
            read: { path in
                XCTAssertTrue(NPZModel.isNPZModel(path) && NPZModel.isNPZ(path))
                return try NPZModel.read(path)
            },
            check: { original, layout, path in
                // A plain npz: the model entry first, then the tensors in file order.
                let arrays = try TensorFile.read(path)
                let (_, tensors) = try RNNKitJSON.writeWithoutWeights(original, layout: layout)
                XCTAssertEqual(arrays.map(\.name), [NPZModel.modelEntry] + tensors.map(\.name))
                XCTAssertEqual(arrays.first?.elementType, .uint8)
                XCTAssertTrue(arrays.dropFirst().allSatisfy { $0.elementType == .float32 })
            })
    }

    func testTheModelEntryIsTheJSONWithoutWeights() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("seq2seq/keras3.keras"))
        let path = temporary("seq2seq.npz")
        try NPZModel.write(model, layout: .onnx, to: path)
        let entry = try TensorFile.read(path).first { $0.name == NPZModel.modelEntry }!
        let text = String(decoding: entry.tensor.scalars.map { UInt8($0) }, as: UTF8.self)
        XCTAssertEqual(entry.tensor.shape, [text.utf8.count])
        let json = try JSONParser.parse(text)
        XCTAssertEqual(json, try RNNKitJSON.writeWithoutWeights(model, layout: .onnx).json)
        XCTAssertTrue(json["layers"]!.arrayValue!.contains { $0["layout"] == "onnx" })
    }

    func testWeightsOnlyArchivesAreRefused() throws {
        let path = temporary("weights.npz")
        try TensorFile.write([NamedTensor(name: "dense.kernel", tensor: Tensor(zeros: [3, 1]))], to: path)
        XCTAssertFalse(NPZModel.isNPZModel(path))
        XCTAssertTrue(NPZModel.isNPZ(path))
        XCTAssertThrowsError(try NPZModel.read(path)) { error in
            let error = error as! RNNKitError
            XCTAssertEqual(error.kind, .badUsage)
            XCTAssertEqual(error.description, "\(path): weights only: no RNNKit model metadata")
        }
    }

    func testOtherFilesAreNotNPZModels() {
        for file in ["simple_rnn/keras3.keras", "simple_rnn/keras3.h5", "simple_rnn/input_0.npy", "absent.npz"] {
            XCTAssertFalse(NPZModel.isNPZModel(FixtureFiles.path(file)), file)
            XCTAssertFalse(NPZModel.isNPZ(FixtureFiles.path(file)), file)
        }
    }

    func testMissingExtraAndMisshapedTensorsAreProblemsNamedByTensor() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("gru_reset_after/keras3.keras"))
        let path = temporary("gru.npz")
        try NPZModel.write(model, layout: .pytorch, to: path)
        var arrays = try TensorFile.read(path)
        let gru = model.layers.first { $0.className == "GRU" }!.name
        arrays.removeAll { $0.name == "\(gru).bias_hh_l0" }
        let index = arrays.firstIndex { $0.name == "\(gru).weight_hh_l0" }!
        arrays[index].tensor = Tensor(zeros: [2, 2])
        arrays.append(NamedTensor(name: "\(gru).weight_ih_l1", tensor: Tensor(zeros: [1])))
        // TensorFile writes float32, so the model entry is rewritten by hand.
        try writeArchive(arrays, to: path)
        let reread = try NPZModel.read(path)
        XCTAssertEqual(reread.errors.map(\.location).sorted(),
                       ["\(gru).bias_hh_l0", "\(gru).weight_hh_l0", "\(gru).weight_ih_l1"], "\(reread.problems)")
        XCTAssertTrue(reread.errors.allSatisfy { $0.message.contains("tensor") })
    }

    func testBadModelEntries() throws {
        let path = temporary("bad.npz")
        try TensorFile.write([NamedTensor(name: NPZModel.modelEntry, tensor: Tensor(shape: [2], scalars: [123, 125]))],
                             to: path)
        XCTAssertThrowsError(try NPZModel.read(path)) { error in
            let error = error as! RNNKitError
            XCTAssertEqual(error.kind, .unreadable)
            XCTAssertEqual(error.location, NPZModel.modelEntry)
            XCTAssertTrue(error.message.contains("1-D uint8 array"), error.message)
        }
        try writeArchive([NamedTensor(name: NPZModel.modelEntry, tensor: Tensor(shape: [3], scalars: [123, 34, 125]))],
                         to: path)
        XCTAssertThrowsError(try NPZModel.read(path)) { error in
            let error = error as! RNNKitError
            XCTAssertEqual(error.kind, .unreadable)
            XCTAssertEqual(error.file, path)
            XCTAssertTrue(error.message.hasPrefix("the RNNKit model is not JSON"), error.message)
        }
        try writeArchive([NamedTensor(name: NPZModel.modelEntry, tensor: Tensor(shape: [2], scalars: [123, 125]))],
                         to: path)
        XCTAssertThrowsError(try NPZModel.read(path)) { error in
            XCTAssertTrue((error as! RNNKitError).message.contains("not an RNNKit model"))
        }
        let misnamed = temporary("model.bin")
        try FileManager.default.copyItem(atPath: path, toPath: misnamed)
        XCTAssertTrue(NPZModel.isNPZModel(misnamed))
        XCTAssertThrowsError(try NPZModel.read(misnamed)) { error in
            XCTAssertEqual((error as! RNNKitError).file, misnamed)
        }
    }

    func testWritersRefuseModelsWithErrorsAndInexpressibleLayers() throws {
        let gru = try Model.load(contentsOf: FixtureFiles.path("gru_reset_before/keras3.keras"))
        let path = temporary("gru.npz")
        XCTAssertThrowsError(try NPZModel.write(gru, layout: .pytorch, to: path)) { error in
            let error = error as! RNNKitError
            XCTAssertEqual(error.kind, .invalidModel)
            XCTAssertTrue(error.message.contains("cannot express GRU reset_after=false"), error.message)
        }
        let broken = try Model.load(contentsOf: FixtureFiles.path("malformed/nan_weight.h5"))
        XCTAssertThrowsError(try NPZModel.write(broken, layout: .keras, to: path)) { error in
            XCTAssertTrue((error as! RNNKitError).message.hasPrefix("cannot write a model with errors"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    /// Writes arrays as an npz archive, uint8 for the model entry and float32 for the rest.
    private func writeArchive(_ arrays: [NamedTensor], to path: String) throws {
        let typed = arrays.map { array in
            NamedTensor(name: array.name, tensor: array.tensor,
                        elementType: array.name == NPZModel.modelEntry ? .uint8 : .float32)
        }
        try FileSink.write(to: path) { try NPZFormat.write(typed, to: $0) }
    }
}
