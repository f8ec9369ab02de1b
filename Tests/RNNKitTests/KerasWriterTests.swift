import Foundation
import RNNKitTestSupport
import XCTest
import ZIPFoundation
@testable import RNNKit

/// The Keras writers: every fixture, read from each Keras-made file, written as a legacy `.h5`
/// and as a `.keras` archive, reads back with the same layers, bit-identical weights and the same
/// predictions. With `RNNKIT_INTEROP_OUT=<folder>` the written files are also kept there, with an
/// `index.json`, for `Fixtures/interop/check_keras_writers.py` to load in real Keras.
final class KerasWriterTests: XCTestCase {
    private var workDir: URL!

    override func setUpWithError() throws {
        workDir = try makeTemporaryDirectory()
    }

    // MARK: - Helpers

    /// Same layer names, classes and trainable flags; weights equal bit for bit.
    private func assertSameModel(_ written: Model, _ source: Model, _ what: String,
                                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(written.layers.map(\.name), source.layers.map(\.name), what, file: file, line: line)
        // A tf_keras TFOpLambda written to .keras becomes the Keras 3 operation that computes the same.
        XCTAssertEqual(written.layers.map(\.className), source.layers.map { layer in
            guard case .operation(let operation)? = layer.kind, written.kerasMajorVersion >= 3 else { return layer.className }
            return operation.kerasClassName
        }, what, file: file, line: line)
        // A file of another major version is read with that Keras's semantics (L2 floors,
        // MultiHeadAttention's fully hidden rows): the source's configs as that Keras decodes them.
        XCTAssertEqual(written.layers.map(\.kind), source.layers.map { layer in
            guard let kind = layer.kind, written.kerasMajorVersion != source.kerasMajorVersion else { return layer.kind }
            var object = kind.kerasConfig()  // with the call arguments a layer keeps, as the readers join them
            for (key, value) in kind.kerasCallArguments.entries { object[key] = value }
            let config = KerasConfig(object: object, pointer: "", kerasMajorVersion: written.kerasMajorVersion)
            return try? LayerKind(kerasClass: kind.className, config: config)
        }, what, file: file, line: line)
        XCTAssertEqual(written.layers.map(\.trainable), source.layers.map(\.trainable), what, file: file, line: line)
        XCTAssertEqual(written.inputs, source.inputs, what, file: file, line: line)
        XCTAssertEqual(written.outputs, source.outputs, what, file: file, line: line)
        XCTAssertEqual(written.isSequential, source.isSequential, what, file: file, line: line)
        for (writtenLayer, sourceLayer) in zip(written.layers, source.layers) {
            // Keras 3 reads a call given initial states as `mask=None`; the writer let a Keras 2
            // source's such call through only where no mask can reach it.
            let sourceNodes = sourceLayer.nodes.map { node in
                guard written.kerasMajorVersion >= 3, source.kerasMajorVersion < 3, sourceLayer.kind?.takesInitialStates == true,
                      node.inputs.count > 1, node.masks.isEmpty else { return node }
                return LayerNode(inputs: node.inputs, masks: [nil])
            }
            XCTAssertEqual(writtenLayer.nodes, sourceNodes, "\(what): \(sourceLayer.name)", file: file, line: line)
            XCTAssertEqual(Set(writtenLayer.weights.keys), Set(sourceLayer.weights.keys),
                           "\(what): \(sourceLayer.name)", file: file, line: line)
            for (name, tensor) in sourceLayer.weights {
                guard let other = writtenLayer.weights[name] else { continue }
                XCTAssertEqual(other.shape, tensor.shape, "\(what): \(sourceLayer.name).\(name)", file: file, line: line)
                XCTAssertEqual(other.scalars.map(\.bitPattern), tensor.scalars.map(\.bitPattern),
                               "\(what): \(sourceLayer.name).\(name)", file: file, line: line)
            }
        }
    }

    /// The Keras-made files of a fixture, with the writer that made them: the full-model files,
    /// then architecture JSON with its weights file (`weights` non-nil; kept out of the interop folder).
    private func sources(_ fixture: String, writers: [String]) -> [(file: String, writer: String, weights: String?)] {
        let models = writers.flatMap { writer -> [(String, String, String?)] in
            writer == "keras3" ? [("keras3.keras", writer, nil), ("keras3.h5", writer, nil)]
                               : [("\(writer).h5", writer, nil)]
        }
        let json = writers.map { writer -> (String, String, String?) in
            (writer + ".json", writer, writer == "keras3" ? "keras3.weights.h5" : "\(writer)_weights.h5")
        }
        return models + json
    }

    // MARK: - Every fixture

    func testEveryFixtureRoundTripsThroughBothWriters() throws {
        let interopFolder = ProcessInfo.processInfo.environment["RNNKIT_INTEROP_OUT"].flatMap { $0.isEmpty ? nil : $0 }
        var index: [JSONValue] = []
        var written = 0, refused = 0, refusedOperations = 0
        var worst: Float = 0
        for fixture in try FixtureFiles.manifest() {
            let inputs = try FixtureFiles.inputs(of: fixture.name)
            let folder = workDir.appendingPathComponent(fixture.name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (sourceFile, writer, weightsFile) in sources(fixture.name, writers: fixture.writers) {
                let source = try Model.load(contentsOf: FixtureFiles.path("\(fixture.name)/\(sourceFile)"),
                                            weights: weightsFile.map { FixtureFiles.path("\(fixture.name)/\($0)") })
                XCTAssertTrue(source.errors.isEmpty, "\(fixture.name)/\(sourceFile): \(source.errors)")
                let sourceOutputs = try Predictor(source).predict(inputs)
                let expected = try FixtureFiles.kerasOutputs(of: fixture.name, writer: writer)
                for format in ["h5", "keras"] {
                    let name = "from-\(sourceFile).\(format)"
                    let path = folder.appendingPathComponent(name).path
                    let what = "\(fixture.name)/\(name)"
                    var entry = JSONObject([("fixture", .string(fixture.name)), ("source", .string(sourceFile)),
                                            ("source_writer", .string(writer)), ("format", .string(format))])
                    do {
                        if format == "h5" {
                            try LegacyKerasH5.write(source, to: path)
                        } else {
                            try KerasArchiveModel.write(source, to: path)
                        }
                    } catch let error as RNNKitError where format == "h5" && source.kerasMajorVersion >= 3
                                && source.layers.contains(where: { if case .operation? = $0.kind { true } else { false } }) {
                        // Keras 3 reads operation nodes only from .keras archives.
                        XCTAssertTrue(error.message.contains("tensor operation"), "\(what): \(error)")
                        entry["refused"] = .string(error.description)
                        if weightsFile == nil { index.append(.object(entry)) }
                        refusedOperations += 1
                        continue
                    } catch let error as RNNKitError {
                        // Only a Keras 2 model that Keras 3 would compute otherwise may be refused, and
                        // only as .keras: hard_sigmoid, or initial_state given to a masked sequence.
                        XCTAssertEqual(format, "keras", "\(what): \(error)")
                        XCTAssertEqual(source.kerasMajorVersion, 2, "\(what): \(error)")
                        XCTAssertTrue(error.message.contains("hard_sigmoid")
                                      || error.message.contains("given initial_state on a sequence that may carry a mask"),
                                      "\(what): \(error)")
                        entry["refused"] = .string(error.description)
                        if weightsFile == nil { index.append(.object(entry)) }
                        refused += 1
                        continue
                    }
                    let reread = try Model.load(contentsOf: path)
                    XCTAssertTrue(reread.errors.isEmpty, "\(what): \(reread.problems)")
                    // Warnings (stateful layers) are the source's.
                    XCTAssertEqual(reread.warnings.map(\.message), source.warnings.map(\.message), what)
                    // CuDNN layers come back as the LSTM and GRU that tf_keras loads their weights into.
                    assertSameModel(reread, CuDNNWeights.plain(source), what)
                    if format == "h5" {
                        XCTAssertEqual(reread.kerasMajorVersion, source.kerasMajorVersion, what)
                        // The source's own x.y.z version (Keras 3's to_json names none: 3.15.1).
                        XCTAssertEqual(reread.kerasVersion, KerasWritePlan.versionPreserving(source), what)
                        if sourceFile.hasSuffix(".h5") || sourceFile.hasSuffix(".keras") {
                            XCTAssertEqual(reread.kerasVersion, source.kerasVersion, what)
                        }
                    } else {
                        XCTAssertEqual(reread.kerasMajorVersion, 3, what)
                    }
                    let outputs = try Predictor(reread).predict(inputs)
                    // Same weights and same maths: the very same numbers as the source model.
                    XCTAssertEqual(outputs, sourceOutputs, what)
                    worst = max(worst, assertClose(outputs, expected, what))
                    written += 1
                    if let interopFolder, weightsFile == nil {
                        let target = URL(fileURLWithPath: interopFolder).appendingPathComponent(fixture.name)
                        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
                        let destination = target.appendingPathComponent(name)
                        try? FileManager.default.removeItem(at: destination)
                        try FileManager.default.copyItem(atPath: path, toPath: destination.path)
                        entry["file"] = .string("\(fixture.name)/\(name)")
                        entry["keras_version"] = .string(reread.kerasVersion)
                        entry["inputs"] = .int(inputs.count)
                        index.append(.object(entry))
                    }
                }
            }
        }
        if let interopFolder {
            let text = JSONWriter.string(["fixtures": .string(FixtureFiles.directory.path), "files": .array(index)],
                                         pretty: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: interopFolder).appendingPathComponent("index.json"))
            print("KerasWriterTests: wrote \(index.filter { $0["file"] != nil }.count) files and index.json to \(interopFolder)")
        }
        print("KerasWriterTests: \(written) files written and read back, \(refused) refused, "
              + "worst max abs error vs Keras \(worst)")
        XCTAssertGreaterThanOrEqual(written, 155)
        // As .keras, tfkeras.h5 and tfkeras.json of: activations/ and masked_recurrent/ (Keras 2's
        // hard_sigmoid), initial_state_mask/ (initial_state given to a masked sequence).
        XCTAssertEqual(refused, 6)
        // The three Keras 3 files of each fixture with operation nodes (ops_*, attention_masked,
        // mha_masked, masked_recurrent, initial_state_mask) as .h5, which Keras 3 cannot read them from.
        XCTAssertEqual(refusedOperations, 21)
    }

    // MARK: - Refusals

    func testModelWithErrorsIsRefused() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("malformed/nan_weight.h5"))
        XCTAssertFalse(model.errors.isEmpty)
        for format in ["h5", "keras"] {
            let path = workDir.appendingPathComponent("nan.\(format)").path
            XCTAssertThrowsError(try format == "h5" ? LegacyKerasH5.write(model, to: path)
                                                    : KerasArchiveModel.write(model, to: path)) { error in
                let error = error as? RNNKitError
                XCTAssertEqual(error?.kind, .invalidModel)
                XCTAssertEqual(error?.file, path)
                XCTAssertTrue(error?.message.contains("NaN") ?? false, "\(String(describing: error))")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: path), "nothing is written for a refused model")
        }
    }

    func testLayerWithoutDefinitionIsRefused() throws {
        var model = try Model.load(contentsOf: FixtureFiles.path("simple_rnn/keras3.keras"))
        model.layers[1].kind = nil
        for format in ["h5", "keras"] {
            let path = workDir.appendingPathComponent("undefined.\(format)").path
            XCTAssertThrowsError(try format == "h5" ? LegacyKerasH5.write(model, to: path)
                                                    : KerasArchiveModel.write(model, to: path)) { error in
                XCTAssertEqual((error as? RNNKitError)?.kind, .invalidModel)
                XCTAssertTrue("\(error)".contains("has no readable config"), "\(error)")
            }
        }
    }

    func testMissingOrMisshapedWeightIsRefused() throws {
        var model = try Model.load(contentsOf: FixtureFiles.path("simple_rnn/tfkeras.h5"))
        let denseIndex = try XCTUnwrap(model.layers.firstIndex { $0.className == "Dense" })
        model.layers[denseIndex].weights["kernel"] = Tensor(zeros: [4, 1])
        XCTAssertThrowsError(try LegacyKerasH5.write(model, to: workDir.appendingPathComponent("a.h5").path)) { error in
            XCTAssertTrue("\(error)".contains("has shape (4, 1), expected (3, 1)"), "\(error)")
        }
        model.layers[denseIndex].weights["kernel"] = nil
        XCTAssertThrowsError(try KerasArchiveModel.write(model, to: workDir.appendingPathComponent("a.keras").path)) { error in
            XCTAssertTrue("\(error)".contains("has no weight 'kernel'"), "\(error)")
        }
    }

    // MARK: - hard_sigmoid and Keras versions

    func testKeras2HardSigmoidModelIsRefusedAsKerasArchiveButKeepsItsVersionAsH5() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("activations/tfkeras.h5"))
        XCTAssertEqual(model.kerasVersion, "2.21.0")
        let archivePath = workDir.appendingPathComponent("activations.keras").path
        XCTAssertThrowsError(try KerasArchiveModel.write(model, to: archivePath)) { error in
            let error = error as? RNNKitError
            XCTAssertEqual(error?.kind, .invalidModel)
            XCTAssertEqual(error?.location, "lstm")
            let message = error?.message ?? ""
            XCTAssertTrue(message.contains("hard_sigmoid") && message.contains("clip(0.2x + 0.5, 0, 1)")
                          && message.contains("clip(x/6 + 0.5, 0, 1)") && message.contains(".h5"), message)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: archivePath))

        let h5Path = workDir.appendingPathComponent("activations.h5").path
        try LegacyKerasH5.write(model, to: h5Path)
        let file = try HDF5File.open(h5Path)
        XCTAssertEqual(try file.root.stringAttribute("keras_version"), "2.21.0")
        XCTAssertEqual(try file.root.group("model_weights").stringAttribute("keras_version"), "2.21.0")
        let reread = try Model.load(contentsOf: h5Path)
        XCTAssertEqual(reread.kerasMajorVersion, 2)
        let inputs = try FixtureFiles.inputs(of: "activations")
        let outputs = try Predictor(reread).predict(inputs)
        assertClose(outputs, try FixtureFiles.kerasOutputs(of: "activations", writer: "tfkeras"), h5Path)
        // The Keras 3 formula would be far off: the test does tell the two apart.
        let keras3 = NumericDifference.between(outputs, try FixtureFiles.kerasOutputs(of: "activations", writer: "keras3"))
        XCTAssertNil(keras3.mismatch)
        XCTAssertGreaterThan(keras3.largest, 1e-3)
    }

    /// A Keras 2 model whose masked sequence goes to a layer given initial_state is refused as
    /// .keras (Keras 3 would run that call unmasked); a tf_keras call passed `mask=None` runs
    /// unmasked, as Keras 3's does, and keeps its `mask=None` through the legacy .h5 writer.
    func testMasksOfCallsGivenInitialStatesKeepTheirMeaningAcrossKerasVersions() throws {
        let source = try Model.load(contentsOf: FixtureFiles.path("initial_state_mask/tfkeras.h5"))
        let archivePath = workDir.appendingPathComponent("masked.keras").path
        XCTAssertThrowsError(try KerasArchiveModel.write(source, to: archivePath)) { error in
            XCTAssertEqual((error as? RNNKitError)?.location, "decoder")
            XCTAssertTrue("\(error)".contains("given initial_state on a sequence that may carry a mask"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: archivePath))

        // tf_keras writes `mask=None` into every entry of the call's node list.
        let text = try String(contentsOfFile: FixtureFiles.path("initial_state_mask/tfkeras.json"), encoding: .utf8)
            .replacingOccurrences(of: #"[["masking", 0, 0, {}], ["h0", 0, 0, {}], ["c0", 0, 0, {}]]"#,
                                  with: #"[["masking", 0, 0, {"mask": null}], ["h0", 0, 0, {"mask": null}], "#
                                      + #"["c0", 0, 0, {"mask": null}]]"#)
        let jsonPath = workDir.appendingPathComponent("mask_none.json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: jsonPath))
        let unmasked = try Model.load(contentsOf: jsonPath,
                                      weights: FixtureFiles.path("initial_state_mask/tfkeras_weights.h5"))
        XCTAssertEqual(unmasked.layers.first { $0.name == "decoder" }?.nodes.first?.masks, [nil])
        let h5Path = workDir.appendingPathComponent("mask_none.h5").path
        try LegacyKerasH5.write(unmasked, to: h5Path)
        let reread = try Model.load(contentsOf: h5Path)
        XCTAssertEqual(reread.layers.first { $0.name == "decoder" }?.nodes.first?.masks, [nil])
        let inputs = try FixtureFiles.inputs(of: "initial_state_mask")
        let keras3 = try FixtureFiles.kerasOutputs(of: "initial_state_mask", writer: "keras3")
        let tfKeras = try FixtureFiles.kerasOutputs(of: "initial_state_mask", writer: "tfkeras")
        for model in [unmasked, reread] {
            let outputs = try Predictor(model).predict(inputs)
            // The decoder as Keras 3 runs it (unmasked); the other calls as tf_keras does (masked).
            assertClose([outputs[0]], [keras3[0]], "decoder")
            assertClose([outputs[2], outputs[3]], [tfKeras[2], tfKeras[3]], "bi, simple")
            XCTAssertGreaterThan(NumericDifference.between([outputs[0]], [tfKeras[0]]).largest, 1e-3)
        }
    }

    func testKeras3HardSigmoidModelKeepsKeras3InBothFormats() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("activations/keras3.keras"))
        let inputs = try FixtureFiles.inputs(of: "activations")
        let expected = try FixtureFiles.kerasOutputs(of: "activations", writer: "keras3")
        for format in ["h5", "keras"] {
            let path = workDir.appendingPathComponent("activations3.\(format)").path
            try format == "h5" ? LegacyKerasH5.write(model, to: path) : KerasArchiveModel.write(model, to: path)
            let reread = try Model.load(contentsOf: path)
            XCTAssertEqual(reread.kerasVersion, "3.15.1", path)
            assertClose(try Predictor(reread).predict(inputs), expected, path)
        }
    }

    func testHardSigmoidOfTheWrongVersionIsRefusedAsH5() throws {
        // A Keras 2 hard_sigmoid in a model that claims Keras 3 (built by hand): no version keeps it.
        var model = try Model.load(contentsOf: FixtureFiles.path("activations/tfkeras.h5"))
        model.kerasVersion = "3.15.1"
        XCTAssertThrowsError(try LegacyKerasH5.write(model, to: workDir.appendingPathComponent("x.h5").path)) { error in
            XCTAssertTrue("\(error)".contains("hard_sigmoid"), "\(error)")
        }
    }

    func testKerasVersionWritten() throws {
        func version(_ kerasVersion: String) throws -> String {
            var model = try Model.load(contentsOf: FixtureFiles.path("simple_rnn/keras3.keras"))
            model.kerasVersion = kerasVersion
            return KerasWritePlan.versionPreserving(model)
        }
        XCTAssertEqual(try version("3.15.1"), "3.15.1")
        XCTAssertEqual(try version("3"), "3.15.1")
        XCTAssertEqual(try version("2.2.4"), "2.2.4")
        XCTAssertEqual(try version("2"), "2.21.0")
        XCTAssertEqual(try version(""), "2.21.0")
        XCTAssertEqual(try version("1.2.2"), "2.21.0")
    }

    // MARK: - File structure

    func testLegacyH5LayoutFollowsTfKeras() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("bidirectional_none/keras3.keras"))
        let path = workDir.appendingPathComponent("bidi.h5").path
        try LegacyKerasH5.write(model, to: path)
        let root = try HDF5File.open(path).root
        XCTAssertEqual(try root.stringAttribute("backend"), "tensorflow")
        let weights = try root.group("model_weights")
        XCTAssertEqual(try weights.stringListAttribute("layer_names"), model.layers.map(\.name))
        XCTAssertEqual(try weights.group("bidirectional").stringListAttribute("weight_names"), [
            "bidirectional/forward_gru/gru_cell/kernel:0", "bidirectional/forward_gru/gru_cell/recurrent_kernel:0",
            "bidirectional/forward_gru/gru_cell/bias:0", "bidirectional/backward_gru/gru_cell/kernel:0",
            "bidirectional/backward_gru/gru_cell/recurrent_kernel:0", "bidirectional/backward_gru/gru_cell/bias:0",
        ])
        XCTAssertEqual(try weights.group("concatenate").stringListAttribute("weight_names"), [])
        XCTAssertTrue(weights.hasChild("bidirectional/bidirectional/forward_gru/gru_cell/kernel:0"))
        XCTAssertTrue(weights.hasChild("top_level_model_weights"))
        let config = try JSONParser.parse(try root.stringAttribute("model_config"))
        XCTAssertEqual(config["class_name"], "Functional")
        let layers = try XCTUnwrap(config["config"]?["layers"]?.arrayValue)
        XCTAssertNotNil(layers[0]["config"]?["batch_input_shape"])
        XCTAssertEqual(layers[1]["config"]?["layer"]?["config"]?["name"], "gru")
        XCTAssertNil(layers[1]["config"]?["layer"]?["config"]?["time_major"])
        XCTAssertEqual(layers[1]["inbound_nodes"], [[["input_layer", 0, 0, .object(JSONObject())]]])
        XCTAssertEqual(config["config"]?["output_layers"], [["dense", 0, 0], ["bidirectional", 0, 1]])

        // Sequential: the InputLayer is in the config but not in layer_names.
        let simple = try Model.load(contentsOf: FixtureFiles.path("simple_rnn/tfkeras.h5"))
        let simplePath = workDir.appendingPathComponent("simple.h5").path
        try LegacyKerasH5.write(simple, to: simplePath)
        let simpleWeights = try HDF5File.open(simplePath).root.group("model_weights")
        XCTAssertEqual(try simpleWeights.stringListAttribute("layer_names"), ["simple_rnn", "dense"])
        let simpleConfig = try JSONParser.parse(try HDF5File.open(simplePath).root.stringAttribute("model_config"))
        XCTAssertEqual(simpleConfig["class_name"], "Sequential")
        XCTAssertEqual(simpleConfig["config"]?["layers"]?.arrayValue?.first?["class_name"], "InputLayer")
        XCTAssertEqual(try simpleWeights.group("simple_rnn").stringListAttribute("weight_names"), [
            "simple_rnn/simple_rnn_cell/kernel:0", "simple_rnn/simple_rnn_cell/recurrent_kernel:0",
            "simple_rnn/simple_rnn_cell/bias:0",
        ])
    }

    func testKerasArchiveLayoutFollowsKeras3() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("seq2seq/tfkeras.h5"))
        let path = workDir.appendingPathComponent("seq2seq.keras").path
        try KerasArchiveModel.write(model, to: path)
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        let entries = Array(archive)
        XCTAssertEqual(entries.map(\.path), ["metadata.json", "config.json", "model.weights.h5"])
        XCTAssertTrue(entries.allSatisfy { !$0.isCompressed }, "entries are stored")
        do {
            let contents = try KerasArchive.read(path)
            let metadata = try JSONParser.parse(try XCTUnwrap(contents.metadataJSON))
            XCTAssertEqual(metadata["keras_version"], "3.15.1")
            XCTAssertNotNil(metadata["date_saved"]?.stringValue)
            let config = try JSONParser.parse(contents.configJSON)
            XCTAssertEqual(config["module"], "keras.src.models.functional")
            XCTAssertEqual(config["registered_name"], "Functional")
            let layers = try XCTUnwrap(config["config"]?["layers"]?.arrayValue)
            let decoder = try XCTUnwrap(layers.first { $0["name"] == "lstm_1" })
            XCTAssertEqual(decoder["module"], "keras.layers")
            XCTAssertEqual(decoder["registered_name"], .null)
            let node = try XCTUnwrap(decoder["inbound_nodes"]?.arrayValue?.first)
            XCTAssertEqual(node["args"]?.arrayValue?.count, 1)
            XCTAssertEqual(node["kwargs"]?["initial_state"]?.arrayValue?.count, 2)
            XCTAssertEqual(node["kwargs"]?["initial_state"]?.arrayValue?[1]["config"]?["keras_history"], ["lstm", 0, 2])
            XCTAssertNotNil(decoder["build_config"]?["shapes_dict"])
            XCTAssertEqual(config["config"]?["output_layers"], ["dense", 0, 0])
            let weights = try contents.weightsFile().root
            XCTAssertEqual(try weights.datasetShape("layers/lstm_1/cell/vars/1"), [5, 20])
            XCTAssertEqual(try weights.group("layers/lstm/cell/vars").stringAttribute("name"), "lstm_cell")
            XCTAssertEqual(try weights.group("layers/input_layer_1/vars").stringAttribute("name"), "input_2")
        }
    }

    func testLongStringListsAreSplitAsKerasDoes() throws {
        let path = workDir.appendingPathComponent("chunks.h5").path
        let file = try HDF5File.create(path)
        let names = (0..<6000).map { String(format: "layer_%05d", $0) }
        try LegacyKerasH5.setChunkedStringList(file.root, "layer_names", names, file: path)
        try LegacyKerasH5.setChunkedStringList(file.root, "short", ["a", "b"], file: path)
        try file.flush()
        let reread = try HDF5File.open(path).root
        XCTAssertFalse(reread.hasAttribute("layer_names"))
        XCTAssertTrue(reread.hasAttribute("layer_names0") && reread.hasAttribute("layer_names1"))
        XCTAssertEqual(try reread.stringListAttribute("layer_names"), names)
        XCTAssertEqual(try reread.stringListAttribute("short"), ["a", "b"])
    }
}
