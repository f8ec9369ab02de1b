import XCTest
@testable import RNNKit
import RNNKitTestSupport

/// The other forms Keras gives recurrent layers: Keras 2's CuDNNLSTM and CuDNNGRU (the `cudnn`
/// fixture). Keras's outputs and summaries in every file format are checked by InferenceTests and
/// FixtureModelTests; these check the conversion itself and what the fixtures do not reach.
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

    func testCuDNNLayersRefuseAMaskAsKerasDoes() throws {
        guard case .recurrent(let layer) = try decode("CuDNNGRU", ["units": 2]) else { return XCTFail() }
        let masked = LayerValue(Tensor(zeros: [1, 2, 3]), mask: [true, false])
        XCTAssertThrowsError(try layer.forward([masked], weights: [:], carry: nil)) { error in
            XCTAssertTrue("\(error)".contains("CuDNNGRU does not support masking"), "\(error)")
        }
    }
}
