import XCTest
@testable import RNNKit
import RNNKitTestSupport

/// The other forms Keras gives recurrent layers: Keras 2's CuDNNLSTM and CuDNNGRU (the `cudnn`
/// fixture), RNN(cell) and StackedRNNCells (`rnn_cells`, `rnn_cells_masked`), stateful layers
/// (`stateful`). Keras's outputs and summaries in every file format are checked by InferenceTests
/// and FixtureModelTests; these check what those do not reach.
final class RecurrentFormTests: XCTestCase {
    private func decode(_ className: String, _ config: JSONValue) throws -> LayerKind {
        try LayerKind(kerasClass: className, config: KerasConfig(object: config.objectValue ?? JSONObject(),
                                                                 pointer: "/config", kerasMajorVersion: 2))
    }

    /// The fixture's keras3 files hold the LSTM and GRU model into which tf_keras's load_weights
    /// converted the CuDNN weights: RNNKit's conversion gives those very bits.
    func testCuDNNWeightsConvertExactlyAsTFKerasConvertsThem() throws {
        let cuDNN = try Model.load(contentsOf: FixtureFiles.path("cudnn/tfkeras.h5"))
        XCTAssertEqual(cuDNN.errors, [])
        XCTAssertEqual(cuDNN.layers.map(\.className), ["InputLayer", "CuDNNLSTM", "Bidirectional", "CuDNNGRU"])
        XCTAssertEqual(cuDNN.layers[1].weights["bias"]?.shape, [2, 16])
        let converted = try Model.load(contentsOf: FixtureFiles.path("cudnn/keras3.keras"))
        let plain = CuDNNWeights.plain(cuDNN)
        XCTAssertEqual(plain.layers.map(\.className), ["InputLayer", "LSTM", "Bidirectional", "GRU"])
        for layer in plain.layers where !layer.weights.isEmpty {
            let twin = try XCTUnwrap(converted.layers.first { $0.name == layer.name }, layer.name)
            XCTAssertEqual(layer.weights.mapValues(\.shape), twin.weights.mapValues(\.shape), layer.name)
            XCTAssertEqual(layer.weights.mapValues { $0.scalars.map(\.bitPattern) },
                           twin.weights.mapValues { $0.scalars.map(\.bitPattern) }, layer.name)
        }
    }

    /// As in tf_keras, CuDNN weights (told by their flat 2·G·U bias) load into an LSTM and a
    /// GRU(reset_after=True) architecture, converted on the way.
    func testCuDNNWeightsLoadIntoThePlainArchitecture() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("cudnn/keras3.json"),
                                   weights: FixtureFiles.path("cudnn/tfkeras_weights.h5"))
        XCTAssertEqual(model.errors, [])
        let outputs = try Predictor(model).predict(FixtureFiles.inputs(of: "cudnn"))
        assertClose(outputs, try FixtureFiles.kerasOutputs(of: "cudnn", writer: "tfkeras"), "cudnn")
    }

    func testCuDNNConfigsRefuseWhatCuDNNFixes() throws {
        let lstm = try decode("CuDNNLSTM", ["units": 2, "unit_forget_bias": false, "return_sequences": true])
        guard case .recurrent(let layer) = lstm else { return XCTFail("\(lstm)") }
        XCTAssertEqual(layer.className, "CuDNNLSTM")
        XCTAssertEqual(layer.biasShape, [2, 8])
        XCTAssertEqual(try lstm.weightSpecs(for: [[nil, 4, 3]]).parameterCount, 4 * 2 * (3 + 2 + 2))
        XCTAssertEqual(try decode("CuDNNGRU", ["units": 2]).weightSpecs(for: [[nil, 4, 3]]).parameterCount,
                       3 * 2 * (3 + 2 + 2))
        for key in ["activation", "recurrent_activation", "dropout"] {
            XCTAssertThrowsError(try decode("CuDNNGRU", ["units": 2, key: "tanh"])) { error in
                XCTAssertEqual((error as? RNNKitError)?.location, "/config/\(key)", "\(error)")
            }
        }
        // Written back in their own spelling, which decodes to the same layer.
        XCTAssertEqual(try decode("CuDNNLSTM", .object(lstm.kerasConfig())), lstm)
    }

    /// Keras carries a stateful model's states from one call to the next: a stream does the
    /// same, call after call; a Predictor starts each prediction afresh, and validate says so.
    func testStreamCarriesStatefulStatesFromCallToCall() throws {
        let first = try FixtureFiles.inputs(of: "stateful")
        let second = try FixtureFiles.numbered("stateful", "second_input_")
        for writer in ["keras3", "tfkeras"] {
            let expected = try FixtureFiles.kerasOutputs(of: "stateful", writer: writer)
            let expectedSecond = try FixtureFiles.numbered("stateful", "second_expected_\(writer)_")
            for (modelPath, weightsPath) in FixtureFiles.files(of: "stateful", writer: writer) {
                let model = try Model.load(contentsOf: modelPath, weights: weightsPath)
                XCTAssertEqual(model.errors, [], modelPath)
                XCTAssertEqual(model.warnings.count, 2, modelPath)
                XCTAssertTrue(model.warnings.allSatisfy { $0.message.contains("PredictionStream") }, "\(model.warnings)")
                let predictor = try Predictor(model)
                let stream = try PredictionStream(predictor)
                assertClose(try stream.feed(first), expected, "\(modelPath) first call")
                assertClose(try stream.feed(second), expectedSecond, "\(modelPath) second call")
                // A Predictor starts every prediction from zero states, whatever ran before.
                assertClose(try predictor.predict(first), expected, "\(modelPath) predict")
                let fresh = try predictor.predict(second)[0].scalars
                XCTAssertGreaterThan(zip(fresh, expectedSecond[0].scalars).map { abs($0 - $1) }.max() ?? 0, 1e-3)
                stream.reset()
                XCTAssertEqual(try stream.feed(first), try predictor.predict(first), modelPath)
            }
        }
    }

    /// Step after step, a stream of RNN(cell) and StackedRNNCells layers carries every cell's
    /// state: the last step's outputs (and states) are those of the whole sequence.
    func testStreamedCellsEqualTheWholeRun() throws {
        let predictor = try Predictor(contentsOf: FixtureFiles.path("rnn_cells/keras3.keras"))
        let input = try FixtureFiles.inputs(of: "rnn_cells")[0]
        let whole = try predictor.predict([input])
        let stream = try PredictionStream(predictor)
        var last: [Tensor] = []
        for step in 0..<input.shape[1] {
            last = try stream.feed([input.timeStep(step)])
        }
        XCTAssertEqual(last, whole)
    }

    /// A lone cell is its layer's ONNX operator; a stack is one Scan per cell, its weights in
    /// the keras layout.
    func testLoneCellsExportToONNXOperatorsAndStacksToScans() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("rnn_cells/keras3.keras"))
        let proto = try Onnx_ModelProto(serializedBytes: try ONNXExport.serialized(model))
        XCTAssertEqual(proto.graph.node.filter { ["LSTM", "RNN", "GRU", "Scan"].contains($0.opType) }.map(\.opType),
                       ["LSTM", "RNN", "Scan", "Scan"])
        XCTAssertEqual(Set(proto.graph.initializer.map(\.name).filter { $0.contains(".") }),
                       Set(["lone_lstm.W", "lone_lstm.R", "lone_lstm.B", "lone_simple.W", "lone_simple.R", "lone_simple.B"]
                           + ["kernel", "recurrent_kernel", "bias"].flatMap { ["gru_pair.cells.0." + $0, "gru_pair.cells.1." + $0] }))
    }

    /// The tensor names of a stack in each layout: `cells.<i>.` before the keras and split names,
    /// PyTorch's layer index `_l<i>`, one ONNX operator's W, R, B per cell.
    func testStackedCellsAreNamedPerCellInEveryLayout() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("rnn_cells/keras3.keras"))
        let pair = try XCTUnwrap(model.layers.first { $0.name == "gru_pair" })
        XCTAssertEqual(Set(pair.weights.keys), ["cells.0.kernel", "cells.0.recurrent_kernel", "cells.0.bias",
                                                "cells.1.kernel", "cells.1.recurrent_kernel", "cells.1.bias"])
        XCTAssertEqual(pair.weights["cells.1.kernel"]?.shape, [3, 9])
        let layer = LayerWeights(pair.kind!)
        XCTAssertEqual(Set(LayoutConversion.fromKeras(pair.weights, layer, .pytorch).keys),
                       Set(["weight_ih", "weight_hh", "bias_ih", "bias_hh"].flatMap { [$0 + "_l0", $0 + "_l1"] }))
        XCTAssertEqual(Set(LayoutConversion.fromKeras(pair.weights, layer, .onnx).keys),
                       Set(["W", "R", "B"].flatMap { ["cells.0." + $0, "cells.1." + $0] }))
        XCTAssertTrue(LayoutConversion.fromKeras(pair.weights, layer, .split).keys.contains("cells.1.rb_z"))
        // Two LSTMCells of different sizes: no torch.nn.LSTM holds them.
        guard case .rnn(let pairLayer)? = pair.kind else { return XCTFail() }
        var smaller = pairLayer.cells[1]
        smaller.options.units = 2
        let uneven = RNNLayer(cells: [pairLayer.cells[0], smaller], stacked: true)
        let refusal = LayoutConversion.refusal(LayerWeights(.rnn(uneven)), .pytorch)
        XCTAssertTrue(refusal?.contains("StackedRNNCells whose cells differ") == true, refusal ?? "accepted")
    }

    func testCuDNNLayersRefuseAMaskAsKerasDoes() throws {
        guard case .recurrent(let layer) = try decode("CuDNNGRU", ["units": 2]) else { return XCTFail() }
        let masked = LayerValue(Tensor(zeros: [1, 2, 3]), mask: [true, false])
        XCTAssertThrowsError(try layer.forward([masked], weights: [:], carry: nil)) { error in
            XCTAssertTrue("\(error)".contains("CuDNNGRU does not support masking"), "\(error)")
        }
    }
}
