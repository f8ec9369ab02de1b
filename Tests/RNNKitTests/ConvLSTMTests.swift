import Foundation
import XCTest
@testable import RNNKit
import RNNKitTestSupport

/// ConvLSTM1D and ConvLSTM2D: config refusals located by JSON pointer, shapes, weights and
/// defaults, masked steps, and what is refused (streaming). Keras's own numbers are checked
/// by the conv_lstm2d and conv_lstm1d fixtures (InferenceTests, FixtureModelTests for the
/// parameter counts, the writer and round-trip tests).
final class ConvLSTMTests: XCTestCase {
    private func decode(_ className: String, _ config: JSONValue, kerasMajorVersion: Int = 3) throws -> LayerKind {
        try LayerKind(kerasClass: className, config: KerasConfig(object: config.objectValue ?? JSONObject(),
                                                                 pointer: "/config", kerasMajorVersion: kerasMajorVersion))
    }

    func testInvalidConfigsAreRefusedWithTheirPlace() {
        let cases: [(String, JSONValue, String)] = [
            ("ConvLSTM2D", ["filters": 2, "kernel_size": 3, "data_format": "channels_first"], "/config/data_format"),
            ("ConvLSTM2D", ["filters": 2, "kernel_size": 3, "stateful": true], "/config/stateful"),
            ("ConvLSTM2D", ["filters": 2, "kernel_size": [3]], "/config/kernel_size"),
            ("ConvLSTM1D", ["filters": 2, "kernel_size": 3, "padding": "causal"], "/config/padding"),
            ("ConvLSTM1D", ["filters": 0, "kernel_size": 3], "/config/filters"),
            ("ConvLSTM1D", ["filters": 2, "kernel_size": 3, "activation": "softmax"], "/config/activation"),
            ("ConvLSTM1D", ["filters": 2, "kernel_size": 3, "time_major": true], "/config/time_major"),
        ]
        for (className, config, location) in cases {
            XCTAssertThrowsError(try decode(className, config), "\(className) \(config)") { error in
                XCTAssertEqual((error as? RNNKitError)?.location, location, "\(error)")
            }
        }
    }

    func testShapesWeightsAndDefaultsFollowTheConfig() throws {
        let layer = try decode("ConvLSTM2D", ["filters": 3, "kernel_size": [3, 2], "strides": 2, "return_state": true])
        XCTAssertEqual(try layer.outputShapes(for: [[nil, 4, 7, 6, 2]]),
                       [[nil, 3, 3, 3], [nil, 3, 3, 3], [nil, 3, 3, 3]])
        XCTAssertEqual(try layer.weightSpecs(for: [[nil, 4, 7, 6, 2]]).map(\.shape), [[3, 2, 2, 12], [3, 2, 3, 12], [12]])
        XCTAssertEqual(try layer.weightSpecs(for: [[nil, 4, 7, 6, 2]]).map(\.keras3Path),
                       ["cell/vars/0", "cell/vars/1", "cell/vars/2"])
        XCTAssertThrowsError(try layer.outputShapes(for: [[nil, 4, 7, 2]]))  // a sequence is no image
        let sequences = try decode("ConvLSTM1D", ["filters": 2, "kernel_size": 3, "return_sequences": true])
        XCTAssertEqual(try sequences.outputShapes(for: [[nil, nil, 7, 2]]), [[nil, nil, 5, 2]])
        // Each Keras's own default recurrent activation.
        guard case .convLSTM(let keras3) = sequences,
              case .convLSTM(let tfKeras) = try decode("ConvLSTM1D", ["filters": 2, "kernel_size": 3], kerasMajorVersion: 2)
        else { return XCTFail("not a ConvLSTM") }
        XCTAssertEqual(keras3.options.recurrentActivation, .sigmoid)
        XCTAssertNotEqual(tfKeras.options.recurrentActivation, .sigmoid)
        XCTAssertEqual(try LayoutConversion.tensorNames(of: sequences, in: .pytorch), ["kernel", "recurrent_kernel", "bias"])
        XCTAssertEqual(try LayoutConversion.tensorNames(of: sequences, in: .split), ["kernel", "recurrent_kernel", "bias"])
    }

    /// A masked last step keeps the states and repeats the previous output: the same as the
    /// sequence without it.
    func testAMaskedStepKeepsTheStates() throws {
        let kind = try decode("ConvLSTM1D", ["filters": 2, "kernel_size": 3, "padding": "same", "return_state": true])
        let specs = try kind.weightSpecs(for: [[nil, 4, 5, 2]])
        var weights: [String: Tensor] = [:]
        for (index, spec) in specs.enumerated() {
            let count = spec.shape.reduce(1, *)
            weights[spec.name] = Tensor(shape: spec.shape, scalars: (0..<count).map { Float(sin(Double($0 * 7 + index))) * 0.5 })
        }
        let scalars = (0..<2 * 4 * 5 * 2).map { Float(cos(Double($0) * 1.3)) }
        let whole = Tensor(shape: [2, 4, 5, 2], scalars: scalars)
        let masked = try kind.forward([LayerValue(whole, mask: [true, true, true, false, true, true, true, false])],
                                      weights: weights, carry: nil).outputs
        let firstThree = Tensor(shape: [2, 3, 5, 2], scalars: (0..<2).flatMap { Array(scalars[$0 * 40..<$0 * 40 + 30]) })
        let shorter = try kind.forward([LayerValue(firstThree)], weights: weights, carry: nil).outputs
        XCTAssertEqual(masked.count, 3)
        for (got, expected) in zip(masked, shorter) { XCTAssertEqual(got.tensor, expected.tensor) }
        let unmasked = try kind.forward([LayerValue(whole)], weights: weights, carry: nil).outputs
        XCTAssertNotEqual(unmasked[0].tensor, shorter[0].tensor)
        let empty = try kind.forward([LayerValue(Tensor(shape: [0, 4, 5, 2], scalars: []))], weights: weights, carry: nil)
        XCTAssertEqual(empty.outputs.map(\.tensor.shape), [[0, 5, 2], [0, 5, 2], [0, 5, 2]])
    }

    /// ONNX: a Scan per layer whose body is a Conv of h and the LSTM equations, after one Conv of
    /// every step's input (ONNX Runtime's numbers: Fixtures/interop/check_onnx_export.py).
    func testONNXExportIsAScanOfConvolutions() throws {
        let model = try Model.load(contentsOf: FixtureFiles.path("conv_lstm2d/keras3.keras")).checked()
        let proto = try Onnx_ModelProto(serializedBytes: try ONNXExport.serialized(model))
        let scans = proto.graph.node.filter { $0.opType == "Scan" }
        XCTAssertEqual(scans.count, 2)
        XCTAssertEqual(proto.graph.node.filter { $0.opType == "Conv" }.count, 2)  // every step's input, per layer
        let body = try XCTUnwrap(scans[0].attribute.first { $0.name == "body" }?.g)
        XCTAssertEqual(body.node.filter { $0.opType == "Conv" }.count, 1)
        XCTAssertEqual(body.node.first { $0.opType == "Conv" }?.attribute.first { $0.name == "auto_pad" }?.s,
                       Data("SAME_UPPER".utf8))
        XCTAssertEqual(body.input.map { $0.type.tensorType.shape.dim.count }, [4, 4, 4])  // h, c, gates: [B, F, H, W]
        let shapes = Dictionary(uniqueKeysWithValues: proto.graph.initializer.map { ($0.name, $0.dims) })
        XCTAssertEqual(shapes["conv_lstm2d.kernel"], [3, 3, 2, 12])
        XCTAssertEqual(shapes["conv_lstm2d.recurrent_kernel"], [3, 3, 3, 12])
        XCTAssertEqual(shapes["conv_lstm2d.bias"], [12])
    }

    func testStreamingIsRefused() throws {
        let predictor = try Predictor(contentsOf: FixtureFiles.path("conv_lstm1d/tfkeras.h5"))
        XCTAssertThrowsError(try PredictionStream(predictor)) { error in
            XCTAssertTrue("\(error)".contains("is not streamed"), "\(error)")
        }
    }
}
